//! The environment's incident journal: which incident is open for an
//! environment, shared by every process on the machine that watches it.
//!
//! Each cockpit, wallboard or headless command folds what it sees into its
//! own [`IncidentRecorder`]; the journal is where they meet. Appends happen
//! under an exclusive lock (`flock`, via `fd-lock`) on `<dir>/.lock`, and under that lock the batch
//! goes to the environment's open incident (named in `<dir>/.open-<env>`)
//! minus what the record already says. So a restart, an SSH drop or a
//! wallboard in another pane carries on the same incident instead of
//! starting a new one, and the postmortem pre-fill sees all of it.

use super::record::{append, check_id, read_incident};
use crate::state::incident::{
    IncidentRecorder, Observation, OpenAlert, is_open, news, open_alerts,
};
use chrono::{DateTime, Utc};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The incidents directory and the environment whose incident this is.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
    env: String,
}

/// An incident picked up from the journal at start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Resumed {
    pub id: String,
    pub record: Vec<Observation>,
}

impl Resumed {
    /// The recorder that carries the incident on in this process.
    pub fn recorder(&self) -> IncidentRecorder {
        IncidentRecorder::resume(self.id.clone(), &self.record)
    }

    /// Alerts still open, with the time each was first raised.
    pub fn open_alerts(&self) -> Vec<OpenAlert> {
        open_alerts(&self.record)
    }
}

impl Journal {
    pub fn new(dir: &Path, env: &str) -> Journal {
        Journal {
            dir: dir.to_path_buf(),
            env: env.to_string(),
        }
    }

    /// `.open-<env>`: environment names come from the config, so anything
    /// but a plain name character becomes `_` (and a name that differs
    /// only there shares the pointer, which is harmless: it is the same
    /// environment by every name a person would type).
    fn pointer(&self) -> PathBuf {
        let safe: String = self
            .env
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!(".open-{safe}"))
    }

    /// The journal's lock file. Every process takes it (exclusively: the
    /// reads are rare, at start-up and on `p`) for each append and each read
    /// of the open incident, so nobody sees one half of another's decision.
    fn lock_file(&self) -> std::io::Result<fd_lock::RwLock<fs::File>> {
        fs::create_dir_all(&self.dir)?;
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(".lock"))?;
        Ok(fd_lock::RwLock::new(f))
    }

    /// The incident the pointer names, with its record, if it is still
    /// open at `at`.
    fn open_at(&self, at: DateTime<Utc>) -> Option<Resumed> {
        let id = fs::read_to_string(self.pointer()).ok()?;
        let id = id.trim();
        check_id(id).ok()?;
        let record = read_incident(&self.dir, id);
        is_open(&record, at).then(|| Resumed {
            id: id.to_string(),
            record,
        })
    }

    /// The environment's incident, if one is open at `now`: what a process
    /// starting up carries on.
    pub fn open_incident(&self, now: DateTime<Utc>) -> std::io::Result<Option<Resumed>> {
        let mut lock = self.lock_file()?;
        let _held = lock.write()?;
        Ok(self.open_at(now))
    }

    /// Appends what this process saw. `proposed` is the incident its own
    /// recorder names; when the environment has another one open, the batch
    /// goes there instead, minus what that record already says. Returns the
    /// incident written to.
    pub fn append(&self, proposed: &str, batch: Vec<Observation>) -> std::io::Result<String> {
        check_id(proposed).map_err(std::io::Error::other)?;
        let Some(at) = batch.first().map(Observation::at) else {
            return Ok(proposed.to_string());
        };
        let mut lock = self.lock_file()?;
        let _held = lock.write()?;
        let (id, batch) = match self.open_at(at) {
            Some(open) => {
                let fresh = news(&open.record, batch);
                (open.id, fresh)
            }
            None => {
                let opens = batch
                    .iter()
                    .any(|o| matches!(o, Observation::Opened { .. }));
                if opens {
                    // Written before the record, under the lock: the next
                    // process to append finds this incident open.
                    write_pointer(&self.pointer(), proposed)?;
                }
                let record = read_incident(&self.dir, proposed);
                (proposed.to_string(), news(&record, batch))
            }
        };
        if !batch.is_empty() {
            append(&self.dir, &id, &batch)?;
        }
        Ok(id)
    }
}

fn write_pointer(path: &Path, id: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(id.as_bytes())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Family;
    use crate::postmortem::record::incident_path;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(min)
    }

    fn opened(min: i64) -> Vec<Observation> {
        vec![
            Observation::Opened { at: t(min) },
            Observation::FamilyPeak {
                at: t(min),
                family: Family::Split,
                orders: 4,
            },
        ]
    }

    #[test]
    fn a_second_process_joins_the_open_incident_and_environments_stay_apart() {
        let dir = tempfile::tempdir().expect("dir");
        let prod = Journal::new(dir.path(), "prod");
        assert_eq!(prod.append("INC-A", opened(1)).expect("a"), "INC-A");
        // Another process opened its own incident a minute later.
        assert_eq!(prod.append("INC-B", opened(2)).expect("b"), "INC-A");
        assert_eq!(
            read_incident(dir.path(), "INC-A"),
            opened(1),
            "the duplicate opening and peak are dropped"
        );
        assert!(!incident_path(dir.path(), "INC-B").exists());
        let staging = Journal::new(dir.path(), "staging");
        assert_eq!(staging.append("INC-C", opened(2)).expect("c"), "INC-C");
        let open = prod.open_incident(t(3)).expect("read").expect("open");
        assert_eq!(open.id, "INC-A");
        // Cleared and quiet for an hour: the next anomaly is a new incident.
        prod.append("INC-A", vec![Observation::AllClear { at: t(5) }])
            .expect("clear");
        assert_eq!(prod.open_incident(t(66)).expect("read"), None);
        assert_eq!(prod.append("INC-D", opened(70)).expect("d"), "INC-D");
    }

    #[test]
    fn a_bad_proposed_id_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let j = Journal::new(dir.path(), "prod");
        assert!(j.append("../evil", opened(1)).is_err());
    }
}
