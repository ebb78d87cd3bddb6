#!/usr/bin/env bash
# What reading the connectors' facts (class, tasks.max, connect-sentinel.* keys) costs
# the poll: `serve --connector-info poll` (one `GET /connectors?expand=status&expand=info`
# call) against `--connector-info off` (`expand=status` only), at 1,000 and 10,000
# connectors x 3 tasks in connect-sim (release builds, the sidecar's features). Per
# mode: mean poll time (the poll-duration histogram's sum/count over POLLS seconds of
# 1s polls: the listing call and its parse), CPU of the serve process per poll over
# that window (utime+stime from /proc: parse, verdict, silent checks, publish; two
# /metrics scrapes bracket it), its RSS at the end (VmRSS, VmHWM), and the answer's
# size and time as curl sees it; then the ratios (poll time, CPU, RSS).
# Loopback only; every wait is bounded.
#
# Usage: bench/poll-info.sh [seconds (≈ polls) per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
POLLS="${1:-10}"
for tool in curl python3; do command -v $tool >/dev/null || { echo "$tool is required" >&2; exit 2; }; done
. bench/sim-lib.sh
bench_setup
SIM_NICE=19 start_sim
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# metric NAME URL: the value of an unlabelled series.
metric() { curl -sf "$2/metrics" | awk -v n="$1" '$1 == n {print $2}'; }

# run MODE: one serve with --connector-info MODE; prints "poll_ms cpu_ms rss_kb hwm_kb".
run() {
  local port; port=$(free_port)
  target/release/connect-sentinel serve --bind 127.0.0.1 --port "$port" --connect-url "$SIM" \
    --poll-interval 1s --max-age 60s --connect-timeout 30s --connector-info "$1" 2>/dev/null &
  local pid=$!; pids+=($pid)
  local url="http://127.0.0.1:$port" count=""
  for _ in $(seq 600); do
    count=$(metric connect_sentinel_polls_total "$url" 2>/dev/null || true)
    [ -n "$count" ] && [ "${count%.*}" -ge 1 ] && break; sleep 0.1
  done
  local c0 s0 t0; c0=$(metric connect_sentinel_poll_duration_seconds_count "$url")
  s0=$(metric connect_sentinel_poll_duration_seconds_sum "$url"); t0=$(ticks $pid)
  sleep "$POLLS"   # about POLLS polls at 1s, unscraped: the CPU is the polls' own
  local c1 s1 t1; c1=$(metric connect_sentinel_poll_duration_seconds_count "$url")
  s1=$(metric connect_sentinel_poll_duration_seconds_sum "$url"); t1=$(ticks $pid)
  local rss hwm; rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status"); hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill $pid; wait $pid 2>/dev/null || true
  python3 -c "n=$c1-$c0; print(f'{($s1-$s0)/n*1000:.1f} {($t1-$t0)*1000/$hz/n:.1f} $rss $hwm')"
}

# body QUERY: "bytes seconds" of one GET /connectors?QUERY.
body() { curl -sf -o /dev/null -w '%{size_download} %{time_total}' "$SIM/connectors?$1"; }

printf '%-12s %-6s %9s %12s %9s %9s %11s %9s\n' connectors info "poll ms" "CPU ms/poll" "RSS MB" "peak MB" "body KB" "curl ms"
for size in 1000 10000; do
  seed "$size"
  declare -A r
  for mode in off poll; do
    read -r poll cpu rss hwm <<<"$(run $mode)"
    query="expand=status"; [ $mode = poll ] && query="expand=status&expand=info"
    read -r bytes secs <<<"$(body "$query")"
    r[$mode]="$poll $cpu $rss"
    printf '%-12s %-6s %9s %12s %9.1f %9.1f %11.0f %9.1f\n' "$size" "$mode" "$poll" "$cpu" \
      "$(echo "$rss/1024" | bc -l)" "$(echo "$hwm/1024" | bc -l)" "$(echo "$bytes/1024" | bc -l)" "$(echo "$secs*1000" | bc -l)"
  done
  read -r p0 c0 m0 <<<"${r[off]}"; read -r p1 c1 m1 <<<"${r[poll]}"
  python3 -c "print(f'{\"\":12} ratio  {$p1/$p0:9.2f} {$c1/$c0:12.2f} {$m1/$m0:9.2f}')"
done
