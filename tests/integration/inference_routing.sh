#!/usr/bin/env bash
# inference.local inside `glassbox run`: python3 and curl clients in the
# sandbox, an OpenAI-compatible and an Anthropic-shaped provider
# (tests/helpers/inference_server.py) in a test namespace that answer 401
# unless the host's credential arrived and none of the caller's did.
# Attacks: no route (503), a caller key (stripped), an unsupported path
# (404) and another type's API (403), keep-alive reuse of an inference
# connection for another host (refused, closed), a route changed while the
# sandbox runs (the next request uses it), the host default not overriding
# a sandbox's own route, a streamed response batched (chunk timing), a
# provider breaking off a stream (final SSE error frame), a slow provider
# (the route's timeout: 504), and the secret anywhere in the state root.
#
#   gbc$$: glassbox run (supervisor + proxy)      gbu$$: 198.18.0.10:8080 openai.test
#          sandbox: lo only, 127.0.0.1:3128              198.18.0.10:8081 anthropic.test
. "$(dirname "$0")/lib/sandbox_lib.sh"
NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
netns_trap
H=$GB_SOURCE_DIR/tests/helpers
netns_setup
chmod 0777 "$W" # the sandbox user writes its results here (also where idmapping is unavailable)

SECRET="sk-host-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
ASECRET="sk-ant-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$T/cred"
chmod 0700 "$T/cred"
printf '%s\n' "$SECRET" >"$T/cred/openai"
printf '%s\n' "$ASECRET" >"$T/cred/anthropic"
chmod 0600 "$T/cred/openai" "$T/cred/anthropic"
cp "$T/cred/openai" "$T/cred/loose" && chmod 0644 "$T/cred/loose"

(exec ip netns exec "$UNS" python3 "$H/inference_server.py" --bind 198.18.0.10 --port 8080 --type openai \
  --key "$SECRET" --forbid x-caller-secret --log "$T/openai.log" --name openai-1 >/dev/null 2>&1) & pids+=($!)
(exec ip netns exec "$UNS" python3 "$H/inference_server.py" --bind 198.18.0.10 --port 8081 --type anthropic \
  --key "$ASECRET" --forbid x-caller-secret --log "$T/anthropic.log" --name anthropic-1 >/dev/null 2>&1) & pids+=($!)
for port in 8080 8081; do
	for _ in $(seq 50); do U bash -c "exec 3<>/dev/tcp/198.18.0.10/$port" 2>/dev/null && break; sleep 0.1; done
done
echo "198.18.0.10 openai.test anthropic.test" >"$T/hosts"
cat >"$T/policy.yaml" <<'Y'
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/tmp, /dev/null]
  include_workdir: true
landlock:
  compatibility: best_effort
network_policies: {}
Y
inf() { "$GLASSBOX" --root "$ROOT" inference "$@"; }

# ---- the workload: steps gated by files the test writes into $W ----
cat >"$W/client.py" <<'PY'
import http.client, json, os, ssl, sys, time
W = os.path.dirname(os.path.abspath(__file__))
out = {}
def save():
    with open(W + "/result.tmp", "w") as f: json.dump(out, f)
    os.replace(W + "/result.tmp", W + "/result.json")
def wait(name):
    for _ in range(600):
        if os.path.exists(W + "/" + name): return
        time.sleep(0.05)
    out["timeout_" + name] = True; save(); sys.exit(1)
def fwd(method, url, body=None, headers={}):
    c = http.client.HTTPConnection("127.0.0.1", 3128, timeout=20)
    c.request(method, url, body=json.dumps(body) if body is not None else None, headers=headers)
    r = c.getresponse(); b = r.read(); c.close()
    return r.status, b.decode()
def tunnel():
    c = http.client.HTTPSConnection("127.0.0.1", 3128, timeout=20, context=ssl.create_default_context())
    c.set_tunnel("inference.local", 443)
    return c
caller = {"Authorization": "Bearer caller-key-0000", "x-api-key": "caller-key-1111",
          "x-caller-secret": "caller-2222", "Content-Type": "application/json"}
