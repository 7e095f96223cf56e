# tests/integration/policy_live.sh — live network-policy revisions through
# the supervisor's control socket (`glassbox policy set|update|get|history`)
# against a running sandbox whose real client (curl) reaches a real server.
#
#   gbc$$ (client ns, NO default route)             gbu$$ (upstream ns)
#     glassbox run --hosts H (supervisor + proxy)     198.18.0.10 http :80
#
# Attacks: a bad file (syntax and schema errors) and a file changing a
# static section must change nothing (the same client stays denied, the
# revision stays); the sandbox user connecting to control.sock must fail
# (it is not even visible in the private root).
. "$(dirname "$0")/lib/sandbox_lib.sh"
NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
netns_trap
F="$GB_HELPER_DIR/sbx_ring_follow"
sbx_user_workdir "$W" # a user-owned workdir: idmapped, writable inside
netns_setup
mkdir -p "$T/www"
echo "hello from upstream" >"$T/www/hello.txt"
upstream_http "$T/www" "$T/http.log"
echo "198.18.0.10 allowed.test other.test" >"$T/hosts"

STATIC='version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/tmp, /dev/null]
  include_workdir: true
landlock:
  compatibility: best_effort'
printf '%s\nnetwork_policies: {}\n' "$STATIC" >"$T/deny.yaml"
printf '%s\nnetwork_policies:\n  web:\n    endpoints:\n      - host: allowed.test\n        port: 80\n    binaries:\n      - path: /usr/bin/curl\n' "$STATIC" >"$T/allow.yaml"
# two errors on known lines: an unknown key and a port out of range
printf '%s\nnetwork_policies:\n  web:\n    endpoints:\n      - host: allowed.test\n        port: 99999\n    binaries:\n      - pth: /usr/bin/curl\n' "$STATIC" >"$T/bad.yaml"
printf 'network_policies: [unclosed\n' >"$T/syntax.yaml"
sed 's/best_effort/hard_requirement/' "$T/allow.yaml" >"$T/static.yaml"
printf 'version: 1\nnetwork_policies:\n  other:\n    endpoints:\n      - host: other.test\n        port: 80\n    binaries:\n      - path: /usr/bin/curl\n' >"$T/add.yaml"

# The workload: one request per step, each step released by a file the test
# writes (bounded waits), the HTTP codes in the workdir.
cat >"$W/steps.sh" <<'SH'
n=0
for step in 1 2 3 4; do
	for _ in $(seq 300); do [ -e "go$step" ] && break; sleep 0.05; done
	host=allowed.test; [ "$step" = 4 ] && host=other.test
	curl -s -o /dev/null -m 5 -w '%{http_code}\n' "http://$host/hello.txt" >>codes
	echo "$step" >done$step
done
# the control socket from inside: must be refused
python3 - "$CTL" >ctl.out 2>&1 <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); s.sendall(b'{"op":"get"}'); s.shutdown(socket.SHUT_WR)
    print("CONNECTED", s.recv(200))
except OSError as e:
    print("refused", e.errno)
PY
SH
NAME=live$$
CTL="$ROOT/run/glassbox/sandboxes/$NAME/control.sock"
"$F" "$ROOT/run/glassbox/sandboxes/$NAME/events.ring" 60000 >"$T/rec" &
fol=$!
C "${GBRUN[@]}" --name "$NAME" --env "CTL=$CTL" --policy "$T/deny.yaml" --hosts "$T/hosts" -- \
	/bin/bash "$W/steps.sh" >"$T/out" 2>"$T/err" &
sup=$!
pids+=($sup)
step() { # step N: release step N and wait for it
	touch "$W/go$1"
	for _ in $(seq 200); do [ -e "$W/done$1" ] && return 0; sleep 0.05; done
	echo "  step $1 never finished"
}
for _ in $(seq 400); do [ -S "$CTL" ] && break; sleep 0.05; done
check "control socket exists, mode 0600 root" "600 0" "$(stat -c '%a %u' "$CTL" 2>&1)"
GB() { "$GLASSBOX" --root "$ROOT" "$@"; }

step 1
check "step 1 (no entries): denied" 403 "$(sed -n 1p "$W/codes")"

GB policy set "$NAME" "$T/bad.yaml" >"$T/bad.out" 2>"$T/bad.err"
check "bad set: exit 1" 1 $?
check "bad set: the port error with line:col" yes \
	"$(grep -qE 'bad.yaml:12:[0-9]+: error: .*port' "$T/bad.err" && echo yes || echo no)"
