#!/usr/bin/env bash
# Issue 20, defect 2: one damaged sealed segment must not block what comes
# after it.  A byte is flipped in the middle of a sealed segment: `journal
# verify` reports it; `logs` shows every later event, reports the damage
# (FINDING on stderr, a LOSS event in place, exit 1) with the exact count of
# events that cannot be read; a file sink starting from scratch delivers
# everything readable plus one LOSS event, its metrics count the damaged
# events, it is not stuck (failed 0, lag 0).  shown + lost = journaled.
: "${GB_SOURCE_DIR:?}"
. "$(dirname "$0")/lib/serve_lib.sh"
G() { "$GLASSBOX" --root "$ROOT" "$@"; }
J=$ROOT/var/lib/glassbox/journal
conf() {
	cat >"$ROOT/etc/glassbox/glassbox.yaml" <<YAML
journal:
  segment_size: 4KiB
$1
YAML
}
conf ""
start_serve
for k in 1 2 3 4; do
	run_sandbox r "for i in 1 2 3 4 5; do curl -s -m 2 http://h$k-\$i.example/ >/dev/null; done"
done
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
# The journal holds r's events and the daemon's signed checkpoints (log_name
# glassbox, unmapped.checkpoint); a damaged frame's LOSS count covers both.
G logs r --json >"$T/pre.jsonl"
G logs glassbox --json >>"$T/pre.jsonl"
total=$(python3 - "$T/pre.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
other = [e for e in ev if e["metadata"]["log_name"] != "r" and "checkpoint" not in e.get("unmapped", {})]
assert not other, other  # nothing else to account for
assert any(e["metadata"]["log_name"] == "glassbox" for e in ev), "no checkpoint events"
print(len(ev))
PY
) || fail "journal before the damage"
mapfile -t zst < <(find "$J" -name '*.jsonl.zst' | sort)
[[ ${#zst[@]} -ge 3 ]] || fail "want >= 3 sealed segments, have ${#zst[@]}"
python3 - "${zst[1]}" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x40
open(p, "wb").write(bytes(b))
PY
set +e
G journal verify >"$T/verify.txt"; vrc=$?
G logs r --json >"$T/logs.jsonl" 2>"$T/logs.err"; lrc=$?
G logs glassbox --json >"$T/logs_ck.jsonl" 2>/dev/null
set -e
[[ $vrc == 1 ]] || fail "verify exit $vrc on a damaged segment"
[[ $lrc == 1 ]] || fail "logs exit $lrc on a damaged segment"
grep -q 'FINDING: the journal is damaged' "$T/logs.err" || fail "logs did not report the damage: $(cat "$T/logs.err")"
python3 - "$T/logs.jsonl" "$total" "$T/logs_ck.jsonl" >"$T/lost" <<'PY' || fail "logs across the damage"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
total = int(sys.argv[2])
ck = [json.loads(l) for l in open(sys.argv[3])]
loss = [e for e in ev if e.get("status_detail") == "journal_damaged"]
assert len(loss) == 1, loss
lost = loss[0]["count"]
assert lost > 0
rest = [e for e in ev if e not in loss]
# the checkpoints readable past the damage (their reader hands out the same LOSS)
ck_loss = [e for e in ck if e.get("status_detail") == "journal_damaged"]
assert all(e["metadata"]["uid"] == loss[0]["metadata"]["uid"] for e in ck_loss), ck_loss
ck_rest = [e for e in ck if e not in ck_loss]
assert all("checkpoint" in e["unmapped"] for e in ck_rest), ck_rest
assert len(rest) + len(ck_rest) + lost == total, (len(rest), len(ck_rest), lost, total)
# events after the damage are there: the last run's stop is the last event
assert rest[-1]["class_uid"] != 1008 and ev.index(loss[0]) < len(ev) - 1
print(lost)
print("logs:", len(rest), "+", len(ck_rest), "checkpoints shown +", lost, "lost =", total, file=sys.stderr)
PY
lost=$(cat "$T/lost")
echo "ok   verify and logs report the damage; logs reads past it with an exact count"

conf "sinks:
  - name: out
    type: file
    path: $T/out.jsonl"
start_serve
want=$((total - lost + 1)) # what is readable, plus the LOSS event
for _ in $(seq 200); do
	[[ -f $T/out.jsonl && $(wc -l <"$T/out.jsonl") -ge $want ]] && break
	sleep 0.05
done
# Lag is measured at most once a second, and the daemon keeps journaling
# its own checkpoints: wait (bounded) for a snapshot with the sink caught up.
for _ in $(seq 30); do
	sleep 0.4
	kill -USR1 "$SERVE"; sleep 0.3
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["sinks"][0]; sys.exit(s["lag_bytes"] or s["lag_segments"])' \
		"$ROOT/run/glassbox/metrics.json" 2>/dev/null && break
done
python3 - "$T/out.jsonl" "$total" "$ROOT/run/glassbox/metrics.json" "$T/pre.jsonl" <<'PY' || fail "sink across the damage: $(tail -5 "$T/serve.log")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
total = int(sys.argv[2])
m = json.load(open(sys.argv[3]))
pre = {json.loads(l)["metadata"]["uid"] for l in open(sys.argv[4])}
loss = [e for e in ev if e.get("status_detail") == "journal_damaged"]
assert len(loss) == 1, len(loss)
lost = loss[0]["count"]
# this daemon's own checkpoints (journaled since it started) are delivered too
old = [e for e in ev if e["metadata"]["uid"] in pre]
new = [e for e in ev if e not in loss and e not in old]
assert all(e["metadata"]["log_name"] == "glassbox" and "checkpoint" in e["unmapped"] for e in new), new
assert len(old) + lost == total, (len(old), lost, total)
s = m["sinks"][0]
assert s["damaged"] == lost and s["failed"] == 0, s
assert s["lag_bytes"] == 0 and s["lag_segments"] == 0, s
print("sink:", len(old), "delivered +", lost, "lost =", total, "(and", len(new), "new checkpoints)", s)
PY
grep -q 'FINDING: sink out: the journal is damaged' "$T/serve.log" || fail "serve did not report the damage"
echo "ok   a sink delivers past the damage with one LOSS event; metrics count it; not stuck"

# Defect 3: damage in the active segment.  A line replaced by garbage and a
# cut last line: verify reports both, logs reports the broken line (never
# drops it silently), a restarted daemon says it cut the truncated line.
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
# segments large enough that the active one holds a run's events
sed -i 's/segment_size: 4KiB/segment_size: 1MiB/' "$ROOT/etc/glassbox/glassbox.yaml"
start_serve
run_sandbox r 'for i in 1 2 3 4 5; do curl -s -m 2 http://late-$i.example/ >/dev/null; done'
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
# tally FILE...: the events these readings account for, each once (the
# same LOSS event, by metadata.uid, in r's and the checkpoints' reading): the
# shown ones plus the counts of the LOSS events.
tally() {
	python3 - "$@" <<'PY'
import json, sys
seen = {}
for p in sys.argv[1:]:
    for l in open(p):
        e = json.loads(l)
        seen[e["metadata"]["uid"]] = e
print(sum(e["count"] if e.get("status_detail") == "journal_damaged" else 1 for e in seen.values()))
PY
}
set +e
G logs r --json >"$T/pre2.jsonl" 2>/dev/null
G logs glassbox --json >>"$T/pre2.jsonl" 2>/dev/null
set -e
total=$(tally "$T/pre2.jsonl")
act=$(find "$J" -name '*.jsonl' | sort | tail -1)
[[ -n $act ]] || fail "no active segment"
G journal verify >/dev/null 2>&1 && fail "verify intact with a damaged sealed segment"
python3 - "$act" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, "rb").read().split(b"\n")[:-1]
assert len(lines) >= 3, len(lines)
lines[1] = b'{"class_uid":4001,"metadata":{"log_name":"r" garbage'
open(p, "wb").write(b"\n".join(lines) + b"\n" + lines[2][:40])
PY
set +e
G journal verify >"$T/verify2.txt"; vrc=$?
G logs r --json >"$T/logs2.jsonl" 2>"$T/logs2.err"; lrc=$?
G logs glassbox --json >"$T/logs2_ck.jsonl" 2>/dev/null
set -e
[[ $vrc == 1 ]] || fail "verify exit $vrc"
grep -q '(active): the line at offset [0-9]* ([0-9]* bytes) is not an OCSF event' "$T/verify2.txt" ||
	fail "verify missed the broken active line: $(cat "$T/verify2.txt")"
grep -q '(active): the last line is cut' "$T/verify2.txt" || fail "verify missed the cut line: $(cat "$T/verify2.txt")"
[[ $lrc == 1 ]] || fail "logs exit $lrc"
[[ $(grep -c 'FINDING: the journal is damaged' "$T/logs2.err") == 2 ]] ||
	fail "logs did not report both damaged places: $(cat "$T/logs2.err")"
python3 - "$T/logs2.jsonl" <<'PY' || fail "logs across active damage"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
loss = [e for e in ev if e.get("status_detail") == "journal_damaged"]
assert len(loss) == 2 and "not an OCSF event" in loss[1]["message"], loss
PY
# one line replaced (counted as lost); the appended cut line is not a line
# yet: readers stop before it
after=$(tally "$T/logs2.jsonl" "$T/logs2_ck.jsonl")
[[ $after == "$total" ]] || fail "logs across active damage: $after shown + lost, $total journaled"
echo "ok   verify covers the active segment; logs reports a broken line in it"
start_serve
grep -q 'cut a truncated last line (40 bytes' "$T/serve.log" || fail "restart did not report the cut line"
echo "ok   restart reports the truncated last line it cut"

# The same damage through the daemon's API (logs goes there first when a
# daemon runs): the LOSS events in place, a FINDING each, exit 1 — the same
# answer as reading the files.
set +e
G logs r --json >"$T/logs3.jsonl" 2>"$T/logs3.err"; lrc=$?
G logs r --json --journal "$J" >"$T/logs3f.jsonl" 2>/dev/null
set -e
[[ $lrc == 1 ]] || fail "logs over the API: exit $lrc"
grep -q 'reading the journal files directly' "$T/logs3.err" && fail "logs did not use the API"
python3 - "$T/logs3.jsonl" "$T/logs3f.jsonl" "$(grep -c 'FINDING: the journal is damaged' "$T/logs3.err")" <<'PY' ||
import json, sys
api = [json.loads(l) for l in open(sys.argv[1])]
files = [json.loads(l) for l in open(sys.argv[2])]
loss = [e for e in api if e.get("status_detail") == "journal_damaged"]
assert loss and len(loss) == int(sys.argv[3]), (len(loss), sys.argv[3])
# a broken line's LOSS event is timed when it is read: compare without time
norm = lambda v: [{k: x for k, x in e.items() if k != "time" or e.get("status_detail") != "journal_damaged"}
                  for e in v]
assert norm(api) == norm(files), [(a, b) for a, b in zip(api, files) if a != b][:2]
PY
	fail "logs over the API across the damage: $(cat "$T/logs3.err")"
echo "ok   logs over the API reports the damage like the files do"
