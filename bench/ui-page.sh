#!/usr/bin/env bash
# What the status page costs: `serve`'s GET /ui at 10,000 connectors x 3 tasks in
# connect-sim (20 of them with a FAILED task and a trace), against GET / of the same
# server in the same run (the JSON verdict every probe reads from the same snapshot).
# Per request: wrk's requests/s and mean and p99 latency over DURATION seconds, one
# connection at a time (what a few people with the page open do), and the answer's
# size; then each page's time as a multiple of /'s. Release build, the sidecar's
# features. Loopback only; every wait is bounded; wrk stops by itself.
#
# Usage: bench/ui-page.sh [seconds per request, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-5}"
for tool in curl python3 wrk; do
  command -v $tool >/dev/null || { echo "$tool is required (apt-get install $tool)" >&2; exit 2; }
done
. bench/sim-lib.sh
bench_setup
SIM_NICE=19 start_sim
seed 10000
for i in $(seq 0 19); do
  name=$(curl -sf "$SIM/connectors" | python3 -c "import json,sys; print(sorted(json.load(sys.stdin))[$i*397])")
  curl -sf -XPUT "$SIM/_sim/connectors/$name/tasks/1/state" -H 'Content-Type: application/json' \
    -d '{"state":"FAILED","trace":"org.example.Boom: it broke\nCaused by: org.example.Disk: full"}' >/dev/null
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/connect-sentinel serve --bind 127.0.0.1 --port "$port" --connect-url "$SIM" \
  --poll-interval 2s --max-age 60s --connect-timeout 30s 2>/dev/null &
pids+=($!)
url="http://127.0.0.1:$port"
for _ in $(seq 600); do
  curl -sf "$url/ui?state=degraded" 2>/dev/null | grep -q 'data-triage="degraded"' && break; sleep 0.1
done

# measure PATH: "requests/s mean_ms p99_ms bytes".
measure() {
  local bytes; bytes=$(curl -s -o /dev/null -w '%{size_download}' "$url$1")
  wrk -t1 -c1 -d"${DURATION}s" --latency "$url$1" >"$out/wrk"
  python3 - "$out/wrk" "$bytes" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
mean = ms(re.search(r"Latency\s+(\S+)", text).group(1))
p99 = ms(re.search(r"99%\s+(\S+)", text).group(1))
print(f"{rps:.0f} {mean:.2f} {p99:.2f} {sys.argv[2]}")
PY
}

printf '%-26s %9s %9s %9s %10s %8s\n' request "req/s" "mean ms" "p99 ms" "KB" "x GET /"
read -r base_rps base_mean base_p99 base_bytes < <(measure /)
printf '%-26s %9s %9s %9s %10.1f %8s\n' "GET / (baseline)" "$base_rps" "$base_mean" "$base_p99" "$(python3 -c "print($base_bytes/1000)")" 1.0
for path in "/ui" "/ui?state=degraded" "/ui?q=connector-0042" "/ui?page=50"; do
  read -r rps mean p99 bytes < <(measure "$path")
  printf '%-26s %9s %9s %9s %10.1f %8.1f\n' "GET $path" "$rps" "$mean" "$p99" \
    "$(python3 -c "print($bytes/1000)")" "$(python3 -c "print($mean/$base_mean)")"
done
