//! Reading cells of rows whose SQL the user may have written: types are
//! checked at run time and every failure names the column.

use super::time::{from_unix_seconds, parse_timestamp};
use crate::sources::sql::shorten;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, TypeInfo, ValueRef};

/// One cell, by its run-time SQLite storage class.
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob,
}

fn cell(row: &SqliteRow, col: &str) -> Result<Cell, String> {
    let raw = row
        .try_get_raw(col)
        .map_err(|_| format!("column {col} is missing from the result"))?;
    if raw.is_null() {
        return Ok(Cell::Null);
    }
    let ty = raw.type_info().name().to_string();
    let bad = |e: sqlx::Error| format!("column {col}: {}", super::one_line(&e.to_string()));
    Ok(match ty.as_str() {
        "INTEGER" | "INT4" | "INT8" | "BOOLEAN" => {
            Cell::Int(row.try_get_unchecked::<i64, _>(col).map_err(bad)?)
        }
        "REAL" => Cell::Real(row.try_get_unchecked::<f64, _>(col).map_err(bad)?),
        "TEXT" | "DATETIME" | "DATE" | "TIME" => Cell::Text(text(row, col).map_err(bad)?),
        _ => Cell::Blob,
    })
}

/// SQLite stores whatever bytes it is given as TEXT; one order with a
/// mangled byte must not fail the whole rule (and hide every other stuck
/// order), so invalid UTF-8 is read lossily, shown as U+FFFD.
fn text(row: &SqliteRow, col: &str) -> Result<String, sqlx::Error> {
    match row.try_get_unchecked::<String, _>(col) {
        Ok(t) => Ok(t),
        Err(_) => row
            .try_get_unchecked::<Vec<u8>, _>(col)
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
    }
}

/// A required integer (`INTEGER`, or text holding one).
pub fn int(row: &SqliteRow, col: &str) -> Result<i64, String> {
    match cell(row, col)? {
        Cell::Int(v) => Ok(v),
        Cell::Text(t) => t
            .trim()
            .parse()
            .map_err(|_| format!("column {col}: {:?} is not an integer", shorten(&t))),
        Cell::Real(r) if r.fract() == 0.0 && r.abs() < 9.0e15 => Ok(r as i64),
        Cell::Real(r) => Err(format!("column {col}: {r} is not an integer")),
        Cell::Null => Err(format!("column {col} is NULL")),
        Cell::Blob => Err(format!("column {col}: a blob is not an integer")),
    }
}

/// An integer that may be NULL.
pub fn opt_int(row: &SqliteRow, col: &str) -> Result<Option<i64>, String> {
    match cell(row, col)? {
        Cell::Null => Ok(None),
        _ => int(row, col).map(Some),
    }
}

/// Text; numbers are shown as text, NULL is None.
pub fn opt_text(row: &SqliteRow, col: &str) -> Result<Option<String>, String> {
    match cell(row, col)? {
        Cell::Null => Ok(None),
        Cell::Text(t) => Ok(Some(t)),
        Cell::Int(v) => Ok(Some(v.to_string())),
        Cell::Real(r) => Ok(Some(r.to_string())),
        Cell::Blob => Err(format!("column {col}: a blob is not text")),
    }
}

/// A required timestamp: ISO-8601 text (see [`parse_timestamp`]) or Unix seconds.
pub fn timestamp(row: &SqliteRow, col: &str) -> Result<DateTime<Utc>, String> {
    match cell(row, col)? {
        Cell::Text(t) => parse_timestamp(&t)
            .ok_or_else(|| format!("column {col}: unparseable timestamp {:?}", shorten(&t))),
        Cell::Int(v) => from_unix_seconds(v)
            .ok_or_else(|| format!("column {col}: {v} is out of range as Unix seconds")),
        Cell::Real(r) => Err(format!("column {col}: {r} is not a timestamp")),
        Cell::Null => Err(format!("column {col} is NULL, expected a timestamp")),
        Cell::Blob => Err(format!("column {col}: a blob is not a timestamp")),
    }
}
