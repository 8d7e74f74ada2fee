#!/usr/bin/env bash
# Every budget of DESIGN section 9, measured: the criterion and service
# benches (`cargo bench`: render, detection, broker poll, heal, requeue,
# memory of the state) and the real binary in a pseudo-terminal (first
# frame, idle CPU and bytes, surge bytes and key latency over a slow link,
# resident memory with 100k stuck orders and 500 queues).
#
# Needs the local PostgreSQL, RabbitMQ (with its management API) for the
# service parts; each bench says "skipped" when its service is missing.
# Takes about 15 minutes on 2 cores. Results go to stdout; copy the numbers
# into README "Measured budgets" with the machine they ran on.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== machine (and how loaded it is: other builds share these cores)"
nproc
uptime
grep -m1 "model name" /proc/cpuinfo || true
free -g | head -2
rustc --version
psql --version 2>/dev/null || true
rabbitmqctl version 2>/dev/null || true

echo "== cargo bench (criterion and the service benches)"
# broker: the 12-queue poll, then 512 queues probed concurrently and one at
#   a time, each against rabbitmqctl list_queues in the same run;
# remedy: the heal one batch at a time and overlapped, against the loop of
#   one UPDATE per order, in the same run.
cargo bench

echo "== release binary size (budget: 30 MB)"
cargo build --release
ls -l target/release/orderdeck
du -h target/release/orderdeck
# What is left of debug info (0 when stripped); `size` is in binutils.
(size -A target/release/orderdeck 2>/dev/null || true) |
    awk '/^\.debug/ {d += $2} END {printf "debug sections: %d bytes\n", d}'
uptime

echo "== the real binary in a PTY"
cargo build --release
for size in 200x60 80x24; do
    python3 scripts/pty-bench.py --size "$size" --seconds 30
    python3 scripts/pty-bench.py --size "$size" --seconds 10 --surge
done
python3 scripts/pty-bench.py --size 200x60 --seconds 20 --rss
