#!/usr/bin/env bash
# The response mask of an inspected tunnel across the server's chunked
# framing (docs/credentials.md "Responses"): a hostile HTTPS server quotes
# back the credential the proxy injected, cutting it with its chunk framing
# at every position 1..len-1 — one cut, then the rest in chunks of 1, 2 and
# 3 bytes, each chunk its own TLS record — so no copy is whole in the bytes
# as framed.  A python3 client behind `glassbox proxy --credential` (one
# keep-alive tunnel, the placeholder in its Authorization header) must never
# see the secret, framed or decoded: the payload arrives with '*' for each
# of its bytes, the server's framing intact.  A response holding no copy —
# only beginnings of the secret cut at chunk ends, which the mask holds back
# and then releases — arrives byte-identical to what the server wrote.
# Compression would hide a copy: the bound host is asked for identity only
# (the client's two Accept-Encoding lines replaced), a server that gzips the
# echoed key anyway is answered 502 with nothing of its body, and a body
# labelled "Content-Encoding: identity" is masked like any other.
#
#   gbc$$ (client ns, NO default route)         gbu$$ (server ns)
#     python3 -> glassbox proxy 127.0.0.1:3128 -> 198.18.0.10:443 hostile.py
. "$(dirname "$0")/lib/netns_lib.sh"
C() { ip netns exec "$CNS" "$@"; }

python3 "$GB_SOURCE_DIR/tests/helpers/tls_certs.py" "$tmp" api.test
S="sk-gbtest-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$S" >"$tmp/key"
chmod 0600 "$tmp/key"

cat >"$tmp/hostile.py" <<'PY'
import gzip, ssl, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
cert, key, out = sys.argv[1:4]
HEAD = b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
def framed(pieces):
    return [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p] + [b"0\r\n\r\n"]
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        got = self.headers.get("Authorization", "").replace("Bearer ", "").encode()
        parts = self.path.strip("/").split("/")
        if parts[0] in ("ae", "gzip", "identity"):
            # /ae: the Accept-Encoding lines this server was sent; /gzip: the
            # key echoed compressed whatever was asked; /identity: echoed as
            # it is, labelled Content-Encoding: identity
            if parts[0] == "ae":
                body, enc = repr(self.headers.get_all("Accept-Encoding")).encode(), None
            elif parts[0] == "gzip":
                body, enc = gzip.compress(b'{"echo": "' + got + b'"}'), "gzip"
            else:
                body, enc = b'{"echo": "' + got + b'"}', "identity"
            self.send_response(200)
            if enc:
                self.send_header("Content-Encoding", enc)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if parts[0] == "split":  # /split/POS/SIZE: cut at POS, the rest in SIZE-byte chunks
            pos, size = int(parts[1]), int(parts[2])
            body = b'{"echo": "' + got + b'"}'
            cut = 10 + pos
            rest = body[cut:]
            step = size or len(rest)
            pieces = [body[:cut]] + [rest[i:i + step] for i in range(0, len(rest), step)]
        else:  # /plain: only beginnings of the secret, each cut at a chunk end
            pieces = []
            for k in range(1, len(got)):
                pieces += [b"x" + got[:k], b"|not the key|"]
        chunks = framed(pieces)
        if parts[0] == "plain":
            open(out, "wb").write(HEAD + b"".join(chunks))
        self.wfile.write(HEAD)
        for c in chunks:  # unbuffered: each chunk its own TLS record
            self.wfile.write(c)
