//! Drafts on disk: one pretty JSON file per draft in the data directory,
//! written atomically so that a killed terminal never leaves half a draft.

use super::model::{DRAFT_VERSION, Draft};
use crate::toml_errors::{ReadError, one_line, position, read_text, show_path};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Largest draft file read: far above any real draft (pasted log lines
/// included), small enough that a wrong file cannot make us allocate
/// without bound.
pub const MAX_DRAFT_BYTES: u64 = 16 * 1024 * 1024;

/// Every message is one line: paths and text from the file are escaped, so
/// a hostile draft cannot put control sequences on the terminal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no postmortem draft {id:?} in {dir} (see `orderdeck postmortem list`)")]
    NotFound { id: String, dir: String },
    /// The file is kept under `moved_to`; nothing will write over it.
    #[error(
        "{path}:{line}:{col}: not a postmortem draft: {reason}; moved it to {moved_to} so nothing overwrites it: fix it there and rename it back, or delete it"
    )]
    Corrupt {
        path: String,
        line: usize,
        col: usize,
        reason: String,
        moved_to: String,
    },
    /// A draft written by another (newer) orderdeck: left where it is,
    /// untouched, rather than guessed at or moved.
    #[error(
        "{path}:{line}: draft format_version {found} is not one this orderdeck reads (it reads {DRAFT_VERSION}): open it with the orderdeck that wrote it; the file was left as it is"
    )]
    UnknownVersion {
        path: String,
        line: usize,
        found: u64,
    },
    /// Refused before parsing; the file is left as it is.
    #[error(
        "{path}: draft file is {size} bytes, more than the {MAX_DRAFT_BYTES} a draft may be: is this the right file? It was left as it is"
    )]
    TooLarge { path: String, size: u64 },
    #[error("{what} {path}: {reason}")]
    Io {
        what: &'static str,
        path: String,
        reason: String,
    },
    /// A FIFO or device where the draft should be: refused, never opened.
    #[error("{path}: draft {reason}")]
    NotRegular { path: String, reason: String },
    #[error("{0:?} is not a draft id: use letters, digits, '-' and '_'")]
    BadId(String),
}

fn io(what: &'static str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io {
        what,
        path: show_path(path),
        reason: one_line(&e.to_string()),
    }
}

/// What is read before the draft itself: only the format version, so that a
/// draft from a newer orderdeck is recognised as such and not called corrupt
/// because one of its new fields does not fit this version's model.
#[derive(serde::Deserialize)]
struct Probe {
    #[serde(default = "first_version")]
    format_version: u64,
}

/// Drafts written before the field existed are version 1.
fn first_version() -> u64 {
    1
}

/// Line of the top-level `"format_version":` key, for the message (serde
/// gives no position for a value that parsed). 1 when it cannot be found.
fn version_line(text: &str) -> usize {
    let key = "\"format_version\"";
    let mut from = 0;
    while let Some(i) = text[from..].find(key) {
        let at = from + i;
        let after = &text[at + key.len()..];
        if after.trim_start().starts_with(':') {
            return position(text, at).0;
        }
        from = at + key.len();
    }
    1
}

/// serde_json's message without its " at line L column C" tail (we put the
/// position in front, as `path:line:col:`), escaped to one line.
fn json_reason(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let tail = format!(" at line {} column {}", e.line(), e.column());
    one_line(full.strip_suffix(&tail).unwrap_or(&full))
}

/// The drafts directory: `<data dir>/postmortems`.
#[derive(Debug, Clone)]
pub struct Drafts {
    pub dir: PathBuf,
}

impl Drafts {
    pub fn new(dir: PathBuf) -> Self {
        Drafts { dir }
    }

    /// The user's drafts directory, or an error saying there is no home.
    pub fn user() -> Result<Drafts, StoreError> {
        crate::paths::data_dir()
            .map(|d| Drafts::new(d.join("postmortems")))
            .ok_or_else(|| StoreError::Io {
                what: "cannot find",
                path: "the data directory".into(),
                reason: "no home directory (set HOME or XDG_DATA_HOME)".into(),
            })
    }

    pub fn path(&self, id: &str) -> Result<PathBuf, StoreError> {
        // The id names a file: nothing that could step out of the directory.
        let ok = !id.is_empty()
            && id.len() <= 80
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if !ok {
            return Err(StoreError::BadId(id.to_string()));
        }
        Ok(self.dir.join(format!("{id}.json")))
    }

    pub fn exists(&self, id: &str) -> bool {
        self.path(id).is_ok_and(|p| p.exists())
    }

