//! Timestamps as SQLite stores them: ISO-8601 text in UTC.
//!
//! The reference schema writes `YYYY-MM-DD HH:MM:SS[.ffffff]`; data loaded by
//! other tools may use a `T`, a trailing `Z` or an offset, or no seconds.
//! Integer columns are read as Unix seconds.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound, Utc};

/// Parses an SQLite text timestamp; `None` when it is not one.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let s = text.trim();
    if s.len() < 10 || !s.is_ascii() {
        return None;
    }
    let mut norm = s.to_string();
    if norm.len() > 10 && matches!(&norm[10..11], " " | "t") {
        norm.replace_range(10..11, "T");
    }
    let norm = norm.trim_end_matches(" UTC").to_string();
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(&norm, fmt) {
            return Some(naive.and_utc());
        }
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(&norm) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(&norm, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    if norm.len() == 10 {
        return NaiveDate::parse_from_str(&norm, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|n| n.and_utc());
    }
    None
}

/// Unix seconds to a timestamp; `None` when out of range.
pub fn from_unix_seconds(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

/// The value bound for a timestamp parameter: naive UTC, whole microseconds,
/// which sqlx writes as `YYYY-MM-DD HH:MM:SS[.fff[fff]]` and so compares
/// correctly with the schema's text.
pub fn bind_value(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

/// Formats a timestamp the way the reference schema stores it.
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn accepts_the_common_spellings() {
        let t = Utc.with_ymd_and_hms(2026, 11, 25, 10, 30, 5).unwrap();
        for s in [
            "2026-11-25 10:30:05",
            "2026-11-25T10:30:05",
            "2026-11-25T10:30:05Z",
            "2026-11-25 10:30:05Z",
            "2026-11-25 10:30:05+00:00",
            "2026-11-25T12:30:05+02:00",
            " 2026-11-25 10:30:05 ",
        ] {
            assert_eq!(parse_timestamp(s), Some(t), "{s}");
        }
        let f = parse_timestamp("2026-11-25 10:30:05.250000").unwrap();
        assert_eq!(f.timestamp_subsec_millis(), 250);
        assert_eq!(
            parse_timestamp("2026-11-25"),
            Some(Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap())
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-45 99:00:00",
            "2026-11-25 10:30:05 garbage",
            "２０２６",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn formatted_values_round_trip() {
        let t = Utc.with_ymd_and_hms(2026, 11, 25, 10, 30, 5).unwrap()
            + chrono::Duration::microseconds(123_456);
        assert_eq!(format_timestamp(t), "2026-11-25 10:30:05.123456");
        assert_eq!(parse_timestamp(&format_timestamp(t)), Some(t));
    }
}
