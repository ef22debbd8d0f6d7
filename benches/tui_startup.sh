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
# 2. Launch → first frame showing a token (=token): adds the token request to the sandbox.
# 3. Idle CPU over IDLE_SECS and resident memory: the demo runs in a detached tmux session
#    (120×40), settles for 3 s with its token, then user+system CPU time is read from
#    /proc/PID/stat before and after IDLE_SECS of no input; VmRSS/VmHWM from /proc/PID/status.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/tokenscope}
RUNS=${RUNS:-20}
IDLE_SECS=${IDLE_SECS:-10}
SESSION=tokenscope-bench-$$

if [[ ! -x $BIN ]]; then
    cargo build --release --locked
fi
for tool in hyperfine script tmux; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done

export NO_COLOR=1 TERM=${TERM:-xterm-256color}
trap 'tmux kill-session -t "$SESSION" 2>/dev/null || true' EXIT

echo "## launch → first frame / first token frame ($RUNS runs each)"
hyperfine --warmup 3 --runs "$RUNS" --style basic \
    -n 'pty only (script -c true)' "script -qfec true /dev/null" \
    -n 'demo: first frame' \
    "TOKENSCOPE_EXIT_AFTER_FIRST_FRAME=1 script -qfec '$BIN demo' /dev/null" \
    -n 'demo: first frame with a token' \
    "TOKENSCOPE_EXIT_AFTER_FIRST_FRAME=token script -qfec '$BIN demo' /dev/null"

echo
echo "## idle CPU over ${IDLE_SECS} s and memory (tmux 120x40)"
tmux new-session -d -s "$SESSION" -x 120 -y 40 "exec $BIN demo"
pane=$(tmux list-panes -t "$SESSION" -F '#{pane_pid}')
pid=$pane
# `exec` makes the pane's process the dashboard itself; fall back to its child.
if [[ $(cat "/proc/$pid/comm") != tokenscope ]]; then
    pid=$(pgrep -P "$pane" -x tokenscope | head -n1)
fi
for _ in $(seq 50); do
    tmux capture-pane -pt "$SESSION" | grep -q '● fresh' && break
    sleep 0.1
done
tmux capture-pane -pt "$SESSION" | grep -q '● fresh' || {
    echo "the demo did not show a fresh token" >&2
    tmux capture-pane -pt "$SESSION" >&2
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
