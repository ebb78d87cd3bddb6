#!/usr/bin/env bash
# Measures connect-sim's own throughput for `GET /connectors?expand=status` with wrk
# (keep-alive), for a small and a large cluster, so it is known never to be the
# bottleneck of the health-check benchmark. Loopback only; each run is bounded by -d.
#
# Usage: bench/sim-throughput.sh [seconds per run, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-5}"
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 2; }
cargo build --release -q -p connect-sim
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT

./target/release/connect-sim --listen 127.0.0.1:0 --lifecycle-delay-ms 0 >"$out/addr" 2>"$out/log" &
for _ in $(seq 50); do [ -s "$out/addr" ] && break; sleep 0.1; done
url="http://$(head -1 "$out/addr")"

printf '%-28s %12s %10s %10s\n' "cluster" "requests/s" "p50" "p99"
for size in 10 1000; do
  curl -sf -XPOST "$url/_sim/reset" >/dev/null
  curl -sf -XPOST "$url/_sim/connectors" -H 'Content-Type: application/json' \
    -d "{\"generate\":{\"count\":$size,\"tasks\":3}}" >/dev/null
  wrk -t2 -c16 -d"${DURATION}s" --latency "$url/connectors?expand=status" >"$out/wrk"
  rps=$(awk '/Requests\/sec/ {print $2}' "$out/wrk")
  p50=$(awk '$1=="50%" {print $2}' "$out/wrk")
  p99=$(awk '$1=="99%" {print $2}' "$out/wrk")
  printf '%-28s %12s %10s %10s\n' "$size connectors x 3 tasks" "$rps" "$p50" "$p99"
done
