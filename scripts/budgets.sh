#!/usr/bin/env bash
# Every budget of README "Measured budgets", measured and checked: the
# criterion and service benches (`cargo bench`: render, detection, broker
# poll, heal, requeue, memory of the state) and the real binary in a
# pseudo-terminal (first frame, idle CPU and bytes, surge bytes and key
# latency over a slow link, resident memory with 100k stuck orders and 500
# queues).
#
# Needs the local PostgreSQL and RabbitMQ (with its management API, and
# rabbitmqctl for the broker comparison): a bench that cannot reach its
# service fails, and so does this script. The budgets live in
# scripts/budgets.tsv; scripts/check_budgets.py compares every `budget:`
# figure with them (and the README's table with the file), prints one line
# per figure and exits 1 if any figure is missing or misses its budget.
# Takes about 15 minutes on 2 cores.
set -uo pipefail
cd "$(dirname "$0")/.."

log="$(mktemp -t orderdeck-budgets.XXXXXX)"
failed=0
run() {
    echo "\$ $*"
    "$@" 2>&1 | tee -a "$log" || { echo "FAILED: $*" | tee -a "$log" >&2; failed=1; }
}

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
#   a time (alternated), each against rabbitmqctl list_queues in the same run;
# remedy: the heal one batch at a time and overlapped, against the loop of
#   one UPDATE per order, in the same run.
for bench in render detect broker remedy memory; do
    run cargo bench --bench "$bench"
done

echo "== release binary size (budget: 30 MB)"
if cargo build --release; then
    ls -l target/release/orderdeck
    # What is left of debug info (0 when stripped); `size` is in binutils.
    (size -A target/release/orderdeck 2>/dev/null || true) |
        awk '/^\.debug/ {d += $2} END {printf "debug sections: %d bytes\n", d}'
    bytes=$(stat -c %s target/release/orderdeck)
    echo "budget: release_binary_mb $(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1000000}') MB" |
        tee -a "$log"
else
    echo "FAILED: cargo build --release" >&2
    failed=1
fi
uptime

echo "== the real binary in a PTY"
if cargo build --release; then
    for size in 200x60 80x24; do
        run python3 scripts/pty-bench.py --size "$size" --seconds 30
        run python3 scripts/pty-bench.py --size "$size" --seconds 10 --surge
    done
    run python3 scripts/pty-bench.py --size 200x60 --seconds 20 --rss
else
    echo "FAILED: cargo build --release" >&2
    failed=1
fi

echo "== budgets (scripts/budgets.tsv)"
python3 scripts/check_budgets.py scripts/budgets.tsv README.md "$log" || failed=1
echo "(full output: $log)"
if [ "$failed" -ne 0 ]; then
    echo "budgets.sh FAILED: see the lines above" >&2
fi
exit "$failed"
