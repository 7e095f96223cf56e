#!/usr/bin/env bash
# Retention outrunning a stopped sink: events accumulate while the sink's
# receiver is down, the journal's size limit deletes the oldest segments,
# and the daemon reports exactly one LOSS event (cause retention) whose
# count is exactly what that sink never got; everything else arrives.
. "$(dirname "$0")/lib/serve_lib.sh"

# a port with nobody listening (yet)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$ROOT/etc/glassbox/glassbox.yaml" <<YAML
journal:
  segment_size: 4KiB
  retention:
    max_size: 16KiB
sinks:
  - name: late
    type: http
    url: http://127.0.0.1:$PORT/in
    backoff_max: 1s
YAML
start_serve 1
for n in r1 r2 r3 r4 r5; do
	run_sandbox "$n" 'for i in 1 2 3; do curl -s -m 2 http://x$i.example/ >/dev/null; done'
done
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
# glassbox: the daemon's own signed checkpoints are journaled and delivered too
for n in r1 r2 r3 r4 r5 glassbox; do "$GLASSBOX" --root "$ROOT" logs "$n" --json 2>/dev/null; done >"$T/before.jsonl"
total=$(wc -l <"$T/before.jsonl")
[[ $total -ge 40 ]] || fail "only $total events"

# the receiver comes up; the restarted daemon applies retention first
cat >"$T/recv.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "ab") as f: f.write(body)
        self.send_response(200); self.end_headers()
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$T/recv.py" "$PORT" "$T/got.jsonl" &
pids+=($!)
start_serve 2
for _ in $(seq 100); do grep -q '"status_detail":"retention"' "$T/got.jsonl" 2>/dev/null && break; sleep 0.1; done
sleep 1
python3 - "$T/got.jsonl" "$total" "$T/before.jsonl" <<'PY' || fail "loss accounting"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
total = int(sys.argv[2])
# checkpoints the restarted daemon signed after the count are not part of it
before = {json.loads(l)["metadata"]["uid"] for l in open(sys.argv[3])}
late = [e for e in ev if e["metadata"]["uid"] not in before and e.get("status_detail") != "retention"]
assert all("checkpoint" in e.get("unmapped", {}) for e in late), "unexpected events delivered"
ev = [e for e in ev if e not in late]
loss = [e for e in ev if e["class_uid"] == 1008 and e.get("status_detail") == "retention"]
assert len(loss) == 1, f"{len(loss)} retention LOSS events"
lost = loss[0]["count"]
got = {e["metadata"]["uid"] for e in ev if e not in loss}
assert lost > 0, "retention deleted nothing: the test lost its point"
assert len(got) + lost == total, f"{len(got)} delivered + {lost} lost != {total} journaled"
assert "sink late" in loss[0]["message"], loss[0]["message"]
print(f"{total} events: {len(got)} delivered, {lost} reported lost in one LOSS event")
PY
"$GLASSBOX" --root "$ROOT" journal verify >"$T/verify.txt" 2>&1 || true; grep -q intact "$T/verify.txt" || fail "journal not intact after retention: $(tail -5 "$T/verify.txt")"
echo "sink_retention: all checks passed"