# 1: no route
st, b = fwd("POST", "http://inference.local/v1/chat/completions", {"model": "m"})
out["noroute"] = [st, json.loads(b)["error"]["type"]]
save(); wait("go1")
# 2: the route: plain http, the caller's keys, the model replaced
st, b = fwd("POST", "http://inference.local/v1/chat/completions", {"model": "agent-model", "messages": []}, caller)
out["plain"] = [st, json.loads(b).get("model"), json.loads(b).get("server")]
# a provider error that quotes the key it received
st, b = fwd("POST", "http://inference.local/v1/chat/completions", {"model": "m", "gb_echo_key": True})
out["echo"] = [st, json.loads(b)["error"]["message"]]
# 3: https through CONNECT, keep-alive: two requests on one connection, then another host
c = tunnel()
c.request("POST", "/v1/chat/completions", body=json.dumps({"model": "x"}), headers=caller)
r = c.getresponse(); j = json.loads(r.read()); out["tls1"] = [r.status, j.get("model")]
c.request("GET", "/v1/models"); r = c.getresponse(); out["tls2"] = [r.status, json.loads(r.read()).get("server")]
c.request("GET", "/v1/files"); r = c.getresponse(); out["tls_404"] = [r.status, json.loads(r.read())["error"]["type"]]
c.request("POST", "/v1/messages", body="{}"); r = c.getresponse(); out["tls_403"] = r.status; r.read()
c.request("GET", "/", headers={"Host": "openai.test"}); r = c.getresponse()
out["reuse"] = [r.status, r.getheader("Connection"), json.loads(r.read())["error"]["type"]]
# http.client drops a socket the server closed (it would reconnect on its own)
out["after_reuse"] = "closed" if c.sock is None else "open"
# the same on a plain keep-alive connection: an absolute URL for another host
c = http.client.HTTPConnection("127.0.0.1", 3128, timeout=20)
c.request("GET", "http://inference.local/v1/models"); r = c.getresponse(); r.read()
c.request("GET", "http://openai.test:8080/v1/models"); r = c.getresponse()
out["reuse_plain"] = [r.status, json.loads(r.read())["error"]["type"]]
# 4: streaming: chunk arrival times against the server's send times
c = tunnel()
c.request("POST", "/v1/chat/completions", body=json.dumps({"model": "x", "stream": True, "gb_chunks": 4, "gb_gap_ms": 700}))
r = c.getresponse(); arr = []
buf = b""
while True:
    d = r.read1(65536)
    if not d: break
    now = time.time(); buf += d
    while b"\n\n" in buf:
        ev, buf = buf.split(b"\n\n", 1)
        if ev.startswith(b"data: {") and b'"sent"' in ev:
            arr.append([now, json.loads(ev[6:])["sent"]])
out["stream"] = [r.status, r.getheader("Content-Type"), arr]
# 5: a provider that breaks off its stream
c = tunnel()
c.request("POST", "/v1/chat/completions", body=json.dumps({"model": "x", "stream": True, "gb_break": True, "gb_gap_ms": 10}))
r = c.getresponse(); body = b""
try:
    while True:
        d = r.read1(65536)
        if not d: break
        body += d
except Exception as e:
    body += b"EXC " + str(e).encode()
out["broken"] = body.decode("utf-8", "replace").strip().split("\n\n")[-1]
# a provider that sends a second, unasked-for response behind its answer on a
# connection it keeps open: the proxy must not keep that connection for the
# next request (it would be answered by the smuggled response)
st, b = fwd("POST", "http://inference.local/v1/chat/completions", {"model": "m", "gb_trailing": True})
out["trailing"] = [st, json.loads(b).get("answer")]
st, b = fwd("POST", "http://inference.local/v1/chat/completions", {"model": "m"})
out["after_trailing"] = [st, json.loads(b).get("model"), json.loads(b).get("answer")]
# the key quoted back in two pieces of body, two reads apart
st, b = fwd("POST", "http://inference.local/v1/chat/completions", {"model": "m", "gb_echo_split": 7})
out["echo_split"] = [st, json.loads(b)["error"]["message"]]
save(); wait("go2")
# 6: the route changed live (anthropic, same sandbox): the next request uses it
st, b = fwd("POST", "http://inference.local/v1/messages", {"model": "claude-x", "max_tokens": 5,
            "messages": [{"role": "user", "content": "hi"}]}, caller)
