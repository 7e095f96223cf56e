#!/bin/bash
# tests/integration/sandbox_cgroup2.sh — the cgroup v2 path of
# enforcer/sandbox/cgroup.c, on a cgroup2 mount this test makes at
# /sys/fs/cgroup in a private mount namespace (unshare -m), whatever the
# host mounts there.
#
# Always: a cgroup2 tree whose cgroup.controllers lacks memory or pids is
# not taken for a usable v2 (nor are the v1 hierarchies it hides): with the
# default limits the sandbox runs with a FINDING "no cgroup", and an
# explicit --pids fails the start (125) instead of running unbounded.
# Where the kernel offers memory and pids to v2 (controllers not bound to a
# v1 hierarchy: any host that boots with the unified hierarchy), the limits
# themselves: the group is glassbox/glassbox-NAME-PID with pids.max and
# memory.max (swap off), the supervisor stays outside it, a bounded fork
# loop stops below --pids, and the group is removed afterwards.  A kernel
# that binds memory and pids to v1 (this development VM: v1 pids, memory,
# cpu; only hugetlb is left to v2) cannot hand them to a v2 mount while the
# v1 hierarchies have groups, so that half says SKIP there.
. "$(dirname "$0")/lib/sandbox_lib.sh"
command -v unshare >/dev/null || { echo "FAIL: unshare (util-linux) missing"; exit 1; }
# Everything below runs inside one private mount namespace.
cat >"$T/inner.sh" <<'INNER'
set -u
T=$1 W=$2 ROOT=$3
FAILS=0
check() { # check NAME EXPECTED ACTUAL (as sandbox_lib.sh's)
	if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected '$2', got '$3'"; FAILS=$((FAILS + 1)); fi
}
finish() {
	[ "$FAILS" -eq 0 ] && { echo "all checks passed"; exit 0; }
	echo "$FAILS check(s) failed"
	exit 1
}
GBRUN=("$GLASSBOX" --root "$ROOT" run --quiet --workdir "$W")
# Private from here on, so the cgroup2 mount never reaches the host's
# namespace.  The mount holding /sys/fs/cgroup, not /: inside a chroot the
# root is no mount point, and its propagation cannot be changed.
m=$(findmnt -no TARGET -T /sys/fs/cgroup 2>/dev/null)
{ [ -n "$m" ] && mount --make-rprivate "$m"; } || { echo "SKIP: cannot make $m private here"; exit 0; }
mount -t cgroup2 none /sys/fs/cgroup || { echo "SKIP: cannot mount cgroup2 here"; exit 0; }
ctrls=$(cat /sys/fs/cgroup/cgroup.controllers)
echo "  cgroup2 controllers here: ${ctrls:-none}"
if ! grep -qw memory <<<"$ctrls" || ! grep -qw pids <<<"$ctrls"; then
	out=$("${GBRUN[@]}" -- /bin/true 2>&1)
	check "v2 without memory/pids: default limits degrade, the run goes on" 0 $?
	"$GLASSBOX" --root "$ROOT" run --workdir "$W" -- /bin/true 2>"$T/deg.err"
	check "... and says so" 1 "$(grep -c 'no cgroup' "$T/deg.err")"
	"${GBRUN[@]}" --pids 40 -- /bin/true 2>"$T/exp.err"
	check "v2 without memory/pids: an explicit --pids fails the start" 125 $?
	check "... naming the cgroup" 1 "$(grep -c 'resource limits' "$T/exp.err")"
	echo "SKIP: the limits on v2 need memory and pids in cgroup.controllers (here: ${ctrls:-none})"
	finish
fi
# The limits on v2.
FORK='import os, sys, time
n = 0
try:
    for i in range(300):
        if os.fork() == 0:
            time.sleep(3); os._exit(0)
        n += 1
    print("forked", n)
except OSError as e:
    print("stopped", n, "EAGAIN" if e.errno == 11 else e.errno)
sys.stdout.flush(); os._exit(0)'
"${GBRUN[@]}" --name v2-pids --pids 40 --memory 256M -- /usr/bin/python3 -c "import time; time.sleep(0.3)
$FORK" >"$T/pids.out" 2>"$T/pids.err" &
sup=$!
g=
for _ in $(seq 150); do
	g=$(find /sys/fs/cgroup/glassbox -maxdepth 1 -type d -name 'glassbox-v2-pids-*' 2>/dev/null | head -1)
	[ -n "$g" ] && break
	sleep 0.02
done
check "v2 group under glassbox/" yes "$([ -n "$g" ] && echo yes)"
check "v2 pids.max" 40 "$(cat "$g/pids.max" 2>/dev/null)"
check "v2 memory.max" $((256 << 20)) "$(cat "$g/memory.max" 2>/dev/null)"
[ -e "$g/memory.swap.max" ] && check "v2 swap off" 0 "$(cat "$g/memory.swap.max")"
check "supervisor outside the group" no "$(grep -qx "$sup" "$g/cgroup.procs" 2>/dev/null && echo yes || echo no)"
wait "$sup"
check "fork loop run" 0 $?
read -r word n why <"$T/pids.out"
check "fork loop stopped by EAGAIN" "stopped EAGAIN" "${word:-} ${why:-}"
check "stopped below the limit" yes "$([ "${n:-999}" -lt 40 ] && echo yes)"
sleep 0.1
check "v2 group removed after the run" "" "$(find /sys/fs/cgroup/glassbox -maxdepth 1 -name 'glassbox-v2-pids-*' 2>/dev/null)"
finish
INNER
unshare -m --propagation unchanged bash "$T/inner.sh" "$T" "$W" "$ROOT"
rc=$?
# the namespace (and its cgroup2 mount) is gone with the inner shell
exit $rc
