#!/usr/bin/env bash
# connect-sentinel serve vs kafka-connect-healthcheck 0.3.0, in one run, against
# connect-sim with 1,000 connectors x 3 tasks and 2 ms latency per Connect call:
# probe latency p50/p99, probe throughput (wrk, keep-alive), Connect requests per
# probe and per poll, idle and loaded RSS, and RSS with 10,000 connectors.
# Loopback only; every load run is bounded by a duration or a count.
#
# It measures the binary the sidecar image ships: static musl, without the `k8s`
# feature (Dockerfile target `sidecar`). That needs the musl target and musl-gcc:
#   rustup target add x86_64-unknown-linux-musl && apt-get install musl-tools
# Without them it measures the glibc build of the same features and says so. The full
# binary (with kube-rs, the reconciler image's) gets an idle-RSS row of its own.
#
# Usage: bench/healthcheck.sh            (needs wrk, curl, python3; about 4 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk curl python3; do command -v $tool >/dev/null || { echo "$tool is required" >&2; exit 2; }; done

VENV=bench/.venv
if [ ! -x "$VENV/bin/kafka-connect-healthcheck" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q kafka-connect-healthcheck==0.3.0
fi
cargo build --release --locked -q -p connect-sim
MUSL=x86_64-unknown-linux-musl
mkdir -p bench/.bin
# build_sentinel NAME CARGO-ARGS...: builds and keeps a copy (the features share a path).
build_sentinel() {
  local name=$1; shift
  cargo build --release --locked -q -p connect-sentinel "$@"
  cp "target/${TARGET_DIR}release/connect-sentinel" "bench/.bin/$name"
}
if rustup target list --installed 2>/dev/null | grep -qx "$MUSL" && command -v musl-gcc >/dev/null; then
  TARGET_DIR="$MUSL/"
  BUILD="static musl (as in the images)"
  build_sentinel sidecar --no-default-features --target "$MUSL"
  build_sentinel full --target "$MUSL"
else
  TARGET_DIR=""
  BUILD="glibc (musl target or musl-gcc missing: NOT the image's build, expect more RSS)"
  build_sentinel sidecar --no-default-features
  build_sentinel full
fi

out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$out"; }
trap cleanup EXIT

. bench/sim-lib.sh
start_sim
# seed_slow COUNT: COUNT x 3, every Connect call answered after 2 ms.
seed_slow() {
  seed "$1"
  curl -sf -XPUT "$SIM/_sim/faults" -H 'Content-Type: application/json' -d '{"latency_ms":2}' >/dev/null
}
seed_slow 1000

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
OURS_PORT=$(free_port); PEER_PORT=$(free_port)
bench/.bin/sidecar serve --connect-url "$SIM" --bind 127.0.0.1 --port "$OURS_PORT" \
  --poll-interval 1s --connect-timeout 2s --log-level error &
OURS_PID=$!; pids+=($OURS_PID)
HEALTHCHECK_CONNECT_URL="$SIM" HEALTHCHECK_PORT="$PEER_PORT" HEALTHCHECK_LOG_LEVEL=ERROR "$VENV/bin/kafka-connect-healthcheck" 2>"$out/peer.log" &
PEER_PID=$!; pids+=($PEER_PID)
OURS="http://127.0.0.1:$OURS_PORT"; PEER="http://127.0.0.1:$PEER_PORT"
for _ in $(seq 100); do curl -sf "$OURS/" >/dev/null && curl -sf "$PEER/ping" >/dev/null && break; sleep 0.2; done
sleep 2

rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
# The median of 11 samples 0.5 s apart: RSS moves with every poll's transient buffers.
rss_median() { for _ in $(seq 11); do rss "$1"; echo; sleep 0.5; done | sort -n | sed -n 6p; }
# MiB, as /proc reports them (1 MiB = 1.049 MB).

requests() { curl -sf "$SIM/_sim/requests" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
polls() { curl -sf "$OURS/metrics" | awk '/^connect_sentinel_polls_total/ {print $2}'; }
wrk_field() { awk -v f="$2" '$1==f {print $2}' "$1"; }
ms() { python3 -c "import sys; v=sys.argv[1]; u={'us':0.001,'ms':1,'s':1000}; import re; m=re.match(r'([0-9.]+)([a-z]+)',v); print('%.3f' % (float(m.group(1))*u[m.group(2)]))" "$1"; }

OURS_IDLE=$(rss_median $OURS_PID); PEER_IDLE=$(rss_median $PEER_PID)

# The full binary (kube-rs too: the reconciler image) idles the same way.
FULL_PORT=$(free_port)
bench/.bin/full serve --connect-url "$SIM" --bind 127.0.0.1 --port "$FULL_PORT" \
  --poll-interval 1s --connect-timeout 2s --log-level error &
FULL_PID=$!; pids+=($FULL_PID)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$FULL_PORT/" >/dev/null && break; sleep 0.2; done
sleep 2; FULL_IDLE=$(rss_median $FULL_PID); kill $FULL_PID

# Latency, one connection: ours with wrk for 5 s; the peer with 6 sequential probes.
wrk -t1 -c1 -d5s --latency "$OURS/" >"$out/ours-lat"
OURS_P50=$(ms "$(wrk_field "$out/ours-lat" 50%)"); OURS_P99=$(ms "$(wrk_field "$out/ours-lat" 99%)")
curl -sf -XDELETE "$SIM/_sim/requests" >/dev/null
: >"$out/peer-times"
for _ in $(seq 6); do curl -s -o /dev/null -w '%{time_total}\n' "$PEER/" >>"$out/peer-times"; done
PEER_REQ_PER_PROBE=$(( $(requests) / 6 ))
read -r PEER_P50 PEER_P99 < <(python3 -c '
import sys, statistics
t = sorted(float(x) * 1000 for x in open(sys.argv[1]))
print("%.1f %.1f" % (statistics.median(t), t[-1]))' "$out/peer-times")

# Throughput, keep-alive load for 10 s each; Connect requests counted meanwhile.
curl -sf -XDELETE "$SIM/_sim/requests" >/dev/null; P0=$(polls)
wrk -t2 -c32 -d10s "$OURS/" >"$out/ours-rps"
OURS_REQS=$(requests); OURS_POLLS=$(( $(polls) - P0 ))
OURS_RPS=$(awk '/Requests\/sec/ {print $2}' "$out/ours-rps")
OURS_PROBES=$(awk '/requests in/ {print $1}' "$out/ours-rps")
OURS_LOADED=$(rss $OURS_PID)
wrk -t1 -c4 -d10s --timeout 30s "$PEER/" >"$out/peer-rps"
PEER_RPS=$(awk '/Requests\/sec/ {print $2}' "$out/peer-rps")
PEER_LOADED=$(rss $PEER_PID)

# RSS with 10,000 connectors x 3 tasks after a few polls (no latency fault).
seed 10000; curl -sf -XDELETE "$SIM/_sim/faults" >/dev/null; sleep 5
curl -s -o /dev/null "$OURS/"
OURS_10K=$(rss $OURS_PID)

python3 - "$OURS_P50" "$OURS_P99" "$PEER_P50" "$PEER_P99" "$OURS_RPS" "$PEER_RPS" "$OURS_REQS" "$OURS_PROBES" "$OURS_POLLS" \
  "$PEER_REQ_PER_PROBE" "$OURS_IDLE" "$PEER_IDLE" "$OURS_LOADED" "$PEER_LOADED" "$OURS_10K" "$FULL_IDLE" "$BUILD" <<'PY'
import sys
build = sys.argv[17]
(o50, o99, p50, p99, orps, prps, oreq, oprobes, opolls, preq, oidle, pidle, oload, pload, o10k, full) = map(float, sys.argv[1:17])
rows = [
    ("probe latency p50 (ms)", o50, p50, p50 / o50),
    ("probe latency p99 (ms)", o99, p99, p99 / o99),
    ("probe throughput (req/s)", orps, prps, orps / prps),
    ("Connect requests per probe", oreq / oprobes, preq, preq / max(oreq / oprobes, 1e-9)),
    ("Connect requests per poll", oreq / max(opolls, 1), preq, preq / max(oreq / max(opolls, 1), 1e-9)),
    ("idle RSS (MiB, median)", oidle, pidle, pidle / oidle),
    ("loaded RSS (MiB)", oload, pload, pload / oload),
]
print("1,000 connectors x 3 tasks, 2 ms per Connect call (connect-sim), loopback, 2 cores")
print(f"connect-sentinel: {build}, sidecar features (no k8s)")
print(f"{'':28} {'connect-sentinel':>17} {'kafka-connect-healthcheck':>26} {'ratio':>10}")
for name, o, p, r in rows:
    print(f"{name:28} {o:17.4g} {p:26.4g} {r:9.4g}x")
print(f"{'RSS, 10,000 x 3 (MiB)':28} {o10k:17.1f} {'-':>26}")
print(f"{'idle RSS, full binary (MiB)':28} {full:17.1f} {'-':>26}   (with the k8s feature)")
print(f"(ratios: how many times better connect-sentinel is; the peer's p99 is the max of 6 probes)")
PY
