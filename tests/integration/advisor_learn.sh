# tests/integration/advisor_learn.sh — learn mode end to end with real
# clients: curl, python3 and git (dumb HTTP clone) reach three hosts of the
# test's network under `glassbox run --learn` with a policy that allows
# nothing; every connection goes through, recorded as audit (would deny),
# while the destinations the proxy always refuses (loopback, the metadata
# address) stay refused.  `glassbox advisor NAME --export FILE --base POLICY`
# writes the minimal policy; it passes `policy check`, never names the
# refused destinations, and the same workload enforced under it has zero
# denials, while one new destination is denied.
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
sbx_user_workdir "$W" # a user-owned workdir: idmapped, writable inside
netns_setup
U ip addr add 198.18.0.11/24 dev "vu$tag"
mkdir -p "$T/www" "$T/www2"
echo "hello" >"$T/www/hello.txt"
echo "second" >"$T/www2/hello.txt"
# a repository served by dumb HTTP (static files: info/refs, objects)
git init -q "$T/src"
echo one >"$T/src/README"
git -C "$T/src" add README
git -C "$T/src" -c user.name=t -c user.email=t@t commit -qm one
git clone -q --bare "$T/src" "$T/www/repo.git"
git -C "$T/www/repo.git" update-server-info
upstream_http "$T/www" "$T/http.log"
(cd "$T/www2" && exec ip netns exec "$UNS" python3 -m http.server 8080 --bind 198.18.0.11 \
	>"$T/http2.log" 2>&1) &
pids+=($!)
for _ in $(seq 50); do U bash -c 'exec 3<>/dev/tcp/198.18.0.11/8080' 2>/dev/null && break; sleep 0.1; done
printf '198.18.0.10 a.test git.test new.test\n198.18.0.11 b.test\n' >"$T/hosts"
S=$ROOT/run/glassbox/api.sock
"$GLASSBOX" --root "$ROOT" serve >>"$T/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 600); do [ -S "$S" ] && break; sleep 0.05; done # 30 s: a loaded machine

printf 'version: 1\nfilesystem_policy:\n  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]\n  read_write: [/tmp, /dev/null]\n  include_workdir: true\nlandlock:\n  compatibility: best_effort\nnetwork_policies: {}\n' >"$T/deny.yaml"
# The workload: each client writes one line to codes; $1 = extra host to try.
cat >"$W/work.sh" <<'SH'
cd "$(dirname "$0")"
export HOME=$PWD
curl -s -o /dev/null -m 5 -w 'curl %{http_code}\n' http://a.test/hello.txt >>codes
python3 -c 'import urllib.request
try:
    print("python3", urllib.request.urlopen("http://b.test:8080/hello.txt", timeout=5).status)
except urllib.error.HTTPError as e:
    print("python3", e.code)' >>codes
if git clone -q http://git.test/repo.git clone 2>git.err && [ "$(cat clone/README)" = one ]; then
	echo "git ok" >>codes
else
	echo "git failed" >>codes
fi
for h in "$@"; do
	curl -s -o /dev/null -m 5 -w "extra %{http_code}\n" "http://$h/hello.txt" >>codes
