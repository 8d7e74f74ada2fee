#!/usr/bin/env python3
"""PTY measurements of the real orderdeck binary (DESIGN section 9).

Runs the release binary in a pseudo-terminal of a given size, as a user's
terminal would, and reports:

  * first frame: time from exec until the cockpit's panes are on screen;
  * idle CPU and bytes written per second over a window, on a database that
    does not change (a copy of a demo database, watched read-only), so the
    only thing moving is the 1 Hz clock;
  * the same for the live demo (simulator running in the same process).

  * with --surge: a surge of changes (the live demo while keys arrive at
    50 a second, as when j/k or G/g are held down) read by a fast terminal
    and by a slow one (an SSH link of ~10 kB/s: 1 kB read every 100 ms):
    bytes per second written, and how long `q` takes to end the process
    while the slow terminal is behind.

  * with --rss: resident memory of the cockpit watching a SQLite database
    with 100,000 stuck orders and a RabbitMQ with 500 queues (needs the
    local broker and its management API, guest/guest).

Usage: python3 scripts/pty-bench.py [--binary PATH] [--seconds N] [--size 200x60] [--surge | --rss] [--surge]
Build first: cargo build --release
"""

import argparse
import fcntl
import os
import re
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


def figure(budget_id, value, unit):
    """A measured figure a budget applies to, for scripts/budgets.sh."""
    print(f"budget: {budget_id} {value:.3f} {unit}")


def measure(label, argv, cols, rows, env, seconds, settle, figures=()):
    """`figures`: which of "first_frame" and "idle_cpu" a budget applies to
    in this run; they are printed as `budget:` lines."""
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
    if "first_frame" in figures and first_frame is not None:
        figure("first_frame_demo_ms", first_frame * 1000, "ms")
    if "idle_cpu" in figures:
        figure("idle_cpu_pct", 100 * (cpu1 - cpu0) / wall, "%")


