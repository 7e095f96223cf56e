#!/usr/bin/env bash
# Issue 20, faults: wall-clock jumps.  `glassbox serve` and a sandbox's
# supervisor run under libfaketime (LD_PRELOAD) whose offset file the test
# rewrites mid-run — +0, +3h, -3h, +0 — with the monotonic clock untouched
# (FAKETIME_DONT_FAKE_MONOTONIC=1): a step of the wall clock, as
# settimeofday or an NTP step makes.  Checked:
#   - every record journaled exactly once, no gap (counted by metadata.uid);
#   - event time is the producer's wall clock as it was: `logs --since/--until`
#     select the events of the +3h and of the -3h stretch by that time, and
#     exactly those;
#   - the segment seal by age neither fires early (segment_age 1h: the +3h
#     jump must not seal the active segment) nor never (segment_age 2s with
#     the clock 3 h back at the daemon's start: the segment seals anyway);
#   - tail checkpoints continue every checkpoint_interval (1 s) after the
#     clock went back 3 h, and `journal verify` passes;
#   - retention by age (1 day) deletes nothing;
#   - API cursors (paging with cursor=) hand out every event once, in order.
: "${GB_HELPER_DIR:?}"
. "$(dirname "$0")/lib/serve_lib.sh"
FT_LIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1 || true)
[[ -n $FT_LIB ]] || fail "libfaketime is missing (scripts/bootstrap installs faketime)"
J=$ROOT/var/lib/glassbox/journal
S=$ROOT/run/glassbox/api.sock
OFF=$T/clock.offset
echo "+0" >"$OFF"
# FAKED CMD...: CMD with the offset file's wall clock, re-read at every call
# (the ASan runtime then does not come first in the library list: say that
# is intended)
FAKED=(env LD_PRELOAD="$FT_LIB" FAKETIME_TIMESTAMP_FILE="$OFF" FAKETIME_NO_CACHE=1
	FAKETIME_DONT_FAKE_MONOTONIC=1 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
G() { "$GLASSBOX" --root "$ROOT" "$@"; }
config() { # SEGMENT_AGE
	cat >"$ROOT/etc/glassbox/glassbox.yaml" <<YAML
journal:
  segment_size: 1MiB
  segment_age: $1
  checkpoint_interval: 1s
  retention:
    max_age: 1d
YAML
}
faked_serve() {
	local want=$(( $(grep -c watching "$T/serve.log" 2>/dev/null || true) + 1 ))
	"${FAKED[@]}" "$GLASSBOX" --root "$ROOT" serve >>"$T/serve.log" 2>&1 &
	SERVE=$!
	pids+=("$SERVE")
	for _ in $(seq 400); do
		[[ $(grep -c watching "$T/serve.log" 2>/dev/null || true) -ge $want ]] && return
		sleep 0.05
	done
	fail "serve did not start under libfaketime"
}
# producer NAME COUNT: a faked sandbox making COUNT paced denied requests
producer() {
	"${FAKED[@]}" "$GLASSBOX" --root "$ROOT" run --quiet --name "$1" --workdir "$T/work" -- /bin/sh -c \
		"for i in \$(seq $2); do curl -s -m 2 http://h\$i.example/ >/dev/null; sleep 0.1; done" \
		>/dev/null 2>&1 &
	pids+=($!)
}
wait_stopped() {
	for _ in $(seq 600); do G logs "$1" --json 2>/dev/null | grep -q '"activity_name":"Stop"' && return; sleep 0.05; done
	fail "$1 never journaled as stopped"
}
tails() { cat "$J"/*/*.jsonl 2>/dev/null | grep -c '"kind":"tail"' || true; }
sealed() { find "$J" -name '*.jsonl.zst' | wc -l; }
now_ms() { date +%s%3N; }

# ---- phase 1: +3h, then -3h, while a sandbox produces (segment_age 1h) ----
config 1h
t0=$(now_ms)
faked_serve
producer p1 90
for _ in $(seq 400); do [[ -d $ROOT/run/glassbox/sandboxes/p1 ]] && break; sleep 0.05; done
sleep 2
echo "+3h" >"$OFF"
sleep 3
n_fwd=$(sealed)
echo "-3h" >"$OFF"
tails_back=$(tails)
sleep 4
tails_after=$(tails)
echo "+0" >"$OFF"
wait_stopped p1
[[ $n_fwd == 0 && $(sealed) == 0 ]] ||
	fail "a wall-clock jump sealed the active segment early (segment_age 1h): $(find "$J" -name '*.zst')"
echo "ok   no seal by age from a jump (segment_age 1h, +3h then -3h)"
(( tails_after - tails_back >= 2 )) ||
	fail "tail checkpoints stopped when the clock went back 3 h: $tails_back before, $tails_after 4 s later"
echo "ok   tail checkpoints continued with the clock 3 h back ($((tails_after - tails_back)) in 4 s, interval 1 s)"

G logs p1 --json >"$T/p1.jsonl"
H=3600000
for w in "fwd $((t0 + 2 * H)) $((t0 + 4 * H))" "back $((t0 - 4 * H)) $((t0 - 2 * H))"; do
	set -- $w
	G logs p1 --json --since "$2" --until "$3" >"$T/p1.$1.jsonl"
	python3 - "$T/p1.jsonl" "$T/p1.$1.jsonl" "$2" "$3" "$1" >"$T/window.out" 2>&1 <<'PY' || fail "logs --since/--until: $(cat "$T/window.out")"
import json, sys
every = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l)["metadata"]["uid"] for l in open(sys.argv[2])]
lo, hi = int(sys.argv[3]), int(sys.argv[4])
want = [e["metadata"]["uid"] for e in every if lo <= e["time"] <= hi]
assert want, f"no event has a time in the {sys.argv[5]} stretch: the supervisor's clock was not faked"
assert got == want, f"{sys.argv[5]}: logs selected {len(got)} events, {len(want)} have their time there"
print(f"{sys.argv[5]}: {len(got)} events")
PY
	echo "ok   logs --since/--until select the $(cat "$T/window.out") by their (jumped) time"
done

# every record once, no gap (uid = sandbox id : sequence)
exact() { # FILE
	python3 - "$1" >"$T/exact.out" 2>&1 <<'PY' || fail "records: $(cat "$T/exact.out")"
import collections, json, sys
runs = collections.defaultdict(list)
for l in open(sys.argv[1]):
    sid, seq = json.loads(l)["metadata"]["uid"].rsplit(":", 1)
    runs[sid].append(int(seq))
for sid, seqs in runs.items():
    dup = [s for s, c in collections.Counter(seqs).items() if c > 1]
    assert not dup, f"{sid}: journaled twice: {dup[:5]}"
    assert sorted(seqs) == list(range(len(seqs))), f"{sid}: sequences missing"
print(f"{sum(map(len, runs.values()))} records, each once, no gap")
PY
}
exact "$T/p1.jsonl"
echo "ok   p1: $(cat "$T/exact.out")"

# API cursors: page through p1's events 7 at a time
python3 - "$S" "$T/p1.jsonl" >"$T/pages.out" 2>&1 <<'PY' || fail "API cursor: $(cat "$T/pages.out")"
import json, subprocess, sys, urllib.parse
sock, every = sys.argv[1], [json.loads(l)["metadata"]["uid"] for l in open(sys.argv[2])]
got, cursor = [], None
for _ in range(200):
    q = {"limit": "7"}
    if cursor:
        q["cursor"] = cursor
    out = subprocess.run(["curl", "-s", "--max-time", "20", "--unix-socket", sock,
                          "http://gb/v1/sandboxes/p1/logs?" + urllib.parse.urlencode(q)],
                         capture_output=True, check=True).stdout
    a = json.loads(out)
    got += [e["metadata"]["uid"] for e in a["events"]]
    cursor = a.get("next_cursor")
    if not a.get("more"):
        break
assert got == every, f"paging gave {len(got)} events, logs {len(every)}"
print(f"{len(got)} events in pages of 7")
PY
echo "ok   API cursor: $(cat "$T/pages.out")"

# ---- phase 2: the daemon starts with the clock 3 h back (segment_age 2s) ----
kill "$SERVE"
wait "$SERVE" 2>/dev/null || true
config 2s
echo "-3h" >"$OFF"
faked_serve
producer p2 40
for _ in $(seq 400); do (( $(sealed) > 0 )) && break; sleep 0.05; done
(( $(sealed) > 0 )) || fail "with the clock 3 h back the active segment never sealed (segment_age 2s)"
echo "ok   the segment seals by age with the clock 3 h back"
wait_stopped p2
echo "+0" >"$OFF"
G logs p2 --json >"$T/p2.jsonl"
exact "$T/p2.jsonl"
echo "ok   p2: $(cat "$T/exact.out")"
G logs p1 --json >"$T/p1b.jsonl"
cmp -s "$T/p1.jsonl" "$T/p1b.jsonl" || fail "p1's events changed across the restart and seal"
kill "$SERVE"
wait "$SERVE" 2>/dev/null || true
grep -q 'lost .* to retention' "$T/serve.log" && fail "retention (max_age 1d) deleted segments after a 3 h jump"
[[ -n $(find "$J" -name '000000000001.*') ]] || fail "retention deleted the first segment"
G journal verify >"$T/verify.out" 2>&1 || fail "journal verify: $(cat "$T/verify.out")"
grep -q '^proven:' "$T/verify.out" || fail "journal verify proves nothing: $(cat "$T/verify.out")"
grep -q '^broken:' "$T/verify.out" && fail "journal verify: $(cat "$T/verify.out")"
echo "ok   retention kept everything; journal verify passes ($(grep -c '^proven:' "$T/verify.out") proven runs)"
echo "fault_clock: all checks passed"
