#!/usr/bin/env bash
# The proxy with real clients (curl, python3 urllib, git) against real
# servers (python3 http.server, an echo server) on test hosts in network
# namespaces this test makes:
#
#   gbc$$ (client ns, NO default route)          gbu$$ (upstream ns)
#     lo: glassbox proxy 127.0.0.1:3128            198.18.0.10  http :80, :8080, echo :7000
#     198.18.0.2/24 ---------------- veth ------   198.18.0.10/24
#
# Names come from a hosts file given to the proxy.  SSRF cases prove the
# refusal happens before any packet leaves (nft counters stay at zero).
# Every decision is read back from the ring.
. "$(dirname "$0")/lib/netns_lib.sh"
nft_counter_setup 80

# ---- upstream servers ----
mkdir -p "$tmp/www" "$tmp/www8080"
echo "hello from upstream" >"$tmp/www/hello.txt"
head -c 300000 /dev/urandom >"$tmp/www/big.bin"
echo "ok" >"$tmp/www8080/ok.txt"
echo "secret" >"$tmp/www8080/secret.txt"
git init -q --bare "$tmp/www/repo.git"
git init -q "$tmp/src" && git -C "$tmp/src" -c user.email=t@t -c user.name=t commit -q --allow-empty -m first
git -C "$tmp/src" push -q "$tmp/www/repo.git" HEAD:refs/heads/main 2>/dev/null
git -C "$tmp/www/repo.git" symbolic-ref HEAD refs/heads/main
git -C "$tmp/www/repo.git" update-server-info
(cd "$tmp/www" && exec ip netns exec "$UNS" python3 -m http.server 80 --bind 198.18.0.10 >"$tmp/http80.log" 2>&1) & pids+=($!)
(cd "$tmp/www8080" && exec ip netns exec "$UNS" python3 -m http.server 8080 --bind 198.18.0.10 >"$tmp/http8080.log" 2>&1) & pids+=($!)
cat >"$tmp/echo.py" <<'PY'
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.10", 7000)); s.listen(8)
while True:
    c, _ = s.accept()
    data = b""
    while True:
        b = c.recv(65536)
        if not b: break
        data += b
    c.sendall(b"got %d bytes" % len(data)); c.close()
PY
ip netns exec "$UNS" python3 "$tmp/echo.py" & pids+=($!)

cat >"$tmp/hosts" <<'H'
198.18.0.10 allowed.test other.test api.test git.test nothere.test x.internal.test
127.0.0.1   loop.test
169.254.169.254 meta.test
H
py=$(readlink -f /usr/bin/python3)
cat >"$tmp/policy.yaml" <<Y
version: 1
network_policies:
  web:
    endpoints:
      - host: allowed.test
        port: 80
    binaries:
      - path: /usr/bin/curl
  py:
    endpoints:
      - host: other.test
        port: 80
      - host: allowed.test
        port: 7000
    binaries:
      - path: /usr/bin/python3*
  api:
    endpoints:
      - host: api.test
        port: 8080
        protocol: rest
        enforcement: enforce
        rules:
          - allow:
              method: GET
              path: /ok.txt
    binaries:
      - path: /usr/bin/curl
  wild:
    endpoints:
      - host: "*.internal.test"
        port: 80
    binaries:
      - path: /usr/bin/curl
  ssrf:
    endpoints:
      - host: loop.test
        port: 80
      - host: meta.test
        port: 80
    binaries:
      - path: /usr/bin/curl
  git:
    endpoints:
      - host: git.test
        port: 80
    binaries:
      - path: /usr/bin/git
Y

# ---- the proxy, in the client namespace ----
ip netns exec "$CNS" "$GLASSBOX" proxy --policy "$tmp/policy.yaml" --listen 127.0.0.1:3128 --ring "$tmp/events.ring" \
  --hosts "$tmp/hosts" --workers 2 >"$tmp/proxy.log" 2>&1 & pids+=($!)
for i in $(seq 50); do
  C bash -c 'exec 3<>/dev/tcp/127.0.0.1/3128' 2>/dev/null && break
  sleep 0.1
