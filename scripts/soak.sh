#!/usr/bin/env bash
# Soak drill: `orderdeck simulate` with every chaos profile against the real
# PostgreSQL and RabbitMQ while the cockpit runs in a tmux pane (a real
# PTY), and the cockpit's database backends and broker connection are killed
# over and over. Checks at the end:
#   - no crash: the cockpit is still running, simulate exited 0;
#   - every source recovers: after each kill the cockpit's backends and its
#     broker connection come back and the status bar shows db and mq ok;
#   - memory stays flat: RSS growth under 10% after the warm-up;
#   - the terminal output stays sane: only the renderer's own escape
#     sequences (CSI), no OSC/DCS/APC, no C1 or stray C0 bytes, no BEL
#     (the bell is off in the drill's config), valid UTF-8.
# Not part of .ci/run (it takes SOAK_MINUTES, 10 by default). See README,
# "Hardening". Writes its evidence to SOAK_DIR (default: a temp dir).
#
#   scripts/soak.sh                       # 10 minutes, local services
#   SOAK_MINUTES=2 scripts/soak.sh        # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES="${SOAK_MINUTES:-10}"
WARMUP_SECS="${SOAK_WARMUP_SECS:-120}"
KILL_EVERY="${SOAK_KILL_EVERY_SECS:-30}"
PG_ADMIN="${ORDERDECK_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
AMQP_URL="${ORDERDECK_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
API="${SOAK_RABBITMQ_API:-http://127.0.0.1:15672}"
API_AUTH="${SOAK_RABBITMQ_API_AUTH:-guest:guest}"
BIN="${ORDERDECK_BIN:-${CARGO_TARGET_DIR:-target}/debug/orderdeck}"
DIR="${SOAK_DIR:-$(mktemp -d -t orderdeck-soak.XXXXXX)}"
mkdir -p "$DIR"
SESSION="od-soak-$$"
# A tmux server of its own: the default one is shared with whoever else
# uses tmux on the host, and a `tmux kill-server` there must not end the drill.
tm() { tmux -L "$SESSION" "$@"; }
DB="od_soak_$$"

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$DIR/soak.log"; }
fail() { say "SOAK FAILED: $*"; FAILED=1; }
FAILED=0

[ -x "$BIN" ] || cargo build --bin orderdeck
command -v tmux >/dev/null || { echo "soak: needs tmux" >&2; exit 2; }
command -v psql >/dev/null || { echo "soak: needs psql" >&2; exit 2; }

if ! curl -sf -u "$API_AUTH" "$API/api/overview" >/dev/null 2>&1; then
    rabbitmq-plugins enable rabbitmq_management >/dev/null
    for _ in $(seq 60); do
        curl -sf -u "$API_AUTH" "$API/api/overview" >/dev/null 2>&1 && break
        sleep 1
    done
fi
curl -sf -u "$API_AUTH" "$API/api/overview" >/dev/null || { echo "soak: no management API at $API" >&2; exit 1; }