    /// Reads a draft. A file that is not a draft is moved aside (never
    /// overwritten) and reported, so the next save cannot destroy it.
    pub fn load(&self, id: &str) -> Result<Draft, StoreError> {
        let path = self.path(id)?;
        let text = match read_text(&path, MAX_DRAFT_BYTES) {
            Ok(t) => t,
            Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound {
                    id: id.to_string(),
                    dir: show_path(&self.dir),
                });
            }
            Err(ReadError::Io(e)) => return Err(io("cannot read", &path, e)),
            Err(e @ ReadError::NotRegular(_)) => {
                return Err(StoreError::NotRegular {
                    path: show_path(&path),
                    reason: e.describe(MAX_DRAFT_BYTES),
                });
            }
            Err(ReadError::TooLarge(size)) => {
                return Err(StoreError::TooLarge {
                    path: show_path(&path),
                    size,
                });
            }
            Err(e @ ReadError::NotUtf8 { line, col, .. }) => {
                let reason = e.describe(MAX_DRAFT_BYTES).replace("TOML", "draft");
                return Err(self.move_aside(&path, line, col, reason));
            }
        };
        // serde reads a JSON array as a struct too, which gives baffling
        // messages ("expected u64"); say plainly what a draft looks like.
        let body = text.trim_start();
        if let Some(c) = body.chars().next().filter(|c| *c != '{') {
            let (line, col) = position(&text, text.len() - body.len());
            let reason = one_line(&format!(
                "a draft is one JSON object {{...}}; this file starts with {c:?}"
            ));
            return Err(self.move_aside(&path, line, col, reason));
        }
        let corrupt = |e: serde_json::Error| {
            // serde_json counts line 0 for errors without a position.
            let (line, col) = (e.line().max(1), e.column().max(1));
            self.move_aside(&path, line, col, json_reason(&e))
        };
        let probe: Probe = serde_json::from_str(&text).map_err(corrupt)?;
        if probe.format_version != u64::from(DRAFT_VERSION) {
            return Err(StoreError::UnknownVersion {
                path: show_path(&path),
                line: version_line(&text),
                found: probe.format_version,
            });
        }
        let mut d = serde_json::from_str::<Draft>(&text).map_err(corrupt)?;
        // The file name is the id: a copied file keeps working.
        d.id = id.to_string();
        Ok(d)
    }

    fn move_aside(&self, path: &Path, line: usize, col: usize, reason: String) -> StoreError {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
        let mut aside = path.with_extension(format!("json.corrupt-{stamp}"));
        let mut n = 1;
        while aside.exists() {
            aside = path.with_extension(format!("json.corrupt-{stamp}-{n}"));
            n += 1;
        }
        match fs::rename(path, &aside) {
            Ok(()) => StoreError::Corrupt {
                path: show_path(path),
                line,
                col,
                reason,
                moved_to: show_path(&aside),
            },
            Err(e) => StoreError::Io {
                what: "corrupt draft, and could not move it aside",
                path: format!("{}:{line}:{col}", show_path(path)),
                reason: format!("{reason}; {}", one_line(&e.to_string())),
            },
        }
    }

    /// Writes the draft atomically: a temporary file in the same directory,
    /// flushed to disk, then renamed over the old one. A crash at any point
    /// leaves either the old draft or the new one, never a mix.
    pub fn save(&self, draft: &Draft) -> Result<PathBuf, StoreError> {
        let path = self.path(&draft.id)?;
        fs::create_dir_all(&self.dir).map_err(|e| io("cannot create", &self.dir, e))?;
        let json = serde_json::to_vec_pretty(draft).map_err(|e| StoreError::Io {
            what: "cannot serialise",
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)
            .map_err(|e| io("cannot create a temporary file in", &self.dir, e))?;
        tmp.write_all(&json)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| io("cannot write", tmp.path(), e))?;
        tmp.persist(&path)
            .map_err(|e| io("cannot replace", &path, e.error))?;
        // The rename itself is durable only once the directory is synced.
        if let Ok(d) = fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(path)
    }

    /// Every draft id, newest file first; unreadable names are skipped.
    pub fn list(&self) -> Result<Vec<String>, StoreError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("cannot list", &self.dir, e)),
        };
        let mut found: Vec<(std::time::SystemTime, String)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let id = name.strip_suffix(".json")?.to_string();
                self.path(&id).ok()?;
                let modified = e.metadata().and_then(|m| m.modified()).ok()?;
                Some((modified, id))
            })
            .collect();
        found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_load_gives_the_same_draft_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let drafts = Drafts::new(dir.path().join("pm"));
        let mut d = Draft::new("PM-1".into(), chrono::Utc::now());
        d.summary = "支払いコールバック | \\ ]]> 🚨".into();
        d.add_root_why("backlog".into());
        drafts.save(&d).expect("save");
        d.title = "second save".into();
        drafts.save(&d).expect("save again");
        assert_eq!(drafts.load("PM-1").expect("load"), d);
        let names: Vec<_> = fs::read_dir(&drafts.dir)
            .expect("dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        assert_eq!(names, vec!["PM-1.json".to_string()]);
        assert_eq!(drafts.list().expect("list"), vec!["PM-1".to_string()]);
    }

    #[test]
    fn a_corrupt_draft_is_moved_aside_and_never_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let drafts = Drafts::new(dir.path().to_path_buf());
        let path = drafts.path("PM-2").expect("path");
        fs::write(&path, "{ \"title\": ").expect("write");
        let err = drafts.load("PM-2").expect_err("corrupt");
        let StoreError::Corrupt { moved_to, .. } = &err else {
            panic!("expected Corrupt, got {err}");
        };
        assert_eq!(
            fs::read_to_string(moved_to).ok().as_deref(),
            Some("{ \"title\": ")
        );
        assert!(!path.exists());
        assert!(!err.to_string().contains('\n'), "one line: {err}");
        drafts
            .save(&Draft::new("PM-2".into(), chrono::Utc::now()))
            .expect("a new draft");
        assert_eq!(
            fs::read_to_string(moved_to).ok().as_deref(),
            Some("{ \"title\": ")
        );
    }

    #[test]
    fn ids_cannot_leave_the_directory() {
        let drafts = Drafts::new(PathBuf::from("/tmp/x"));
        assert!(matches!(
            drafts.path("../etc/passwd"),
            Err(StoreError::BadId(_))
        ));
        assert!(matches!(
            drafts.load("PM-none"),
            Err(StoreError::NotFound { .. })
        ));
    }
}
