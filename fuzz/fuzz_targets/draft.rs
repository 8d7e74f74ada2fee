//! Any bytes as a postmortem draft file: `Drafts::load` gives a draft or one
//! printable line naming the file; a corrupt file is moved aside byte for
//! byte (never overwritten), anything else it refuses is left in place; a
//! draft that loads passes every export property.
#![no_main]

#[path = "../../tests/common/export_checks.rs"]
mod export_checks;

use libfuzzer_sys::fuzz_target;
use orderdeck::postmortem::store::{Drafts, StoreError};

fuzz_target!(|bytes: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let drafts = Drafts::new(dir.path().to_path_buf());
    let path = dir.path().join("PM-fuzz.json");
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    match drafts.load("PM-fuzz") {
        Ok(d) => {
            if let Err(e) = export_checks::all_exports(&d) {
                panic!("{e}");
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.chars().any(char::is_control), "{msg:?}");
            assert!(msg.starts_with(&format!("{}:", path.display())), "{msg}");
            match &e {
                StoreError::Corrupt { moved_to, .. } => {
                    assert!(!path.exists(), "corrupt draft left in place");
                    assert_eq!(std::fs::read(moved_to).ok().as_deref(), Some(bytes));
                }
                _ => assert_eq!(std::fs::read(&path).ok().as_deref(), Some(bytes)),
            }
        }
    }
});
