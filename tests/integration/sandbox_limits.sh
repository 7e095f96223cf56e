#!/bin/bash
# tests/integration/sandbox_limits.sh — resources are bounded by a cgroup per
# sandbox: a bounded fork loop stops at --pids, a bounded allocator is
# OOM-killed at --memory (swap off) and both are recorded (FINDING
# resource_limit + the PROC exit reason); the supervisor stays outside the
# group; the group is gone afterwards; default limits apply without flags.
. "$(dirname "$0")/lib/sandbox_lib.sh"
F="$GB_HELPER_DIR/sbx_ring_follow"
cgroups() { find /sys/fs/cgroup -maxdepth 6 -type d -name "glassbox-$1-*" 2>/dev/null; }

# Fork loop: at most 300 forks, children live 3 s so they count; bounded.
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
ring="$ROOT/run/glassbox/sandboxes/lim-pids/events.ring"
"$F" "$ring" 15000 >"$T/pids.rec" &
fol=$!
"${GBRUN[@]}" --name lim-pids --pids 40 -- /usr/bin/python3 -c "sleep_ = __import__('time').sleep(0.3)
$FORK" >"$T/pids.out" 2>"$T/pids.err" &
sup=$!
# While it runs: the group holds the sandbox, not the supervisor.
for _ in $(seq 100); do [ -n "$(cgroups lim-pids)" ] && break; sleep 0.02; done
grp=$(cgroups lim-pids | grep /pids | head -1)
[ -z "$grp" ] && grp=$(cgroups lim-pids | head -1)
check "cgroup exists while running" yes "$([ -n "$grp" ] && echo yes)"
check "supervisor outside the group" no "$(grep -qx "$sup" "$grp/cgroup.procs" 2>/dev/null && echo yes || echo no)"
wait "$sup"
check "fork loop exit" 0 $?
wait "$fol"
read -r word n why <"$T/pids.out"
check "fork loop stopped by EAGAIN" "stopped EAGAIN" "$word $why"
check "stopped below the limit" yes "$([ "${n:-999}" -lt 40 ] && echo yes)"
check "pids finding recorded" 1 "$(grep -c '^FINDING kind=10 sev=3 subject=pids.max .*process limit reached' "$T/pids.rec")"
check "PROC exit reason" 1 "$(grep -c '^PROC exit .* reason=pids_max: ' "$T/pids.rec")"
sleep 0.1
check "cgroup removed after the run" "" "$(cgroups lim-pids)"

# Allocator: 16 MiB at a time, touched, at most 1 GiB; --memory 64M.
ALLOC='b = []
for i in range(64):
    b.append(bytearray(16 << 20))
print("allocated", 16 * len(b), "MiB")'
ring="$ROOT/run/glassbox/sandboxes/lim-mem/events.ring"
"$F" "$ring" 15000 >"$T/mem.rec" &
fol=$!
"${GBRUN[@]}" --name lim-mem --memory 64M -- /bin/sh -c "sleep 0.3; exec /usr/bin/python3 -c '$ALLOC'" \
	>"$T/mem.out" 2>"$T/mem.err"
check "allocator killed (SIGKILL)" 137 $?
wait "$fol"
check "allocator never finished" "" "$(cat "$T/mem.out")"
check "OOM finding recorded" 1 "$(grep -c '^FINDING kind=10 sev=3 subject=memory.max .*killed by the OOM killer' "$T/mem.rec")"
check "PROC exit reason oom_kill" 1 "$(grep -c '^PROC exit .* signal=9 .*reason=oom_kill: ' "$T/mem.rec")"
check "cgroup removed after the OOM" "" "$(cgroups lim-mem)"

# Without flags the defaults (limits.h) hold: a group with pids.max 1024.
"${GBRUN[@]}" --name lim-def -- /bin/sleep 1 &
sup=$!
for _ in $(seq 100); do [ -n "$(cgroups lim-def)" ] && break; sleep 0.02; done
pm=$(for g in $(cgroups lim-def); do cat "$g/pids.max" 2>/dev/null; done | head -1)
check "default pids.max" 1024 "$pm"
wait "$sup"
# --cpus: a CPU quota on the group (v2 cpu.max, v1 cpu.cfs_quota_us).
"${GBRUN[@]}" --name lim-cpu --cpus 0.5 -- /bin/sleep 1 &
sup=$!
for _ in $(seq 100); do [ -n "$(cgroups lim-cpu)" ] && break; sleep 0.02; done
q=$(for g in $(cgroups lim-cpu); do cat "$g/cpu.max" "$g/cpu.cfs_quota_us" 2>/dev/null; done | head -1)
check "--cpus 0.5 quota" yes "$(case "$q" in "50000 100000" | 50000) echo yes ;; *) echo "$q" ;; esac)"
wait "$sup"

# A supervisor killed with SIGKILL leaves its (empty) group; the next start
# removes it.
"${GBRUN[@]}" --name lim-kill -- /bin/sleep 30 &
sup=$!
for _ in $(seq 100); do [ -n "$(cgroups lim-kill)" ] && break; sleep 0.02; done
kill -KILL "$sup"
wait "$sup" 2>/dev/null
check "killed supervisor leaves its group" yes "$([ -n "$(cgroups lim-kill)" ] && echo yes)"
"${GBRUN[@]}" --name lim-next -- /bin/true
for _ in $(seq 50); do [ -z "$(cgroups lim-kill)" ] && break; sleep 0.05; "${GBRUN[@]}" -- /bin/true; done
check "next start removes the stale group" "" "$(cgroups lim-kill)"
check "bad --memory refused" 2 "$("${GBRUN[@]}" --memory lots -- /bin/true 2>/dev/null; echo $?)"
finish
