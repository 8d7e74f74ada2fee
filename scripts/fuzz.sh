#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for a given time each, with the
# corpus kept in the repository: fuzz/corpus/TARGET holds the committed seeds
# (seed-*) and collects what the fuzzer finds (not committed; `--merge`
# minimises it). The repository's own files seed the parser targets too.
#
#   scripts/fuzz.sh [-t SECONDS] [--merge] [TARGET...]
#
# SECONDS defaults to 600 per target. A crash, a panic or a failed property
# stops the run with exit 1; its input is in fuzz/artifacts/TARGET/ (replay:
# `cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-...`).
#
# Toolchain: nightly if rustup has it, else stable with RUSTC_BOOTSTRAP=1
# (override with FUZZ_TOOLCHAIN). Sanitizer: none by default (the code is
# safe Rust; the fuzzer looks for panics and failed properties, and runs
# about twice as fast); FUZZ_SANITIZER=address for AddressSanitizer.
# One job per target (-jobs=1 equivalent): the CI machine has 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=600
merge=0
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        -t) secs="$2"; shift 2 ;;
        --merge) merge=1; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done

if ! command -v cargo-fuzz >/dev/null; then
    echo "fuzz.sh: cargo-fuzz is not installed: cargo install cargo-fuzz" >&2
    exit 2
fi
toolchain="${FUZZ_TOOLCHAIN:-}"
if [ -z "$toolchain" ]; then
    if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
        toolchain=nightly
    else
        toolchain=stable
        export RUSTC_BOOTSTRAP=1
    fi
fi
sanitizer="${FUZZ_SANITIZER:-none}"
fuzz() { cargo "+$toolchain" fuzz "$@"; }

if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(fuzz list)
fi

# The repository's own inputs for the parser targets (read, never written).
seeds_for() {
    case "$1" in
        config) echo tests/fixtures/bad_config ;;
        runbook) echo runbooks tests/fixtures/bad_runbook ;;
        theme) echo themes tests/fixtures/bad_theme ;;
        draft) echo tests/fixtures/bad_draft ;;
    esac
}

fuzz build --sanitizer "$sanitizer" -O

status=0
for t in "${targets[@]}"; do
    corpus="fuzz/corpus/$t"
    mkdir -p "$corpus"
    extra=$(seeds_for "$t")
    echo "== $t: ${secs}s, corpus $corpus ${extra:+(seeded from $extra)}"
    log="$(mktemp -t "fuzz-$t.XXXXXX")"
    # shellcheck disable=SC2086
    if fuzz run --sanitizer "$sanitizer" -O "$t" "$corpus" $extra -- \
        -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 \
        -print_final_stats=1 >"$log" 2>&1; then
        runs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
        cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
        echo "   ok: ${runs:-?} runs, coverage ${cov:-?} edges, no crash"
    else
        status=1
        echo "   FAILED: see fuzz/artifacts/$t/ and the log:" >&2
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 >&2
        echo "   (full log: $log)" >&2
        continue
    fi
    if [ "$merge" -eq 1 ]; then
        fuzz cmin --sanitizer "$sanitizer" -O "$t" "$corpus" >/dev/null 2>&1 \
            || echo "   (cmin of $corpus failed; corpus left as it was)" >&2
    fi
    rm -f "$log"
done
exit "$status"
