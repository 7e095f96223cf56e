#!/usr/bin/env bash
# The web dashboard in a real browser: Debian's chromium, headless, driven
# by playwright-core (tests/browser/dashboard.mjs) against a real daemon and
# a real sandbox whose curl reaches a real server in the test's namespaces.
# A denied curl appears live in the stream, its detail is its OCSF JSON,
# approving its proposal changes the revision shown and the same curl then
# succeeds; the same again with the keyboard only; no console error; the
# token never in a URL the browser requested nor in the daemon's log;
# screenshots at 1280x800 and narrow under the build tree.
. "$(dirname "$0")/lib/sandbox_lib.sh"
NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: chromium is not installed (Debian package chromium, installed by scripts/bootstrap)"
	exit 0
fi
BROWSER_DIR=$GB_SOURCE_DIR/tests/browser
if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ] || ! command -v node >/dev/null; then
	echo "FAIL: node or playwright-core missing: run scripts/bootstrap (npm ci in tests/browser)"
	exit 1
fi
ART=${GB_BUILD_DIR:-$T}/test-artifacts/dashboard
mkdir -p "$ART"
pids=()
serve_pid=
cleanup() {
	for p in "${pids[@]}" $serve_pid; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${GB_TEST_DEBUG:-}" ] && tail -40 "$T/serve.log"
	netns_teardown
	rm -rf "$T"
}
trap cleanup EXIT
chown "$SBX_OWNER" "$W" # a user-owned workdir: idmapped, writable inside
chmod 0777 "$W"         # and writable without idmapping (a chroot refuses user namespaces)
netns_setup
mkdir -p "$T/www"
echo "hello" >"$T/www/hello.txt"
upstream_http "$T/www" "$T/http.log"
echo "198.18.0.10 allowed.test other.test load.test" >"$T/hosts"
S=$ROOT/run/glassbox/api.sock
"$GLASSBOX" --root "$ROOT" serve --dashboard-dir "$GB_SOURCE_DIR/dashboards/web" >>"$T/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 200); do [ -S "$S" ] && break; sleep 0.05; done

printf 'version: 1\nfilesystem_policy:\n  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]\n  read_write: [/tmp, /dev/null]\n  include_workdir: true\nlandlock:\n  compatibility: best_effort\nnetwork_policies: {}\n' >"$T/deny.yaml"
# Each step N: when goN appears, curl the host named in it (COUNT URLs in
# one curl when the file says "HOST COUNT": the load step), append the
# status(es) to codes, then touch doneN (the browser script drives the steps).
cat >"$W/steps.sh" <<'SH'
for step in 1 2 3 4 5; do
	for _ in $(seq 1200); do [ -e "go$step" ] && break; sleep 0.05; done
	[ -e "go$step" ] || exit 3
	read -r host count <"go$step"
	urls=()
	for i in $(seq "${count:-1}"); do urls+=("http://$host/hello.txt?n=$i"); done
	curl -s -m 60 -w '%{http_code}\n' -o /dev/null "${urls[@]}" >>codes
	echo "$step" >done$step
done
# stay until the browser is done (the policy view needs a running sandbox)
for _ in $(seq 1200); do [ -e end ] && break; sleep 0.05; done
exit 0
SH
NAME=dash$$
C "${GBRUN[@]}" --name "$NAME" --policy "$T/deny.yaml" --hosts "$T/hosts" -- /bin/bash "$W/steps.sh" \
	>"$T/out" 2>"$T/err" &
sup=$!
pids+=($sup)
for _ in $(seq 200); do [ -S "$ROOT/run/glassbox/sandboxes/$NAME/control.sock" ] && break; sleep 0.05; done
URL=$("$GLASSBOX" --root "$ROOT" dashboard 2>>"$T/serve.log")
check "glassbox dashboard printed a URL" 1 "$(grep -c '#token=' <<<"$URL")"
TOK=${URL##*#token=}

GB_URL=$URL GB_W=$W GB_SANDBOX=$NAME GB_ART=$ART GB_CHROMIUM=$CHROMIUM \
	node "$BROWSER_DIR/dashboard.mjs" >"$T/browser.out" 2>&1
rc=$?
cat "$T/browser.out"
check "browser script" 0 $rc
check "the token is not in the daemon's log" 0 "$(grep -c "$TOK" "$T/serve.log")"
check "screenshots saved" "2" "$(ls "$ART"/dashboard-1280x800.png "$ART"/dashboard-narrow.png 2>/dev/null | wc -l)"
# the sandbox ends whatever the browser did
for s in 1 2 3 4 5; do [ -f "$W/go$s" ] || echo other.test >"$W/go$s"; done
touch "$W/end"
wait "$sup"
check "sandbox exit" 0 $?
finish