out["anthropic"] = [st, json.loads(b).get("model"), json.loads(b).get("server")]
st, b = fwd("POST", "http://inference.local/v1/chat/completions", {"model": "m"})
out["anthropic_chat"] = st
save(); wait("go3")
# 7: a slow provider, a route with a 1 s timeout
t0 = time.time()
st, b = fwd("POST", "http://inference.local/v1/chat/completions", {"model": "m", "gb_sleep_ms": 3000})
out["slow"] = [st, round(time.time() - t0, 2)]
# curl as another client (a real binary through HTTPS_PROXY)
os.system("curl -sS -m 10 -o %s/curl.json https://inference.local/v1/chat/completions -H 'content-type: application/json' -d '{\"model\":\"c\"}' -w '%%{http_code}' >%s/curl.code" % (W, W))
out["done"] = True
save(); wait("go4")
PY

# the daemon journals the events: the secret must not reach the journal either
"$GLASSBOX" --root "$ROOT" serve >"$T/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 400); do grep -q watching "$T/serve.log" 2>/dev/null && break; sleep 0.05; done
F="$GB_HELPER_DIR/sbx_ring_follow"
"$F" "$ROOT/run/glassbox/sandboxes/inf/events.ring" 60000 >"$T/inf.rec" &
fol=$!
C "${GBRUN[@]}" --name inf --policy "$T/policy.yaml" --hosts "$T/hosts" -- /usr/bin/python3 "$W/client.py" \
	>"$T/inf.out" 2>"$T/inf.err" &
sup=$!
pids+=($sup)
step() { # wait until result.json has KEY (15 s)
	for _ in $(seq 150); do
		[[ -f $W/result.json ]] && jq -e "has(\"$1\")" "$W/result.json" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "  (no $1 in the result)"; cat "$T/inf.err" | tail -5
	return 1
}
r() { jq -c "$1" "$W/result.json"; }

step noroute
check "no route: 503 with a JSON body" '[503,"inference_not_configured"]' "$(r .noroute)"

# a credential another account can read is refused, nothing changes
check "a 0644 credential file is refused" 1 "$(inf set --sandbox inf --provider p --type openai \
	--base-url http://openai.test:8080/v1 --credential-file "$T/cred/loose" --model m >/dev/null 2>&1; echo $?)"
check "an unknown type is refused" 1 "$(inf set --sandbox inf --provider p --type bard \
	--base-url http://openai.test:8080 --credential-file "$T/cred/openai" --model m >/dev/null 2>&1; echo $?)"
inf set --sandbox inf --provider openai-test --type openai --base-url http://openai.test:8080/v1 \
	--credential-file "$T/cred/openai" --model host-model --timeout 5s >"$T/set1.out" 2>&1
check "inference set --sandbox" 0 "$?"
touch "$W/go1"
step broken
cp "$T/openai.log" "$T/openai.phase1.log"
check "plain http: 200, the route's model, the provider" '[200,"host-model","openai-1"]' "$(r .plain)"
check "a provider quoting the key: the sandbox sees it masked" \
	"[401,\"Incorrect API key provided: $(printf '%*s' ${#SECRET} '' | tr ' ' '*').\"]" "$(r .echo)"
check "https (CONNECT, sandbox CA): 200, model replaced" '[200,"host-model"]' "$(r .tls1)"
check "keep-alive: a second request on the tunnel" '[200,"openai-1"]' "$(r .tls2)"
check "unsupported path: 404" '[404,"not_found_error"]' "$(r .tls_404)"
check "another type's API (messages on openai): 403" 403 "$(r .tls_403)"
check "reuse for another host: refused, closed" '[403,"close","connection_not_allowed"]' "$(r .reuse)"
check "  and the connection is gone" '"closed"' "$(r .after_reuse)"
check "plain keep-alive reuse for another host refused" '[403,"connection_not_allowed"]' "$(r .reuse_plain)"
check "stream: 200 text/event-stream, 4 chunks" '[200,"text/event-stream",4]' "$(r '[.stream[0], .stream[1], (.stream[2] | length)]')"
# not batched: every chunk reached the client before the provider sent the
# next one (700 ms later) — an order, not a speed
check "stream: each chunk arrives before the next is sent (not batched)" true \
	"$(r '[.stream[2] as $a | range(1; $a | length) | $a[. - 1][0] < $a[.][1]] | all')"
