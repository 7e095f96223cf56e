#!/usr/bin/env bash
# inference.local's writes to the client: what one provider read brings
# goes to the client in one write — one TLS record on CONNECT+TLS — not one
# per piece (the head, each chunk, the chunked end each were a record, and
# a client wake each).  The provider here sends a whole streamed response
# in one write (gb_one_write: one segment, so one read of the proxy); the
# client counts the TLS records itself (its TLS through a MemoryBIO, the
# records read off the socket by hand) and the first record that carries
# data must carry the whole response: head, every event, the usage event,
# [DONE] and the chunked end.  The same response over plain http is framed
# right (every event, the end), and the credential reached neither client.
#
#   gbc$$: glassbox proxy 127.0.0.1:3128 --inference    gbu$$: 198.18.0.10:8080 (openai)
. "$(dirname "$0")/lib/netns_lib.sh"
provider_key sk-wr
provider 8080 openai
wait_tcp "$UNS" 198.18.0.10 8080
echo "198.18.0.10 openai.test" >"$tmp/hosts"
printf 'version: 1\nnetwork_policies: {}\n' >"$tmp/policy.yaml"
printf '{"provider":"wr","type":"openai","base_url":"http://openai.test:8080","credential_file":"%s","model":"host-m","timeout_ms":5000}\n' \
	"$tmp/key" >"$tmp/route.json"
mkdir -p "$tmp/tls"
bg "$CNS" "$GLASSBOX" proxy --policy "$tmp/policy.yaml" --listen 127.0.0.1:3128 --hosts "$tmp/hosts" \
	--tls-dir "$tmp/tls" --inference "$tmp/route.json" 2>>"$tmp/proxy.log"
wait_tcp "$CNS" 127.0.0.1 3128

cat >"$tmp/client.py" <<'PY'
import json, socket, ssl, sys
ca, secret = sys.argv[1], sys.argv[2]
EVENTS = 6
body = json.dumps({"model": "a", "stream": True, "gb_chunks": EVENTS, "gb_gap_ms": 0,
                   "gb_one_write": True}).encode()
req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: inference.local\r\nContent-Type: application/json\r\n"
       b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)) + body

def check(resp, how):
    assert resp.startswith(b"HTTP/1.1 200"), (how, resp[:200])
    assert resp.endswith(b"\r\n0\r\n\r\n"), (how, "no chunked end", resp[-200:])
    for i in range(EVENTS):
        assert b'"i": %d,' % i in resp, (how, "event", i)
    assert b"completion_tokens" in resp and b"[DONE]" in resp, (how, resp[-300:])
    assert secret.encode() not in resp, (how, "the credential reached the client")

def tunnel():
    s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
    s.sendall(b"CONNECT inference.local:443 HTTP/1.1\r\nHost: inference.local:443\r\n\r\n")
    r = b""
    while b"\r\n\r\n" not in r:
        d = s.recv(1)  # byte by byte: nothing of the TLS side is taken with the 200
        assert d, "tunnel closed"
        r += d
    assert r.startswith(b"HTTP/1.1 200"), r
    return s

# CONNECT+TLS, the records counted by hand
s = tunnel()
inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
o = ssl.create_default_context(cafile=ca).wrap_bio(inc, outg, server_hostname="inference.local")
for _ in range(50):
    try:
        o.do_handshake()
        break
    except ssl.SSLWantReadError:
        if outg.pending:
            s.sendall(outg.read())
        d = s.recv(65536)
        assert d, "closed in the handshake"
        inc.write(d)
else:
    raise SystemExit("handshake did not finish")
if outg.pending:
    s.sendall(outg.read())
raw = inc.read() if inc.pending else b""  # bytes that came behind the handshake
o.write(req)
s.sendall(outg.read())

def record():
    global raw
    for _ in range(10000):
        if len(raw) >= 5 and len(raw) >= 5 + int.from_bytes(raw[3:5], "big"):
            n = 5 + int.from_bytes(raw[3:5], "big")
            r, raw = raw[:n], raw[n:]
            return r
        d = s.recv(65536)
        if not d:
            return None
        raw += d
    raise SystemExit("no record end")

texts = []
for _ in range(1000):
    r = record()
    if r is None:
        break
    inc.write(r)
    t = b""
    try:
        for _ in range(1000):
            d = o.read(65536)
            if not d:
                break  # close_notify
            t += d
    except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
        pass
    if t:
        texts.append(t)
assert texts, "no data record"
check(b"".join(texts), "https, all records")
check(texts[0], "https, the first data record (the response in %d records: %s)"
      % (len(texts), [len(t) for t in texts]))
print("https: the response in", len(texts), "data record(s)")

# plain http through the proxy: the same response, framed right
s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
s.sendall(req.replace(b"POST /v1/", b"POST http://inference.local/v1/", 1))
resp = b""
for _ in range(10000):
    d = s.recv(65536)
    if not d:
        break
    resp += d
check(resp, "http")
print("http: ok")
PY
C timeout 60 python3 "$tmp/client.py" "$tmp/tls/ca.pem" "$SECRET" || fail "client"
[[ $(jq -r 'select(.verdict != "ok")' "$tmp/openai.log" | wc -l) == 0 ]] || fail "provider verdicts"
echo "inference_writes: ok"
