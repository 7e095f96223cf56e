#!/usr/bin/env bash
# The web dashboard's files served by the API (api/api_static.c) and
# `glassbox dashboard` (api/api_dashboard.c), with real curl: the URL it
# prints (loopback, the token only in the fragment), reuse of the listener,
# every asset byte for byte with its content type and the security headers,
# nothing that loads from elsewhere, and the attacks: traversal (plain,
# percent-encoded, encoded slash, NUL, backslash), a symlink planted inside
# the directory (to a file and to /etc), hidden files, unknown types, other
# methods, the API without / with a wrong / with a dashboard token, minting
# tokens over TCP, a non-loopback listen address, tokens surviving a restart,
# the token in the daemon's log.
set -euo pipefail
: "${GLASSBOX:?}" "${GB_SOURCE_DIR:?}"
T=$(mktemp -d /tmp/gb-dash-test.XXXXXX)
ROOT=$T/root
mkdir -p "$ROOT"
SERVE=
cleanup() {
	[[ -n $SERVE ]] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
FAILS=0
check() { # check NAME EXPECTED ACTUAL
	if [[ $2 == "$3" ]]; then echo "ok   $1"; else echo "FAIL $1: expected '$2', got '$3'"; FAILS=$((FAILS + 1)); fi
}
S=$ROOT/run/glassbox/api.sock
# A copy of the assets, with traps planted inside it.
cp -r "$GB_SOURCE_DIR/dashboards/web" "$T/web"
echo "TOPSECRET" >"$T/secret.txt"
ln -s ../secret.txt "$T/web/leak.txt"
ln -s /etc "$T/web/etcdir"
mkdir "$T/web/.hidden" && echo "TOPSECRET" >"$T/web/.hidden/x.txt"
echo "TOPSECRET" >"$T/web/.env.txt"
echo "TOPSECRET" >"$T/web/run.sh"
start_serve() {
	"$GLASSBOX" --root "$ROOT" serve --dashboard-dir "$T/web" >>"$T/serve.log" 2>&1 &
	SERVE=$!
	for _ in $(seq 400); do [[ -S $S ]] && curl -s --unix-socket "$S" -o /dev/null http://gb/v1/health && return; sleep 0.05; done
	echo "FAIL serve did not start"; cat "$T/serve.log"; exit 1
}

set +e
"$GLASSBOX" --root "$ROOT" dashboard >"$T/out" 2>"$T/err"
check "no daemon: exit 1, says to start serve" "1 1" "$? $(grep -c 'glassbox serve' "$T/err")"
set -e
start_serve

URL=$("$GLASSBOX" --root "$ROOT" dashboard 2>"$T/err")
check "glassbox dashboard: a loopback URL, the token only in the fragment" 1 \
	"$(grep -cE '^http://127\.0\.0\.1:[0-9]+/#token=[0-9a-f]{64}$' <<<"$URL")"
B=${URL%%#*}
TOK=${URL##*#token=}
PORT=$(sed -E 's#http://127.0.0.1:([0-9]+)/#\1#' <<<"$B")
check "the listener is on 127.0.0.1 only" "127.0.0.1:$PORT" \
	"$(ss -Hltn "sport = :$PORT" | awk '{print $4}' | sort -u)"
J=$("$GLASSBOX" --root "$ROOT" dashboard --json)
TOK2=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$J")
check "a second call reuses the listener with a new token" "True $PORT True" \
	"$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["reused"], d["port"], d["token"]!=sys.argv[2])' "$J" "$TOK")"
set +e
"$GLASSBOX" --root "$ROOT" dashboard --listen 0.0.0.0:0 >/dev/null 2>"$T/err"
check "--listen on a non-loopback address: refused" "1 1" "$? $(grep -c loopback "$T/err")"
set -e

# hget PATH [curl args]: "STATUS CONTENT-TYPE" of a GET, body in $T/body
hget() { local p=$1; shift; curl -s --path-as-is -o "$T/body" -w '%{http_code} %{content_type}' "$@" "$B$p"; }
check "/ is index.html" "200 text/html; charset=utf-8" "$(hget "")"
cmp -s "$T/body" "$GB_SOURCE_DIR/dashboards/web/index.html"
check "/ serves index.html's bytes" 0 $?
n=0; bad=""
while IFS= read -r f; do
	rel=${f#"$GB_SOURCE_DIR/dashboards/web/"}
	case $rel in
	*.html) want="text/html; charset=utf-8" ;;
	*.js) want="text/javascript; charset=utf-8" ;;
	*.css) want="text/css; charset=utf-8" ;;
	*.svg) want="image/svg+xml" ;;
	*.json) want="application/json" ;;
	*) want="?" ;;
	esac
	got=$(hget "$rel")
	if [[ $got != "200 $want" ]] || ! cmp -s "$T/body" "$f"; then bad+=" $rel($got)"; fi
	n=$((n + 1))
