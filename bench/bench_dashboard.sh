#!/bin/bash
# bench/bench_dashboard.sh — the web dashboard's live stream under load
# (tests/browser/stream_bench.mjs in Debian's headless chromium):
#   1. baseline: the API's follow stream read by a plain client (python3,
#      no browser) for a burst of N events from a stand-in sandbox
#      (tests/helpers/ring_events)
#   2. the page: the same size of burst, time until every event is in the
#      page (queued, batched per animation frame, rows capped at 500); its
#      frame intervals against its own idle frames
#   3. the page at a steady pace (5 000 events, 2 ms apart: ~500/s):
#      how far behind the last event lands, frame intervals
# Prints the ratios (page / plain client; frames loaded / idle).  No root
# needed.  Bounded: N <= 100 000, every wait capped.
#
#   bench/bench_dashboard.sh [N]
set -u
N=${1:-20000}
[ "$N" -ge 1000 ] && [ "$N" -le 100000 ] || { echo "N must be 1000..100000" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
B=${GB_BUILD:-$here/build/release}
G=$B/cli/glassbox EV=$B/tests/ring_events
for x in "$G" "$EV"; do [ -x "$x" ] || { echo "missing $x (build $B)" >&2; exit 2; }; done
CHROMIUM=$(command -v chromium) || { echo "needs chromium (scripts/bootstrap)" >&2; exit 2; }
[ -d "$here/tests/browser/node_modules/playwright-core" ] || { echo "needs playwright-core: scripts/bootstrap" >&2; exit 2; }
T=$(mktemp -d /tmp/gb-bench-dash.XXXXXX)
ROOT=$T/root
RT=$ROOT/run/glassbox/sandboxes
S=$ROOT/run/glassbox/api.sock
mkdir -p "$ROOT/etc/glassbox"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
printf 'journal:\n  fsync: never\n' >"$ROOT/etc/glassbox/glassbox.yaml"
"$G" --root "$ROOT" -q serve --dashboard-dir "$here/dashboards/web" >"$T/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do [ -S "$S" ] && break; sleep 0.05; done
URL=$("$G" --root "$ROOT" dashboard 2>/dev/null) || { echo "dashboard failed" >&2; exit 1; }

# 1. baseline: a plain client on the follow stream
"$EV" "$RT" base "$N" 0 --keep >/dev/null
base=$(python3 - "$S" "$N" <<'PY'
import socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.connect(path)
t0 = time.monotonic()
s.sendall(b"GET /v1/sandboxes/base/logs?follow=1&since=30m HTTP/1.1\r\nHost: gb\r\n\r\n")
buf, lines = b"", 0
s.settimeout(60)
while lines < n:
    d = s.recv(1 << 20)
    if not d:
        break
    lines += d.count(b'"event":')
dt = time.monotonic() - t0
print(f"{lines} {dt:.3f} {lines / dt:.0f}")
PY
)
rm -rf "${RT:?}/base"
read -r bl bs br <<<"$base"
echo "baseline: a plain client read $bl of $N events from the follow stream in $bs s ($br events/s)"

# 2, 3. the page
out=$(GB_URL=$URL GB_CHROMIUM=$CHROMIUM GB_EV=$EV GB_RT=$RT GB_N=$N \
	node "$here/tests/browser/stream_bench.mjs" 2>&1)
echo "$out" | grep -v '^RESULT'
pr=$(sed -n 's/^RESULT page_events_per_s=//p' <<<"$out")
[ -n "$pr" ] && [ "${br:-0}" -gt 0 ] &&
	echo "ratio: the page took events at $(awk -v a="$pr" -v b="$br" 'BEGIN{printf "%.2f", a/b}')x the plain client's rate"
