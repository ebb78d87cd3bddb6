#!/usr/bin/env bash
# Soak of `serve`'s HTTP server with its default cap (64 connections) and a 1 s header
# timeout (HEADER_TIMEOUT; the default 5 s makes the phases five times longer) against
# connect-sim seeded with 1,000 connectors x 3 tasks:
#   1. probes: GET / at about 1,000/s for DURATION seconds (wrk, paced by a Lua delay),
#      each on a new connection (`Connection: close`, as kubelet probes); every answer
#      must be a 200 and no socket error may occur;
#   2. idle: 1,000 connections opened and left idle, until the server closes them;
#   3. half-sent: 6,000 connections each sending half a request head, until the server
#      closes them (over the cap they wait in the listen backlog; clients that find the
#      backlog full too retry their SYN, and some give up: counted as not connected).
# It prints the RSS of `serve` before, at the peak of and after each phase, and its
# growth from start to end once every connection closed (target: < 1 MiB).
# Loopback only; every phase is bounded by a count and a duration, and it stops itself.
#
# It measures the sidecar build (`--no-default-features`), static musl when the target
# and musl-gcc are installed, as the image ships it; else glibc, and says so.
#   DURATION=seconds   the probe phase (default 60)
#   RATE=per second    probes per second (default 1000)
#   HEADER_TIMEOUT     serve's --header-timeout (default 1s)
#
# Usage: bench/soak.sh        (needs wrk, curl, python3; about 4 minutes once built)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk curl python3; do command -v $tool >/dev/null || { echo "$tool is required (apt-get install $tool)" >&2; exit 2; }; done
DURATION="${DURATION:-60}"
RATE="${RATE:-1000}"
HEADER_TIMEOUT="${HEADER_TIMEOUT:-1s}"
. bench/sim-lib.sh
sidecar_build

out=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$out"
}
trap cleanup EXIT

cargo build --release --locked -q -p connect-sim
cargo build --release --locked -q -p connect-sentinel --no-default-features "${TARGET[@]}"
SENTINEL="${CARGO_TARGET_DIR:-target}/$SUBDIR/connect-sentinel"

start_sim
seed 1000
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$port"
"$SENTINEL" serve --connect-url "$SIM" --bind 127.0.0.1 --port "$port" \
  --poll-interval 2s --header-timeout "$HEADER_TIMEOUT" --log-level error &
PID=$!; pids+=($PID)
for _ in $(seq 100); do curl -sf -o /dev/null "$URL/" && break; sleep 0.2; done
curl -sf -o /dev/null "$URL/" || { echo "serve did not answer 200 on / within 20 s" >&2; exit 1; }

rss() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
rss_median() { for _ in $(seq 11); do rss; sleep 0.2; done | sort -n | sed -n 6p; }
# watch_peak FILE: samples RSS every 0.1 s into FILE until it is removed.
watch_peak() { touch "$1.on"; while [ -e "$1.on" ]; do rss >>"$1"; sleep 0.1; done; }
peak_of() { rm -f "$1.on"; sleep 0.2; sort -n "$1" | tail -1; }

# Each connection waits before its next probe so that CONNS of them make about RATE/s
# (a probe and its connection take about 1 ms more).
CONNS=10
cat >"$out/pace.lua" <<LUA
wrk.headers["Connection"] = "close"
function delay() return $((CONNS * 1000 / RATE - 1)) end
LUA

# Warm-up (lazily allocated buffers), then the baseline.
wrk -t1 -c"$CONNS" -d5s -s "$out/pace.lua" "$URL/" >/dev/null
start=$(rss_median)

watch_peak "$out/probes" & pids+=($!)
wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$out/pace.lua" "$URL/" >"$out/wrk"
probes_peak=$(peak_of "$out/probes")
after_probes=$(rss_median)
requests=$(awk '/requests in/ {print $1}' "$out/wrk")
rate=$(awk '/Requests\/sec/ {print $2}' "$out/wrk")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$out/wrk"); non2xx=${non2xx:-0}
socket_errors=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$out/wrk"); socket_errors=${socket_errors:-0}

# hold COUNT HEAD LIMIT: opens COUNT connections (each sends HEAD, which may be empty)
# and waits until the server closed them all, LIMIT seconds at most; prints how many
# connected and how many the server closed.
hold() {
  python3 - "$port" "$1" "$2" "$3" <<'PY'
import asyncio, sys
port, count, head, limit = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode().decode("unicode_escape").encode(), float(sys.argv[4])
seen = {"open": 0, "closed": 0}
async def one():
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    seen["open"] += 1
    if head:
        writer.write(head)
    try:
        await reader.read()
    except OSError:
        pass
    seen["closed"] += 1
    writer.close()
async def main():
    tasks = [asyncio.ensure_future(one()) for _ in range(count)]
    _, pending = await asyncio.wait(tasks, timeout=limit)
    for t in pending:
        t.cancel()
    print(seen["open"], seen["closed"])
asyncio.run(main())
PY
}

watch_peak "$out/idle" & pids+=($!)
read -r idle_open idle_closed < <(hold 1000 "" 60)
idle_peak=$(peak_of "$out/idle")
after_idle=$(rss_median)

watch_peak "$out/half" & pids+=($!)
read -r half_open half_closed < <(hold 6000 'GET / HTTP/1.1\r\nHost: sentinel\r\n' 240)
half_peak=$(peak_of "$out/half")
end=$(rss_median)
curl -sf -o /dev/null "$URL/" || { echo "serve no longer answers 200 on / after the soak" >&2; exit 1; }

python3 - "$BUILD" "$DURATION" "$RATE" "$HEADER_TIMEOUT" "$requests" "$rate" "$non2xx" "$socket_errors" \
  "$start" "$probes_peak" "$after_probes" "$idle_open" "$idle_closed" "$idle_peak" "$after_idle" \
  "$half_open" "$half_closed" "$half_peak" "$end" <<'PY'
import sys
build, duration, target, header = sys.argv[1:5]
requests, rate, non2xx, errors = sys.argv[5:9]
start, probes_peak, after_probes, idle_open, idle_closed, idle_peak, after_idle, half_open, half_closed, half_peak, end = map(int, sys.argv[9:20])
mib = lambda kib: f"{kib / 1024:6.1f} MiB"
print(f"serve (64 connections, header timeout {header}) polling connect-sim 1,000 connectors x 3 tasks every 2 s. Build: {build}")
print(f"probes: {requests} GET / in {duration} s ({rate}/s, target {target}/s, a new connection each):"
      f" {non2xx} non-2xx, {errors} socket errors")
print(f"idle: {idle_open} of 1,000 connected, {idle_closed} closed by the server (header timeout)")
print(f"half-sent: {half_open} of 6,000 connected, {half_closed} closed by the server")
print(f"{'RSS':12} {'before':>10} {'peak':>10} {'after':>10}")
print(f"{'probes':12} {mib(start)} {mib(probes_peak)} {mib(after_probes)}")
print(f"{'idle':12} {mib(after_probes)} {mib(idle_peak)} {mib(after_idle)}")
print(f"{'half-sent':12} {mib(after_idle)} {mib(half_peak)} {mib(end)}")
growth = end - start
print(f"RSS growth from start to end, every connection closed: {growth} KiB"
      f" ({'within' if growth < 1024 else 'OVER'} the 1 MiB target)")
ok = non2xx == "0" and errors == "0" and idle_closed == idle_open and half_closed == half_open
sys.exit(0 if ok else 1)
PY