done < <(find "$GB_SOURCE_DIR/dashboards/web" -type f | sort)
check "every asset ($n) byte for byte with its content type" "" "$bad"
curl -s -D "$T/hdr" -o /dev/null "$B"
check "headers: CSP self only, nosniff, no referrer, no framing" "4" \
	"$(grep -ciE "^(content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'.*connect-src 'self'.*frame-ancestors 'none'|x-content-type-options: nosniff|referrer-policy: no-referrer|x-frame-options: deny)" "$T/hdr")"
check "HEAD /app.js: 200, no body" "200 0" "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "${B}app.js")"
# Nothing loads from elsewhere: no scheme-qualified or protocol-relative
# URL, no @import, no url() in any asset (the appliance runs offline).
check "no external URL, @import or url() in the assets" "" \
	"$(grep -rnoE "(https?|wss?|ftp):|(src|href)=\"//|@import|url\(" "$GB_SOURCE_DIR/dashboards/web" || true)"

# traversal and the traps: each must be 404 and never the secret
for p in "../secret.txt" "../../../../etc/passwd" "%2e%2e/secret.txt" "%2E%2E%2Fsecret.txt" \
	"..%2fsecret.txt" "x/../../secret.txt" "./index.html" "index.html%00.js" "%00" \
	"..%5csecret.txt" "..\\secret.txt" "leak.txt" "etcdir/passwd" "etcdir/hostname" \
	".hidden/x.txt" ".env.txt" "run.sh" "index.html/" "//etc/passwd" "/../secret.txt" \
	"app.js%2f" "nonexistent.js" "%2fetc%2fpasswd" "....//secret.txt"; do
	got=$(hget "$p")
	leaked=$(grep -c -e TOPSECRET -e 'root:' "$T/body" || true)
	check "GET /$p: 404, nothing leaked" "404 0" "${got%% *} $leaked"
done
check "POST /: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$B")"
check "PUT /index.html: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data x "${B}index.html")"
cmp -s "$T/web/index.html" "$GB_SOURCE_DIR/dashboards/web/index.html"
check "index.html unchanged" 0 $?

# the API behind it: the same bearer rule as any client
api() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
check "/v1/sandboxes without a token: 401" 401 "$(api "${B}v1/sandboxes")"
check "/metrics without a token: 401" 401 "$(api "${B}metrics")"
check "a wrong token: 403" 403 "$(api -H "Authorization: Bearer ${TOK//?/0}" "${B}v1/sandboxes")"
check "a token in the query string is not a token: 401" 401 "$(api "${B}v1/sandboxes?token=$TOK")"
check "the dashboard token: 200 (both minted tokens)" "200 200" \
	"$(api -H "Authorization: Bearer $TOK" "${B}v1/sandboxes") $(api -H "Authorization: Bearer $TOK2" "${B}metrics")"
check "minting a token over TCP, even with a token: 403" 403 \
	"$(api -X POST -H "Authorization: Bearer $TOK" "${B}v1/dashboard")"
check "GET /v1/dashboard on the unix socket: 405" 405 \
	"$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$S" http://gb/v1/dashboard)"
check "the token is not in the daemon's log" 0 "$(grep -c -e "$TOK" -e "$TOK2" "$T/serve.log" || true)"

# a restart forgets every token
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true; SERVE=
start_serve
URL3=$("$GLASSBOX" --root "$ROOT" dashboard 2>/dev/null)
B=${URL3%%#*}
check "after a restart: the old token is refused, the new one works" "403 200" \
	"$(api -H "Authorization: Bearer $TOK" "${B}v1/sandboxes") $(api -H "Authorization: Bearer ${URL3##*#token=}" "${B}v1/sandboxes")"

if ((FAILS)); then echo "$FAILS check(s) failed"; exit 1; fi
echo "all checks passed"
