#!/usr/bin/env python3
"""PTY measurements of the real orderdeck binary (DESIGN section 9).

Runs the release binary in a pseudo-terminal of a given size, as a user's
terminal would, and reports:

  * first frame: time from exec until the cockpit's panes are on screen;
  * idle CPU and bytes written per second over a window, on a database that
    does not change (a copy of a demo database, watched read-only), so the
    only thing moving is the 1 Hz clock;
  * the same for the live demo (simulator running in the same process).

Usage: python3 scripts/pty-bench.py [--binary PATH] [--seconds N] [--size 200x60]
Build first: cargo build --release
"""

import argparse
import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def spawn(argv, cols, rows, env):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return pid, fd


def read_for(fd, seconds, until=None):
    """Reads the PTY for `seconds` (or until `until` appears); returns bytes."""
    out = bytearray()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not r:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        out += chunk
        if until is not None and until in out:
            break
    return bytes(out)


def stop(pid, fd):
    os.write(fd, b"q")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        read_for(fd, 0.05)
    os.kill(pid, signal.SIGKILL)
    return None


def measure(label, argv, cols, rows, env, seconds, settle):
    t0 = time.monotonic()
    pid, fd = spawn(argv, cols, rows, env)
    first = read_for(fd, 10, until=b"Stuck orders")
    first_frame = time.monotonic() - t0 if b"Stuck orders" in first else None
    read_for(fd, settle)  # let the first polls land
    cpu0, t1 = cpu_seconds(pid), time.monotonic()
    written = read_for(fd, seconds)
    cpu1, t2 = cpu_seconds(pid), time.monotonic()
    code = stop(pid, fd)
    wall = t2 - t1
    print(
        f"{label:<34} first frame {first_frame * 1000 if first_frame else float('nan'):7.1f} ms"
        f"   CPU {100 * (cpu1 - cpu0) / wall:5.2f} % of a core"
        f"   {len(written) / wall:8.0f} bytes/s   exit {code}"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default="target/release/orderdeck")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--size", default="200x60")
    args = ap.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} not found: run `cargo build --release` first (or pass --binary)")

    work = tempfile.mkdtemp(prefix="orderdeck-ptybench-")
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor",
               XDG_CONFIG_HOME=work, XDG_STATE_HOME=work, XDG_DATA_HOME=work)
    env.pop("NO_COLOR", None)
    try:
        # A demo database to watch still: run the demo briefly with --db.
        db = os.path.join(work, "still.db")
        pid, fd = spawn([binary, "demo", "--db", db], cols, rows, env)
        read_for(fd, 4)
        stop(pid, fd)
        still_env = dict(env, ORDERDECK_DATABASE_URL=f"sqlite://{db}")
        print(f"orderdeck PTY bench, {cols}x{rows}, {args.seconds:.0f} s windows, {os.cpu_count()} CPUs")
        measure("idle (still database, read-only)", [binary, "--read-only"], cols, rows,
                still_env, args.seconds, settle=6)
        measure("live demo (simulator in-process)", [binary, "demo", "--db", os.path.join(work, "live.db")],
                cols, rows, env, args.seconds, settle=6)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
