//! What headless commands print on stdout, and what happens when nobody
//! reads it any more.
//!
//! `orderdeck postmortem list | head -1`: `head` exits after one line, the
//! next write fails with EPIPE, and `println!` panics (exit 101, a panic
//! message on stderr). The reader asked for no more output, which is not an
//! error: [`outln!`](crate::outln) ends the process quietly with exit 0, the
//! way `cat` and `ls` behave under a shell with `pipefail` off, and without
//! turning `set -o pipefail` scripts red as the signal's 141 would.
//!
//! Why not restore SIGPIPE's default action at start, as C programs have it?
//! Rust ignores SIGPIPE for a reason that applies here: the same process also
//! writes to sockets and pipes that are not stdout. The cockpit pipes to the
//! clipboard helper, and a database reached over a Unix socket is written
//! with plain `write(2)`; with the default action, a helper or a server that
//! goes away would kill the cockpit on the spot, leaving the terminal in the
//! alternate screen with no message. Mapping EPIPE on stdout alone keeps
//! every other broken pipe an ordinary error with its one line.

use std::fmt;
use std::io::{ErrorKind, Write};

/// Writes `args` and a newline to stdout. A reader that went away ends the
/// process quietly (exit 0); any other write failure (a full disk behind
/// `> file`) ends it with one line on stderr and exit 1.
pub fn line(args: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let result = out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(e) = result {
        drop(out);
        if e.kind() == ErrorKind::BrokenPipe {
            reader_gone();
        }
        eprintln!("orderdeck: writing to stdout failed: {e}");
        std::process::exit(1);
    }
}

/// The reader of stdout went away: nothing more to say, and not a failure.
pub fn reader_gone() -> ! {
    std::process::exit(0)
}

/// `println!` for command output: exits quietly when stdout's reader has
/// gone (see the module docs) instead of panicking.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::stdout::line(format_args!($($arg)*))
    };
}