def rss_mb(pid):
    """(resident, peak resident) of `pid` in MB."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()
    return int(fields["VmRSS"][0]) / 1024, int(fields["VmHWM"][0]) / 1024


def api(method, path, body=None):
    import base64
    import json
    import urllib.request
    base = os.environ.get("ORDERDECK_TEST_RABBITMQ_API", "http://127.0.0.1:15672")
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def seed_stuck(db, n):
    """`n` zombie orders (processing for two days) in the demo database."""
    import sqlite3
    c = sqlite3.connect(db)
    c.execute("""
        WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
        INSERT INTO orders (order_no, buyer_id, supplier_id, sku, quantity, amount_cents,
                            status, payment_status, created_at, status_changed_at)
        SELECT printf('RB%08d', i), 100001, 1001, 'SKU-TEA-0042', 1, 12800, 'processing', 'paid',
               strftime('%Y-%m-%d %H:%M:%f', 'now', '-2 days', printf('-%d seconds', i)),
               strftime('%Y-%m-%d %H:%M:%f', 'now', '-2 days', printf('-%d seconds', i))
        FROM g""", (n,))
    c.commit()
    stuck = c.execute("SELECT COUNT(*) FROM orders WHERE status = 'processing'").fetchone()[0]
    c.close()
    return stuck


def rss(binary, work, db, cols, rows, env, seconds):
    # 250 work queues and their 250 DLQs: the 500 queues of the budget.
    work_queues = [f"odbench.rss.{os.getpid()}.q{i:03d}" for i in range(250)]
    queues = work_queues + [q + ".dlq" for q in work_queues]
    for q in queues:
        api("PUT", "/api/queues/%2F/" + q, {"durable": False, "auto_delete": False,
                                             "arguments": {"x-expires": 900000}})
    try:
        stuck = seed_stuck(db, 100_000)
        # The default lists 5,000 orders per rule and counts the rest; the
        # second run lists every one of them.
        for rows_per_rule, what in [(5000, "default: 5,000 listed per rule, the rest counted"),
                                    (200_000, "rows_per_rule = 200000: every order listed")]:
            cfg = os.path.join(work, "rss.toml")
            with open(cfg, "w") as f:
                f.write(f"[poll]\nrows_per_rule = {rows_per_rule}\n")
                f.write("[env.bench]\n")
                f.write(f'database_url = "sqlite://{db}"\n')
                f.write('amqp_url = "amqp://guest:guest@127.0.0.1:5672/%2f"\n')
                f.write("queues = [" + ", ".join(f'"{q}"' for q in work_queues) + "]\n")
            pid, fd = spawn([binary, "--config", cfg, "--read-only"], cols, rows, env)
            screen = read_for(fd, seconds).decode("utf-8", "replace")
            now, peak = rss_mb(pid)
            code = stop(pid, fd)
            # What the panes said, so a run that loaded less is seen. Only
            # changed cells are written, so this is the first full title.
            plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", " ", screen)
            shown = [m.group(0) for m in re.finditer(
                r"Stuck orders +[0-9,]+[^\n]{0,60}?(?:listed\)|▼|▲)|zombie +[0-9]+", plain)]
            print(f"watching {stuck} orders in processing (SQLite) and {len(queues)} queues (RabbitMQ), "
                  f"{cols}x{rows}, {what}, after {seconds:.0f} s: RSS {now:.1f} MB, peak {peak:.1f} MB   exit {code}")
            print("  on screen: " + "; ".join(list(dict.fromkeys(shown))[-3:]))
            if rows_per_rule == 5000 and code == 0:
                figure("binary_100k_orders_500_queues_rss_mb", peak, "MB")
    finally:
        for q in queues:
            try:
                api("DELETE", "/api/queues/%2F/" + q)
            except Exception:
                pass


KEYS = b"jjjjjGgkkkkk"


def pump(fd, seconds, slow, keys_per_sec=0):
    """Reads for `seconds`, fast (all there is) or slow (1 kB per 100 ms,
    an SSH link of ~10 kB/s), typing KEYS in a loop at `keys_per_sec` (held
    down j/k, G/g as with key repeat). Returns bytes read."""
    total, i = 0, 0
    start = time.monotonic()
    next_read = start
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        if keys_per_sec and i < (now - start) * keys_per_sec:
            try:
                os.write(fd, KEYS[i % len(KEYS):i % len(KEYS) + 1])
            except OSError:
                break
            i += 1
        wait = 1 / keys_per_sec if keys_per_sec else 0.05
        if slow:
            if now >= next_read:
                r, _, _ = select.select([fd], [], [], 0)
                if r:
                    try:
                        total += len(os.read(fd, 1024))
                    except OSError:
                        break
                next_read = now + 0.1
            time.sleep(wait)
        else:
            r, _, _ = select.select([fd], [], [], wait)
            if r:
                try:
                    total += len(os.read(fd, 65536))
                except OSError:
                    break
    return total


def surge(label, argv, cols, rows, env, seconds, slow):
    pid, fd = spawn(argv, cols, rows, env)
    read_for(fd, 10, until=b"Stuck orders")
    read_for(fd, 3)  # the first polls land
    t1 = time.monotonic()
    n = pump(fd, seconds, slow, keys_per_sec=50)
    rate = n / (time.monotonic() - t1)
    os.write(fd, b"q")
    t_quit = time.monotonic()
    exit_after = None
    while time.monotonic() - t_quit < 60:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            exit_after = time.monotonic() - t_quit
            break
        pump(fd, 0.1, slow)
    if exit_after is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    shown = f"{exit_after:6.2f} s" if exit_after is not None else " >60 s (killed)"
    print(f"{label:<44} {rate:9.0f} bytes/s read   q to exit {shown}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default="target/release/orderdeck")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--size", default="200x60")
    ap.add_argument("--surge", action="store_true", help="only the backlog-surge measurements")
    ap.add_argument("--rss", action="store_true",
                    help="only memory: 100k stuck orders and 500 queues (needs RabbitMQ and its API)")
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
        if args.rss:
            rss(binary, work, db, cols, rows, env, args.seconds)
            return
        if args.surge:
            print(f"orderdeck PTY surge bench, {cols}x{rows}, {args.seconds:.0f} s windows, {os.cpu_count()} CPUs")
            argv = [binary, "demo"]
            surge("50 keys/s, fast terminal", argv + ["--db", os.path.join(work, "s1.db")],
                  cols, rows, env, args.seconds, slow=False)
            surge("50 keys/s, 10 kB/s terminal", argv + ["--db", os.path.join(work, "s2.db")],
                  cols, rows, env, args.seconds, slow=True)
            return
        print(f"orderdeck PTY bench, {cols}x{rows}, {args.seconds:.0f} s windows, {os.cpu_count()} CPUs")
        measure("idle (still database, read-only)", [binary, "--read-only"], cols, rows,
                still_env, args.seconds, settle=6, figures=("idle_cpu",))
        measure("live demo (simulator in-process)", [binary, "demo", "--db", os.path.join(work, "live.db")],
                cols, rows, env, args.seconds, settle=6, figures=("first_frame",))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
