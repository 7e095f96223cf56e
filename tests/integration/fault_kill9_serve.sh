#!/usr/bin/env bash
# kill -9 of the daemon (`glassbox serve`) at four phases while sandboxes
# keep producing records; each phase reached deterministically by ptrace
# (strace kills serve at the entry of a known system call; no test-only code
# in the product):
#   start-up   at its first inotify_add_watch: journal open and recovered,
#              before it watches the sandboxes;
#   steady     at the fdatasync of a batch it wrote to the journal and has not
#              yet acknowledged in the ring (fsync: always): the restart must
#              find the batch in the journal's tail and not journal it again;
#   swap       at the connect of a relayed `policy set` to the sandbox's
#              control socket;
#   seal       at the open of the .jsonl.zst.tmp of the segment being sealed
#              (segment_size 32 KiB: a seal every twenty events or so).
# After each kill serve is started again: the journal verifies, every
# record of every sandbox is journaled exactly once (counted by
# metadata.uid; sequences 0..max without a gap, or the gap counted by LOSS),
# and the sandboxes never noticed (the swap's supervisor keeps its revision
# and runs on).
: "${GB_HELPER_DIR:?}"
. "$(dirname "$0")/lib/serve_lib.sh"
command -v strace >/dev/null || fail "strace is missing (scripts/bootstrap installs it)"
J=$ROOT/var/lib/glassbox/journal
cat >"$ROOT/etc/glassbox/glassbox.yaml" <<'YAML'
journal:
  segment_size: 32KiB
  fsync: always