check "broken stream: final SSE error frame" true \
	"$(r '.broken | startswith("data: {\"error\":{\"message\":\"response truncated: ") and contains("proxy_stream_error")')"
check "a provider quoting the key split across two reads: masked" \
	"[401,\"Incorrect API key provided: $(printf '%*s' ${#SECRET} '' | tr ' ' '*').\"]" "$(r .echo_split)"
# the keep-alive pool of provider connections (inference_pool.c): sequential
# requests of one route share connections; a connection with bytes behind its
# response is closed, never reused
check "pool: fewer provider connections than requests" yes \
	"$(jq -s 'if ([.[].conn] | unique | length) < length then "yes" else "no: \(length) requests on \([.[].conn] | unique | length) connections" end' -r "$T/openai.phase1.log")"
check "pool: a response with bytes behind it is answered as sent" '[200,"real"]' "$(r .trailing)"
check "  and its connection is not reused: the next answer is the provider's, not the smuggled one" \
	'[200,"host-model",null]' "$(r .after_trailing)"
check "  the next request came on another connection" yes \
	"$(jq -s -r '(map(select(.body.gb_trailing)) | .[0].conn) as $t | (map(select(.body.gb_trailing)) | .[0].t) as $tt |
	   if (map(select(.t > $tt)) | .[0].conn) != $t then "yes" else "no" end' "$T/openai.phase1.log")"
# the provider saw the host's key only (it answers 401 otherwise) and the caller's never
check "provider: every request had the host credential and none of the caller's" 0 \
	"$(jq -r 'select(.verdict != "ok") | .verdict' "$T/openai.log" | wc -l)"
check "provider: model replaced in every body" 0 "$(jq -r 'select(.body.model != null and .body.model != "host-model")' "$T/openai.log" | wc -l)"
check "provider: no caller header arrived" 0 "$(grep -c 'caller-' "$T/openai.log")"

# the host default does not override the sandbox's own route
inf set --provider dflt --type openai --base-url http://openai.test:8080 --credential-file "$T/cred/openai" \
	--model default-model --json >"$T/dflt.json" 2>&1
check "inference set (host default)" '"default"' "$(jq -c .scope "$T/dflt.json")"
check "  the running sandbox keeps its own route" false "$(jq -c '.sandboxes[] | select(.name == "inf") | .applied' "$T/dflt.json")"
check "  the default file names the credential, never holds it" 0 "$(grep -c -- "$SECRET" "$ROOT/etc/glassbox/inference.json")"
check "  default file mode" 600 "$(stat -c %a "$ROOT/etc/glassbox/inference.json")"

# a live change: anthropic for this sandbox
inf set --sandbox inf --provider anthropic-test --type anthropic --base-url http://anthropic.test:8081 \
	--credential-file "$T/cred/anthropic" --model claude-host >/dev/null
touch "$W/go2"
step anthropic_chat
# `inference set` returns after the supervisor swapped the route: the very
# next request (the workload's, started after it) must use it
check "hot change: anthropic route used by the next request" '[200,"claude-host","anthropic-1"]' "$(r .anthropic)"
check "  chat/completions is not the anthropic type's: 403" 403 "$(r .anthropic_chat)"
check "anthropic provider: x-api-key injected, caller's stripped" 0 \
	"$(jq -r 'select(.verdict != "ok") | .verdict' "$T/anthropic.log" | wc -l)"
check "inference get --sandbox shows the route, not the secret" anthropic-test \
	"$(inf get --sandbox inf --json | jq -r .route.provider)"

# the same through the API (unix socket)
api() { curl -sS -m 10 --unix-socket "$ROOT/run/glassbox/api.sock" -o "$T/api.json" -w '%{http_code}' "$@"; }
check "API GET /v1/inference?sandbox=inf" "200 anthropic-test" \
	"$(api http://gb/v1/inference?sandbox=inf) $(jq -r .route.provider "$T/api.json")"
