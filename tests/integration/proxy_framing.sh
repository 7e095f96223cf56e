#!/usr/bin/env bash
# What reaches upstream is exactly what was decided (issue 14): a test
# upstream (python3 raw socket server) logs every byte each connection
# brings, and raw requests through `glassbox proxy` attack the framing:
# a forged or second Host, a pipelined DELETE /admin after an allowed GET
# or after a declared body, Transfer-Encoding + Content-Length, duplicate
# Content-Length, bad chunk sizes (in the first packet and mid-body).  None
# may reach upstream undecided; the allowed requests still work (curl GET,
# POST, chunked upload) and the refusals are recorded.
. "$(dirname "$0")/lib/netns_lib.sh"

cat >"$tmp/hosts" <<'H'
198.18.0.10     allowed.test
H
py=$(readlink -f /usr/bin/python3)
cat >"$tmp/policy.yaml" <<Y
version: 1
network_policies:
  up:
    endpoints:
      - {host: allowed.test, port: 80}
    binaries: [{path: $py}, {path: /usr/bin/curl}]
Y

# The upstream: reads until its client is quiet for 0.4 s (or closes), logs
# the bytes (repr, one connection per line), answers 200 and closes.
cat >"$tmp/upstream.py" <<'PY'
import socket, sys, threading
log = open(sys.argv[1], "a", buffering=1)
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("198.18.0.10", 80)); srv.listen(64)
def serve(c):
    c.settimeout(0.4); data = b""
    try:
        while len(data) < 1 << 20:
            b = c.recv(65536)
            if not b: break
            data += b
    except socket.timeout:
        pass
    log.write(repr(data) + "\n")
    try:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
    except OSError:
        pass
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
: >"$tmp/up.log"
bg "$UNS" python3 "$tmp/upstream.py" "$tmp/up.log"
bg "$CNS" "$GLASSBOX" proxy --policy "$tmp/policy.yaml" --listen 127.0.0.1:3128 --ring "$tmp/events.ring" \
	--hosts "$tmp/hosts" --workers 2 >"$tmp/proxy.log" 2>&1
wait_tcp "$CNS" 127.0.0.1 3128
wait_tcp "$UNS" 198.18.0.10 80
sleep 0.5
: >"$tmp/up.log" # wait_tcp's probe

# raw.py PARTS...: one connection; sends each part (\r\n escapes allowed,
# a part "SLEEP" pauses 0.3 s), prints the status line or "closed".
cat >"$tmp/raw.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
try:
    for part in sys.argv[1:]:
        if part == "SLEEP":
            time.sleep(0.3); continue
        s.sendall(part.encode().decode("unicode_escape").encode("latin-1"))
    data = b""
    while True:
        b = s.recv(65536)
        if not b: break
        data += b
except (ConnectionResetError, BrokenPipeError):
    data = b""
print(data.split(b"\r\n")[0].decode() if data else "closed")
PY
raw() { C /usr/bin/python3 "$tmp/raw.py" "$@"; }
# upstream_saw: the log after the proxy's connections ended (0.4 s quiet)
upstream_saw() { sleep 0.7; cat "$tmp/up.log"; }
clear_up() { : >"$tmp/up.log"; }
G='GET http://allowed.test/one HTTP/1.1\r\nHost: allowed.test\r\n\r\n'

