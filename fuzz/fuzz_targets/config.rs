//! Any text as a config file: a config, or one printable line naming the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // `config::load` rejects invalid UTF-8 before parsing; the parser sees text.
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = orderdeck::config::parse(src, Path::new("/fuzz/config.toml")) {
        let msg = e.to_string();
        assert!(!msg.chars().any(char::is_control), "{msg:?}");
        assert!(msg.starts_with("/fuzz/config.toml"), "{msg}");
    }
});
