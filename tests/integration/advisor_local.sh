# tests/integration/advisor_local.sh — agent-authored proposals
# (`glassbox run --policy-local`): the agent inside the sandbox writes
# network_policies entries to <workdir>/.glassbox/policy.local.yaml; the
# supervisor reads it, the advisor shows it as a pending proposal flagged
# agent-authored.  Attacks, each refused with a CONFIG record and no
# proposal: the file as a symlink to a host file, .glassbox as a symlink to
# a host directory (both hold a valid policy the agent must not smuggle in),
# a file over 64 KiB, bad YAML, a filesystem section, a FIFO (the
# supervisor must not hang), an entry named like the operator's (renamed
# agent_*, so approving never replaces it).  The daemon runs --advisor-auto,
# which must still leave the agent's proposal for a human; approved with its
# token, the agent's retry succeeds.
. "$(dirname "$0")/lib/sandbox_lib.sh"
NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
pids=()
serve_pid=
cleanup() {
	for p in "${pids[@]}" $serve_pid; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${GB_TEST_DEBUG:-}" ] && tail -60 "$T/serve.log"
	netns_teardown
	rm -rf "$T"
}
trap cleanup EXIT
sbx_user_workdir "$W"
netns_setup
mkdir -p "$T/www" "$T/evil"
echo "hello" >"$T/www/hello.txt"
upstream_http "$T/www" "$T/http.log"
echo "198.18.0.10 allowed.test leak.test" >"$T/hosts"
S=$ROOT/run/glassbox/api.sock
"$GLASSBOX" --root "$ROOT" serve --advisor-auto >>"$T/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 600); do [ -S "$S" ] && break; sleep 0.05; done # 30 s: a loaded machine
# host files a followed link would read: valid policies granting leak.test
printf 'version: 1\nnetwork_policies:\n  leak:\n    endpoints: [{host: leak.test, port: 80}]\n    binaries: [{path: /usr/bin/curl}]\n' >"$T/leak.yaml"
cp "$T/leak.yaml" "$T/evil/policy.local.yaml"
chmod 0644 "$T/leak.yaml" "$T/evil/policy.local.yaml"
printf 'version: 1\nfilesystem_policy:\n  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]\n  read_write: [/tmp, /dev/null]\n  include_workdir: true\nlandlock:\n  compatibility: best_effort\nnetwork_policies:\n  fetch:\n    endpoints: [{host: other.test, port: 80}]\n    binaries: [{path: /usr/bin/wget}]\n' >"$T/policy.yaml"

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
NAME=loc$$
C "${GBRUN[@]}" --policy-local --name "$NAME" --policy "$T/policy.yaml" --hosts "$T/hosts" -- \
	/bin/bash "$W/agent.sh" >"$T/out" 2>"$T/err" &
sup=$!
pids+=($sup)
for _ in $(seq 600); do [ -S "$ROOT/run/glassbox/sandboxes/$NAME/control.sock" ] && break; sleep 0.05; done
N=0
agent() { # agent 'SHELL LINE': run it in the sandbox, wait until done
	N=$((N + 1))
	printf '%s\n' "$1" >"$W/go$N.tmp" && mv "$W/go$N.tmp" "$W/go$N"
	for _ in $(seq 600); do [ -e "$W/done$N" ] && return 0; sleep 0.05; done
	echo "agent step $N never finished" >&2
}
api() { local p=$1; shift; curl -s --unix-socket "$S" -o "$T/body" -w '%{http_code}' "$@" "http://gb$p"; }
js() { python3 -c "import json,sys; d=json.load(open('$T/body')); print($1)"; }
A=/v1/sandboxes/$NAME/advisor
# refused PATTERN: wait for a CONFIG refused from policy.local whose text has PATTERN
refused() {
	for _ in $(seq 200); do
		api "/v1/sandboxes/$NAME/logs?class=5019&limit=1000" >/dev/null
		[ "$(js "any(e.get('status_detail')=='refused' and e['policy'].get('data',{}).get('source')=='policy.local' and '''$1''' in e['message'] for e in d['events'])")" = True ] && { echo yes; return; }
		sleep 0.1
	done
	echo no
}
# a proposal file the agent writes in one move
PF=.glassbox/policy.local.yaml
put() { echo "mkdir -p .glassbox && printf '$1' >.glassbox/tmp && mv .glassbox/tmp $PF"; }

agent 'curl -s -o /dev/null -w "%{http_code}\n" http://allowed.test/hello.txt >codes'
check "the agent's first try: denied" 403 "$(cat "$W/codes")"

