//! Any text as a user runbook: rules, or one printable line naming the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderdeck::runbook::Runbook;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match Runbook::parse(src, "/fuzz/runbook.toml") {
        Ok(user) => {
            // Merging over the built-ins must hold too.
            let _ = Runbook::builtin().merge(user);
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.chars().any(char::is_control), "{msg:?}");
            assert!(msg.starts_with("/fuzz/runbook.toml"), "{msg}");
        }
    }
});
