#!/usr/bin/env bash
# Issue 20, defect 4: metrics must count what was journaled while journal
# writes fail.  The journal lives on a tiny tmpfs that fills up while a
# sandbox produces events: serve does not crash, logs a FINDING that the
# journal is failing and why, the metrics count the failed writes
# (errors, journal_errors, journal_failing 1, journal_error) while
# `events` equals exactly the events in the journal; when space returns,
# writing resumes, every event of the sandbox arrives (contiguous
# sequences, none twice), `events` still equals the journal, and a FINDING
# event in the journal says how long writes failed and why.
: "${GB_SOURCE_DIR:?}"
. "$(dirname "$0")/lib/serve_lib.sh"
G() { "$GLASSBOX" --root "$ROOT" "$@"; }
FS=$T/jfs
mkdir -p "$FS"
mount -t tmpfs -o size=160k tmpfs "$FS" || { echo "SKIP: cannot mount tmpfs"; exit 77; }
SERVE_EXTRA_CLEANUP='umount -l "$FS" 2>/dev/null || true'
cat >"$ROOT/etc/glassbox/glassbox.yaml" <<YAML
journal:
  dir: $FS/journal
  segment_size: 1MiB
YAML
M=$ROOT/run/glassbox/metrics.json
# a fresh snapshot: SIGUSR1 makes serve write the file (atomically), so wait
# for the new one rather than a fixed time (a loaded CI box took > 0.3 s)
metrics() {
	rm -f "$M"
	kill -USR1 "$SERVE"
	for _ in $(seq 200); do [[ -s $M ]] && break; sleep 0.1; done
	cat "$M"
}
start_serve
run_sandbox big 'for i in $(seq 80); do curl -s -m 2 http://full-$i.example/ >/dev/null; done'
# the disk is full now: the sandbox has ended, its ring waits (kept)
for _ in $(seq 100); do grep -q 'FINDING: the journal is failing' "$T/serve.log" && break; sleep 0.1; done
grep -q 'FINDING: the journal is failing (writing for big: No space left on device)' "$T/serve.log" ||
	fail "no FINDING for the failing journal"
kill -0 "$SERVE" || fail "serve died on a full disk"
# a retry may still fit a small batch now and then: take the metrics
# between two equal reads of the journal
count() { (G logs big --journal "$FS/journal" --json 2>/dev/null || true) | wc -l; }
for _ in $(seq 20); do
	n0=$(count)
	metrics >"$T/m1.json"
	n1=$(count)
	[[ $n0 == "$n1" ]] && python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["events"] != int(sys.argv[2]))' "$T/m1.json" "$n1" && break
done
python3 - "$T/m1.json" "$n1" <<'PY' || fail "metrics while failing: $(cat "$T/m1.json")"
import json, sys
m = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert m["journal_failing"] == 1 and m["journal_errors"] > 0 and m["errors"] >= m["journal_errors"], m
assert "No space left on device" in m["journal_error"], m
assert m["events"] == n, (m["events"], n)
print("while full:", n, "journaled, events", m["events"], "journal_errors", m["journal_errors"])
PY
echo "ok   a full journal: FINDING, failures counted, events = what was journaled"

mount -o remount,size=16m "$FS"
for _ in $(seq 200); do
	grep -q 'journal writes resumed' "$T/serve.log" && [[ -z $(ls "$ROOT/run/glassbox/leftover" 2>/dev/null) ]] &&
		[[ ! -d $ROOT/run/glassbox/sandboxes/big ]] && break
	sleep 0.1
done
# the counters follow the journal by one drain pass: read them until they
# agree with what the journal holds (bounded), then check everything
for _ in $(seq 40); do
	metrics >"$T/m2.json"
	G logs big --journal "$FS/journal" --json >"$T/big.jsonl"
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.exit(not (m["journal_failing"] == 0 and m["events"] == sum(1 for _ in open(sys.argv[2]))))' \
		"$T/m2.json" "$T/big.jsonl" && break
	sleep 0.5
done
cat "$FS"/journal/*/*.jsonl >"$T/glassbox.jsonl" # the daemon's own events have no sandbox
python3 - "$T/m2.json" "$T/big.jsonl" "$T/glassbox.jsonl" <<'PY' || fail "after space returned: $(cat "$T/m2.json")"
import json, sys
m = json.load(open(sys.argv[1]))
ev = [json.loads(l) for l in open(sys.argv[2])]
seqs = sorted(e["metadata"]["sequence"] for e in ev)
assert seqs == list(range(len(seqs))), "sequences not contiguous / duplicated"
assert len([e for e in ev if e["class_uid"] == 4001]) >= 80, "denials missing"
assert m["events"] == len(ev), (m["events"], len(ev))
assert m["journal_failing"] == 0 and m["journal_error"] == "", m
f = [json.loads(l) for l in open(sys.argv[3])]
f = [e for e in f if e.get("finding_info", {}).get("title") == "journal writes failed"]
assert len(f) == 1 and "No space left on device" in json.dumps(f[0]), f
print("after:", len(ev), "events, metrics", m["events"], "; FINDING journaled")
PY
echo "ok   space returns: writing resumes, every event once, events = journal, FINDING journaled"
