#!/usr/bin/env bash
# Issue 20, defect 1: a sandbox that ends while no glassbox serve drains its
# ring must not lose its events.  Runs sandboxes with no daemon (one name
# used twice), checks that each ring is kept in run/glassbox/leftover with a
# warning naming how many records wait, then starts serve: every event of
# both runs arrives in the journal, exact counts, contiguous sequences, no
# LOSS, and each leftover ring is removed only after it was journaled.  A
# leftover ring whose records are already journaled is removed, not
# journaled twice.
: "${GB_SOURCE_DIR:?}"
. "$(dirname "$0")/lib/serve_lib.sh"
G() { "$GLASSBOX" --root "$ROOT" "$@"; }
L=$ROOT/run/glassbox/leftover

# 1. Two runs of the same name and one of another, no daemon.
runs=(a:30 a:20 b:7)
for spec in "${runs[@]}"; do
	n=${spec%%:*} k=${spec##*:}
	G run --name "$n" --workdir "$T/work" -- /bin/sh -c \
		"for i in \$(seq $k); do curl -s -m 2 http://h\$i.example/ >/dev/null; done; true" \
		2>>"$T/run.err" >/dev/null || true
done
[[ -d $ROOT/run/glassbox/sandboxes/a ]] && fail "sandbox directory of a finished run left behind"
[[ $(ls "$L" | grep -c '\.ring$') == 3 ]] || fail "expected 3 kept rings: $(ls -l "$L" 2>&1)"
[[ $(grep -c 'not journaled yet' "$T/run.err") == 3 ]] || fail "no warning per kept ring: $(cat "$T/run.err")"
# counts the supervisors announced, per run, in order
mapfile -t announced < <(sed -n 's/.*: \([0-9][0-9]*\) events not journaled yet.*/\1/p' "$T/run.err")
echo "ok   rings of finished sandboxes kept with a warning (${announced[*]} records)"

# 2. serve journals them at start and removes each ring afterwards.
start_serve
for _ in $(seq 200); do
	[[ -z $(ls "$L" 2>/dev/null) ]] && break
	sleep 0.05
done
[[ -z $(ls "$L") ]] || fail "leftover rings not removed: $(ls "$L")"
G logs a --json >"$T/a.jsonl"
G logs b --json >"$T/b.jsonl"
python3 - "$T/a.jsonl" "$T/b.jsonl" "${announced[@]}" <<'PY' || fail "journaled events of leftover rings"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
ann = [int(x) for x in sys.argv[3:]]
want_net = [30, 20, 7]
runs = []
for ev in (a, b):
    by = {}
    for e in ev:
        by.setdefault(e["device"]["container"]["uid"], []).append(e)
    # runs of one name in the order they were made
    runs += sorted(by.values(), key=lambda es: min(e["time"] for e in es))
assert len(runs) == 3, [len(r) for r in runs]
for i, es in enumerate(runs):
    seqs = sorted(e["metadata"]["sequence"] for e in es)
    assert seqs == list(range(ann[i])), (i, seqs, ann[i])
    assert not [e for e in es if e["class_uid"] == 1008 or "LOSS" in json.dumps(e.get("message", ""))], "loss"
    net = [e for e in es if e["class_uid"] == 4001 and e.get("activity_id") != 2]
    assert len({e["metadata"]["uid"] for e in es}) == len(es), "duplicates"
    n_net = len({e["metadata"]["uid"] for e in net})
    assert n_net == want_net[i], (i, n_net, want_net[i])
print("every event of", ann, "arrived")
PY
echo "ok   serve journals leftover rings at start: every event, exact counts, then removes them"

# 3. A run while serve is up leaves nothing behind; a ring kept after its
#    records were journaled (daemon drained it, then it was moved) is only
#    removed, never journaled again.
G run --quiet --name c --workdir "$T/work" -- /bin/sh -c 'curl -s -m 2 http://c.example/ >/dev/null; true' || true
[[ -z $(ls "$L") ]] || fail "a drained ring was kept: $(ls "$L")"
before=$(G logs c --json | wc -l)
[[ $before -gt 0 ]] || fail "no events for c"
echo "ok   a drained ring is not kept"
kill -TERM "$SERVE"; wait "$SERVE" || true
G run --quiet --name d --workdir "$T/work" -- /bin/sh -c 'true' 2>/dev/null || true
[[ $(ls "$L" | grep -c '^d@') == 1 ]] || fail "ring of d not kept"
start_serve
for _ in $(seq 200); do [[ -z $(ls "$L") ]] && break; sleep 0.05; done
[[ -z $(ls "$L") ]] || fail "ring of d not removed"
n1=$(G logs d --json | wc -l)
kill -TERM "$SERVE"; wait "$SERVE" || true
start_serve
sleep 0.5
[[ $(G logs d --json | wc -l) == "$n1" ]] || fail "leftover events journaled twice"
echo "ok   a leftover ring is journaled once"