done
for i in $(seq 50); do U bash -c 'exec 3<>/dev/tcp/198.18.0.10/80' 2>/dev/null && break; sleep 0.1; done
for i in $(seq 50); do U bash -c 'exec 3<>/dev/tcp/198.18.0.10/7000' 2>/dev/null && break; sleep 0.1; done

P=http://127.0.0.1:3128
curl_() { C curl -sS -m 10 -x "$P" "$@"; }
status() { C curl -s -m 10 -o "$tmp/body" -w '%{http_code}' -x "$P" "$@" || true; }

# 1. allowed for the listed binary (forward and CONNECT tunnel)
[[ $(curl_ http://allowed.test/hello.txt) == "hello from upstream" ]] || fail "curl forward"
[[ $(curl_ -p http://allowed.test/hello.txt) == "hello from upstream" ]] || fail "curl CONNECT tunnel"
curl_ -p -o "$tmp/big.out" http://allowed.test/big.bin
cmp -s "$tmp/big.out" "$tmp/www/big.bin" || fail "300 kB through the tunnel differs"

# 2. python3 urllib: allowed where listed, same destination as curl denied
cat >"$tmp/get.py" <<'PY'
import sys, json, urllib.request, urllib.error
h = urllib.request.ProxyHandler({"http": "http://127.0.0.1:3128"})
try:
    r = urllib.request.build_opener(h).open(sys.argv[1], timeout=10)
    print(r.status, r.read().decode().strip())
except urllib.error.HTTPError as e:
    body = json.loads(e.read())
    print(e.code, body["reason"], body["binary"], body["destination"], body["error"])
PY
out=$(C /usr/bin/python3 "$tmp/get.py" http://other.test/hello.txt)
[[ $out == "200 hello from upstream" ]] || fail "python3 allowed: $out"
out=$(C /usr/bin/python3 "$tmp/get.py" http://allowed.test/hello.txt)
[[ $out == "403 binary_not_allowed $py allowed.test:80 policy_denied" ]] || fail "python3 unlisted: $out"

# 3. denied host, denied port (JSON body an agent can act on)
[[ $(status http://nothere.test/hello.txt) == 403 ]] || fail "denied host"
python3 - "$tmp/body" <<'PY' || fail "refusal body"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["error"] == "policy_denied" and b["reason"] == "no_endpoint", b
assert b["binary"] == "/usr/bin/curl" and b["destination"] == "nothere.test:80", b
assert "not allowed" in b["detail"], b
PY
[[ $(status http://allowed.test:8080/ok.txt) == 403 ]] || fail "denied port"
[[ $(status -p https://allowed.test:8080/) == 000 || true ]]

# 4. L7 rules on plain HTTP, request by request
[[ $(status http://api.test:8080/ok.txt) == 200 ]] || fail "L7 allow"
[[ $(status http://api.test:8080/secret.txt) == 403 ]] || fail "L7 deny path"
grep -q l7_not_permitted "$tmp/body" || fail "L7 reason"
[[ $(status -X POST -d x http://api.test:8080/ok.txt) == 403 ]] || fail "L7 deny method"
[[ $(status 'http://api.test:8080/x/../ok.txt') == 200 ]] || fail "L7 canonical path"
[[ $(status 'http://api.test:8080/%2e%2e/ok.txt') == 403 ]] || fail "L7 escaping path"
# a CONNECT to an enforce-mode L7 endpoint is never relayed uninspected
C curl -s -m 10 -p -x "$P" -o /dev/null http://api.test:8080/ok.txt 2>"$tmp/err" && fail "L7 CONNECT relayed"

# 5. SSRF: refused before any packet is sent
up_before=$(counter U); lo_before=$(counter C)
[[ $(status http://loop.test/) == 403 ]] || fail "loopback name"
grep -q '"reason":"ssrf"' "$tmp/body" || fail "ssrf reason: $(cat $tmp/body)"
[[ $(status http://meta.test/latest/meta-data/) == 403 ]] || fail "metadata"
[[ $(status http://x.internal.test/hello.txt) == 403 ]] || fail "wildcard to internal address"
[[ $(status http://127.0.0.1/) == 403 ]] || fail "loopback literal"
up_after=$(counter U); lo_after=$(counter C)
[[ $up_before == "$up_after" ]] || fail "packets reached upstream during SSRF cases ($up_before -> $up_after)"
[[ $lo_before == 0 && $lo_after == 0 ]] || fail "packets to loopback:80 ($lo_before -> $lo_after)"

# 6. half-close through a tunnel: the client shuts its write side, the
#    upstream answers only after seeing EOF
cat >"$tmp/half.py" <<'PY'
import socket
s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
s.sendall(b"CONNECT allowed.test:7000 HTTP/1.1\r\nHost: allowed.test:7000\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
assert head.startswith(b"HTTP/1.1 200"), head
s.sendall(b"x" * 100000)
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    b = s.recv(65536)
    if not b: break
    data += b
print(data.decode())
PY
[[ $(C /usr/bin/python3 "$tmp/half.py") == "got 100000 bytes" ]] || fail "half-close"

# 7. git clone over HTTP (git-remote-http connects; git is its ancestor)
C env http_proxy=$P GIT_TERMINAL_PROMPT=0 git clone -q http://git.test/repo.git "$tmp/clone" \
  || fail "git clone"
[[ -d $tmp/clone/.git ]] || fail "git clone result"

# 8. malformed requests
printf 'GARBAGE\r\n\r\n' | C timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/3128; cat >&3; cat <&3' >"$tmp/raw" || true
grep -q '^HTTP/1.1 400' "$tmp/raw" || fail "garbage -> 400"
printf 'GET /local HTTP/1.1\r\nHost: x\r\n\r\n' | C timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/3128; cat >&3; cat <&3' >"$tmp/raw" || true
grep -q '^HTTP/1.1 400' "$tmp/raw" || fail "origin-form -> 400"

# ---- the records ----
sleep 0.3
"$GB_HELPER_DIR/ring_dump" "$tmp/events.ring" 1000 >"$tmp/records.jsonl"
python3 - "$tmp/records.jsonl" "$py" <<'PY' || fail "records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
py = sys.argv[2]
net = [r for r in recs if r["type"] == "NET_DECISION"]
opens = [r for r in net if r["phase"] == "open"]
closes = {r["conn_id"]: r for r in net if r["phase"] == "close"}
def find(**kw):
    return [r for r in opens if all(r.get(k) == v for k, v in kw.items())]
a = find(verdict="allow", host="allowed.test", exe="/usr/bin/curl")
assert len(a) >= 3, a
for r in a:
    c = closes[r["conn_id"]]
    assert c["bytes_down"] > 0 and c["bytes_up"] > 0, c
    assert len(r["sha256"]) == 64 and r["pid"] > 0, r
big = max(closes[r["conn_id"]]["bytes_down"] for r in a)
assert big >= 300000, big
d = find(verdict="deny", host="allowed.test", exe=py)
assert d and d[0]["reason"] == "binary_not_allowed", d
assert find(verdict="deny", host="nothere.test", reason="no_endpoint")
s = find(verdict="deny", host="loop.test", reason="ssrf")
assert s and s[0]["ssrf_tier"] == "loopback" and s[0]["ip"] == "127.0.0.1", s
assert find(verdict="deny", host="meta.test", reason="ssrf")[0]["ssrf_tier"] == "link_local"
assert find(verdict="deny", host="x.internal.test", reason="ssrf")[0]["ssrf_tier"] == "internal"
assert find(verdict="deny", host="api.test", reason="l7_needs_inspection")
g = find(verdict="allow", host="git.test")
assert g and g[0]["exe"].endswith("git-remote-http") and "/usr/bin/git" in g[0]["ancestors"], g
http = [r for r in recs if r["type"] == "HTTP_DECISION"]
assert any(h["verdict"] == "deny" and h["path"] == "/secret.txt" for h in http), http
assert any(h["verdict"] == "allow" and h["path"] == "/ok.txt" and h["method"] == "GET" for h in http)
f = [r for r in recs if r["type"] == "FINDING"]
assert len(f) >= 3, f  # one SSRF finding per refused destination
bad = [r for r in opens if r["reason"] == "bad_request"]
assert len(bad) >= 2, bad
print(len(recs), "records checked")
PY
echo "proxy_netns: all cases passed"