check "bad set: the unknown key with line:col" yes \
	"$(grep -qE 'bad.yaml:14:[0-9]+: error: .*pth' "$T/bad.err" && echo yes || echo no)"
GB policy set "$NAME" "$T/syntax.yaml" 2>"$T/syn.err"
check "syntax error: exit 1" 1 $?
check "syntax error: line:col" yes "$(grep -qE 'syntax.yaml:[0-9]+:[0-9]+: error' "$T/syn.err" && echo yes || echo no)"
GB policy set "$NAME" "$T/static.yaml" 2>"$T/static.err"
check "static change: exit 1" 1 $?
check "static change: names landlock.compatibility" yes \
	"$(grep -q 'landlock.compatibility' "$T/static.err" && grep -q 'cannot change while the sandbox runs' "$T/static.err" && echo yes || echo no)"
check "after refusals: still revision 1" 1 "$(GB policy get "$NAME" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])')"
step 2
check "step 2 (after the refused sets): still denied" 403 "$(sed -n 2p "$W/codes")"

GB policy set "$NAME" "$T/allow.yaml" >"$T/set.out" 2>&1
check "good set: exit 0" 0 $?
check "good set: revision 2, web added" yes "$(grep -q 'policy revision 2 .*added web' "$T/set.out" && echo yes || echo no)"
step 3
check "step 3 (after set): allowed" 200 "$(sed -n 3p "$W/codes")"

GB policy update "$NAME" "$T/add.yaml" >"$T/upd.out" 2>&1
check "update: exit 0" 0 $?
check "update: revision 3, other added" yes "$(grep -q 'policy revision 3 .*added other' "$T/upd.out" && echo yes || echo no)"
GB policy get "$NAME" >"$T/get.yaml"
check "get: both entries (merged by key)" "2" "$(grep -cE '^  "(web|other)":' "$T/get.yaml")"
check "get: static sections kept" yes "$(grep -q 'compatibility: best_effort' "$T/get.yaml" && echo yes || echo no)"
"$GLASSBOX" policy check "$T/get.yaml" >/dev/null 2>&1
check "get output is a valid policy file" 0 $?
GB policy set "$NAME" "$T/get.yaml" >"$T/rt.out" 2>&1
check "get | set round trip: no change" yes "$(grep -q 'revision 4 .*no change' "$T/rt.out" && echo yes || echo no)"
GB policy get "$NAME" --revision 1 >"$T/r1.yaml"
check "get --revision 1: no entries" yes "$(grep -q '^network_policies: {}' "$T/r1.yaml" && echo yes || echo no)"
GB policy get "$NAME" --revision 99 2>"$T/r99.err"
check "get --revision 99: refused" 1 $?
GB policy history "$NAME" >"$T/hist"
check "history: four revisions" "loaded set update set" "$(awk 'NR>1{print $4}' "$T/hist" | xargs)"
check "history: author is the kernel's uid" yes "$(grep -q 'uid 0 pid [0-9]* (glassbox policy set' "$T/hist" && echo yes || echo no)"
step 4
check "step 4 (entry added by update): allowed" 200 "$(sed -n 4p "$W/codes")"


GB policy get nosuch$$ 2>"$T/nosuch.err"
check "unknown sandbox: exit 1" 1 $?
check "unknown sandbox: says so" yes "$(grep -q "no sandbox named 'nosuch$$' is running" "$T/nosuch.err" && echo yes || echo no)"
GB policy get ../../etc 2>"$T/trav.err"
check "traversal name refused" yes "$(grep -q 'invalid sandbox name' "$T/trav.err" && echo yes || echo no)"

wait "$sup"
check "sandbox exit" 0 $?
# ENOENT: the socket lives in the host's state dir, outside the sandbox's
# private root (were it bound in, 0600 root would still refuse: EACCES).
check "inside the sandbox: the control socket not reachable" "refused 2" "$(cat "$W/ctl.out")"
wait "$fol"
grep '^CONFIG' "$T/rec" | sed 's/^/  /'
check "CONFIG records: 3 refused, 3 updated" "3 3" \
	"$(grep -c '^CONFIG action=6 ' "$T/rec") $(grep -c '^CONFIG action=3 ' "$T/rec")"
check "CONFIG of revision 2 names old and new hash" yes \
	"$(grep -qE '^CONFIG action=3 rev=2 sha256=[0-9a-f]{64} .*revision 2, [0-9a-f]{12} -> [0-9a-f]{12}: added web' "$T/rec" && echo yes || echo no)"
finish
