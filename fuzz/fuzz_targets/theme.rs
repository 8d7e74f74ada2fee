//! Any bytes as a user theme file, loaded the way the cockpit loads the
//! theme directory: the built-ins survive, every warning is one printable
//! line naming the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderdeck::theme::ThemeSet;
use std::sync::OnceLock;

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
}

fuzz_target!(|data: &[u8]| {
    let path = dir().path().join("fuzzed.toml");
    std::fs::write(&path, data).expect("write the theme file");
    let (set, warnings) = ThemeSet::load(Some(dir().path()));
    for name in ["dark", "light", "high-contrast", "ansi16"] {
        assert!(set.get(name).is_some(), "built-in {name} lost");
    }
    for w in &warnings {
        assert!(!w.chars().any(char::is_control), "{w:?}");
        assert!(w.contains("fuzzed.toml"), "{w}");
    }
});