srv = ThreadingHTTPServer(("198.18.0.10", 443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
PY
bg "$UNS" python3 "$tmp/hostile.py" "$tmp/good.pem" "$tmp/good.key" "$tmp/plain.raw"
wait_tcp "$UNS" 198.18.0.10 443

py=$(python3 -c "import os, sys; print(os.path.realpath(sys.executable))")
cat >"$tmp/policy.yaml" <<Y
version: 1
network_policies:
  agent:
    endpoints:
      - { host: api.test, port: 443, protocol: rest, enforcement: enforce, access: read-write }
    binaries: [ { path: "$py" }, { path: "/usr/bin/python3*" } ]
Y
echo "198.18.0.10 api.test" >"$tmp/hosts"
mkdir -p "$tmp/tls"
bg "$CNS" "$GLASSBOX" proxy --policy "$tmp/policy.yaml" --listen 127.0.0.1:3128 --hosts "$tmp/hosts" \
	--tls-dir "$tmp/tls" --upstream-ca "$tmp/upca.pem" \
	--credential "openai:OPENAI_API_KEY=$tmp/key@api.test" >"$tmp/proxy.log" 2>&1
for _ in $(seq 200); do
	[[ -s $tmp/tls/ca.pem ]] && C bash -c 'exec 3<>/dev/tcp/127.0.0.1/3128' 2>/dev/null && break
	sleep 0.1
done

cat >"$tmp/client.py" <<'PY'
import socket, ssl, sys
ca, slen, got_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", 3128), timeout=20)
s.sendall(b"CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n")
r = b""
while b"\r\n\r\n" not in r:
    r += s.recv(4096)
assert r.startswith(b"HTTP/1.1 200"), r
s = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="api.test")
f = s.makefile("rb")
def get(path):
    s.sendall(b"GET %s HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer "
              b"glassbox:credential:openai\r\n\r\n" % path.encode())
    raw, body = b"", b""
    while True:  # the head
        line = f.readline()
        raw += line
        if line in (b"\r\n", b""):
            break
    while True:  # the chunks, decoded here
        line = f.readline()
        raw += line
        n = int(line.split(b";")[0], 16)
        if not n:
            raw += f.readline()
            return raw, body
        data = f.read(n + 2)
        raw += data
        body += data[:n]
bad = 0
want = b'{"echo": "' + b"*" * slen + b'"}'
for size in (0, 1, 2, 3):
    for pos in range(1, slen):
        raw, body = get("/split/%d/%d" % (pos, size))
        if body != want:
            bad += 1
            print("split %d/%d: %r" % (pos, size, body[:80]))
        with open(got_file + ".all", "ab") as o:
            o.write(raw)
raw, _ = get("/plain")
open(got_file, "wb").write(raw)
print("bad", bad)
PY
C python3 "$tmp/client.py" "$tmp/tls/ca.pem" "${#S}" "$tmp/plain.got" >"$tmp/client.out" 2>&1 ||
	{ cat "$tmp/client.out" >&2; fail "the client failed"; }
grep -q '^bad 0$' "$tmp/client.out" || { head -20 "$tmp/client.out" >&2; fail "a split copy was not masked"; }
# the attacks themselves: the framed bytes hold no copy either
! grep -qF "$S" "$tmp/plain.got.all" || fail "the secret reached the client"
cmp -s "$tmp/plain.raw" "$tmp/plain.got" || fail "a response without the secret was changed"
[[ $(stat -c %s "$tmp/plain.raw") -gt 1000 ]] || fail "the plain response is too short to test anything"

# Compression hides a copy from the mask (the client's decompression would
# make the secret): toward a bound host every Accept-Encoding becomes
# identity, and a server that compresses anyway is refused (502), its body
# never reaching the client; "Content-Encoding: identity" is plain text.
cat >"$tmp/client2.py" <<'PY'
import gzip, socket, ssl, sys
ca, slen, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
def get(path):  # a tunnel of its own each: a refused response closes it
    s = socket.create_connection(("127.0.0.1", 3128), timeout=20)
    s.sendall(b"CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n")
    r = b""
    while b"\r\n\r\n" not in r:
        r += s.recv(4096)
    s = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="api.test")
    s.sendall(b"GET %s HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer glassbox:credential:openai\r\n"
              b"Accept-Encoding: gzip, br\r\naccept-encoding: deflate\r\nConnection: close\r\n\r\n" % path.encode())
    raw = b""
    while True:
        try:
            d = s.recv(65536)
        except (ssl.SSLError, OSError):
            break
        if not d:
            break
        raw += d
    return raw
ae = get("/ae")
print("ae", ae.split(b"\r\n", 1)[0].decode(), ae.rsplit(b"\r\n\r\n", 1)[-1].decode())
gz = get("/gzip")
body = gz.split(b"\r\n\r\n", 1)[-1]
try:
    plain = gzip.decompress(body)
except Exception:
    plain = b""
print("gzip", gz.split(b"\r\n", 1)[0].decode(), "leak" if secret in gz or secret in plain else "no-leak")
idn = get("/identity")
want = b'{"echo": "' + b"*" * slen + b'"}'
print("identity", idn.split(b"\r\n", 1)[0].decode(), "masked" if idn.endswith(want) else repr(idn[-80:]))
PY
C python3 "$tmp/client2.py" "$tmp/tls/ca.pem" "${#S}" "$S" >"$tmp/client2.out" 2>&1 ||
	{ cat "$tmp/client2.out" >&2; fail "the encoding client failed"; }
grep -qx "ae HTTP/1.1 200 OK \['identity'\]" "$tmp/client2.out" ||
	{ cat "$tmp/client2.out" >&2; fail "the bound host was not asked for identity only"; }
grep -q '^gzip HTTP/1.1 502 .* no-leak$' "$tmp/client2.out" ||
	{ cat "$tmp/client2.out" >&2; fail "a compressed response from the bound host was not refused"; }
grep -q '^identity HTTP/1.1 200 OK masked$' "$tmp/client2.out" ||
	{ cat "$tmp/client2.out" >&2; fail "Content-Encoding: identity was not passed and masked"; }
! grep -qF "$S" "$tmp/proxy.log" "$tmp/client.out" || fail "the secret is in a log"
echo "PASS: cred_mask_chunks ($(( 4 * (${#S} - 1) )) split copies masked, the plain response byte-identical; identity asked of the bound host, a compressed answer refused)"