YAML
G() { "$GLASSBOX" --root "$ROOT" "$@"; }
SERVE_OPTS=(-v) # the attach lines the steady phase waits for
# producer NAME COUNT: a sandbox making COUNT denied requests, paced, in the
# background ($! is the supervisor); it stops early once the file
# $T/work/stop.NAME exists (its working directory is $T/work)
producer() {
	"$GLASSBOX" --root "$ROOT" run --quiet --name "$1" --workdir "$T/work" -- /bin/sh -c \
		"for i in \$(seq $2); do [ -e stop.$1 ] && break; curl -s -m 2 http://h\$i.example/ >/dev/null; sleep 0.05; done" \
		>/dev/null 2>&1 &
	pids+=($!)
}
# serve_under_strace ARGS...: serve with strace's ARGS; SERVE is serve's pid
serve_under_strace() {
	strace -f -o "$T/strace.log" "$@" -- "$GLASSBOX" --root "$ROOT" serve >>"$T/serve.log" 2>&1 &
	ST=$!
	pids+=($ST)
}
# killed: strace's serve died of SIGKILL (bounded: 20 s)
killed() {
	local rc=0
	for _ in $(seq 400); do kill -0 "$ST" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$ST" 2>/dev/null && fail "$1: the hook never fired"
	wait "$ST" || rc=$?
	grep -q "+++ killed by SIGKILL" "$T/strace.log" || fail "$1: serve was not killed (strace exit $rc): $(tail -3 "$T/strace.log")"
}
# exact PHASE NAME...: each sandbox's records journaled once, no gap (the
# summary in $T/exact.out)
exact() {
	local phase=$1
	shift
	for n in "$@"; do G logs "$n" --json; done >"$T/$phase.jsonl"
	python3 - "$T/$phase.jsonl" >"$T/exact.out" 2>&1 <<'PY' || fail "$phase: records: $(cat "$T/exact.out")"
import collections, json, sys
runs = collections.defaultdict(list)
lost = collections.Counter()
for l in open(sys.argv[1]):
    e = json.loads(l)
    sid, seq = e["metadata"]["uid"].rsplit(":", 1)
    runs[sid].append(int(seq))
    if e.get("class_uid") == 1008:
        lost[sid] += int(e.get("count", 0))
for sid, seqs in runs.items():
    # exactly once per metadata.uid, even across the kill
    dup = sorted(s for s, c in collections.Counter(seqs).items() if c > 1)
    assert not dup, f"{sid}: {len(dup)} sequences journaled twice: {dup[:5]}"
    seqs = set(seqs)
    gaps = max(seqs) + 1 - len(seqs)
    assert gaps <= lost[sid], f"{sid}: {gaps} sequences missing, {lost[sid]} counted as lost"
print(f"{len(runs)} sandboxes, {sum(map(len, runs.values()))} records, no gap, each once")
PY
}
# watch_segments SUFFIX: watch=(-P FILE ...) for the active segment and the
# 29 after it (one fills every few events), FILE = the segment + SUFFIX
watch_segments() {
	local newest n
	# the newest segment, active or just sealed (between a seal and the next
	# append there is no .jsonl; find may race a seal removing one: its
	# complaint is no error)
	newest=$(find "$J" -name '*.jsonl' -o -name '*.jsonl.zst' 2>/dev/null | sort | tail -1 || true)
	[[ -n $newest ]] || fail "no segment"
	dir=$(dirname "$newest") n=$(basename "$newest" | cut -d. -f1)
	[[ $newest == *.zst ]] && n=$(printf '%012d' $((10#$n + 1)))
	watch=()
	for i in $(seq 0 29); do watch+=(-P "$dir/$(printf '%012d' $((10#$n + i)))$1"); done
}
verify() { G journal verify >"$T/verify.out" 2>&1 || fail "$1: journal verify: $(cat "$T/verify.out")"; }
# wait_stopped NAME...: each sandbox's stopped record is journaled (20 s)
wait_stopped() {
	for n in "$@"; do
		for _ in $(seq 400); do G logs "$n" --json 2>/dev/null | grep -q '"activity_name":"Stop"' && break; sleep 0.05; done
		G logs "$n" --json 2>/dev/null | grep -q '"activity_name":"Stop"' || fail "$n never journaled as stopped"
	done
}

# ---- start-up ----
producer p1 40
sleep 0.5
serve_under_strace -e trace=inotify_add_watch -e inject=inotify_add_watch:signal=KILL:when=1
killed start-up
grep -q watching "$T/serve.log" && fail "start-up: serve got as far as watching before the hook"
start_serve
wait_stopped p1
verify start-up
exact start-up p1
echo "ok   start-up: $(cat "$T/exact.out")"

# ---- steady state: a batch written, not yet acknowledged in the ring ----
# (fsync: always — the journal's fdatasync of the batch comes between its
# write and the ring commit).  The restarted daemon reads that batch from
# the ring again; it must find it in the journal's tail and skip it (counted
# in the metrics' duplicates_skipped), never journal it twice (a copy can
# fill a small segment byte for byte like the original, which `journal
# verify` would call "moved or reordered").
# The kill can also land at a rotation's fdatasync with nothing unacknowledged
# (the first event of a batch filled the segment; one batch in twenty or so
# with 32 KiB segments): then nothing was cut, and the test kills again, up
# to 5 times, until a restart had a cut batch to skip.  Each restart is judged
# by its own attach line (serve -v), not by a time: a slow attach on a loaded
# box is waited for.  The producer runs until told to stop, so it outlasts
# any number of slow restarts.
producer p2 5000
sleep 1
M=$ROOT/run/glassbox/metrics.json
dups=0
for attempt in 1 2 3 4 5; do
	watch_segments .jsonl
	strace -f -o "$T/strace.log" -p "$SERVE" "${watch[@]}" -e trace=fdatasync -e inject=fdatasync:signal=KILL 2>/dev/null &
	ST=$!
	pids+=($ST)
	killed steady
	attached=$(grep -c 'p2: .* unacknowledged records at attach' "$T/serve.log" || true)
	start_serve
	# the restart says at attach what it found unacknowledged and what of
	# that it skips (20 s; a restart that attached and skips nothing had
	# nothing cut: kill again)
	for _ in $(seq 400); do
		[[ $(grep -c 'p2: .* unacknowledged records at attach' "$T/serve.log" || true) -gt $attached ]] && break
		sleep 0.05
	done
	[[ $(grep -c 'p2: .* unacknowledged records at attach' "$T/serve.log" || true) -gt $attached ]] ||
		fail "steady: the restart did not attach p2's ring in 20 s"
	grep -q 'not journaled again' "$T/serve.log" && break
	echo "note steady: kill $attempt cut no written batch (a rotation's sync): again"
done
grep -q 'not journaled again' "$T/serve.log" || fail "steady: no restart skipped a journaled record in 5 kills"
touch "$T/work/stop.p2"
wait_stopped p2
exact steady p2
verify steady
rm -f "$M"
kill -USR1 "$SERVE"
for _ in $(seq 100); do [[ -s $M ]] && break; sleep 0.1; done
dups=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["duplicates_skipped"])' "$M")
[[ $dups -ge 1 ]] || fail "steady: the restart said it skipped records, duplicates_skipped is $dups"
echo "ok   steady: killed at the fdatasync of a written batch; $dups records found journaled and skipped; $(cat "$T/exact.out")"

# ---- policy swap relayed through the API ----
"$GLASSBOX" --root "$ROOT" run --quiet --name p3 --workdir "$T/work" -- /bin/sleep 30 >/dev/null 2>&1 &
p3=$!
pids+=($p3)
for _ in $(seq 400); do [[ -S $ROOT/run/glassbox/sandboxes/p3/control.sock ]] && break; sleep 0.05; done
[[ -S $ROOT/run/glassbox/sandboxes/p3/control.sock ]] || fail "swap: p3 did not start"
# (-P cannot name a socket's address: any connect; serve has no sink and
# makes no other connection meanwhile, the log below shows which it was)
strace -f -o "$T/strace.log" -p "$SERVE" -e trace=connect -e inject=connect:signal=KILL 2>/dev/null &
ST=$!
pids+=($ST)
for _ in $(seq 400); do [[ $(awk '/^TracerPid/ {print $2}' "/proc/$SERVE/status") == "$ST" ]] && break; sleep 0.05; done
cp "$GB_SOURCE_DIR/policies/default.yaml" "$T/p2.yaml"
rc=0
G policy set p3 "$T/p2.yaml" >"$T/set.out" 2>&1 || rc=$?
killed swap
grep -q "connect(.*control.sock" "$T/strace.log" || fail "swap: serve was killed at another connect: $(grep connect "$T/strace.log" | head -2)"
[[ $rc != 0 ]] || fail "swap: policy set reported success from a daemon killed before it reached the sandbox"
kill -0 "$p3" 2>/dev/null || fail "swap: the sandbox died with the daemon"
start_serve
G policy history p3 >"$T/hist.out" 2>&1 || true
G logs p3 --json | grep -q '"status_detail":"updated"' && fail "swap: a revision was recorded though the relay never reached the sandbox"
echo "ok   swap: policy set fails ($(head -1 "$T/set.out")), the sandbox runs on at revision 1"
kill "$p3"
wait "$p3" 2>/dev/null || true
wait_stopped p3
verify swap
# (the kill can also land while p3's drain thread is between a batch's
# journal write and its ring commit: exactly once all the same)
exact swap p3
echo "ok   swap: $(cat "$T/exact.out")"

# ---- segment seal ----
producer p4 150
sleep 0.3
# the seal of any of the next 30 segments (one fills every few events)
watch_segments .jsonl.zst.tmp
strace -f -o "$T/strace.log" -p "$SERVE" "${watch[@]}" -e trace=openat -e inject=openat:signal=KILL 2>/dev/null &
ST=$!
pids+=($ST)
killed seal
tmp=$(grep -o '"[^"]*\.jsonl\.zst\.tmp"' "$T/strace.log" | head -1 | tr -d '"')
seg=${tmp%.zst.tmp}
[[ -n $tmp && -e $seg ]] || fail "seal: the cut seal's segment ${seg:-?} is gone"
start_serve
wait_stopped p4
[[ ! -e $tmp ]] || fail "seal: the cut seal's $tmp was left behind"
[[ -e $seg.zst && ! -e $seg ]] || fail "seal: the cut seal was not redone: $(ls "$dir")"
exact seal p4
verify seal
echo "ok   seal: killed at the open of $(basename "$tmp"); the restart sealed it; $(cat "$T/exact.out")"
exact all p1 p2 p3 p4
echo "ok   every phase: $(cat "$T/exact.out")"
echo "fault_kill9_serve: all checks passed"
