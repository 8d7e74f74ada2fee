//! The keymap parser: any text as one key (`parse_key`), and any text as the
//! body of a config's `[keys]` table. A key parses to one whose display
//! parses back to it (and is never Ctrl-C); a `[keys]` table gives a keymap
//! in which no key has two actions, or one printable line naming the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderdeck::state::keys::{Key, parse_key};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if mode % 2 == 0 {
        match parse_key(text) {
            Ok(key) => {
                assert!(!key.is_interrupt(), "{text:?} bound Ctrl-C");
                assert_eq!(parse_key(&key.to_string()), Ok(key), "{text:?}");
            }
            Err(e) => {
                assert!(!e.chars().any(char::is_control), "{e:?}");
                assert!(e.chars().count() < 1000, "{} chars", e.chars().count());
            }
        }
        return;
    }
    let src = format!("[keys]\n{text}");
    match orderdeck::config::parse(&src, Path::new("/fuzz/config.toml")) {
        Ok(config) => {
            let keymap = config.keymap().expect("a checked config has a keymap");
            assert_eq!(keymap.action_for(Key::ctrl('c')), None);
            for row in keymap.help_rows() {
                assert!(!row.0.chars().any(char::is_control), "{row:?}");
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.chars().any(char::is_control), "{msg:?}");
            assert!(msg.starts_with("/fuzz/config.toml"), "{msg}");
        }
    }
});
