#!/usr/bin/env bash
# The HTTP and file sinks of glassbox serve, end to end: sandboxes make
# events, the daemon journals them and three sinks deliver them —
#   http  NDJSON to a local receiver that answers 500, then 429 with
#         Retry-After: 1, then 200: zero lost, duplicates only as repeats of
#         the same metadata.uid; the bearer token from the auth file arrives;
#   http  Splunk HEC and Elasticsearch _bulk envelopes, checked line by line;
#   file  a JSONL copy rotated by size whose concatenation equals the journal.
# Then the daemon is SIGKILLed and restarted: delivery resumes from the
# durable cursors and nothing is lost.  The receiver listens on 127.0.0.1.
. "$(dirname "$0")/lib/serve_lib.sh"
mkdir -p "$T/out"

# ---- the receiver ----
cat >"$T/recv.py" <<'PY'
import http.server, json, sys, threading
out = sys.argv[1]
state = {}
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with lock:
            state[self.path] = n = state.get(self.path, 0) + 1
            if self.path == "/ndjson" and n == 1:
                self.send_response(500); self.end_headers(); return
            if self.path == "/ndjson" and n == 2:
                self.send_response(429); self.send_header("Retry-After", "1"); self.end_headers(); return
            with open(out + self.path.replace("/", "."), "ab") as f:
                f.write(body)
            if self.path == "/ndjson":
                with open(out + ".auth", "a") as f:
                    f.write((self.headers.get("Authorization") or "none") + "\n")
        self.send_response(200); self.end_headers()
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$T/recv.py" "$T/recv" >"$T/port" 2>"$T/recv.log" &
pids+=($!)
for _ in $(seq 50); do [[ -s $T/port ]] && break; sleep 0.1; done
PORT=$(cat "$T/port")
[[ -n $PORT ]] || fail "receiver did not start"
echo "Authorization: Bearer t0ken-$$" >"$T/auth"

cat >"$ROOT/etc/glassbox/glassbox.yaml" <<YAML
journal:
  fsync: always
sinks:
  - name: siem
    type: http
    url: http://127.0.0.1:$PORT/ndjson
    format: ndjson
    auth_file: $T/auth
    batch: 7
    backoff_max: 2s
  - name: splunk
    type: http
    url: http://127.0.0.1:$PORT/hec
    format: hec
  - name: elastic
    type: http
    url: http://127.0.0.1:$PORT/bulk
    format: bulk
    index: gb-test
  - name: shipper
    type: file
    path: $T/out/events.jsonl
    rotate_size: 8KiB
    keep: 100
YAML
"$GLASSBOX" --root "$ROOT" serve --check-config >/dev/null || fail "config"

start_serve
run() { run_sandbox "$1" 'for i in 1 2 3 4 5; do curl -s -m 2 http://h$i.example/ >/dev/null; done'; }
run a1
run a2
# SIGKILL the daemon while deliveries are pending, then restart it
kill -9 "$SERVE"; wait "$SERVE" 2>/dev/null || true
start_serve
run a3

journal_uids() { for n in a1 a2 a3; do "$GLASSBOX" --root "$ROOT" logs "$n" --json; done |
	python3 -c 'import json,sys; print("\n".join(sorted(json.loads(l)["metadata"]["uid"] for l in sys.stdin)))'; }
want=$(journal_uids | wc -l)
[[ $want -ge 30 ]] || fail "only $want events journaled"
# wait for delivery (the 500 and the 429 cost a few seconds of backoff)
for _ in $(seq 150); do
	got=$(python3 - "$T/recv.ndjson" <<'PY' 2>/dev/null || echo 0
import json, sys
print(len({json.loads(l)["metadata"]["uid"] for l in open(sys.argv[1]) if l.strip()}))
PY
)
	[[ $got -ge $want ]] && break
	sleep 0.2
done
[[ $got == "$want" ]] || fail "http ndjson: $got of $want events"
diff <(journal_uids) <(python3 -c 'import json,sys; print("\n".join(sorted({json.loads(l)["metadata"]["uid"] for l in open(sys.argv[1]) if l.strip()})))' "$T/recv.ndjson") \
	|| fail "delivered uids differ from the journal"
grep -q "retry in" "$T/serve.log" || fail "no retry logged"
[[ $(sort -u "$T/recv.auth") == "Bearer t0ken-$$" ]] || fail "auth header: $(sort -u "$T/recv.auth")"
echo "ok   http ndjson: $want events after 500 and 429, none lost, auth header sent"