done
exit 0
SH
api() { local p=$1; shift; curl -s --unix-socket "$S" -o "$T/body" -w '%{http_code}' "$@" "http://gb$p"; }
js() { python3 -c "import json,sys; d=json.load(open('$T/body')); print($1)"; }
# events of sandbox $1 once serve has journaled at least $2 NET decisions
events() {
	for _ in $(seq 300); do
		api "/v1/sandboxes/$1/logs?class=4001&limit=1000" >/dev/null
		[ "$(js "sum(1 for e in d['events'] if e.get('class_uid')==4001 and e.get('activity_id')!=2)")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# 1. the learned run: no rule allows anything, learn lets the fixable through
L=learn$$
C "${GBRUN[@]}" --learn --name "$L" --policy "$T/deny.yaml" --hosts "$T/hosts" -- \
	/bin/bash "$W/work.sh" 169.254.169.254 127.0.0.2 >"$T/out1" 2>"$T/err1"
check "learned run: exit 0" 0 $?
check "learned run: every client got through, the always-refused stayed refused" \
	"curl 200|python3 200|git ok|extra 403|extra 403" "$(paste -sd'|' "$W/codes")"
events "$L" 5
check "learned run: NET audit events (allowed, disposition Detected, unmapped.mode audit, reason kept)" "True" \
	"$(js "all(any(e.get('disposition_id')==15 and e['unmapped'].get('mode')=='audit' and e.get('status_detail') in ('no_policy','no_endpoint') and h in e['message'] and 'would deny' in e['message'] for e in d['events']) for h in ('a.test:80','b.test:8080','git.test:80'))")"
js "'\\n'.join(json.dumps(e) for e in d['events'])" >"$T/learn.jsonl"
python3 "$GB_SOURCE_DIR/tests/ocsf_validate.py" "$T/learn.jsonl" >"$T/val.out" 2>&1
check "learned run: the audit events are valid OCSF" "0" "$?"
api "/v1/sandboxes/$L/logs?class=2004&limit=100" >/dev/null
check "learned run: a FINDING says the network policy was not enforced" "True" \
	"$(js "any('learn mode' in json.dumps(e) and 'not enforced' in e.get('message','') + json.dumps(e) for e in d['events'])")"
events "$L" 5
check "learned run: no connection to a learned host was denied" "0" \
	"$(js "sum(1 for e in d['events'] if e.get('class_uid')==4001 and e.get('action_id')==2 and e.get('dst_endpoint',{}).get('hostname') in ('a.test','b.test','git.test'))")"
check "learned run: loopback and metadata refused by SSRF even in learn mode" "2" \
	"$(js "sum(1 for e in d['events'] if e.get('class_uid')==4001 and e.get('action_id')==2 and e.get('status_detail')=='ssrf')")"

# 2. the export: minimal, checkable, never naming the refused destinations
"$GLASSBOX" --root "$ROOT" advisor "$L" --export "$T/learned.yaml" --base "$T/deny.yaml" >"$T/exp.out" 2>&1
check "export: exit 0, 3 learned entries" "0 True" "$? $(grep -q '3 learned entries' "$T/exp.out" && echo True)"
"$GLASSBOX" policy check "$T/learned.yaml" >"$T/check.out" 2>&1
check "policy check passes on the export" 0 $?
check "export: exact hosts and ports, the exact binaries, nothing else" "True" \
	"$(python3 - "$T/learned.yaml" <<'PY'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
got = {}
for k, e in p['network_policies'].items():
    for ep in e['endpoints']:
        for port in ep.get('ports') or [ep.get('port')]:
            got[(ep['host'], port)] = sorted(b['path'] for b in e['binaries'])
want_bins = {('a.test', 80): 'curl', ('b.test', 8080): 'python3', ('git.test', 80): 'git-remote-http'}
ok = set(got) == set(want_bins) and all(len(v) == 1 and v[0].rsplit('/', 1)[1].startswith(want_bins[k]) for k, v in got.items())
ok = ok and p['filesystem_policy']['include_workdir'] is True and not any('*' in h for h, _ in got)
print(ok if ok else got)
PY
)"
check "export: no loopback, no metadata address" "0" "$(grep -cE '169\.254|127\.0\.0' "$T/learned.yaml")"

# 3. the same workload enforced under the export: zero denials; a new
# destination (a name the learned run never used) is denied
E=enf$$
rm -rf "$W/clone" "$W/codes" "$W/git.err" # another sandbox uid when not idmapped (chroot)
C "${GBRUN[@]}" --name "$E" --policy "$T/learned.yaml" --hosts "$T/hosts" -- \
	/bin/bash "$W/work.sh" new.test >"$T/out2" 2>"$T/err2"
check "enforced run: exit 0" 0 $?
check "enforced run: the learned traffic passes, the new destination is denied" \
	"curl 200|python3 200|git ok|extra 403" "$(paste -sd'|' "$W/codes")"
events "$E" 4
check "enforced run: the one denial is the new destination" "new.test:80" \
	"$(js "','.join('%s:%d' % (e['dst_endpoint']['hostname'], e['dst_endpoint']['port']) for e in d['events'] if e.get('class_uid')==4001 and e.get('action_id')==2)")"
check "enforced run: no audit event (enforce mode)" "0" \
	"$(js "sum(1 for e in d['events'] if e.get('disposition_id')==15)")"
[ "$FAILS" = 0 ] || { tail -5 "$T/err1" "$T/err2" "$W/git.err" "$T/exp.out" "$T/check.out" 2>/dev/null; cat "$T/learned.yaml"; }
finish