agent "mkdir -p .glassbox && ln -sfn $T/leak.yaml $PF"
check "a symlinked policy.local is refused with a record" yes "$(refused 'symlink')"
agent "rm -rf .glassbox && ln -sfn $T/evil .glassbox"
check "a symlinked .glassbox is refused with a record" yes "$(refused '.glassbox: a symlink')"
agent "rm -f .glassbox && mkdir .glassbox && { printf 'version: 1\n'; head -c 70000 /dev/zero | tr '\\\\0' '#'; printf '\nnetwork_policies:\n  leak:\n    endpoints: [{host: leak.test, port: 80}]\n    binaries: [{path: /usr/bin/curl}]\n'; } >.glassbox/tmp && mv .glassbox/tmp $PF"
check "a file over 64 KiB is refused with a record" yes "$(refused 'more than 65536')"
agent "$(put 'version: 1\nnetwork_policies:\n  leak: [unclosed\n')"
check "bad YAML is refused with its position" yes "$(refused 'policy.local.yaml:')"
agent "$(put 'version: 1\nfilesystem_policy:\n  read_write: [/etc]\nnetwork_policies:\n  leak:\n    endpoints: [{host: leak.test, port: 80}]\n    binaries: [{path: /usr/bin/curl}]\n')"
check "a filesystem section is refused" yes "$(refused 'only network_policies may be proposed')"
agent "rm -f $PF && mkfifo $PF"
check "a FIFO is refused (and the supervisor does not block on it)" yes "$(refused 'not a regular file')"
check "nothing the attacks carried became a proposal" "0" \
	"$(api "$A/suggestions" >/dev/null; js "sum(1 for p in d['suggestions'] if p.get('author')=='agent')")"

# the real proposal: an entry named like the operator's, for what it needs
agent "rm -f $PF; $(put 'version: 1\nnetwork_policies:\n  fetch:\n    endpoints: [{host: allowed.test, port: 80}]\n    binaries: [{path: /usr/bin/curl}]\n')"
P=
for _ in $(seq 200); do
	api "$A/suggestions?status=pending" >/dev/null
	P=$(js "([p['id'] for p in d['suggestions'] if p.get('author')=='agent'] or [''])[-1]")
	[ -n "$P" ] && break
	sleep 0.1
done
check "the agent's entry: a pending proposal" "True" "$([ -n "$P" ] && echo True)"
sleep 0.5 # auto mode had its chance
api "$A/suggestions/$P" >/dev/null
check "agent-authored, renamed agent_fetch, still pending under --advisor-auto, finding agent_authored" \
	"agent agent_fetch pending True" \
	"$(js "d['author'], d['rule_name'], d['status'], any(f['kind']=='agent_authored' for f in d['findings'])" | tr -d "(),'")"
check "the diff adds agent_fetch, never replaces the operator's fetch" "True False" \
	"$(js "'agent_fetch' in d['diff'], 'replaces' in d['diff']")" 
check "the leak entries never appeared" "False" \
	"$(api "$A/suggestions" >/dev/null; js "any('leak' in p['yaml'] for p in d['suggestions'])")"
api "$A/suggestions/$P" >/dev/null
TOK=$(js "d['review_token']")
check "approve the agent's proposal: 200" "200 approved" \
	"$(api "$A/suggestions/$P/approve" -X POST -d "{\"token\":\"$TOK\"}") $(js "d['proposal']['status']")"
agent 'curl -s -o /dev/null -w "%{http_code}\n" http://allowed.test/hello.txt >codes'
check "the agent's retry succeeds" 200 "$(cat "$W/codes")"
api "/v1/sandboxes/$NAME/policy" >/dev/null
check "the operator's entry is untouched beside the approved one" "True" \
	"$(js "'other.test' in json.dumps(d) and 'agent_fetch' in json.dumps(d)")"
check "history: detected by the agent, approved by the API caller" "True True" \
	"$(api "$A/history" >/dev/null; js "any(h['action']=='detected' and h['actor']=='agent (policy.local)' for h in d['history']), any(h['action']=='approved' and 'uid 0' in h['actor'] for h in d['history'])")"
check "export leaves agent proposals out (the denial's own proposal is there)" "1 False" \
	"$(api "$A/export" >/dev/null; js "d['entries'], 'agent_' in d['yaml']" | tr -d "(),")"
N=$((N + 1)); echo end >"$W/go$N"
wait "$sup"
check "sandbox exit" 0 $?
[ "$FAILS" = 0 ] || { tail -5 "$T/err"; tail -5 "$W/out"; }
finish