# 0. the plain cases work, and reach upstream as decided
clear_up
[[ $(raw "$G") == "HTTP/1.1 200 OK" ]] || fail "allowed GET"
grep -q "GET /one HTTP/1.1" "$tmp/up.log" || fail "GET not forwarded: $(cat $tmp/up.log)"
[[ $(C curl -s -m 10 -x http://127.0.0.1:3128 -d hello http://allowed.test/post) == ok ]] || fail "curl POST"
[[ $(C curl -s -m 10 -x http://127.0.0.1:3128 -H 'Transfer-Encoding: chunked' --data-binary @/etc/hostname \
	http://allowed.test/chunked) == ok ]] || fail "curl chunked POST"
log=$(upstream_saw)
grep -q "POST /post HTTP/1.1.*\\\\r\\\\n\\\\r\\\\nhello'" <<<"$log" || fail "POST body: $log"
grep -q "POST /chunked HTTP/1.1.*\\\\r\\\\n0\\\\r\\\\n\\\\r\\\\n'" <<<"$log" || fail "chunked body: $log"

# 1. a Host that differs from the decided authority, or a second Host: 400
clear_up
[[ $(raw 'GET http://allowed.test/ HTTP/1.1\r\nHost: evil.example.com\r\n\r\n') == "HTTP/1.1 400 Bad Request" ]] \
	|| fail "forged Host"
[[ $(raw 'GET http://allowed.test/ HTTP/1.1\r\nHost: allowed.test:8080\r\n\r\n') == "HTTP/1.1 400 Bad Request" ]] \
	|| fail "Host with another port"
[[ $(raw 'GET http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nHost: evil.example.com\r\n\r\n') \
	== "HTTP/1.1 400 Bad Request" ]] || fail "second Host"
[[ $(raw 'GET http://allowed.test/ok HTTP/1.1\r\nHost: ALLOWED.test:80\r\n\r\n') == "HTTP/1.1 200 OK" ]] \
	|| fail "same Host, other spelling"
log=$(upstream_saw)
grep -q evil <<<"$log" && fail "forged Host reached upstream: $log"
[[ $(grep -c . <<<"$log") == 1 ]] || fail "only the matching Host goes upstream: $log"

# 2. pipelined requests behind an allowed one never reach upstream
clear_up
[[ $(raw "${G}DELETE /admin HTTP/1.1\\r\\nHost: allowed.test\\r\\n\\r\\n") == "HTTP/1.1 200 OK" ]] || fail "pipelined GET"
[[ $(raw "$G" SLEEP 'DELETE /admin HTTP/1.1\r\nHost: allowed.test\r\n\r\n') == "HTTP/1.1 200 OK" ]] \
	|| fail "GET then a late DELETE"
[[ $(raw 'POST http://allowed.test/p HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 5\r\n\r\nhelloDELETE /admin HTTP/1.1\r\nHost: allowed.test\r\n\r\n') \
	== "HTTP/1.1 200 OK" ]] || fail "POST + pipelined"
[[ $(raw 'POST http://allowed.test/c HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nDELETE /admin HTTP/1.1\r\nHost: allowed.test\r\n\r\n') \
	== "HTTP/1.1 200 OK" ]] || fail "chunked + pipelined"
log=$(upstream_saw)
grep -q DELETE <<<"$log" && fail "pipelined DELETE reached upstream: $log"
grep -q "Content-Length: 5\\\\r\\\\nConnection: close\\\\r\\\\n\\\\r\\\\nhello'" <<<"$log" || fail "declared body, exactly: $log"
grep -q "\\\\r\\\\n\\\\r\\\\n5\\\\r\\\\nhello\\\\r\\\\n0\\\\r\\\\n\\\\r\\\\n'" <<<"$log" || fail "chunked body, exactly: $log"

# 3. smuggling shapes (RFC 9112 §6.3): 400, nothing upstream
clear_up
sm() { [[ $(raw "$1") == "HTTP/1.1 400 Bad Request" ]] || fail "$2 not refused"; }
sm 'POST http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nDELETE /admin HTTP/1.1\r\nHost: x\r\n\r\n' "TE+CL"
sm 'POST http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n' "CL+TE"
sm 'POST http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\nDELETE /admin HTTP/1.1\r\nHost: x\r\n\r\n' "duplicate CL"
sm 'POST http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello' "equal duplicate CL"
sm 'POST http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n' "bad chunk size"
sm 'POST http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\nDELETE /admin HTTP/1.1\r\n\r\n' "chunk without CRLF"
sm 'POST http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n' "unknown TE"
sm 'GET http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nX: a\r\n DELETE /admin\r\n\r\n' "obs-fold"
log=$(upstream_saw)
[[ -z $log ]] || fail "smuggling shapes reached upstream: $log"
# a bad chunk size mid-body: the connection ends, the bytes after it never go up
clear_up
[[ $(raw 'POST http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n' SLEEP \
	'zz\r\nDELETE /admin HTTP/1.1\r\n\r\n') != "HTTP/1.1 200 OK" ]] || fail "mid-body bad chunk answered"
log=$(upstream_saw)
grep -q -e zz -e DELETE <<<"$log" && fail "bytes after a bad chunk size reached upstream: $log"

# ---- records: every refusal is a recorded decision ----
sleep 0.3
"$GB_HELPER_DIR/ring_dump" "$tmp/events.ring" 1000 >"$tmp/records.jsonl"
python3 - "$tmp/records.jsonl" "$py" <<'PY' || fail "records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
opens = [r for r in recs if r["type"] == "NET_DECISION" and r["phase"] == "open"]
bad = [r for r in opens if r["reason"] == "bad_request"]
host = [r for r in bad if "differs from the decided destination" in r.get("reason_text", "")]
assert len(host) >= 2 and all(r["exe"] == sys.argv[2] and r["host"] == "allowed.test" for r in host), host
assert len(bad) >= 11, [r.get("reason_text") for r in bad]
texts = " | ".join(r.get("reason_text", "") for r in bad)
for t in ("more than one Host", "Transfer-Encoding and Content-Length", "Content-Length given twice",
          "chunk size", "obs-fold"):
    assert t in texts, (t, texts)
print(len(recs), "records checked")
PY
echo "proxy_framing: all cases passed"
