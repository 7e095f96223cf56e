# tests/integration/api_policy.sh — the API's policy routes against a
# running sandbox whose real client (curl) reaches a real server:
# PUT (set) turns the next connection from denied to allowed, a bad PUT
# (422 with every line:col) and a static change (409) change nothing,
# PATCH (update) merges, GET returns YAML and revisions the history;
# /v1/sandboxes lists the sandbox with its revision.
. "$(dirname "$0")/lib/sandbox_lib.sh"
NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
netns_trap
sbx_user_workdir "$W" # a user-owned workdir: idmapped, writable inside
netns_setup
mkdir -p "$T/www"
echo "hello" >"$T/www/hello.txt"
upstream_http "$T/www" "$T/http.log"
echo "198.18.0.10 allowed.test other.test" >"$T/hosts"
"$GLASSBOX" --root "$ROOT" serve >"$T/serve.log" 2>&1 &
pids+=($!)
S=$ROOT/run/glassbox/api.sock
for _ in $(seq 400); do [ -S "$S" ] && break; sleep 0.05; done

STATIC='version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/tmp, /dev/null]
  include_workdir: true
landlock:
  compatibility: best_effort'
printf '%s\nnetwork_policies: {}\n' "$STATIC" >"$T/deny.yaml"
printf '%s\nnetwork_policies:\n  web:\n    endpoints:\n      - host: allowed.test\n        port: 80\n    binaries:\n      - path: /usr/bin/curl\n' "$STATIC" >"$T/allow.yaml"
printf '%s\nnetwork_policies:\n  web:\n    endpoints:\n      - host: allowed.test\n        port: 0\n    binaries: [{path: relative/curl}]\n' "$STATIC" >"$T/bad.yaml"
sed 's/include_workdir: true/include_workdir: false/' "$T/allow.yaml" >"$T/static.yaml"
printf 'version: 1\nnetwork_policies:\n  other:\n    endpoints:\n      - host: other.test\n        port: 80\n    binaries:\n      - path: /usr/bin/curl\n' >"$T/add.yaml"
cat >"$W/steps.sh" <<'SH'
for step in 1 2 3; do
	for _ in $(seq 300); do [ -e "go$step" ] && break; sleep 0.05; done
	host=allowed.test; [ "$step" = 3 ] && host=other.test
	curl -s -o /dev/null -m 5 -w '%{http_code}\n' "http://$host/hello.txt" >>codes
	echo "$step" >done$step
done
for _ in $(seq 300); do [ -e go4 ] && break; sleep 0.05; done
SH
NAME=api$$
C "${GBRUN[@]}" --name "$NAME" --policy "$T/deny.yaml" --hosts "$T/hosts" -- /bin/bash "$W/steps.sh" \
	>"$T/out" 2>"$T/err" &
sup=$!
pids+=($sup)
for _ in $(seq 400); do [ -S "$ROOT/run/glassbox/sandboxes/$NAME/control.sock" ] && break; sleep 0.05; done
step() {
	touch "$W/go$1"
	for _ in $(seq 200); do [ -e "$W/done$1" ] && return 0; sleep 0.05; done
}
api() { local p=$1; shift; curl -s --unix-socket "$S" -o "$T/body" -w '%{http_code}' "$@" "http://gb$p"; }
js() { python3 -c "import json,sys; d=json.load(open('$T/body')); print($1)"; }
P=/v1/sandboxes/$NAME/policy

check "sandboxes: listed running, revision 1" "running 1" \
	"$(api /v1/sandboxes >/dev/null; js "' '.join(str(x) for s in d['sandboxes'] if s['name']=='$NAME' for x in (s['state'], s['policy']['revision']))")"
step 1
check "step 1: denied" 403 "$(sed -n 1p "$W/codes")"
check "bad PUT: 422" 422 "$(api "$P" -X PUT --data-binary @"$T/bad.yaml")"
check "bad PUT: error invalid, every error with line:col" "invalid 2 True" \
	"$(js "d['error'], sum(1 for g in d['diagnostics'] if g['severity']=='error'), all(g['line']>0 for g in d['diagnostics'])")"
check "static PUT: 409" 409 "$(api "$P" -X PUT --data-binary @"$T/static.yaml")"
check "static PUT: names the field" "static True" "$(js "d['error'], 'include_workdir' in d['detail']")"
check "empty PUT: 400" 400 "$(api "$P" -X PUT)"
check "YAML that is not a policy: 422" 422 "$(api "$P" -X PUT --data-binary $'version: 1\nnetwork_policies: [a, b')"
check "still revision 1" "200 1" "$(api "$P") $(js "d['revision']")"
check "good PUT: 200, revision 2" "200 2" "$(api "$P" -X PUT -H 'Content-Type: application/yaml' --data-binary @"$T/allow.yaml") $(js "d['revision']")"
step 2
check "step 2 (after PUT): allowed" 200 "$(sed -n 2p "$W/codes")"
check "PATCH: 200, revision 3, added other" "200 3 added other" \
	"$(api "$P" -X PATCH --data-binary @"$T/add.yaml") $(js "d['revision'], d['changes']" | tr -d "(),'")"
step 3
check "step 3 (entry added by PATCH): allowed" 200 "$(sed -n 3p "$W/codes")"
check "GET: YAML with both entries" "200 True True" "$(api "$P") $(js "'\"web\":' in d['yaml'], '\"other\":' in d['yaml']")"
check "GET ?revision=1" "200 1" "$(api "$P?revision=1") $(js "d['revision']")"
check "GET ?revision=77: 404" 404 "$(api "$P?revision=77")"
check "GET ?revision=x: 400" 400 "$(api "$P?revision=x")"
check "revisions: loaded set update, authors from the API" "200 loaded set update True" \
	"$(api "$P/revisions") $(js "' '.join(r['action'] for r in d['revisions']), all('api' in r['author'] for r in d['revisions'][1:])")"
check "DELETE policy: 405" 405 "$(api "$P" -X DELETE)"
check "POST revisions: 405" 405 "$(api "$P/revisions" -X POST)"
touch "$W/go4"
wait "$sup"
check "sandbox exit" 0 $?
check "after the sandbox ended: policy 404" 404 "$(api "$P")"
finish
