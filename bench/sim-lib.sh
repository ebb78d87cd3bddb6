# Sourced by the bench scripts: how the sidecar is built, connect-sim on 127.0.0.1:0 (the release build) and
# seeding it. Expects `out` (a scratch directory) and `pids` (an array), which bench_setup sets.

# bench_setup: release builds of connect-sim and the sidecar (its features), a scratch
# directory in `out`, `pids`, and an exit trap that stops those and removes it.
bench_setup() {
  cargo build --release --locked -q -p connect-sim
  cargo build --release --locked -q -p connect-sentinel --no-default-features
  out=$(mktemp -d)
  pids=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$out"' EXIT
}

# start_sim: starts connect-sim (of CARGO_TARGET_DIR, default target), records its pid in
# `pids`, sets SIM to its URL. SIM_NICE=N runs it at niceness N (default 0): with 19 the
# simulator, which stands in for Connect on other machines, yields the shared cores.
start_sim() {
  nice -n "${SIM_NICE:-0}" "${CARGO_TARGET_DIR:-target}/release/connect-sim" --listen 127.0.0.1:0 --lifecycle-delay-ms 0 >"$out/sim" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 50); do [ -s "$out/sim" ] && break; sleep 0.1; done
  SIM="http://$(head -1 "$out/sim")"
}

# seed COUNT: a fresh cluster of COUNT generated connectors with 3 tasks each.
seed() {
  curl -sf -XPOST "$SIM/_sim/reset" >/dev/null
  curl -sf -XPOST "$SIM/_sim/connectors" -H 'Content-Type: application/json' \
    -d "{\"generate\":{\"count\":$1,\"tasks\":3}}" >/dev/null
}

# sidecar_build: how the bench builds the sidecar: static musl when the target and
# musl-gcc are installed, as the image ships it; else glibc. Sets TARGET (cargo flags),
# SUBDIR (under the target dir) and BUILD (a line for the report).
sidecar_build() {
  local musl=x86_64-unknown-linux-musl
  if rustup target list --installed 2>/dev/null | grep -qx "$musl" && command -v musl-gcc >/dev/null; then
    TARGET=(--target "$musl"); SUBDIR="$musl/release"; BUILD="static musl (as in the sidecar image)"
  else
    TARGET=(); SUBDIR="release"; BUILD="glibc (musl target or musl-gcc missing: expect more RSS)"
  fi
}
