# tests/integration/advisor_policy_local.sh — http://policy.local, answered
# by the sandbox's proxy under `glassbox run --policy-local`, with real
# clients inside the sandbox (curl, python3 urllib, a raw socket):
# denied → the 403's next_steps name policy.local → the current policy →
# the denial listed with its query values redacted → a proposal POSTed →
# wait → the operator approves through the API → the wait returns approved
# and in force → the agent's retry succeeds.  Attacks: a body over 64 KiB
# (413), static sections and two entries (400), a name that would shadow a
# running operator entry (409; the operator's entry of the same ruleName is
# left alone), a second request pipelined behind a POST (never read as a
# request), a CL+TE request (400), policy.local in a sandbox without
# --policy-local (the policy decides: 403, no_endpoint).  Also: https
# (CONNECT policy.local:443 terminated with the sandbox CA), a rejection
# ends a wait with its reason, a bounded wait times out, 404 and 405; and
# the same shadowing through the policy.local file: the daemon refuses to
# approve an agent entry that would replace the operator's (409).
. "$(dirname "$0")/lib/sandbox_lib.sh"
NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
netns_trap
serve_pid=
H=$GB_SOURCE_DIR/tests/helpers
sbx_user_workdir "$W"
netns_setup
mkdir -p "$T/www"
echo "hello" >"$T/www/hello.txt"
upstream_http "$T/www" "$T/http.log"
echo "198.18.0.10 allowed.test" >"$T/hosts"
S=$ROOT/run/glassbox/api.sock
"$GLASSBOX" --root "$ROOT" serve >>"$T/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 400); do [ -S "$S" ] && break; sleep 0.05; done # 20 s: a loaded machine
# The operator's policy: `fetch` (another host) and an entry the operator
# named agent_mirror, which an agent's ruleName "mirror" must not replace.
printf 'version: 1\nfilesystem_policy:\n  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]\n  read_write: [/tmp, /dev/null]\n  include_workdir: true\nlandlock:\n  compatibility: best_effort\nnetwork_policies:\n  fetch:\n    endpoints: [{host: other.test, port: 80}]\n    binaries: [{path: /usr/bin/wget}]\n  agent_mirror:\n    endpoints: [{host: mirror.test, port: 80}]\n    binaries: [{path: /usr/bin/wget}]\n' >"$T/policy.yaml"
cp "$H/policy_local_client.py" "$W/plc.py"
chmod 0644 "$W/plc.py"

# the bodies the agent sends (written by the host, read inside)
cat >"$W/real.json" <<'EOF'
{"intent_summary": "fetch hello.txt from allowed.test with curl",
 "operations": [{"addRule": {"ruleName": "fetch",
   "rule": {"endpoints": [{"host": "allowed.test", "port": 80}],
            "binaries": [{"path": "/usr/bin/curl"}]}}}]}
EOF
cat >"$W/other.json" <<'EOF'
{"operations": [{"addRule": {"ruleName": "later", "rule": {"endpoints": [{"host": "later.test", "port": 80}], "binaries": [{"path": "/usr/bin/curl"}]}}}]}
EOF
cat >"$W/shadow.json" <<'EOF'
{"operations": [{"addRule": {"ruleName": "mirror", "rule": {"endpoints": [{"host": "evil.test", "port": 443}], "binaries": [{"path": "/usr/bin/curl"}]}}}]}
EOF
cat >"$W/twoops.json" <<'EOF'
{"operations": [{"addRule": {"ruleName": "a", "rule": {"endpoints": [{"host": "a.test", "port": 80}], "binaries": [{"path": "/usr/bin/curl"}]}}},
                {"addRule": {"ruleName": "b", "rule": {"endpoints": [{"host": "b.test", "port": 80}], "binaries": [{"path": "/usr/bin/curl"}]}}}]}
