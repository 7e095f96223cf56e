#!/bin/bash
# tests/integration/sandbox_config.sh — the daemon config's sandbox: section
# gives `glassbox run` its limits when no flag does: pids.max and memory of
# the cgroup, RLIMIT_NOFILE of the workload (which it cannot raise back, nor
# get around by opening more files); a flag overrides the file; a bad value
# stops the run before CMD with FILE:LINE:COL: error: FIELD; an explicit
# --config must exist.
. "$(dirname "$0")/lib/sandbox_lib.sh"
cgroups() { find /sys/fs/cgroup -maxdepth 6 -type d -name "glassbox-$1-*" 2>/dev/null; }
# The value of cgroup file $2 (v2 name) / $3 (v1 name) of sandbox $1, waited for.
cg_value() {
	local g v
	for _ in $(seq 150); do
		for g in $(cgroups "$1"); do
			v=$(cat "$g/$2" "$g/$3" 2>/dev/null | head -1)
			[ -n "$v" ] && { echo "$v"; return; }
		done
		sleep 0.02
	done
}
CONF="$ROOT/etc/glassbox/glassbox.yaml"
mkdir -p "$(dirname "$CONF")"
cat >"$CONF" <<'YAML'
# limits for every sandbox of this host
sandbox:
  pids: 33
  memory: 96MiB
  files: 64
YAML

# The workload reports its open-file limits, tries to raise the hard one
# (no CAP_SYS_RESOURCE: refused) and opens files until refused (bounded).
PROBE='import os, resource
s, h = resource.getrlimit(resource.RLIMIT_NOFILE)
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096)); raised = "raised"
except (ValueError, OSError):
    raised = "refused"
fds = []
try:
    for i in range(1000):
        fds.append(os.open("/dev/null", os.O_RDONLY))
    err = "none"
except OSError as e:
    err = "EMFILE" if e.errno == 24 else str(e.errno)
import time; time.sleep(0.5)
print(s, h, raised, err, max(fds) if fds else -1)'
"${GBRUN[@]}" --name cfg-a -- /usr/bin/python3 -c "$PROBE" >"$T/a.out" 2>"$T/a.err" &
sup=$!
pm=$(cg_value cfg-a pids.max pids.max)
mm=$(cg_value cfg-a memory.max memory.limit_in_bytes)
wait "$sup"
check "run with the config's limits" 0 $?
check "pids.max from sandbox.pids" 33 "$pm"
check "memory limit from sandbox.memory" $((96 << 20)) "$mm"
read -r soft hard raised err maxfd <"$T/a.out"
check "RLIMIT_NOFILE from sandbox.files" "64 64" "${soft:-} ${hard:-}"
check "workload cannot raise its hard file limit" refused "${raised:-}"
check "opening past the limit fails with EMFILE" EMFILE "${err:-}"
check "no descriptor at or above the limit" yes "$([ "${maxfd:-999}" -lt 64 ] && echo yes)"

# The config's memory limit holds: a bounded allocator (16 MiB steps, at
# most 512 MiB) is OOM-killed at 96 MiB.
ALLOC='b = []
for i in range(32):
    b.append(bytearray(16 << 20))
print("allocated", 16 * len(b), "MiB")'
"${GBRUN[@]}" --name cfg-mem -- /usr/bin/python3 -c "$ALLOC" >"$T/mem.out" 2>"$T/mem.err"
check "allocator killed at sandbox.memory" 137 $?
check "allocator never finished" "" "$(cat "$T/mem.out")"

# Flags win over the file.
"${GBRUN[@]}" --name cfg-b --pids 50 --files 128 -- /bin/sh -c 'ulimit -n; sleep 0.5' >"$T/b.out" 2>"$T/b.err" &
sup=$!
pm=$(cg_value cfg-b pids.max pids.max)
wait "$sup"
check "--pids overrides sandbox.pids" 50 "$pm"
check "--files overrides sandbox.files" 128 "$(cat "$T/b.out")"
check "bad --files refused" 2 "$("${GBRUN[@]}" --files 3 -- /bin/true 2>/dev/null; echo $?)"

# A bad value: the run stops before CMD (exit 2), with the file's position
# and the field; every error is listed.
cat >"$CONF" <<'YAML'
sandbox:
  pids: 33
  memory: lots
  cpus: 1e9
YAML
"${GBRUN[@]}" --name cfg-bad -- /bin/sh -c 'echo ran' >"$T/bad.out" 2>"$T/bad.err"
check "bad config: exit 2" 2 $?
check "bad config: CMD did not run" "" "$(cat "$T/bad.out")"
check "bad memory: file:line:col: field" 1 "$(grep -c "^$CONF:3:11: error: sandbox.memory: 'lots' is not a size" "$T/bad.err")"
check "bad cpus: file:line:col: field" 1 "$(grep -c "^$CONF:4:9: error: sandbox.cpus: expected a number of CPUs" "$T/bad.err")"
# The same file is refused by the daemon, with the same words.
"$GLASSBOX" --root "$ROOT" serve --check-config >/dev/null 2>"$T/serve.err"
check "serve --check-config refuses it too" 1 $?
check "serve names the same field" 1 "$(grep -c "^$CONF:3:11: error: sandbox.memory" "$T/serve.err")"

# --config: another file; it must exist.
printf 'sandbox:\n  files: 80\n' >"$T/other.yaml"
check "--config FILE is read" 80 "$("${GBRUN[@]}" --config "$T/other.yaml" -- /bin/sh -c 'ulimit -n' 2>/dev/null)"
"${GBRUN[@]}" --config "$T/missing.yaml" -- /bin/true 2>"$T/miss.err"
check "missing --config: exit 2" 2 $?
# Without a config file the limits.h defaults hold.
rm -f "$CONF"
"${GBRUN[@]}" --name cfg-def -- /bin/sleep 0.5 &
sup=$!
pm=$(cg_value cfg-def pids.max pids.max)
wait "$sup"
check "no config: default pids.max" 1024 "$pm"
finish