psql "$PG_ADMIN" -qAtc "CREATE DATABASE $DB" >/dev/null
DB_URL="$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$PG_ADMIN" "$DB")"
cleanup() {
    tm kill-server 2>/dev/null || true
    [ -n "${SIM_PID:-}" ] && kill "$SIM_PID" 2>/dev/null || true
    [ -n "${RSS_PID:-}" ] && kill "$RSS_PID" 2>/dev/null || true
    psql "$PG_ADMIN" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$BIN" db migrate --database-url "$DB_URL" >/dev/null

# The cockpit watches the broker over AMQP only: with the management API
# configured it polls the API and opens AMQP only as a fallback, so killing
# its connection would prove nothing.
CONFIG="$DIR/config.toml"
( umask 077; cat > "$CONFIG" <<TOML
default_env = "soak"
[poll]
orders_secs = 2
[alerts]
bell = false
[env.soak]
database_url = "$DB_URL"
amqp_url = "$AMQP_URL"
TOML
)

say "soak: $MINUTES min, evidence in $DIR, database $DB"
tm new-session -d -s "$SESSION" -x 120 -y 40 \
    "env TERM=xterm-256color XDG_STATE_HOME='$DIR/state' '$BIN' --config '$CONFIG'; echo \"cockpit exited: \$?\" > '$DIR/cockpit.exit'; sleep 3600"
tm pipe-pane -o -t "$SESSION" "cat >> '$DIR/terminal.raw'"
COCKPIT_PID=""
for _ in $(seq 50); do
    COCKPIT_PID="$(pgrep -P "$(tm display -p -t "$SESSION" '#{pane_pid}')" -f "$BIN" | head -1 || true)"
    [ -n "$COCKPIT_PID" ] && break
    sleep 0.1
done
[ -n "$COCKPIT_PID" ] || { fail "the cockpit did not start"; exit 1; }
say "cockpit pid $COCKPIT_PID"

screen() { tm capture-pane -p -t "$SESSION"; }
alive() { kill -0 "$COCKPIT_PID" 2>/dev/null; }

"$BIN" simulate --database-url "$DB_URL" --amqp-url "$AMQP_URL" --rate 5 \
    --duration "${MINUTES}m" --seed 11 \
    --chaos consumer-down,bank-500,deadlock,erp-cert-expired,risk-false-positive \
    > "$DIR/simulate.out" 2> "$DIR/simulate.err" &
SIM_PID=$!

# RSS every 5 s: seconds since start, kB.
START=$(date +%s)
( while kill -0 "$COCKPIT_PID" 2>/dev/null; do
      kb=$(awk '/^VmRSS/ {print $2}' "/proc/$COCKPIT_PID/status" 2>/dev/null || true)
      [ -n "$kb" ] && echo "$(( $(date +%s) - START )) $kb" >> "$DIR/rss.txt"
      sleep 5
  done ) &
RSS_PID=$!

cockpit_backends() {
    psql "$PG_ADMIN" -qAtc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND application_name = 'orderdeck'"
}
# Names of the cockpit's broker connections (its connection_name says "queue monitor").
cockpit_connections() {
    curl -sf -u "$API_AUTH" "$API/api/connections" | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    name = (c.get("client_properties") or {}).get("connection_name", "")
    if "queue monitor" in name:
        print(c["name"])'
}

# Waits until the cockpit is back on both sources: its backend and broker
# connection exist and the status bar shows both ok. Echoes the seconds taken.
wait_recovered() {
    local t0=$(date +%s)
    local why=""
    while [ $(( $(date +%s) - t0 )) -lt 90 ]; do
        alive || { echo " cockpit-gone"; return 1; }
        why=""
        [ "$(cockpit_backends)" -gt 0 ] || why="$why no-db-backend"
        [ -n "$(cockpit_connections)" ] || why="$why no-broker-connection"
        screen | grep -q 'db ● ok' || why="$why db-not-ok-on-screen"
        screen | grep -q 'mq ● ok' || why="$why mq-not-ok-on-screen"
        if [ -z "$why" ]; then
            echo $(( $(date +%s) - t0 )); return 0
        fi
        sleep 1
    done
    echo "$why"
    return 1
}

if ! t=$(wait_recovered); then fail "the cockpit never got both sources ok at start:$t"; fi
ROUND=0
DB_KILLS=0
MQ_KILLS=0
while kill -0 "$SIM_PID" 2>/dev/null; do
    sleep "$KILL_EVERY"
    kill -0 "$SIM_PID" 2>/dev/null || break
    ROUND=$((ROUND + 1))
    # A dead cockpit ends the drill at once (the evidence is what it left).
    alive || { fail "the cockpit died (round $ROUND)"; kill "$SIM_PID" 2>/dev/null; break; }
    # Every round kills the cockpit's database backends; every other round
    # all backends of the database (simulate's too), and every round the
    # cockpit's broker connection through the management API.
    if [ $((ROUND % 2)) -eq 0 ]; then who="application_name LIKE 'orderdeck%'"; else who="application_name = 'orderdeck'"; fi
    n=$(psql "$PG_ADMIN" -qAtc "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$DB' AND $who")
    DB_KILLS=$((DB_KILLS + n))
    for c in $(cockpit_connections | python3 -c 'import sys,urllib.parse as u; [print(u.quote(l.strip(), safe="")) for l in sys.stdin]'); do
        curl -sf -u "$API_AUTH" -X DELETE -H 'X-Reason: orderdeck soak drill' "$API/api/connections/$c" >/dev/null && MQ_KILLS=$((MQ_KILLS + 1))
    done
    if t=$(wait_recovered); then
        say "round $ROUND: killed $n backend(s) and the broker connection; recovered in ${t}s"
    else
        fail "round $ROUND: not recovered within 90 s:$t"
        screen > "$DIR/screen-round-$ROUND.txt"
    fi
done

set +e
wait "$SIM_PID"; SIM_RC=$?
set -e
screen > "$DIR/screen-final.txt"
alive && say "cockpit still running after the drill" || fail "the cockpit is gone: $(cat "$DIR/cockpit.exit" 2>/dev/null)"
[ "$SIM_RC" -eq 0 ] || fail "simulate exited $SIM_RC: $(tail -3 "$DIR/simulate.err")"
tm send-keys -t "$SESSION" q
sleep 2
grep -q 'cockpit exited: 0' "$DIR/cockpit.exit" 2>/dev/null || fail "the cockpit did not quit cleanly on q: $(cat "$DIR/cockpit.exit" 2>/dev/null)"

python3 - "$DIR" "$WARMUP_SECS" <<'PY' || FAILED=1
import re, sys
d, warmup = sys.argv[1], int(sys.argv[2])
ok = True
rows = [tuple(map(int, l.split())) for l in open(f"{d}/rss.txt") if l.strip()]
base = [kb for t, kb in rows if t >= warmup]
if len(base) < 2:
    print("RSS: too few samples after the warm-up"); ok = False
else:
    first, last, peak = base[0], base[-1], max(base)
    growth = (last - first) / first * 100
    print(f"RSS after warm-up: {first} kB -> {last} kB at the end ({growth:+.1f}%), peak {peak} kB, {len(rows)} samples")
    if growth >= 10:
        print("RSS grew 10% or more after the warm-up"); ok = False
raw = open(f"{d}/terminal.raw", "rb").read()
try:
    text = raw.decode("utf-8")
except UnicodeDecodeError as e:
    print(f"terminal output is not UTF-8 at byte {e.start}"); ok = False
    text = raw.decode("utf-8", "replace")
# The renderer's own sequences: CSI (ESC [ params intermediates final) and
# the charset/keypad ESC sequences tmux may pass; anything else is data
# reaching the terminal.
csi = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
rest = csi.sub("", text)
rest = re.sub(r"\x1b[()][0-9A-Za-z]|\x1b[=>78M]", "", rest)
bad = [(i, c) for i, c in enumerate(rest) if (ord(c) < 0x20 and c not in "\r\n\b") or ord(c) == 0x7f or 0x80 <= ord(c) <= 0x9f or c == "\x1b"]
print(f"terminal output: {len(raw)} bytes, {len(csi.findall(text))} CSI sequences, {len(bad)} stray control characters")
if bad:
    i, c = bad[0]
    print(f"first stray control: {c!r} near {rest[max(0, i - 40):i + 40]!r}"); ok = False
sys.exit(0 if ok else 1)
PY

say "rounds $ROUND, backends killed $DB_KILLS, broker connections closed $MQ_KILLS"
say "simulate summary:"; sed 's/^/    /' "$DIR/simulate.out" | tee -a "$DIR/soak.log"
if [ "$FAILED" -ne 0 ]; then say "SOAK FAILED (evidence in $DIR)"; exit 1; fi
say "SOAK PASSED (evidence in $DIR)"
