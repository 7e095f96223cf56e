# tests/integration/advisor_e2e.sh — the policy advisor end to end, real
# clients (curl, python3) against a real server in the test's namespaces:
# a denied curl becomes a pending proposal (never one for the metadata
# address), a forged or stale review token is refused and the proposal
# refreshed, approval applies it (the same curl then succeeds, CONFIG names
# the approver and the proposal), a second binary supersedes, a rejection is
# remembered, and a restarted daemon keeps the ledger.
. "$(dirname "$0")/lib/sandbox_lib.sh"
NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
netns_trap
serve_pid=
sbx_user_workdir "$W" # a user-owned workdir: idmapped, writable inside
netns_setup
mkdir -p "$T/www"
echo "hello" >"$T/www/hello.txt"
upstream_http "$T/www" "$T/http.log"
echo "198.18.0.10 allowed.test other.test third.test" >"$T/hosts"
S=$ROOT/run/glassbox/api.sock
start_serve() {
	"$GLASSBOX" --root "$ROOT" serve >>"$T/serve.log" 2>&1 &
	serve_pid=$!
	for _ in $(seq 200); do [ -S "$S" ] && break; sleep 0.05; done
}
start_serve

printf 'version: 1\nfilesystem_policy:\n  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]\n  read_write: [/tmp, /dev/null]\n  include_workdir: true\nlandlock:\n  compatibility: best_effort\nnetwork_policies: {}\n' >"$T/deny.yaml"
printf 'version: 1\nnetwork_policies:\n  third:\n    endpoints:\n      - host: third.test\n        port: 80\n    binaries:\n      - path: /usr/bin/curl\n' >"$T/third.yaml"
# Each step: the client named in the go file fetches the host named there.
cat >"$W/steps.sh" <<'SH'
for step in 1 2 3 4 5 6; do
	for _ in $(seq 400); do [ -e "go$step" ] && break; sleep 0.05; done
	read -r client host <"go$step"
	if [ "$client" = curl ]; then
		curl -s -o /dev/null -m 5 -w '%{http_code}\n' "http://$host/hello.txt" >>codes
	else
		python3 -c 'import sys, urllib.request
