#!/usr/bin/env bash
# HTTPS inspection through `glassbox proxy --tls-dir`: real clients (curl,
# python3 urllib / http.client) against a real HTTPS server with its own CA
# on test hosts in network namespaces this test makes:
#
#   gbc$$ (clients, proxy; no default route)     gbu$$ (upstream)
#     glassbox proxy 127.0.0.1:3128                198.18.0.10 :443 good cert (api/audit/ws/skip/plain.test)
#                                                  :8443 self-signed, :8444 expired, :8445 wrong name
#                                                  :8080 plain HTTP
# Attacks: requests the rules deny (enforce → 403 with OpenShell's fields,
# audit → forwarded and recorded), h2c prior knowledge and non-HTTP bytes on
# an inspected endpoint, a malformed ClientHello, a client that does not
# trust the CA, bad upstream certificates, a websocket upgrade on a REST
# endpoint, an h2c Upgrade, a Host header naming another host, smuggling
# shapes inside TLS.  Checks the leaf cache is reused, `tls: skip` passes a
# pinned client through untouched, and every request is one HTTP_DECISION
# with the tunnel's conn_id, valid OCSF 4002.
. "$(dirname "$0")/lib/netns_lib.sh"
H=$GB_SOURCE_DIR/tests/helpers
python3 "$H/tls_certs.py" "$tmp" api.test,audit.test,ws.test,wsok.test,skip.test,skipenf.test,plain.test,l4.test
U ip addr add 198.18.0.11/24 dev "vu$$"
for spec in "443 good" "8443 self" "8444 expired" "8445 wrong"; do
	set -- $spec
	bg "$UNS" python3 "$H/https_server.py" --bind 198.18.0.10 --port "$1" --cert "$tmp/$2.pem" --key "$tmp/$2.key" 2>>"$tmp/https.log"
done
bg "$UNS" python3 "$H/https_server.py" --bind 198.18.0.10 --port 8080 2>>"$tmp/http.log"

cat >"$tmp/hosts" <<'H'
198.18.0.10 api.test audit.test ws.test wsok.test skip.test skipenf.test plain.test mixed.test self.test expired.test wrong.test l4.test
H
cat >"$tmp/policy.yaml" <<'Y'
version: 1
network_policies:
  api:
    endpoints:
      - host: api.test
        port: 443
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: "/repos/*/issues" }
          - allow: { method: POST, path: "/repos/**", query: { dry: "true" } }
          - allow: { method: GET, path: "/big" }
        deny_rules:
          - { method: GET, path: "/repos/secret/**" }
      - host: ws.test
        port: 443
        protocol: rest
        enforcement: enforce
        access: full
      - host: wsok.test
        port: 443
        protocol: websocket
        enforcement: enforce
        rules: [ { allow: { method: GET, path: /ws } } ]
      - { host: self.test, port: 8443, protocol: rest, access: full }
      - { host: expired.test, port: 8444, protocol: rest, access: full }
      - { host: wrong.test, port: 8445, protocol: rest, access: full }
      - { host: plain.test, port: 8080, protocol: rest, enforcement: enforce, access: read-only }
      - { host: l4.test, port: 443 }
    binaries: [ { path: "/**" } ]
  audit:
    endpoints:
      - host: audit.test
        port: 443
        protocol: rest
        rules: [ { allow: { method: GET, path: "/ok" } } ]
    binaries: [ { path: "/**" } ]
  skip:
    endpoints:
      - { host: skip.test, port: 443, protocol: rest, tls: skip, access: read-only }
      - { host: skipenf.test, port: 443, protocol: rest, tls: skip, enforcement: enforce, access: read-only }
    binaries: [ { path: "/**" } ]
Y
bg "$CNS" "$GLASSBOX" proxy --policy "$tmp/policy.yaml" --listen 127.0.0.1:3128 --ring "$tmp/events.ring" \
  --hosts "$tmp/hosts" --workers 2 --tls-dir "$tmp/ca" --upstream-ca "$tmp/upca.pem" 2>"$tmp/proxy.log"
proxy_pid=$!
wait_tcp "$CNS" 127.0.0.1 3128
wait_tcp "$UNS" 198.18.0.10 443
P=http://127.0.0.1:3128
B=$tmp/ca/ca-bundle.pem
[[ $(stat -c %a "$tmp/ca/ca.key") == 600 ]] || fail "CA key mode"
cu() { C curl -sS --max-time 10 --proxy "$P" --cacert "$B" "$@"; }

