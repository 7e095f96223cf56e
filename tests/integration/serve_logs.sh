#!/usr/bin/env bash
# glassbox serve + glassbox run + glassbox logs, end to end under a private
# --root: a sandbox's records reach the journal as OCSF events (valid against
# the official schema), `logs` shows them as shorthand or JSON with filters,
# `logs -f` follows new events, a daemon killed with SIGKILL and restarted
# loses nothing (at least once, deduplicated by metadata.uid), small segments
# rotate and seal, `journal verify` finds a flipped byte, and a bad config
# is refused with file:line:col.
: "${GB_SOURCE_DIR:?}"
. "$(dirname "$0")/lib/serve_lib.sh"
G() { "$GLASSBOX" --root "$ROOT" "$@"; }
J=$ROOT/var/lib/glassbox/journal

# Small segments so this test sees rotation and sealing.
cat >"$ROOT/etc/glassbox/glassbox.yaml" <<'YAML'
journal:
  segment_size: 8KiB
  fsync: always
YAML

start_serve

# 1. A sandboxed command: denied by the default policy, exit status kept.
set +e
G run --quiet --name s1 --workdir "$T/work" -- /bin/sh -c 'curl -s -m 5 http://example.com/ >/dev/null; exit 3'
rc=$?
set -e
[[ $rc == 3 ]] || fail "exit status $rc"
G logs s1 >"$T/s1.txt"
grep -q 'LIFECYCLE:START' "$T/s1.txt" || fail "no LIFECYCLE start in logs"
grep -q 'NET:REFUSE \[MED\] DENIED curl([0-9]*) -> example.com:80/tcp' "$T/s1.txt" || fail "no denied connection in logs: $(cat "$T/s1.txt")"
grep -q 'PROC:TERMINATE .*exit:3' "$T/s1.txt" || fail "no process exit"
[[ $(grep -c . "$T/s1.txt") == $(grep -c . <(G logs s1 --json)) ]] || fail "--json and shorthand disagree"
echo "ok   events of a run reach the journal and logs"

# 2. Filters.
[[ $(G logs s1 --level medium | grep -c 'DENIED') -ge 1 ]] || fail "--level medium lost the denial"
G logs s1 --level medium | grep -q 'LIFECYCLE' && fail "--level medium kept informational events"
[[ $(G logs s1 --class 4001 | grep -vc 'NET:') == 0 ]] || fail "--class 4001"
[[ -z $(G logs s1 --since 2099-01-01T00:00:00Z 2>/dev/null) ]] || fail "--since in the future"
[[ -n $(G logs s1 --since 10m) ]] || fail "--since 10m"
{ G logs nosuch 2>&1 || true; } | grep -q "no events for sandbox 'nosuch'" || fail "unknown sandbox message"
set +e
G logs s1 --level loud >/dev/null 2>&1; [[ $? == 2 ]] || fail "bad --level accepted"
G logs s1 --since yesterday >/dev/null 2>&1; [[ $? == 2 ]] || fail "bad --since accepted"
G logs >/dev/null 2>&1; [[ $? == 2 ]] || fail "missing NAME accepted"
set -e
echo "ok   filters and usage errors"

# 3. Every event is valid OCSF 1.8.0.
G logs s1 --json >"$T/s1.jsonl"
. "$(dirname "$0")/lib/ocsf_lib.sh"
ocsf_full_schema || fail "the official OCSF export is missing"
if [[ -n $OCSF_FULL ]]; then
	python3 "$GB_SOURCE_DIR/tests/ocsf_validate.py" --official "$OCSF_FULL" "$T/s1.jsonl"
else
	python3 "$GB_SOURCE_DIR/tests/ocsf_validate.py" "$T/s1.jsonl"
fi
python3 - "$T/s1.jsonl" <<'PY' || fail "metadata"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
uids = [e["metadata"]["uid"] for e in ev]
assert len(uids) == len(set(uids)), "duplicate metadata.uid"
ids = {e["device"]["container"]["uid"] for e in ev}
assert len(ids) == 1 and len(next(iter(ids))) == 16, ids  # one per-run id
assert all(e["metadata"]["log_name"] == "s1" for e in ev)
assert [e["metadata"]["sequence"] for e in ev] == sorted(e["metadata"]["sequence"] for e in ev)
PY
echo "ok   events validate against OCSF 1.8.0; one per-run sandbox id"