EOF
printf 'version: 1\nnetwork_policies:\n  a:\n    endpoints: [{host: a.test, port: 80}]\n    binaries: [{path: /usr/bin/curl}]\n  b:\n    endpoints: [{host: b.test, port: 80}]\n    binaries: [{path: /usr/bin/curl}]\n' >"$W/two.yaml"
printf 'version: 1\nfilesystem_policy:\n  read_write: [/etc]\nnetwork_policies:\n  leak:\n    endpoints: [{host: leak.test, port: 80}]\n    binaries: [{path: /usr/bin/curl}]\n' >"$W/static.yaml"
python3 -c "import json; print(json.dumps({'operations':[{'addRule':{'ruleName':'big','rule':{'endpoints':[{'host':'big.test','port':80}],'binaries':[{'path':'/usr/bin/curl'}],'description':'x'*70000}}}]}))" >"$W/big.json"
# two POSTs in one write: the second must never be read as a request
body1='{"operations":[{"addRule":{"ruleName":"smug1","rule":{"endpoints":[{"host":"smug1.test","port":80}],"binaries":[{"path":"/usr/bin/curl"}]}}}]}'
body2='{"operations":[{"addRule":{"ruleName":"smug2","rule":{"endpoints":[{"host":"smug2.test","port":80}],"binaries":[{"path":"/usr/bin/curl"}]}}}]}'
{
	printf 'POST http://policy.local/v1/proposals HTTP/1.1\r\nHost: policy.local\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' "${#body1}" "$body1"
	printf 'POST http://policy.local/v1/proposals HTTP/1.1\r\nHost: policy.local\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' "${#body2}" "$body2"
} >"$W/pipelined.bin"
{
	printf 'POST http://policy.local/v1/proposals HTTP/1.1\r\nHost: policy.local\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
	printf 'POST http://policy.local/v1/proposals HTTP/1.1\r\nHost: policy.local\r\nContent-Length: %d\r\n\r\n%s' "${#body2}" "$body2"
} >"$W/clte.bin"
chmod 0644 "$W"/*.json "$W"/*.yaml "$W"/*.bin

# The agent: step N runs the command in goN (a line of shell), in its workdir.
cat >"$W/agent.sh" <<'SH'
cd "$(dirname "$0")"
n=1
while :; do
	for _ in $(seq 2400); do [ -e "go$n" ] && break; sleep 0.05; done
	[ -e "go$n" ] || exit 1
	cmd=$(cat "go$n")
	[ "$cmd" = end ] && exit 0
	eval "$cmd" >>out 2>&1
	echo "$n" >"done$n"
	n=$((n + 1))
done
SH
NAME=pl$$
C "${GBRUN[@]}" --policy-local --name "$NAME" --policy "$T/policy.yaml" --hosts "$T/hosts" -- \
	/bin/bash "$W/agent.sh" >"$T/out" 2>"$T/err" &
sup=$!
pids+=($sup)
for _ in $(seq 400); do [ -S "$ROOT/run/glassbox/sandboxes/$NAME/control.sock" ] && break; sleep 0.05; done
N=0
agent() { # agent 'SHELL LINE': run it in the sandbox, wait until done
	N=$((N + 1))
	printf '%s\n' "$1" >"$W/go$N.tmp" && mv "$W/go$N.tmp" "$W/go$N"
	for _ in $(seq 1200); do [ -e "$W/done$N" ] && return 0; sleep 0.05; done
	echo "agent step $N never finished" >&2
}
api() { local p=$1; shift; curl -s --unix-socket "$S" -o "$T/body" -w '%{http_code}' "$@" "http://gb$p"; }
js() { python3 -c "import json,sys; d=json.load(open('$T/body')); print($1)"; }
# jf FILE EXPR: EXPR over the JSON after the status in FILE (plc.py's output)
jf() { python3 -c "import json,sys; t=open('$1').read(); s,_,b=t.partition(' '); d=json.loads(b) if b.strip().startswith('{') else {}; print($2)"; }
A=/v1/sandboxes/$NAME/advisor
PLC='python3 plc.py'

# 1. denied: the 403 points at policy.local
agent 'curl -s -o deny.json -w "%{http_code}\n" "http://allowed.test/hello.txt?token=s3cretvalue&page=2" >codes'
check "the agent's first try: denied" 403 "$(cat "$W/codes")"
check "the L4 403's next_steps name http://policy.local (policy, denials, proposals)" "True True True" \
	"$(python3 -c "import json; d=json.load(open('$W/deny.json')); s=' '.join(d.get('next_steps',[])); print('policy.local/v1/policy/current' in s, 'policy.local/v1/denials' in s, 'policy.local/v1/proposals' in s)")"

# 2. the current policy, YAML (curl) and JSON (urllib), and over https
agent 'curl -s -o cur.yaml -w "%{http_code}\n" http://policy.local/v1/policy/current >codes'
check "GET /v1/policy/current: 200 YAML naming the operator's entries" "200 yes" \
	"$(cat "$W/codes") $(grep -q 'other.test' "$W/cur.yaml" && grep -q 'agent_mirror' "$W/cur.yaml" && echo yes)"
agent "$PLC get '/v1/policy/current?format=json' >cur.json"
check "GET ?format=json: entries and revision" "200 ['agent_mirror', 'fetch'] 1" \
	"$(cat "$W/cur.json" | cut -d' ' -f1) $(jf "$W/cur.json" "d['entries'], d['revision']" | tr -d '(),' | sed "s/' '/', '/")"
agent 'curl -s -o tls.yaml -w "%{http_code}\n" https://policy.local/v1/policy/current >codes'
check "https://policy.local (CONNECT :443, the sandbox CA): 200" "200 yes" \
	"$(cat "$W/codes") $(grep -q 'other.test' "$W/tls.yaml" && echo yes)"

# 3. the recent denials, query values redacted
agent "$PLC get '/v1/denials?last=5' >den.json"
check "GET /v1/denials: the denial, its query redacted, the secret nowhere" "200 True True False" \
	"$(cut -d' ' -f1 "$W/den.json") $(jf "$W/den.json" "any(x['host']=='allowed.test' and x['port']==80 for x in d['denials']), any(x.get('path')=='/hello.txt?token=***&page=***' for x in d['denials']), 's3cret' in t" | tr -d '(),')"

# 4. attacks on POST
agent "$PLC post /v1/proposals big.json application/json >big.out"
check "a body over 64 KiB: 413" 413 "$(cut -d' ' -f1 "$W/big.out")"
agent "$PLC post /v1/proposals static.yaml application/yaml >static.out"
check "a proposal with a static section: 400, only network_policies" "400 True" \
	"$(cut -d' ' -f1 "$W/static.out") $(jf "$W/static.out" "'only network_policies' in d['detail']")"
agent "$PLC post /v1/proposals two.yaml application/yaml >two.out"
check "a proposal of two entries (YAML): 400" "400 True" \
	"$(cut -d' ' -f1 "$W/two.out") $(jf "$W/two.out" "'exactly one' in d['detail']")"
agent "$PLC post /v1/proposals twoops.json application/json >twoops.out"
check "two addRule operations (JSON): 400" 400 "$(cut -d' ' -f1 "$W/twoops.out")"
agent "$PLC post /v1/proposals shadow.json application/json >shadow.out"
check "ruleName mirror (agent_mirror runs, the operator's): 409 name_taken" "409 name_taken" \
	"$(cut -d' ' -f1 "$W/shadow.out") $(jf "$W/shadow.out" "d['error']")"
agent "$PLC raw pipelined.bin >pipe.out"
check "two POSTs in one write: one answer (202), the connection closed" "202" "$(cat "$W/pipe.out")"
agent "$PLC raw clte.bin >clte.out"
check "Content-Length with Transfer-Encoding: 400, nothing behind it read" "400" "$(cat "$W/clte.out")"
agent "$PLC get /v1/proposals/0123456789abcdef >nf.out; $PLC post /v1/denials real.json application/json >405.out; $PLC get '/v1/proposals/0123456789abcdef/wait?timeout=999' >badwait.out"
check "unknown proposal 404, POST on denials 405, a wait over 300 s 400" "404 405 400" \
	"$(cut -d' ' -f1 "$W/nf.out") $(cut -d' ' -f1 "$W/405.out") $(cut -d' ' -f1 "$W/badwait.out")"

# 5. the real proposal: ruleName fetch, as the operator's entry is named
agent "$PLC post /v1/proposals real.json application/json >real.out"
check "POST the real proposal: 202 pending agent_fetch" "202 pending agent_fetch" \
	"$(cut -d' ' -f1 "$W/real.out") $(jf "$W/real.out" "d['status'], d['rule_name']" | tr -d "(),'")"
ID=$(jf "$W/real.out" "d['id']")
agent "$PLC get '/v1/proposals/$ID/wait?timeout=90' >wait.out &"
P=
for _ in $(seq 200); do
	api "$A/suggestions?status=pending" >/dev/null
	P=$(js "([p['id'] for p in d['suggestions'] if p.get('rule_name')=='agent_fetch'] or [''])[-1]")
	[ -n "$P" ] && break
	sleep 0.1
done
check "the daemon shows it: a pending agent-authored proposal" "True" "$([ -n "$P" ] && echo True)"
api "$A/suggestions/$P" >/dev/null
check "agent_authored, and the diff never replaces the operator's fetch" "agent True False" \
	"$(js "d['author'], any(f['kind']=='agent_authored' for f in d['findings']), 'replaces' in d['diff']" | tr -d "(),'")"
check "nothing pipelined behind the POST nor the shadow attempt became a proposal" "False False True" \
	"$(api "$A/suggestions" >/dev/null; js "any('smug2' in p['yaml'] for p in d['suggestions']), any('evil.test' in p['yaml'] for p in d['suggestions']), any('smug1' in p['yaml'] for p in d['suggestions'])" | tr -d '(),')"
check "while pending, the wait has not returned" "" "$(cat "$W/wait.out" 2>/dev/null)"
api "$A/suggestions/$P" >/dev/null
TOK=$(js "d['review_token']")
check "the operator approves: 200" "200 approved" \
	"$(api "$A/suggestions/$P/approve" -X POST -d "{\"token\":\"$TOK\"}") $(js "d['proposal']['status']")"
for _ in $(seq 400); do [ -s "$W/wait.out" ] && break; sleep 0.05; done
check "the wait returns: approved, in force, not timed out" "200 approved True False" \
	"$(cut -d' ' -f1 "$W/wait.out") $(jf "$W/wait.out" "d['status'], d['policy_reloaded'], d['timed_out']" | tr -d "(),'")"
agent 'curl -s -o /dev/null -w "%{http_code}\n" http://allowed.test/hello.txt >codes'
check "the agent's retry succeeds" 200 "$(cat "$W/codes")"
agent "$PLC get '/v1/policy/current?format=json' >cur2.json"
check "the running policy: the operator's fetch and agent_mirror untouched, agent_fetch added" \
	"['agent_fetch', 'agent_mirror', 'fetch'] True" \
	"$(jf "$W/cur2.json" "d['entries'], 'other.test' in d['yaml'] and 'mirror.test' in d['yaml']" | sed "s/^(//; s/)$//; s/\], /] /")"

# 6. a rejection ends a wait; a bounded wait times out
agent "$PLC post /v1/proposals other.json application/json >other.out"
ID2=$(jf "$W/other.out" "d['id']")
agent "$PLC get '/v1/proposals/$ID2/wait?wait=1s' >short.out"
check "wait=1s on a pending proposal: timed out, still pending" "200 pending True" \
	"$(cut -d' ' -f1 "$W/short.out") $(jf "$W/short.out" "d['status'], d['timed_out']" | tr -d "(),'")"
agent "$PLC get '/v1/proposals/$ID2/wait?timeout=90' >wait2.out &"
P2=
for _ in $(seq 200); do
	api "$A/suggestions?status=pending" >/dev/null
	P2=$(js "([p['id'] for p in d['suggestions'] if p.get('rule_name')=='agent_later'] or [''])[-1]")
	[ -n "$P2" ] && break
	sleep 0.1
done
check "reject it: 200" 200 "$(api "$A/suggestions/$P2/reject" -X POST -d '{"reason":"later.test is not needed"}')"
for _ in $(seq 400); do [ -s "$W/wait2.out" ] && break; sleep 0.05; done
check "the wait returns rejected with the operator's reason, not in force" "200 rejected later.test is not needed False" \
	"$(cut -d' ' -f1 "$W/wait2.out") $(jf "$W/wait2.out" "d['status'], d['reason'], d['policy_reloaded']" | tr -d "(),'")"
# 7. the file path cannot do what the POST refused: an entry named mirror
# becomes agent_mirror, the operator's entry's name; its approval must not
# replace the operator's entry
printf 'version: 1\nnetwork_policies:\n  mirror:\n    endpoints: [{host: evil.test, port: 443}]\n    binaries: [{path: /usr/bin/curl}]\n' >"$W/mirror.yaml"
chmod 0644 "$W/mirror.yaml"
agent 'mkdir -p .glassbox && cp mirror.yaml .glassbox/tmp && mv .glassbox/tmp .glassbox/policy.local.yaml'
P3=
for _ in $(seq 200); do
	api "$A/suggestions?status=pending" >/dev/null
	P3=$(js "([p['id'] for p in d['suggestions'] if p.get('rule_name')=='agent_mirror'] or [''])[-1]")
	[ -n "$P3" ] && break
	sleep 0.1
done
check "the file's mirror entry: a pending agent_mirror proposal" "True" "$([ -n "$P3" ] && echo True)"
api "$A/suggestions/$P3" >/dev/null
TOK3=$(js "d['review_token']")
check "approving it would replace the operator's agent_mirror: 409 name_taken" "409 name_taken" \
	"$(api "$A/suggestions/$P3/approve" -X POST -d "{\"token\":\"$TOK3\"}") $(js "d['error']")"
api "/v1/sandboxes/$NAME/policy" >/dev/null
check "the operator's agent_mirror is untouched (mirror.test, never evil.test)" "True False" \
	"$(js "'mirror.test' in json.dumps(d), 'evil.test' in json.dumps(d)" | tr -d '(),')"
N=$((N + 1)); echo end >"$W/go$N"
wait "$sup"
check "sandbox exit" 0 $?

# 8. without --policy-local the name is not special: the policy decides
C "${GBRUN[@]}" --name "off$$" --policy "$T/policy.yaml" --hosts "$T/hosts" -- \
	/bin/sh -c 'curl -s -o '"$W"'/off.json -w "%{http_code}\n" http://policy.local/v1/policy/current' >"$T/off.code" 2>>"$T/err"
check "policy.local when disabled: 403 by policy (no_endpoint), no next_steps" "403 no_endpoint False" \
	"$(cat "$T/off.code") $(python3 -c "import json; d=json.load(open('$W/off.json')); print(d['reason'], 'next_steps' in d)")"
[ "$FAILS" = 0 ] || { tail -60 "$T/err"; tail -20 "$W/out"; }
finish
