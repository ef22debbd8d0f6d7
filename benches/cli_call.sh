#!/usr/bin/env bash
# Whole-process `tokenscope call Seattle` against a sandbox on loopback, cold (empty token
# cache: one token request + one API call) and warm (token served from the cache: API call
# only). Needs a release build and hyperfine (Debian package `hyperfine`).
#
#   cargo build --release && benches/cli_call.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/tokenscope
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $sb_pid 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" sandbox --addr 127.0.0.1:0 --write-config "$work/config.toml" > "$work/sandbox.log" 2>&1 &
sb_pid=$!
for _ in $(seq 1 100); do [ -s "$work/config.toml" ] && break; sleep 0.05; done
export TOKENSCOPE_CONFIG="$work/config.toml" XDG_CACHE_HOME="$work/cache"
"$bin" call Seattle > /dev/null   # sanity check (and warms the cache)

hyperfine --warmup 3 --runs 50 -N \
  --export-markdown "$work/warm.md" \
  --command-name "warm (cached token)" "$bin call Seattle"
hyperfine --warmup 3 --runs 50 -N \
  --prepare "rm -rf $work/cache" \
  --export-markdown "$work/cold.md" \
  --command-name "cold (empty cache: token request + call)" "$bin call Seattle"
cat "$work/warm.md" "$work/cold.md"