# 4. logs -f follows a second run of the same name as it happens.
"$GLASSBOX" --root "$ROOT" logs s2 -f >"$T/follow.txt" &
FOLLOW=$!
pids+=("$FOLLOW")
sleep 0.3
G run --quiet --name s2 --workdir "$T/work" -- /bin/sh -c 'curl -s -m 5 http://follow.example/ >/dev/null; true'
for _ in $(seq 100); do grep -q 'LIFECYCLE:STOP' "$T/follow.txt" && break; sleep 0.05; done
kill "$FOLLOW"
grep -q 'DENIED curl([0-9]*) -> follow.example:80' "$T/follow.txt" || fail "logs -f missed the denial: $(cat "$T/follow.txt")"
grep -q 'LIFECYCLE:STOP' "$T/follow.txt" || fail "logs -f missed the stop"
echo "ok   logs -f follows"

# 5. SIGKILL the daemon while a sandbox keeps producing, restart it: every
#    sequence of that run arrives (duplicates allowed, no gaps).
"$GLASSBOX" --root "$ROOT" run --quiet --name s3 --workdir "$T/work" -- /bin/sh -c \
	'for i in $(seq 40); do curl -s -m 2 http://k$i.example/ >/dev/null; done' &
RUN3=$!
pids+=("$RUN3")
sleep 0.4
kill -9 "$SERVE"
wait "$SERVE" 2>/dev/null || true
sleep 0.3
start_serve
wait "$RUN3" || true
G logs s3 --json >"$T/s3.jsonl"
python3 - "$T/s3.jsonl" <<'PY' || fail "events lost across the daemon's SIGKILL"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
seqs = sorted({e["metadata"]["sequence"] for e in ev})
assert seqs == list(range(seqs[0], seqs[-1] + 1)), "gap in sequences"
assert seqs[0] == 1 or seqs[0] == 0, seqs[:3]
net = {e["metadata"]["uid"] for e in ev if e["class_uid"] == 4001}
assert len(net) == 40, len(net)
assert ev[-1]["class_uid"] == 6002 and ev[-1]["activity_id"] in (4, 2, 99), ev[-1]["activity_name"]
print(len(ev), "events,", len(ev) - len(seqs), "duplicates")
PY
echo "ok   daemon SIGKILL + restart: no sequence lost"

# 6. Rotation sealed segments; verify finds them intact, then a flipped byte.
kill "$SERVE"
wait "$SERVE" 2>/dev/null || true
n_zst=$(find "$J" -name '*.jsonl.zst' | wc -l)
[[ $n_zst -ge 2 ]] || fail "expected sealed segments, found $n_zst"
G journal verify >"$T/verify.txt" 2>&1 || true; grep -q 'intact' "$T/verify.txt" || fail "journal not intact: $(tail -5 "$T/verify.txt")"
seg=$(find "$J" -name '*.jsonl.zst' | sort | head -1)
python3 - "$seg" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x40
open(p, "wb").write(bytes(b))
PY
set +e
G journal verify >"$T/verify.txt"
rc=$?
set -e
[[ $rc == 1 ]] || fail "verify exit $rc after tampering"
grep -q 'altered\|does not decode' "$T/verify.txt" || fail "verify did not say what: $(cat "$T/verify.txt")"
echo "ok   sealed segments verify; tampering detected"

# 7. A bad config is refused with file:line:col and a hint.
cat >"$T/bad.yaml" <<'YAML'
journal:
  segmnt_size: 1MiB
  fsync: sometimes
YAML
set +e
G serve --config "$T/bad.yaml" 2>"$T/bad.txt"
rc=$?
set -e
[[ $rc == 1 ]] || fail "bad config exit $rc"
grep -q "bad.yaml:2:3: error: journal.segmnt_size: unknown key.*segment_size" "$T/bad.txt" || fail "config error: $(cat "$T/bad.txt")"
grep -q "bad.yaml:3:10: error: journal.fsync" "$T/bad.txt" || fail "config error 2: $(cat "$T/bad.txt")"
G serve --config "$T/bad.yaml" --check-config >/dev/null 2>&1 && fail "--check-config accepted a bad file"
echo "ok   bad config: file:line:col, every error, a hint"
echo "serve_logs: all cases passed"
