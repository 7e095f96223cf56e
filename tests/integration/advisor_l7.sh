# tests/integration/advisor_l7.sh — an L7 proposal end to end over HTTPS:
# curl inside `glassbox run` sends DELETEs to an inspected read-only
# endpoint (TLS terminated with the sandbox CA, docs/tls.md); each is
# refused by the rules and becomes an L7 proposal (method + path rules): one
# denied path stays exact, two that share a shape (/echo/items/{id})
# generalise per segment, a lone other path stays exact (and, run with
# --policy-local, the 403 names the agent's proposals file in next_steps).  Approved, the same
# requests pass (and another id of the shape), while a different path and
# another method are still denied, and GET still works.
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
H=$GB_SOURCE_DIR/tests/helpers
sbx_user_workdir "$W"
netns_setup
python3 "$H/tls_certs.py" "$T" api.test
(exec ip netns exec "$UNS" python3 "$H/https_server.py" --bind 198.18.0.10 --port 443 --cert "$T/good.pem" \
	--key "$T/good.key" 2>"$T/https.log") &
pids+=($!)
for _ in $(seq 50); do U bash -c 'exec 3<>/dev/tcp/198.18.0.10/443' 2>/dev/null && break; sleep 0.1; done
echo "198.18.0.10 api.test" >"$T/hosts"
S=$ROOT/run/glassbox/api.sock
"$GLASSBOX" --root "$ROOT" serve >>"$T/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 600); do [ -S "$S" ] && break; sleep 0.05; done # 30 s: a loaded machine
cat >"$T/policy.yaml" <<'Y'
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/tmp, /dev/null]
  include_workdir: true
landlock:
  compatibility: best_effort
network_policies:
  api:
    endpoints:
      - { host: api.test, port: 443, protocol: rest, enforcement: enforce, access: read-only }
    binaries: [ { path: /usr/bin/curl } ]
Y
# Each step: curl sends the METHOD PATH named in goN, the status goes to codes.
cat >"$W/steps.sh" <<'SH'
cd "$(dirname "$0")"
n=1
while :; do
	for _ in $(seq 400); do [ -e "go$n" ] && break; sleep 0.05; done
	[ -e "go$n" ] || exit 1
	read -r method path <"go$n"
	[ "$method" = end ] && exit 0
	curl -s -o "body$n" -m 10 -w '%{http_code}\n' -X "$method" "https://api.test$path" >>codes
	echo "$n" >"done$n"
	n=$((n + 1))
done
SH
NAME=l7$$
C "${GBRUN[@]}" --policy-local --name "$NAME" --policy "$T/policy.yaml" --hosts "$T/hosts" --upstream-ca "$T/upca.pem" \
	-- /bin/bash "$W/steps.sh" >"$T/out" 2>"$T/err" &
