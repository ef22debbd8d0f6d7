#!/usr/bin/env bash
# Whole-process `tokenscope call Seattle` against a sandbox on loopback, next to its peers,
# each mode in ONE hyperfine invocation (same sandbox, same minute, same load):
#
# - warm: the token comes from the 0600 cache file, so the process makes one request (the
#   API); cold: the cache is removed before every run (token request + API call);
# - curl: the same single API request with the cached token handed to it (the floor);
# - tls only: the lecture's Python console app (benches/console_app.py: MSAL + requests,
#   token request + API call, as every run of it does);
# - BEFORE=<another tokenscope binary>: its warm and cold rows too (e.g. a build without
#   .cargo/config.toml's AWS_LC_SYS_NO_JITTER_ENTROPY).
#
#   cargo build --release --locked && benches/cli_call.sh        # plain HTTP, then TLS
#   MODE=tls RUNS=15 BEFORE=/tmp/tokenscope-jitter benches/cli_call.sh
#   BIN=… SANDBOX_BIN=… benches/cli_call.sh     # other builds as the client / the sandbox
#
# Prints hyperfine's report and a summary table: wall median, CPU (user+sys, hyperfine's
# mean) and both as a multiple of curl's. Needs hyperfine (Debian package) and curl; the TLS
# peer needs tests/fixtures/fastapi/.venv, which the first `cargo test` installs.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-$PWD/target/release/tokenscope}
# The sandbox can be another build (an experiment on the server side); the client is $bin.
sandbox=${SANDBOX_BIN:-$bin}
MODE=${MODE:-all}
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
python=$PWD/tests/fixtures/fastapi/.venv/bin/python
[ -x "$bin" ] || { echo "build first: cargo build --release --locked" >&2; exit 1; }
for tool in hyperfine curl; do
    command -v "$tool" >/dev/null || { echo "install $tool (apt-get install $tool)" >&2; exit 1; }
done
if [ -n "${BEFORE:-}" ] && [ ! -x "$BEFORE" ]; then
    echo "BEFORE=$BEFORE is not an executable" >&2; exit 1
fi

work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
umask 077

# One profile value of the default profile (the first one written) from a sandbox config.
field() { sed -n "s/^$2 = \"\(.*\)\"$/\1/p" "$1" | head -n1; }

run_mode() {
    local mode=$1 dir=$work/$1
    mkdir -p "$dir"
    local flags=()
    [ "$mode" = tls ] && flags=(--tls)
    "$sandbox" sandbox "${flags[@]}" --addr 127.0.0.1:0 --write-config "$dir/config.toml" \
        > "$dir/sandbox.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 200); do [ -s "$dir/config.toml" ] && break; sleep 0.05; done
    [ -s "$dir/config.toml" ] || { echo "the $mode sandbox did not start" >&2; cat "$dir/sandbox.log" >&2; exit 1; }
    export TOKENSCOPE_CONFIG=$dir/config.toml XDG_CACHE_HOME=$dir/cache
    "$bin" call Seattle > /dev/null   # sanity check (and warms the cache)

    # curl gets the cached token through a header file, so it never shows on a command line.
    printf 'Authorization: Bearer %s\n' "$("$bin" token --raw)" > "$dir/auth.header"
    local url ca
    url=$(field "$dir/config.toml" api_url)
    url=${url//\{city\}/Seattle}
    ca=$(field "$dir/config.toml" ca_file)
    local curl_cmd="curl --silent --show-error --fail -H @$dir/auth.header $url"
    [ -n "$ca" ] && curl_cmd="curl --silent --show-error --fail --cacert $ca -H @$dir/auth.header $url"
    $curl_cmd > /dev/null   # sanity check

    local args=(
        -n "$mode: tokenscope warm (cached token)" --prepare true "$bin call Seattle"
        -n "$mode: tokenscope cold (token request + call)" --prepare "rm -rf $dir/cache" "$bin call Seattle"
        -n "$mode: curl, token handed to it" --prepare true "$curl_cmd"
    )
    if [ -n "${BEFORE:-}" ]; then
        args+=(
            -n "$mode: BEFORE warm" --prepare true "$BEFORE call Seattle"
            -n "$mode: BEFORE cold" --prepare "rm -rf $dir/cache" "$BEFORE call Seattle"
        )
    fi
    if [ "$mode" = tls ]; then
        if [ -x "$python" ]; then
            "$python" benches/console_app.py "$dir/config.toml" > /dev/null   # sanity check
            args+=(-n "$mode: lecture's Python console app (MSAL + requests)" --prepare true
                "$python benches/console_app.py $dir/config.toml")
        else
            echo "note: no $python (the first \`cargo test --locked\` installs it); the Python peer is skipped" >&2
        fi
    fi
    echo "## $mode ($RUNS runs each, $WARMUP warm-up)"
    hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic \
        --export-json "$dir/results.json" "${args[@]}"
    summaries+=("$dir/results.json")
    # OUT=DIR keeps hyperfine's JSON (every run's time) for a closer look.
    [ -n "${OUT:-}" ] && mkdir -p "$OUT" && cp "$dir/results.json" "$OUT/$mode.json"
    return 0
}

summaries=()
case $MODE in
    http) run_mode http ;;
    tls) run_mode tls ;;
    all) run_mode http; run_mode tls ;;
    *) echo "MODE is http, tls or all" >&2; exit 2 ;;
esac

echo
echo "## summary (wall: median; CPU: user+sys, mean; × = multiple of curl in the same run)"
python3 - "${summaries[@]}" <<'EOF'
import json, sys
print("| command | wall median | CPU | wall × curl | CPU × curl |")
print("|---|---|---|---|---|")
for path in sys.argv[1:]:
    results = json.load(open(path))["results"]
    cpu = lambda r: (r["user"] + r["system"]) * 1000
    curl = next(r for r in results if "curl" in r["command"])
    for r in results:
        wall = r["median"] * 1000
        print(f"| {r['command']} | {wall:.1f} ms | {cpu(r):.1f} ms | "
              f"{wall / (curl['median'] * 1000):.2f} | {cpu(r) / cpu(curl):.2f} |")
    warm = next(r for r in results if "tokenscope warm" in r["command"])
    for r in results:
        if "Python" in r["command"]:
            print(f"\n{r['command']}: {r['median'] / warm['median']:.0f}× the wall time of "
                  f"tokenscope warm, {cpu(r) / cpu(warm):.0f}× its CPU")
EOF
