#!/usr/bin/env bash
# Declared connectors at scale, against connect-sim with 2 ms latency per Connect call:
# - applying 1,000 new connectors one at a time (--concurrency 1) vs concurrently
#   (the default 16, and 32), timed with hyperfine (the simulator is reset before each run);
# - the Connect requests a no-op pass makes over 1,000 declared connectors: `apply` when
#   nothing changed, and `reconcile` resync passes (from /_sim/requests and its metrics).
# Loopback only; every run is bounded.
#
# Usage: bench/declare.sh            (needs hyperfine, curl, python3; about 1 minute)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine curl python3; do command -v $tool >/dev/null || { echo "$tool is required" >&2; exit 2; }; done
cargo build --release -q -p connect-sim -p connect-sentinel
BIN=./target/release/connect-sentinel

out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$out"; }
trap cleanup EXIT

./target/release/connect-sim --listen 127.0.0.1:0 --lifecycle-delay-ms 0 >"$out/sim" 2>/dev/null &
pids+=($!)
for _ in $(seq 50); do [ -s "$out/sim" ] && break; sleep 0.1; done
SIM="http://$(head -1 "$out/sim")"

mkdir "$out/manifests"
python3 - "$out/manifests/connectors.json" <<'PY'
import json, sys
connectors = [{"name": f"sink-{i:04d}", "config": {
    "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
    "topics": f"topic-{i:04d}", "file": f"/tmp/sink-{i:04d}.txt", "tasks.max": 1}} for i in range(1000)]
json.dump(connectors, open(sys.argv[1], "w"))
PY
RESET="curl -sf -XPOST $SIM/_sim/reset >/dev/null && curl -sf -XPUT $SIM/_sim/faults -H 'Content-Type: application/json' -d '{\"latency_ms\":2}' >/dev/null"
APPLY="$BIN apply -f $out/manifests --connect-url $SIM --connect-timeout 5s"
hyperfine --style basic --runs 3 --prepare "$RESET" --export-json "$out/apply.json" \
  -n "concurrency 1" "$APPLY --concurrency 1 >/dev/null" \
  -n "concurrency 16 (default)" "$APPLY >/dev/null" \
  -n "concurrency 32" "$APPLY --concurrency 32 >/dev/null"

# No-op passes: everything is applied (the last hyperfine run), so nothing changes.
requests() { curl -sf "$SIM/_sim/requests" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
curl -sf -XDELETE "$SIM/_sim/requests" >/dev/null
$APPLY >"$out/noop"
APPLY_NOOP=$(requests)

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$BIN reconcile -f "$out/manifests" --connect-url "$SIM" --connect-timeout 5s --interval 500ms \
  --bind 127.0.0.1 --port "$PORT" --log-level error &
pids+=($!)
passes() { curl -sf "http://127.0.0.1:$PORT/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["passes"])' 2>/dev/null || echo 0; }
for _ in $(seq 100); do [ "$(passes)" -ge 1 ] && break; sleep 0.1; done
P0=$(passes); curl -sf -XDELETE "$SIM/_sim/requests" >/dev/null
sleep 3
P1=$(passes); RECONCILE_REQS=$(requests)

python3 - "$out/apply.json" "$APPLY_NOOP" "$RECONCILE_REQS" "$((P1 - P0))" <<'PY'
import json, sys
runs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
noop, reqs, passes = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
one = runs["concurrency 1"]["mean"]
print("\n1,000 declared connectors, 2 ms per Connect call (connect-sim), loopback, 2 cores")
print(f"{'apply of 1,000 new connectors':34} {'mean (s)':>9} {'vs one at a time':>17}")
for name in ("concurrency 1", "concurrency 16 (default)", "concurrency 32"):
    mean = runs[name]["mean"]
    print(f"  {name:32} {mean:9.2f} {one / mean:16.1f}x")
print(f"no-op apply: Connect requests        {noop}")
print(f"no-op reconcile: requests per pass   {reqs / max(passes, 1):.1f} ({reqs} over {passes} passes)")
PY