sup=$!
pids+=($sup)
for _ in $(seq 600); do [ -S "$ROOT/run/glassbox/sandboxes/$NAME/control.sock" ] && break; sleep 0.05; done
N=0
step() { # step METHOD PATH...: one request per pair; CODE = the statuses curl got
	CODE=
	while [ $# -ge 2 ]; do
		N=$((N + 1))
		echo "$1 $2" >"$W/go$N.tmp" && mv "$W/go$N.tmp" "$W/go$N"
		for _ in $(seq 300); do [ -e "$W/done$N" ] && break; sleep 0.05; done
		CODE="$CODE${CODE:+ }$(sed -n "${N}p" "$W/codes")"
		shift 2
	done
}
api() { local p=$1; shift; curl -s --unix-socket "$S" -o "$T/body" -w '%{http_code}' "$@" "http://gb$p"; }
js() { python3 -c "import json,sys; d=json.load(open('$T/body')); print($1)"; }
A=/v1/sandboxes/$NAME/advisor
# the newest pending DELETE proposal once it covers N paths: "ID RULES"
pending_delete() {
	for _ in $(seq 300); do
		api "$A/suggestions?status=pending" >/dev/null
		r=$(js "' '.join('%d %s' % (p['id'], ','.join(p['path_rules'])) for p in d['suggestions'] if p['method']=='DELETE' and len(p['paths'])==$1)")
		[ -n "$r" ] && { echo "$r"; return 0; }
		sleep 0.05
	done
	echo none
}

step GET /echo/items/12
check "GET on the read-only endpoint: 200" 200 "$CODE"
step DELETE /echo/items/12
check "DELETE /echo/items/12: denied by the L7 rules" 403 "$CODE"
check "the 403 (with --policy-local) points the agent at policy.local" "True True" \
	"$(python3 -c "import json; b=json.load(open('$W/body2')); print(any('$W/.glassbox/policy.local.yaml' in s and 'DELETE /echo/items/12' in s for s in b['next_steps']), 'agent_guidance' in b)")"
r=$(pending_delete 1)
check "one denial: an L7 proposal with the exact path" "/echo/items/12" "${r#* }"
P1=${r%% *}
api "$A/suggestions/$P1" >/dev/null
check "the L7 proposal: inspected endpoint, method + path rule, exact binary, layer L7" "True" \
	"$(js "all(x in d['yaml'] for x in ('protocol: rest', 'enforcement: enforce', 'method: \"DELETE\"', 'path: \"/echo/items/12\"', '/usr/bin/curl')) and d['layer']=='L7' and d['host']=='api.test' and d['port']==443")"
step DELETE /echo/items/345
check "DELETE /echo/items/345: denied" 403 "$CODE"
r=$(pending_delete 2)
check "two denials of one shape: the path generalised per segment" "/echo/items/*" "${r#* }"
P2=${r%% *}
check "the first proposal is superseded by the generalised one" "superseded $P2" \
	"$(api "$A/suggestions/$P1" >/dev/null; js "d['status'], d['superseded_by']" | tr -d "(),'")"
step DELETE /echo/config
check "DELETE /echo/config: denied" 403 "$CODE"
r=$(pending_delete 3)
check "a lone other path stays exact beside the shape" "/echo/items/*,/echo/config" "${r#* }"
P3=${r%% *}
api "$A/suggestions/$P3" >/dev/null
TOK=$(js "d['review_token']")
check "approve the L7 proposal: 200" "200 approved" \
	"$(api "$A/suggestions/$P3/approve" -X POST -d "{\"token\":\"$TOK\"}") $(js "d['proposal']['status']")"
step DELETE /echo/items/12 DELETE /echo/items/345 DELETE /echo/config
check "after approval: the same DELETEs pass" "200 200 200" "$CODE"
step DELETE /echo/items/9876
check "after approval: another id of the shape passes" 200 "$CODE"
step DELETE /echo/other/12
check "after approval: a different path is still denied" 403 "$CODE"
step DELETE /echo/items/12/x
check "after approval: a deeper path under the shape is still denied" 403 "$CODE"
step POST /echo/items/12
check "after approval: another method on the same path is still denied" 403 "$CODE"
step GET /echo/config
check "after approval: GET still allowed" 200 "$CODE"
ok=0
for _ in $(seq 200); do
	api "/v1/sandboxes/$NAME/logs?class=4002&limit=1000" >/dev/null
	[ "$(js "sum(1 for e in d['events'] if e.get('action_id')==1 and e['http_request']['http_method']=='DELETE' and e.get('firewall_rule',{}).get('name','').startswith('allow_api_test_443_delete'))")" = 4 ] && { ok=1; break; }
	sleep 0.05
done
check "the passing DELETEs are decided by the approved entry (HTTP records name it)" 1 "$ok"
N=$((N + 1)); echo "end /" >"$W/go$N"
wait "$sup"
check "sandbox exit" 0 $?
[ "$FAILS" = 0 ] || { tail -5 "$T/err"; cat "$W/codes"; }
finish