python3 - "$T/recv.hec" "$T/recv.bulk" "$want" <<'PY' || fail "hec/bulk envelopes"
import json, sys
hec = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert all(h["sourcetype"] == "ocsf" and "class_uid" in h["event"] for h in hec), hec[:1]
uids = {h["event"]["metadata"]["uid"] for h in hec}
lines = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
acts, docs = lines[0::2], lines[1::2]
assert all(a == {"create": {"_index": "gb-test"}} for a in acts), acts[:1]
assert len(uids) == int(sys.argv[3]) == len({d["metadata"]["uid"] for d in docs}), (len(uids), len(docs))
PY
echo "ok   hec and bulk envelopes"

# file sink: the rotated files, oldest first, are the journal in order
for _ in $(seq 100); do
	n=$(cat $(ls -r "$T"/out/events.jsonl.* 2>/dev/null) "$T/out/events.jsonl" 2>/dev/null | wc -l)
	[[ $n -ge $want ]] && break
	sleep 0.1
done
ls "$T"/out/events.jsonl.1 >/dev/null 2>&1 || fail "file sink never rotated"
# oldest first: the highest rotation number first, the live file last
files=$(for f in "$T"/out/events.jsonl.*; do echo "${f##*.} $f"; done | sort -k1,1nr | cut -d' ' -f2; echo "$T/out/events.jsonl")
for n in a1 a2 a3; do "$GLASSBOX" --root "$ROOT" logs "$n" --json; done >"$T/journal.jsonl"
python3 - "$T/journal.jsonl" $files <<'PY' || fail "file sink content"
import json, sys
journal = [json.loads(l)["metadata"]["uid"] for l in open(sys.argv[1])]
got = [json.loads(l)["metadata"]["uid"] for f in sys.argv[2:] for l in open(f)]
first = []
seen = set()
for u in got:
    if u not in seen:
        seen.add(u)
        first.append(u)
assert seen == set(journal), (len(seen), len(journal))
# per sandbox, the file holds the events in journal order
by = lambda seq, sid: [u for u in seq if u.startswith(sid + ":")]
for sid in {u.split(":")[0] for u in journal}:
    assert by(first, sid) == by(journal, sid), sid
print(len(got), "lines,", len(got) - len(first), "repeated after the SIGKILL")
PY
echo "ok   file sink rotated, complete"

# the metrics file, current while the daemon runs (SIGUSR1 rewrites it now)
kill -USR1 "$SERVE"
sleep 0.3
python3 - "$ROOT/run/glassbox/metrics.json" "$want" <<'PY' || fail "metrics: $(cat "$ROOT/run/glassbox/metrics.json" 2>&1)"
import json, sys
m = json.load(open(sys.argv[1]))
want = int(sys.argv[2])
sinks = {s["name"]: s for s in m["sinks"]}
assert set(sinks) == {"siem", "splunk", "elastic", "shipper"}, sinks.keys()
# this run of the daemon delivered what the SIGKILLed one had not acknowledged
assert all(s["sent"] > 0 for s in sinks.values()), sinks
assert all(s["lag_bytes"] == 0 and s["lag_segments"] == 0 for s in sinks.values()), sinks
assert m["events"] > 0 and m["lost"] == 0 and m["errors"] == 0, m
print("metrics:", {k: (v["sent"], v["failed"], v["retried"]) for k, v in sinks.items()})
PY
echo "ok   metrics file: per sink sent, failed, retried, lag"
# bad sink configs: every error with file:line:col and field
cat >"$T/bad.yaml" <<'YAML'
sinks:
  - name: a
    type: http
    urll: http://x
  - name: b
    type: kafak
  - name: a
    type: file
    path: /tmp/x
    url: http://y
YAML
set +e
"$GLASSBOX" --root "$ROOT" serve --config "$T/bad.yaml" --check-config 2>"$T/bad.txt"
rc=$?
set -e
[[ $rc == 1 ]] || fail "bad sink config accepted"
grep -q "bad.yaml:4:5: error: sinks\[0\].urll: unknown key (did you mean 'url'?)" "$T/bad.txt" || fail "$(cat "$T/bad.txt")"
grep -q "sinks\[0\].url: an http sink needs a url" "$T/bad.txt" || fail "missing url: $(cat "$T/bad.txt")"
grep -qF "bad.yaml:6:11: error: sinks[1].type: 'kafak' is not a sink type (kafka, http, file) (did you mean 'kafka'?)" "$T/bad.txt" || fail "type: $(cat "$T/bad.txt")"
grep -q "sink name 'a' is used twice" "$T/bad.txt" || fail "duplicate name: $(cat "$T/bad.txt")"
grep -q "bad.yaml:10:5: error: sinks\[2\].url: not a key of a file sink" "$T/bad.txt" || fail "file url: $(cat "$T/bad.txt")"
echo "ok   bad sink configs: file:line:col, field, hint"
echo "sinks: all cases passed"