check "API PUT with a body that is no route: 400 JSON" "400 bad_request" \
	"$(api -X PUT --data-binary 'nope' http://gb/v1/inference?sandbox=inf) $(jq -r .error "$T/api.json")"
check "API PUT with a 0644 credential: 422, nothing changes" "422 credential anthropic-test" \
	"$(api -X PUT --data-binary "{\"provider\":\"x\",\"type\":\"openai\",\"base_url\":\"http://openai.test:8080\",\"credential_file\":\"$T/cred/loose\",\"model\":\"m\"}" \
	   http://gb/v1/inference?sandbox=inf) $(jq -r .error "$T/api.json") $(inf get --sandbox inf --json | jq -r .route.provider)"
check "API for a sandbox that is not running: 404" 404 "$(api http://gb/v1/inference?sandbox=nosuch)"
check "API GET /v1/inference (host default)" "200 dflt" "$(api http://gb/v1/inference) $(jq -r .route.provider "$T/api.json")"
inf set --sandbox inf --provider slow --type openai --base-url http://openai.test:8080 \
	--credential-file "$T/cred/openai" --model host-model --timeout 1s >/dev/null
touch "$W/go3"
step done
# the provider answers after 3 s: a 504 means the route's 1 s timeout cut it first
check "slow provider: 504 from the route's 1 s timeout" 504 "$(r .slow[0])"
# two route changes later (anthropic, then this one on the first provider): a
# new route never gets a connection of an older one
check "pool: a changed route opens a new provider connection" yes \
	"$(jq -s -r --slurpfile p1 <(jq -s '[.[].conn]' "$T/openai.phase1.log") \
	   '(map(select(.body.gb_sleep_ms == 3000)) | .[0].conn) as $c | if $c != null and ($p1[0] | index($c)) == null then "yes" else "no: \($c)" end' \
	   "$T/openai.log")"
check "curl in the sandbox: HTTPS to inference.local (timeout route, fast answer)" 200 "$(cat "$W/curl.code")"

inf clear --sandbox inf >/dev/null
check "inference clear --sandbox" null "$(inf get --sandbox inf --json | jq -c .route)"
touch "$W/go4"
wait "$sup"
check "sandbox exit" 0 "$?"
wait "$fol" 2>/dev/null || true
check "records: HTTP decisions for inference.local" yes \
	"$([[ $(grep -c '^HTTP .*path=/v1/' "$T/inf.rec") -ge 14 ]] && echo yes || { echo no; grep '^HTTP' "$T/inf.rec" | head -3; })"
inf clear >/dev/null
check "inference clear (host default)" no "$([[ -e $ROOT/etc/glassbox/inference.json ]] && echo yes || echo no)"

# the secrets never appear in the state root, the journal's events, the
# records, the logs or the workload's output
for _ in $(seq 50); do
	"$GLASSBOX" --root "$ROOT" logs inf --json >"$T/journal.jsonl" 2>/dev/null || true
	[[ $(jq -s '[.[] | select(.class_uid == 6003)] | length' "$T/journal.jsonl" 2>/dev/null || echo 0) -ge 14 ]] && break
	sleep 0.1
done
check "journal: API Activity events for the inference requests" yes \
	"$([[ $(jq -s '[.[] | select(.class_uid == 6003)] | length' "$T/journal.jsonl") -ge 14 ]] && echo yes || echo no)"
check "journal: route changes are CONFIG records (set, kept default, clear)" 5 \
	"$(jq -s '[.[] | select(.class_uid == 5019 and .policy.name == "inference_route" and (.message | startswith("Inference route ")))] | length' "$T/journal.jsonl")"
check "no secret in the state root, journal, records, logs, output" 0 \
	"$(grep -rl -e "$SECRET" -e "$ASECRET" "$ROOT" "$W" "$T/inf.rec" "$T/inf.out" "$T/inf.err" "$T"/*.json \
	   "$T/journal.jsonl" "$T/serve.log" 2>/dev/null | wc -l)"
finish
