#!/usr/bin/env bash
# Probe latency of `GET /` while the sidecar polls a large cluster, against the binary of
# an earlier commit: connect-sim with 10,000 connectors x 3 tasks (a 2.4 MB poll body),
# `serve --poll-interval 1s`, and `wrk -t1 -c4 --latency` on `/` meanwhile; p50, p99 and
# max for both binaries and their ratio. Also idle RSS polling 1,000 x 3 (median of 11
# samples), so a latency win does not hide a memory loss. Loopback only; every load run
# is bounded by a duration and every wait by a count.
#
# Binaries: the sidecar build (`--no-default-features`, static musl when the target and
# musl-gcc are installed, as the image ships it; else glibc, and the header says so).
#   BASELINE_BIN=path   use this binary as the baseline instead of building one
#   BASELINE_REF=rev    build the baseline from this commit (default HEAD~1) in a
#                       temporary `git worktree` (target dir target/probe-latency-base)
#   DURATION=seconds    wrk run per binary (default 20)
#   SIM_NICE=N          run connect-sim at niceness N (default 0; see bench/sim-lib.sh)
#   CARGO_TARGET_DIR    where this tree and connect-sim are built (default target)
#
# Usage: bench/probe-latency.sh        (needs wrk, curl, python3; 2-3 minutes once built)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk curl python3; do command -v $tool >/dev/null || { echo "$tool is required (apt-get install $tool)" >&2; exit 2; }; done
DURATION="${DURATION:-20}"
BASELINE_REF="${BASELINE_REF:-HEAD~1}"
. bench/sim-lib.sh
sidecar_build

out=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${BASE_TREE:-}" ]; then git worktree remove --force "$BASE_TREE" 2>/dev/null || true; fi
  rm -rf "$out"
}
trap cleanup EXIT

cargo build --release --locked -q -p connect-sim
cargo build --release --locked -q -p connect-sentinel --no-default-features "${TARGET[@]}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cp "$TARGET_DIR/$SUBDIR/connect-sentinel" "$out/new"
if [ -n "${BASELINE_BIN:-}" ]; then
  cp "$BASELINE_BIN" "$out/base"; BASE_NAME="$BASELINE_BIN"
else
  BASE_TREE="$out/base-tree"; BASE_NAME="$(git rev-parse --short "$BASELINE_REF")"
  git worktree add -q --detach "$BASE_TREE" "$BASELINE_REF"
  BASE_TARGET="$(pwd)/target/probe-latency-base"
  CARGO_TARGET_DIR="$BASE_TARGET" cargo build --release --locked -q \
    --manifest-path "$BASE_TREE/Cargo.toml" -p connect-sentinel --no-default-features "${TARGET[@]}"
  cp "$BASE_TARGET/$SUBDIR/connect-sentinel" "$out/base"
fi

start_sim
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
polls() { curl -sf "$1/metrics" | awk '/^connect_sentinel_polls_total/ {print $2}'; }
# wait_polls URL N: until N more polls have completed (at most 30 s).
wait_polls() {
  local start; start=$(polls "$1" || echo 0)
  for _ in $(seq 300); do
    [ "$(polls "$1" || echo 0)" -ge $((start + $2)) ] && return 0; sleep 0.1
  done
  echo "the sidecar did not complete $2 polls in 30 s" >&2; exit 1
}
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
rss_median() { for _ in $(seq 11); do rss "$1"; echo; sleep 0.5; done | sort -n | sed -n 6p; }
ms() { python3 -c "import re,sys; m=re.match(r'([0-9.]+)([a-z]+)', sys.argv[1]); print('%.3f' % (float(m.group(1)) * {'us':0.001,'ms':1,'s':1000}[m.group(2)]))" "$1"; }

# start BIN INTERVAL: serves from $out/BIN polling every INTERVAL; sets URL and PID.
start() {
  local port; port=$(free_port); URL="http://127.0.0.1:$port"
  "$out/$1" serve --connect-url "$SIM" --bind 127.0.0.1 --port "$port" \
    --poll-interval "$2" --connect-timeout 5s --log-level error &
  PID=$!; pids+=($PID)
  for _ in $(seq 100); do curl -sf "$URL/" >/dev/null && break; sleep 0.2; done
}

# probe NAME: wrk on $URL/, its p50 p99 max (ms) and req/s into $out/NAME.lat.
probe() {
  curl -sf -o /dev/null "$URL/" || { echo "$1: / is not 200 at 10,000 x 3" >&2; exit 1; }
  wrk -t1 -c4 -d"${DURATION}s" --latency "$URL/" >"$out/$1.wrk"
  local p50 p99 max
  p50=$(ms "$(awk '$1=="50%" {print $2}' "$out/$1.wrk")")
  p99=$(ms "$(awk '$1=="99%" {print $2}' "$out/$1.wrk")")
  max=$(ms "$(awk '$1=="Latency" {print $4}' "$out/$1.wrk")")
  echo "$p50 $p99 $max $(awk '/Requests\/sec/ {print $2}' "$out/$1.wrk")" >"$out/$1.lat"
}

# measure BIN: idle RSS at 1,000 x 3, then probes while polling 10,000 x 3 every 1 s.
measure() {
  seed 1000
  start "$1" 1s
  wait_polls "$URL" 3
  rss_median $PID >"$out/$1.rss"
  seed 10000
  wait_polls "$URL" 3
  probe "$1"
  kill $PID
}
measure base
measure new
# The machine's floor: the same probes while no poll runs (one poll, then an hour).
start new 1h
probe floor
kill $PID

python3 - "$BASE_NAME" "$BUILD" "$DURATION" $(cat "$out/base.lat" "$out/base.rss" "$out/new.lat" "$out/new.rss" "$out/floor.lat") <<'PY'
import sys
base_name, build, duration = sys.argv[1:4]
b50, b99, bmax, brps, brss, n50, n99, nmax, nrps, nrss, f50, f99, fmax, frps = map(float, sys.argv[4:18])
print(f"GET / under wrk -t1 -c4 -d{duration}s while polling 10,000 connectors x 3 tasks every 1 s")
print(f"(connect-sim, loopback); RSS: median of 11 samples polling 1,000 x 3. Build: {build}")
print(f"{'':26} {'baseline':>10} {'this tree':>10} {'ratio':>8} {'floor':>8}")
for name, b, n, f in [("probe latency p50 (ms)", b50, n50, f50), ("probe latency p99 (ms)", b99, n99, f99),
                      ("probe latency max (ms)", bmax, nmax, fmax)]:
    print(f"{name:26} {b:10.3f} {n:10.3f} {b / max(n, 1e-9):7.1f}x {f:8.3f}")
print(f"{'probes answered (req/s)':26} {brps:10.0f} {nrps:10.0f} {nrps / max(brps, 1e-9):7.2f}x {frps:8.0f}")
print(f"{'idle RSS 1,000 x 3 (MiB)':26} {brss:10.1f} {nrss:10.1f} {nrss / max(brss, 1e-9):7.2f}x")
print(f"baseline: {base_name}. Latency ratios: how many times faster this tree is; throughput")
print("and RSS: this tree / baseline. floor: this tree while no poll runs (the machine's own noise).")
PY