try:
    print(urllib.request.urlopen("http://%s/hello.txt" % sys.argv[1], timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)' "$host" >>codes
	fi
	echo "$step" >done$step
done
for _ in $(seq 400); do [ -e go7 ] && break; sleep 0.05; done
echo end >end
exit 0
SH
NAME=adv$$
C "${GBRUN[@]}" --name "$NAME" --policy "$T/deny.yaml" --hosts "$T/hosts" -- /bin/bash "$W/steps.sh" \
	>"$T/out" 2>"$T/err" &
sup=$!
pids+=($sup)
for _ in $(seq 400); do [ -S "$ROOT/run/glassbox/sandboxes/$NAME/control.sock" ] && break; sleep 0.05; done
step() { # step N CLIENT HOST
	echo "$2 $3" >"$W/go$1.tmp" && mv "$W/go$1.tmp" "$W/go$1"
	for _ in $(seq 400); do [ -e "$W/done$1" ] && return 0; sleep 0.05; done
}
api() { local p=$1; shift; curl -s --unix-socket "$S" -o "$T/body" -w '%{http_code}' "$@" "http://gb$p"; }
js() { python3 -c "import json,sys; d=json.load(open('$T/body')); print($1)"; }
A=/v1/sandboxes/$NAME/advisor
# wait until the list shows PRED (a python expression over p = each proposal)
wait_for() {
	for _ in $(seq 200); do
		api "$A/suggestions" >/dev/null
		[ "$(js "any($1 for p in d['suggestions'])")" = True ] && return 0
		sleep 0.05
	done
	return 1
}
pick() { js "[p for p in d['suggestions'] if $1][-1]['$2']"; }

step 1 curl allowed.test
check "step 1: curl denied" 403 "$(sed -n 1p "$W/codes")"
wait_for "p['host']=='allowed.test' and p['status']=='pending'"
check "denial -> pending proposal for curl to allowed.test:80" "pending /usr/bin/curl 80 L4 1" \
	"$(pick "p['host']=='allowed.test'" status) $(pick "p['host']=='allowed.test'" binaries | tr -d "[]'") $(pick "p['host']=='allowed.test'" port) $(pick "p['host']=='allowed.test'" layer) $(pick "p['host']=='allowed.test'" hits)"
check "the rule: exact host, port and binary, as a policy file" "True" \
	"$(js "all(x in d['suggestions'][0]['yaml'] for x in ('allowed.test', 'port: 80', '/usr/bin/curl', 'allow_allowed_test_80'))")"
check "diff adds the entry; sample uid names the sandbox" "True True" \
	"$(js "d['suggestions'][0]['diff'].count('+')>3, d['suggestions'][0]['sample_event_uids'][0].startswith('$NAME:')")"
P1=$(pick "p['host']=='allowed.test'" id)
TOK=$(pick "p['host']=='allowed.test'" review_token)
check "approve without a token: 400" 400 "$(api "$A/suggestions/$P1/approve" -X POST)"
check "approve with a forged token: 409 stale_token, refreshed proposal" "409 stale_token $TOK" \
	"$(api "$A/suggestions/$P1/approve" -X POST -d '{"token":"00"}') $(js "d['error'], d['proposal']['review_token']")"
check "still denied after the refused approvals" "pending" "$(api "$A/suggestions/$P1" >/dev/null; js "d['status']")"
check "approve: 200, revision 2" "200 2 approved" \
	"$(api "$A/suggestions/$P1/approve" -X POST -d "{\"token\":\"$TOK\"}") $(js "d['revision'], d['proposal']['status']")"
check "approve twice: 409 not_pending" "409" "$(api "$A/suggestions/$P1/approve" -X POST -d "{\"token\":\"$TOK\"}")"
step 2 curl allowed.test
check "step 2: the same curl now succeeds" 200 "$(sed -n 2p "$W/codes")"
ok=0
for _ in $(seq 60); do
	api "/v1/sandboxes/$NAME/logs?limit=1000" >/dev/null
	[ "$(js "any(e.get('class_uid')==5019 and 'advisor proposal $P1 approved by' in json.dumps(e) for e in d['events'])")" = True ] && { ok=1; break; }
	sleep 0.05
done
check "CONFIG recorded with the proposal id and the approver" 1 "$ok"

# supersede: curl, then python3, to other.test
step 3 curl other.test
wait_for "p['host']=='other.test' and p['status']=='pending'"
P2=$(pick "p['host']=='other.test'" id)
step 4 python3 other.test
check "step 4: python3 denied" 403 "$(sed -n 4p "$W/codes")"
wait_for "p['host']=='other.test' and p['status']=='pending' and len(p['binaries'])==2"
P3=$(pick "p['host']=='other.test' and p['status']=='pending'" id)
check "python3 supersedes: old superseded by new, new has both binaries and 2 hits" \
	"superseded $P3 2 True" \
	"$(api "$A/suggestions/$P2" >/dev/null; js "d['status'], d['superseded_by']") $(api "$A/suggestions/$P3" >/dev/null; js "d['hits'], any(f['kind']=='launcher' for f in d['findings'])")"
# stale token: the running policy changes between review and approval
TOK3=$(js "d['review_token']")
check "PATCH an unrelated entry: 200" 200 "$(api "/v1/sandboxes/$NAME/policy" -X PATCH --data-binary @"$T/third.yaml")"
check "approve with the token from before the change: 409, token refreshed" "409 stale_token True" \
	"$(api "$A/suggestions/$P3/approve" -X POST -d "{\"token\":\"$TOK3\"}") $(js "d['error'], d['proposal']['review_token']!='$TOK3'")"
check "reject without a reason: 400" 400 "$(api "$A/suggestions/$P3/reject" -X POST)"
check "reject: 200 rejected" "200 rejected python3 may not fetch" \
	"$(api "$A/suggestions/$P3/reject" -X POST -d '{"reason":"python3 may not fetch"}') $(js "d['proposal']['status'], d['proposal']['reason']")"
step 5 python3 other.test
check "step 5: python3 still denied" 403 "$(sed -n 5p "$W/codes")"
sleep 0.3
check "rejection remembered: no pending for other.test, rejected counted 3 hits" "0 3" \
	"$(api "$A/suggestions?status=pending" >/dev/null; js "sum(1 for p in d['suggestions'] if p['host']=='other.test')") $(api "$A/suggestions/$P3" >/dev/null; js "d['hits']")"
step 6 curl 169.254.169.254
check "step 6: metadata denied" 403 "$(sed -n 6p "$W/codes")"

# restart the daemon: the ledger stays
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null; serve_pid=
start_serve
check "after a restart: statuses kept" "approved superseded rejected" \
	"$(api "$A/suggestions" >/dev/null; js "' '.join(p['status'] for p in d['suggestions'] if p['id'] in ($P1,$P2,$P3))")"
check "history: every step, in order" \
	"$P1 detected,$P1 refreshed,$P1 refreshed,$P1 approved,$P2 detected,$P2 superseded,$P3 detected,$P3 refreshed,$P3 rejected" \
	"$(api "$A/history" >/dev/null; js "','.join('%d %s' % (h['proposal'], h['action']) for h in d['history'])")"
check "history: approver and rejecter are the API's callers" "True" \
	"$(js "all('uid 0' in h['actor'] for h in d['history'] if h['action'] in ('approved','rejected'))")"
GBA=("$GLASSBOX" --root "$ROOT" advisor "$NAME")
check "CLI list: the rule view" "True True True" \
	"$("${GBA[@]}" >"$T/cli" 2>&1; python3 -c "t=open('$T/cli').read(); print('approved' in t and 'allow_allowed_test_80' in t, 'binary:    /usr/bin/curl' in t, 'rejected' in t and 'reason:    python3 may not fetch' in t)")"
check "CLI show: rationale, risk findings, diff" "True True True" \
	"$("${GBA[@]}" show "$P3" >"$T/cli" 2>&1; python3 -c "t=open('$T/cli').read(); print('rationale:' in t, 'risk:      launcher:' in t, '+++ candidate' in t)")"
"${GBA[@]}" approve "$P3" >/dev/null 2>&1
check "CLI approve of a rejected proposal: exit 1" 1 $?
"${GBA[@]}" reject "$P1" >/dev/null 2>&1
check "CLI reject without --reason: exit 2" 2 $?
check "CLI history --json" "True" "$("${GBA[@]}" history --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)['history'])>5)")"
check "unknown proposal: 404; bad id: 400; GET approve: 405" "404 400 405" \
	"$(api "$A/suggestions/999") $(api "$A/suggestions/x1") $(api "$A/suggestions/$P1/approve")"
check "metadata address never proposed" "False" \
	"$(api "$A/suggestions" >/dev/null; js "any(p['host'].startswith('169.254') for p in d['suggestions'])")"
touch "$W/go7"
wait "$sup"
rc=$?
check "sandbox exit" 0 $rc
[ "$rc" = 0 ] || tail -5 "$T/err"
finish
