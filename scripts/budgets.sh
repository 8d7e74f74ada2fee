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

echo "== machine"
nproc
grep -m1 "model name" /proc/cpuinfo || true
free -g | head -2
rustc --version
psql --version 2>/dev/null || true
rabbitmqctl version 2>/dev/null || true

echo "== cargo bench (criterion and the service benches)"
cargo bench

echo "== the real binary in a PTY"
cargo build --release
for size in 200x60 80x24; do
    python3 scripts/pty-bench.py --size "$size" --seconds 30
    python3 scripts/pty-bench.py --size "$size" --seconds 10 --surge
done
python3 scripts/pty-bench.py --size 200x60 --seconds 20 --rss
