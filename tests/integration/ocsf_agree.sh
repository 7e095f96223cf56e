#!/usr/bin/env bash
# One decision, one account (issue 20, defect 6): the NET and HTTP events of
# one connection agree, and each says what happened.  Real curl and raw
# sockets through `glassbox proxy` on the test network; the ring's records
# are mapped to OCSF (tests/helpers/ring_dump) and compared per connection:
#   - a changed binary: High on both, the same rule (never "default_deny");
#   - an audit-mode request a rule would refuse: the connection is allowed
#     without l7_not_permitted, the request says it (Allowed/Detected);
#   - an allowed request carries its response code;
#   - a URL too long: its path as far as it fits, flagged truncated, not "/";
#   - a malformed GET: a forward request to its host, not "CONNECT ?:0";
#     bytes that name no destination say so, not "?:0".
. "$(dirname "$0")/lib/netns_lib.sh"

mkdir -p "$tmp/www" "$tmp/bin"
echo "hello from upstream" >"$tmp/www/hello.txt"
upstream_http "$tmp/www" "$tmp/http.log"
cat >"$tmp/hosts" <<'H'
198.18.0.10 plain.test audit.test changed.test
H
cp /usr/bin/curl "$tmp/bin/mycurl"
cat >"$tmp/policy.yaml" <<Y
version: 1
network_policies:
  web:
    endpoints:
      - {host: plain.test, port: 80}
    binaries: [{path: /usr/bin/curl}]
  audited:
    endpoints:
      - host: audit.test
        port: 80
        protocol: rest
        enforcement: audit
        rules:
          - allow: {method: GET, path: /hello.txt}
    binaries: [{path: /usr/bin/curl}]
  replaced:
    endpoints:
      - {host: changed.test, port: 80}
    binaries: [{path: $tmp/bin/mycurl}]
Y
ip netns exec "$CNS" "$GLASSBOX" proxy --policy "$tmp/policy.yaml" --listen 127.0.0.1:3128 \
	--ring "$tmp/events.ring" --hosts "$tmp/hosts" --workers 1 >>"$tmp/proxy.log" 2>&1 &
PROXY=$!
pids+=("$PROXY")
wait_tcp "$CNS" 127.0.0.1 3128
P=http://127.0.0.1:3128
st() { C "${CURL:-curl}" -s -m 10 -o /dev/null -w '%{http_code}' -x "$P" "$@" || true; }
raw() { # send the bytes of $1 (printf format) to the proxy, print the status line
	C python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
s.sendall(sys.argv[1].encode().decode("unicode_escape").encode("latin-1"))
print(s.recv(200).split(b"\r\n")[0].decode())
PY
}

[[ $(st http://plain.test/hello.txt) == 200 ]] || fail "allowed request"
[[ $(st http://audit.test/other.txt) == 404 ]] || fail "audit-mode request is let through"
[[ $(CURL=$tmp/bin/mycurl st http://changed.test/hello.txt) == 200 ]] || fail "mycurl before"
printf '\0tampered' >>"$tmp/bin/mycurl"
[[ $(CURL=$tmp/bin/mycurl st http://changed.test/hello.txt) == 403 ]] || fail "changed binary"
long=$(head -c 3000 /dev/zero | tr '\0' a)
[[ $(st "http://plain.test/$long") == 400 ]] || fail "URL too long"
case $(raw 'GET http://plain.test/x HTTP/1.1\r\nHost: plain.test\r\nno colon here\r\n\r\n') in
"HTTP/1.1 400"*) ;; *) fail "malformed GET not refused" ;; esac
case $(raw '\x01\x02\x03 \r\n\r\n') in
"HTTP/1.1 400"*) ;; *) fail "garbage not refused" ;; esac
kill "$PROXY"
wait "$PROXY" 2>/dev/null || true

"$GB_HELPER_DIR/ring_dump" "$tmp/events.ring" 1000 "$tmp/ocsf.jsonl" >/dev/null
python3 - "$tmp/ocsf.jsonl" <<'PY' || { sed 's/^/  ocsf: /' "$tmp/ocsf.jsonl" | cut -c1-400; fail "records disagree"; }
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert not [e for e in ev if "error" in e], "a record did not format"
def conn(e): return e["connection_info"]["uid"]
net = [e for e in ev if e["class_uid"] == 4001 and e["activity_id"] != 2]
http = {conn(e): e for e in ev if e["class_uid"] == 4002}
def host(e): return e["dst_endpoint"].get("hostname", "")
def pair(h, pred=lambda n: True):
    ns = [n for n in net if host(n) == h and pred(n)]
    assert ns, "no NET event for %s" % h
    n = ns[-1]
    assert conn(n) in http, "no HTTP event for the connection of %s: %s" % (h, n["message"])
    return n, http[conn(n)]

# an allowed request: its response code
n, h = pair("plain.test", lambda n: n["action_id"] == 1)
assert h["http_response"]["code"] == 200, h
assert "status_detail" not in n, n

# audit mode: the connection is allowed as such; the request says why it was
# detected
n, h = pair("audit.test")
assert n["action_id"] == 1 and "status_detail" not in n, ("NET carries the request's verdict", n)
assert "not permitted" not in n["message"], n["message"]
assert h["status_detail"] == "l7_not_permitted" and h["disposition_id"] == 15, h
assert h["http_response"]["code"] == 404, h

# a changed binary: both High, the same rule
n, h = pair("changed.test", lambda n: n["action_id"] == 2)
assert n["severity_id"] == h["severity_id"] == 4, (n["severity_id"], h["severity_id"])
assert n["firewall_rule"]["name"] == h["firewall_rule"]["name"] == "binary_changed", (n["firewall_rule"], h["firewall_rule"])
assert n["firewall_rule"]["type"] == h["firewall_rule"]["type"] == "identity", (n["firewall_rule"], h["firewall_rule"])
assert n["disposition_id"] == h["disposition_id"], (n["disposition_id"], h["disposition_id"])

# a URL too long: its path, cut and flagged
bad = [h for h in http.values() if h.get("status_detail") == "bad_request"]
long_ = [h for h in bad if h["http_request"]["url"]["path"].startswith("/aaaa")]
assert long_, [h["http_request"]["url"]["path"][:40] for h in bad]
assert len(long_[0]["http_request"]["url"]["path"]) > 1000 and long_[0]["metadata"].get("is_truncated") is True, long_[0]["metadata"]

# a malformed GET: a forward request to plain.test, recorded as such
m = [n for n in net if n.get("status_detail") == "bad_request" and conn(n) in http
     and http[conn(n)]["http_request"]["url"]["path"] == "/x"]
assert m, [n["message"][:80] for n in net if n.get("status_detail") == "bad_request"]
assert m[0]["unmapped"]["kind"] == "forward", m[0]["unmapped"]
assert m[0]["message"].startswith("FORWARD denied plain.test:80"), m[0]["message"]
assert http[conn(m[0])]["http_request"]["http_method"] == "GET", http[conn(m[0])]
for n in net:
    assert "?:0" not in n["message"], n["message"]
    assert not n["message"].startswith("CONNECT denied (destination"), n["message"]
assert [n for n in net if "(destination unknown)" in n["message"]], [n["message"][:60] for n in net]
print("records agree")
PY
echo "ocsf_agree: all cases passed"