# ---- 1. allowed and denied by method, path, query, deny rule (enforce) ----
out=$(cu https://api.test/repos/a/issues) || fail "allowed GET"
[[ $(jq -r .path <<<"$out") == /repos/a/issues && $(jq -r .host <<<"$out") == api.test ]] || fail "upstream saw $out"
code=$(cu -o "$tmp/deny.json" -D "$tmp/deny.h" -w '%{http_code}' https://api.test/repos/a/pulls)
[[ $code == 403 ]] || fail "path not permitted: $code"
for k in error policy rule detail layer protocol method path host port binary rule_missing next_steps; do
	jq -e "has(\"$k\")" "$tmp/deny.json" >/dev/null || fail "403 body lacks $k: $(cat "$tmp/deny.json")"
done
[[ $(jq -r .error "$tmp/deny.json") == policy_denied && $(jq -r .rule "$tmp/deny.json") == "GET /repos/a/pulls" &&
   $(jq -r .layer "$tmp/deny.json") == l7 && $(jq -r .port "$tmp/deny.json") == 443 &&
   $(jq -r .rule_missing.type "$tmp/deny.json") == rest_allow ]] || fail "403 body: $(cat "$tmp/deny.json")"
grep -qi '^X-OpenShell-Policy: api' "$tmp/deny.h" || fail "no policy header: $(cat "$tmp/deny.h")"
[[ $(cu -o /dev/null -w '%{http_code}' https://api.test/repos/secret/issues) == 403 ]] || fail "deny rule"
[[ $(cu -o /dev/null -w '%{http_code}' -X POST -d x 'https://api.test/repos/a/b?dry=true') == 200 ]] || fail "POST with query"
[[ $(cu -o /dev/null -w '%{http_code}' -X POST -d x 'https://api.test/repos/a/b?dry=false') == 403 ]] || fail "POST, query mismatch"
[[ $(cu -o /dev/null -w '%{http_code}' -X DELETE https://api.test/repos/a/issues) == 403 ]] || fail "DELETE"
# canonicalisation: the decided path is what upstream sees; .. escaping the root is refused
out=$(cu --path-as-is 'https://api.test/repos/a/x/../issues') || fail "dot segments"
[[ $(jq -r .path <<<"$out") == /repos/a/issues ]] || fail "upstream got $(jq -r .path <<<"$out")"
[[ $(cu --path-as-is -o /dev/null -w '%{http_code}' 'https://api.test/../repos/a/issues') == 400 ]] || fail "escaping .."
[[ $(cu -o /dev/null -w '%{http_code}' 'https://api.test/repos/a%2Fb/issues') == 400 ]] || fail "encoded slash"
# a big response through the tunnel
[[ $(cu https://api.test/big | wc -c) == 1048576 ]] || fail "1 MiB response"

# ---- 2. keep-alive: several requests, denied ones in between, one tunnel ----
cu -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
  https://api.test/repos/a/issues https://api.test/nope https://api.test/repos/b/issues >"$tmp/ka" || fail "keep-alive"
[[ $(awk '{print $1}' "$tmp/ka" | tr '\n' ' ') == "200 403 200 " ]] || fail "keep-alive codes: $(cat "$tmp/ka")"
[[ $(awk '{s+=$2} END {print s}' "$tmp/ka") == 1 ]] || fail "a 403 closed the tunnel: $(cat "$tmp/ka")"

# ---- 3. audit (the default): forwarded, recorded as would-deny ----
[[ $(cu -o /dev/null -w '%{http_code}' https://audit.test/not-allowed) == 200 ]] || fail "audit forwards"
[[ $(cu -o /dev/null -w '%{http_code}' --path-as-is https://audit.test/../x) == 400 ]] || fail "bad path refused even in audit"

# ---- 4. python3 urllib and http.client through termination ----
C env https_proxy=$P SSL_CERT_FILE="$B" python3 - <<'PY' || fail "python clients"
import http.client, json, ssl, urllib.request, urllib.error
r = urllib.request.urlopen("https://api.test/repos/py/issues", timeout=10)
assert json.load(r)["path"] == "/repos/py/issues"
try:
    urllib.request.urlopen("https://api.test/admin", timeout=10)
    raise SystemExit("urllib: /admin was not refused")
except urllib.error.HTTPError as e:
    assert e.code == 403 and json.load(e)["error"] == "policy_denied"
c = http.client.HTTPSConnection("127.0.0.1", 3128, timeout=10, context=ssl.create_default_context())
c.set_tunnel("api.test", 443)
for p, want in (("/repos/1/issues", 200), ("/x", 403), ("/repos/2/issues", 200)):
    c.request("GET", p)
    r = c.getresponse(); r.read()
    assert r.status == want, (p, r.status)
PY

# ---- 5. bad upstream certificates: 502 with the verifier's reason ----
for h in self.test:8443 expired.test:8444 wrong.test:8445; do
	code=$(cu -o "$tmp/bad.json" -w '%{http_code}' "https://$h/x")
	[[ $code == 502 ]] || fail "$h: upstream certificate accepted ($code)"
	grep -q 'certificate verify failed' "$tmp/bad.json" || fail "$h: $(cat "$tmp/bad.json")"
done

# ---- 6. what cannot be inspected is refused ----
cat >"$tmp/raw.py" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", 3128), timeout=5)
s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (sys.argv[1], sys.argv[1])).encode())
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
payload = bytes.fromhex(sys.argv[2]) if sys.argv[2] != "-" else sys.stdin.buffer.read()
s.sendall(payload)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b: break
        out += b
except socket.timeout:
    out += b"<timeout>"
except ConnectionResetError:
    out += b"<reset>"
sys.stdout.write(out.decode("latin-1"))
PY
pre=$(printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' | od -An -tx1 | tr -d ' \n')
out=$(C python3 "$tmp/raw.py" api.test:443 "$pre")
[[ $out == *"403"* && $out == *h2c* ]] || fail "h2c preface: $out"
out=$(C python3 "$tmp/raw.py" api.test:443 "$(printf 'SSH-2.0-x\r\n' | od -An -tx1 | tr -d ' \n')")
[[ $out == *"403"* ]] || fail "other bytes: $out"
# malformed ClientHello: handshake record whose inner lengths lie
out=$(C python3 "$tmp/raw.py" api.test:443 1603010027010000230303$(printf '%064d' 0)ff)
[[ $out != *"<timeout>"* ]] || fail "malformed hello not refused"
kill -0 "$proxy_pid" || fail "proxy died"
# a client that does not trust the sandbox CA fails its handshake (and is recorded)
C curl -sS --max-time 10 --proxy "$P" https://api.test/repos/a/issues 2>/dev/null && fail "curl trusted an unknown CA"
# h2c upgrade and websocket on a REST endpoint
code=$(cu -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade, HTTP2-Settings' -H 'Upgrade: h2c' \
  -H 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA' https://ws.test/x)
[[ $code == 403 ]] || fail "h2c upgrade: $code"
code=$(cu -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
  -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' https://ws.test/ws)
[[ $code == 403 ]] || fail "websocket on a rest endpoint: $code"
# Host naming another host than the tunnel's
[[ $(cu -o /dev/null -w '%{http_code}' -H 'Host: audit.test' https://api.test/repos/a/issues) == 400 ]] || fail "Host mismatch"

# websocket endpoint: the upgrade is decided like a request, then frames relay
cat >"$tmp/ws.py" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
def tunnel(path):
    s = socket.create_connection(("127.0.0.1", 3128), timeout=5)
    s.sendall(b"CONNECT wsok.test:443 HTTP/1.1\r\nHost: wsok.test:443\r\n\r\n")
    h = b""
    while b"\r\n\r\n" not in h:
        h += s.recv(1)
    t = ctx.wrap_socket(s, server_hostname="wsok.test")
    t.sendall(("GET %s HTTP/1.1\r\nHost: wsok.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % path).encode())
    r = b""
    while b"\r\n\r\n" not in r:
        b = t.recv(4096)
        if not b: break
        r += b
    return t, r
t, r = tunnel("/ws")
assert r.startswith(b"HTTP/1.1 101"), r
frame = b"\x81\x85\x01\x02\x03\x04" + bytes(c ^ k for c, k in zip(b"hello", b"\x01\x02\x03\x04\x01"))
t.sendall(frame)
got = b""
while len(got) < len(frame):
    got += t.recv(4096)
assert got == frame, got
t, r = tunnel("/other")
assert r.startswith(b"HTTP/1.1 403"), r
print("ok")
PY
C python3 "$tmp/ws.py" "$B" >/dev/null || fail "websocket"

# ---- 7. smuggling shapes inside TLS: refused before upstream ----
cat >"$tmp/smuggle.py" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
bad = [
    b"POST /repos/a/b?dry=true HTTP/1.1\r\nHost: api.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /repos/a/b?dry=true HTTP/1.1\r\nHost: api.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    b"GET /repos/a/issues HTTP/1.1\r\nHost: api.test\r\nX: a\r\n b\r\n\r\n",
    b"GET /repos/a/issues HTTP/1.1\r\nHost: api.test\rX: y\r\n\r\n",
    b"POST /repos/a/b?dry=true HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    b"GET /repos/a/issues HTTP/1.1\r\nHost: api.test\r\nHost: evil.test\r\n\r\n",
]
for i, req in enumerate(bad):
    s = socket.create_connection(("127.0.0.1", 3128), timeout=5)
    s.sendall(b"CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n")
    h = b""
    while b"\r\n\r\n" not in h:
        h += s.recv(1)
    t = ctx.wrap_socket(s, server_hostname="api.test")
    t.sendall(req)
    out = b""
    try:
        while True:
            b = t.recv(65536)
            if not b: break
            out += b
    except (socket.timeout, ssl.SSLError):
        pass
    if not out.startswith(b"HTTP/1.1 400"):
        raise SystemExit("shape %d not refused: %r" % (i, out[:200]))
print("ok")
PY
C python3 "$tmp/smuggle.py" "$B" >/dev/null || fail "smuggling"

# ---- 8. plain HTTP inside a CONNECT to an inspected endpoint ----
out=$(C curl -sS --max-time 10 --proxytunnel --proxy "$P" http://plain.test:8080/a) || fail "plain in tunnel"
[[ $(jq -r .path <<<"$out") == /a ]] || fail "plain: $out"
[[ $(C curl -sS --max-time 10 --proxytunnel --proxy "$P" -o /dev/null -w '%{http_code}' -X POST http://plain.test:8080/a) == 403 ]] \
  || fail "plain POST on read-only"

# ---- 9. tls: skip passes through: a client pinning the real certificate works ----
C curl -sS --max-time 10 --proxy "$P" --cacert "$tmp/upca.pem" -o /dev/null https://skip.test/anything \
  || fail "tls: skip with the upstream's CA"
C curl -sS --max-time 10 --proxy "$P" --cacert "$B" -o /dev/null https://skip.test/anything 2>/dev/null \
  && fail "tls: skip was terminated"
pin=$(openssl x509 -in "$tmp/good.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
C curl -sS --max-time 10 --proxy "$P" --cacert "$tmp/upca.pem" --pinnedpubkey "sha256//$pin" -o /dev/null \
  https://skip.test/x || fail "pinned client through tls: skip"
# ... but not where the rules are enforced: they could not apply
C curl -sS --max-time 10 --proxy "$P" --cacert "$tmp/upca.pem" -o /dev/null https://skipenf.test/x 2>/dev/null \
  && fail "tls: skip on an enforce endpoint passed uninspected"
# an L4 endpoint stays L4 (the client sees the real certificate)
C curl -sS --max-time 10 --proxy "$P" --cacert "$tmp/upca.pem" -o /dev/null https://l4.test/x || fail "L4 endpoint"

# ---- 10. leaf cache: the same leaf for every tunnel to a host ----
s1=$(C bash -c "openssl s_client -proxy 127.0.0.1:3128 -connect api.test:443 -servername api.test </dev/null 2>/dev/null" | openssl x509 -noout -serial)
s2=$(C bash -c "openssl s_client -proxy 127.0.0.1:3128 -connect api.test:443 -servername api.test </dev/null 2>/dev/null" | openssl x509 -noout -serial)
[[ -n $s1 && $s1 == "$s2" ]] || fail "leaf not reused: '$s1' '$s2'"
C bash -c "openssl s_client -proxy 127.0.0.1:3128 -connect api.test:443 -servername api.test </dev/null 2>/dev/null" \
  | openssl x509 -noout -ext subjectAltName | grep -q 'DNS:api.test' || fail "leaf SAN"

# ---- the records ----
sleep 0.3
"$GB_HELPER_DIR/ring_dump" "$tmp/events.ring" 1000 "$tmp/ocsf.jsonl" >"$tmp/records.jsonl"
python3 "$GB_SOURCE_DIR/tests/ocsf_validate.py" "$tmp/ocsf.jsonl" || fail "OCSF validation"
python3 - "$tmp/ocsf.jsonl" <<'PY' || fail "OCSF 4002 content"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
h = [e for e in ev if e["class_uid"] == 4002 and e["http_request"]["url"]["path"] == "/repos/a/issues"
     and e["action_id"] == 1]
assert h, "no 4002 for the allowed request"
e = h[0]
assert e["tls"]["sni"] == "api.test" and e["tls"]["version"].startswith("TLSv1"), e["tls"]
assert e["http_request"]["url"]["scheme"] == "https" and e["http_response"]["code"] == 200, e
assert e["traffic"]["bytes_in"] > 0 and e["traffic"]["bytes_out"] > 0, e["traffic"]
assert e["unmapped"]["tls_terminated"] is True, e["unmapped"]
net = [x for x in ev if x["class_uid"] == 4001 and x["connection_info"]["uid"] == e["connection_info"]["uid"]]
assert net, "the request's connection has no 4001 event with the same connection_info.uid"
print(len(ev), "OCSF events")
PY
python3 - "$tmp/records.jsonl" <<'PY' || fail "records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
net = [r for r in recs if r["type"] == "NET_DECISION" and r["phase"] == "open"]
http = [r for r in recs if r["type"] == "HTTP_DECISION"]
conns = {r["conn_id"]: r for r in net}
def h(**kw):
    return [r for r in http if all(r.get(k) == v for k, v in kw.items())]
a = h(host="api.test", path="/repos/a/issues", verdict="allow", status=200)
assert a and a[0]["scheme"] == "https" and a[0]["tls"] == 1 and a[0]["sni"] == "api.test", a
assert a[0]["tls_version"].startswith("TLSv1."), a[0]
assert a[0]["bytes_req"] > 0 and a[0]["bytes_resp"] > 0 and a[0]["latency_ns"] > 0, a[0]
assert conns[a[0]["conn_id"]]["inspected"] == 1, conns[a[0]["conn_id"]]
d = h(host="api.test", path="/repos/a/pulls", verdict="deny")
assert d and d[0]["status"] == 403 and d[0]["reason"] == "l7_not_permitted", d
assert h(path="/repos/secret/issues", reason="l7_deny_rule", verdict="deny")
au = h(host="audit.test", path="/not-allowed", verdict="allow", mode="audit")
assert au and au[0]["reason"] == "l7_not_permitted" and au[0]["status"] == 200, au
q = [r for r in http if r["path"] == "/repos/a/b"]
assert q and all("dry=true" in r["query"] or "dry=false" in r["query"] for r in q), q
# one tunnel carried the three keep-alive requests
ka = {}
for r in h(host="api.test"):
    ka.setdefault(r["conn_id"], []).append(r["path"])
assert any(v[:3] == ["/repos/a/issues", "/nope", "/repos/b/issues"] for v in ka.values()), ka
unsup = [r for r in net if r["reason"] == "l7_unsupported_protocol"]
assert any("h2c" in r["reason_text"] for r in unsup), unsup
assert len(unsup) >= 2, unsup
assert any("ClientHello" in r["reason_text"] for r in net if r["verdict"] == "deny"), "malformed hello not recorded"
up = [r for r in net if r["reason"] == "upstream_tls"]
assert len(up) == 3 and any("expired" in r["reason_text"] for r in up), up
assert any("self-signed" in r["reason_text"] or "self signed" in r["reason_text"] for r in up), up
assert h(host="wsok.test", path="/ws", verdict="allow", status=101), "websocket upgrade not recorded"
assert h(host="wsok.test", path="/other", verdict="deny")
sk = [r for r in net if r["host"] == "skip.test" and r["verdict"] == "allow"]
assert sk and all(r["inspected"] == 0 for r in sk), sk
print(len(recs), "records checked")
PY
# stopping with tunnels in every state (a partial first line, an idle TLS
# connection) ends them instead of waiting for their timeouts
C python3 -c '
import socket, ssl, sys, time
a = socket.create_connection(("127.0.0.1", 3128)); a.sendall(b"CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n")
time.sleep(0.3); a.sendall(b"GET /")
b = socket.create_connection(("127.0.0.1", 3128)); b.sendall(b"CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n")
h = b""
while b"\r\n\r\n" not in h: h += b.recv(1)
t = ssl.create_default_context(cafile=sys.argv[1]).wrap_socket(b, server_hostname="api.test")
time.sleep(30)' "$B" & stalled=$!
pids+=($stalled)
sleep 1
t0=$(date +%s%N)
kill -TERM "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill "$stalled" 2>/dev/null || true
(( ms < 5000 )) || fail "the proxy hung on stalled tunnels when stopped ($ms ms; the header timeout is 10 s)"

grep -q 'leaves minted' "$tmp/proxy.log" || fail "no tls stats"
! grep -q 'Sanitizer' "$tmp/proxy.log" || fail "sanitizer report: $(grep -A20 Sanitizer "$tmp/proxy.log" | head -40)"
minted=$(sed -n 's/.*tls: \([0-9]*\) leaves minted, \([0-9]*\) reused.*/\1/p' "$tmp/proxy.log")
reused=$(sed -n 's/.*tls: \([0-9]*\) leaves minted, \([0-9]*\) reused.*/\2/p' "$tmp/proxy.log")
(( minted <= 8 && reused >= 20 )) || fail "leaf cache: $minted minted, $reused reused"
echo "tls_inspect: all cases passed"
