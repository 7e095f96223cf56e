#!/usr/bin/env bash
# Issue 20, defect 8: `glassbox logs` exits non-zero for an unknown
# sandbox; tells "no events for the sandbox" (exit 1) from "the filter
# matched none of its events" (exit 0); takes RFC 3339 times with
# fractions and offsets, to the millisecond.
: "${GB_SOURCE_DIR:?}"
. "$(dirname "$0")/lib/serve_lib.sh"
G() { "$GLASSBOX" --root "$ROOT" "$@"; }
start_serve
run_sandbox s1 'for i in 1 2 3; do curl -s -m 2 http://t$i.example/ >/dev/null; done'
for _ in $(seq 100); do G logs s1 2>/dev/null | grep -q LIFECYCLE:STOP && break; sleep 0.05; done

set +e
G logs nosuch >"$T/out" 2>"$T/err"; rc=$?
set -e
[[ $rc == 1 ]] || fail "unknown sandbox: exit $rc"
grep -q "no events for sandbox 'nosuch'" "$T/err" || fail "unknown sandbox message: $(cat "$T/err")"
[[ ! -s $T/out ]] || fail "output for an unknown sandbox"
echo "ok   an unknown sandbox is an error (exit 1)"

set +e
G logs s1 --since 2099-01-01T00:00:00Z >"$T/out" 2>"$T/err"; rc=$?
set -e
[[ $rc == 0 ]] || fail "a filter matching nothing: exit $rc"
grep -q "none of the events of sandbox 's1' match the filter" "$T/err" || fail "filter message: $(cat "$T/err")"
grep -q "no events for sandbox" "$T/err" && fail "a filter that matched nothing reported as an unknown sandbox"
echo "ok   a filter that matched nothing is told apart (exit 0)"

# RFC 3339 with fractions and offsets, to the millisecond: --since the
# last event's own time keeps exactly the events at or after it.
G logs s1 --json >"$T/all.jsonl"
read -r last_ms n_at <<<"$(python3 -c '
import json, sys
t = [json.loads(l)["time"] for l in open(sys.argv[1])]
print(max(t), sum(1 for x in t if x >= max(t)))' "$T/all.jsonl")"
fmt() { python3 -c '
import datetime, sys
ms, off = int(sys.argv[1]), int(sys.argv[2])
tz = datetime.timezone(datetime.timedelta(minutes=off))
d = datetime.datetime.fromtimestamp(ms / 1000, tz)
s = d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03d" % (ms % 1000) + sys.argv[3]
print(s + ("Z" if off == 0 else d.strftime("%z")[:3] + ":" + d.strftime("%z")[3:]))' "$@"; }
t0=$(fmt "$last_ms" 0 "")
t1=$(fmt "$last_ms" 90 "")
t2=$(fmt $((last_ms + 1)) -300 "999")
[[ $(G logs s1 --json --since "$t0" | wc -l) == "$n_at" ]] || fail "--since $t0"
[[ $(G logs s1 --json --since "$t1" | wc -l) == "$n_at" ]] || fail "--since $t1 (offset)"
[[ -z $(G logs s1 --json --since "$t2" 2>/dev/null) ]] || fail "--since $t2 kept an earlier event"
[[ $(G logs s1 --json --until "$t0" | wc -l) == $(wc -l <"$T/all.jsonl") ]] || fail "--until $t0"
set +e
for bad in 2026-11-24T10:00:00. 2026-11-24T10:00:00.5+1:00 2026-11-24T1:0:0Z 2026-11-24T10:00:00.5ZZ; do
	G logs s1 --since "$bad" >/dev/null 2>&1; [[ $? == 2 ]] || fail "bad time '$bad' accepted"
done
set -e
echo "ok   RFC 3339 times with fractions and offsets ($t0, $t1), to the millisecond"
