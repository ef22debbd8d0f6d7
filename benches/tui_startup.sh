#!/usr/bin/env bash
# Start-up, idle CPU and memory of the dashboard in `tokenscope demo` (release build).
#
#   benches/tui_startup.sh            # builds target/release/tokenscope if missing
#   RUNS=30 IDLE_SECS=10 benches/tui_startup.sh
#
# Needs: hyperfine, script (util-linux), tmux.
#
# 1. Launch → first frame. The dashboard needs a terminal, so each run gets a pty from
#    `script`; TOKENSCOPE_EXIT_AFTER_FIRST_FRAME=1 (a test hook in src/tui/runtime.rs) makes
#    it quit right after drawing its first frame. `script` alone (running `true`) is measured
#    too, so its overhead can be subtracted. In `demo` the first frame ("starting the local
#    sandbox tenant…") is drawn before the in-process sandbox generates its RSA-2048 key.
# 2. Launch → first frame showing a verified token (=token): adds the token request to the
#    sandbox, discovery, JWKS and the signature check; the hook stops at the first frame
#    whose verification passed ("verified ✓ signature …").
# 3. The same seen from outside, as a cross-check ("verified ✓ signature …"): the demo runs
#    in a detached tmux session (120×40) whose screen is polled (capture-pane, a few ms a
#    poll) until the token pane says "✓ signature"; the time is from just before tmux starts
#    the process to the first poll that sees it (so it includes up to one poll interval).
#    The tmux server is started beforehand, so its start-up is not counted.
# 4. Idle CPU over IDLE_SECS and resident memory: the demo runs in a detached tmux session
#    (120×40), settles for 3 s with its token, then user+system CPU time is read from
#    /proc/PID/stat before and after IDLE_SECS of no input; VmRSS/VmHWM from /proc/PID/status.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/tokenscope}
RUNS=${RUNS:-20}
IDLE_SECS=${IDLE_SECS:-10}
SESSION=tokenscope-bench-$$
# A private tmux server: no interference with the user's own sessions.
tm() { tmux -u -L "tokenscope-bench-$$" "$@"; }

if [[ ! -x $BIN ]]; then
    cargo build --release --locked
fi
for tool in hyperfine script tmux; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done

export NO_COLOR=1 TERM=${TERM:-xterm-256color}

echo "## launch → first frame / first token frame ($RUNS runs each)"
json=$(mktemp)
trap 'tm kill-server 2>/dev/null || true; rm -f "$json"' EXIT
hyperfine --warmup 3 --runs "$RUNS" --style basic --export-json "$json" \
    -n 'pty only (script -c true)' "script -qfec true /dev/null" \
    -n 'demo: first frame' \
    "TOKENSCOPE_EXIT_AFTER_FIRST_FRAME=1 script -qfec '$BIN demo' /dev/null" \
    -n 'demo: first frame with a verified token' \
    "TOKENSCOPE_EXIT_AFTER_FIRST_FRAME=token script -qfec '$BIN demo' /dev/null"
python3 - "$json" <<'EOF'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['command']}: median {r['median'] * 1000:.1f} ms")
EOF

echo
echo "## launch → first frame showing a verified token (tmux 120x40, $RUNS runs, screen polled)"
tm new-session -d -s idle-server -x 20 -y 5 "sleep 3600"
for i in $(seq "$RUNS"); do
    run=verify-$i
    first=
    t0=$(date +%s%N)
    tm new-session -d -s "$run" -x 120 -y 40 "exec $BIN demo"
    while :; do
        screen=$(tm capture-pane -pt "$run" 2>/dev/null || true)
        now=$(date +%s%N)
        # The method's own overhead shows in how long the first frame takes to be seen.
        [[ -z $first && $screen == *tokenscope* ]] && first=$now
        [[ $screen == *"✓ signature"* ]] && break
        if (( now - t0 > 10000000000 )); then
            echo "no verified token on screen after 10 s:" >&2
            printf '%s\n' "$screen" >&2
            exit 1
        fi
    done
    tm kill-session -t "$run"
    echo "$(( (${first:-$now} - t0) / 1000 )) $(( (now - t0) / 1000 ))"
done | python3 -c '
import statistics, sys
runs = [tuple(int(x) / 1000 for x in line.split()) for line in sys.stdin]
first, verified = [r[0] for r in runs], [r[1] for r in runs]
print(f"first frame seen (the polling method, for its overhead): median {statistics.median(first):.1f} ms")
print(f"verified token on screen: median {statistics.median(verified):.1f} ms "
      f"(min {min(verified):.1f}, max {max(verified):.1f}; {len(runs)} runs)")
'

echo
# idle-server stays up: killing the last session ends the server, and the next
# new-session can race with its exit ("server exited unexpectedly").
echo "## idle CPU over ${IDLE_SECS} s and memory (tmux 120x40)"
tm new-session -d -s "$SESSION" -x 120 -y 40 "exec $BIN demo"
pane=$(tm list-panes -t "$SESSION" -F '#{pane_pid}')
pid=$pane
# `exec` makes the pane's process the dashboard itself; fall back to its child.
if [[ $(cat "/proc/$pid/comm") != tokenscope ]]; then
    pid=$(pgrep -P "$pane" -x tokenscope | head -n1)
fi
for _ in $(seq 50); do
    tm capture-pane -pt "$SESSION" | grep -q '● fresh' && break
    sleep 0.1
done
tm capture-pane -pt "$SESSION" | grep -q '● fresh' || {
    echo "the demo did not show a fresh token" >&2
    tm capture-pane -pt "$SESSION" >&2
    exit 1
}
sleep 3
ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
before=$(cpu)
sleep "$IDLE_SECS"
after=$(cpu)
awk -v b="$before" -v a="$after" -v t="$ticks" -v s="$IDLE_SECS" 'BEGIN {
    printf "idle CPU: %.2f s of CPU in %d s = %.2f %%  (clock tick %.0f ms)\n", (a-b)/t, s, 100*(a-b)/t/s, 1000/t
}'
grep -E '^(VmRSS|VmHWM)' "/proc/$pid/status"
echo "threads: $(ls "/proc/$pid/task" | wc -l)"
