# tests/integration/sandbox_escape.sh — the escape suite: each vector tried
# from inside `glassbox run` must fail with the expected errno.
. "$(dirname "$0")/lib/sandbox_lib.sh"

out=$(gbrun -- ./escape_probe all)
echo "$out" | sed 's/^/  probe: /'
expect() { check "$1" "$2" "$(echo "$out" | awk -v n="$1" '$1 == n { print $2 }')"; }
for v in mount umount unshare_user unshare_net setns ptrace_attach_1 ptrace_traceme bpf \
         perf_event_open memfd_create io_uring_setup userfaultfd pidfd_open process_vm_readv \
         keyctl init_module kexec_load execveat_empty_path seccomp_filter prctl_set_seccomp \
         setuid0 chroot socket_netlink socket_packet socket_raw socket_vsock socket_bluetooth \
         socket_high_bits; do
	expect "$v" EPERM
done
expect clone3 ENOSYS
expect socket_unix OK
expect socket_inet OK
expect socket_inet6 OK
expect foreign_arch KILLED:31
# tiocsti needs a terminal on stdin; with one it must be EPERM, without one
# the ioctl fails before reaching the tty layer.
[ -t 0 ] && expect tiocsti EPERM

# Identity inside: the sandbox user, no capabilities, no_new_privs, no cores.
# Its own uid (real = effective = saved) from the sandbox range; gid the same number.
ids=$(gbrun -- ./escape_probe ids)
uid=$(echo "$ids" | awk '$1 == "uid" { print ($2 == $3 && $3 == $4) ? $2 : "mismatch" }')
check "uid" yes "$(sbx_uid "$uid")"
check "gid" "gid $uid $uid $uid" "$(echo "$ids" | grep '^gid')"
check "nnp" "nnp 1" "$(echo "$ids" | grep '^nnp')"
check "core" "core 0 0" "$(echo "$ids" | grep '^core')"
st=$(gbrun -- /bin/cat /proc/self/status)
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	check "$c" "0000000000000000" "$(echo "$st" | awk -v c="$c:" '$1 == c { print $2 }')"
done
check "NoNewPrivs" "1" "$(echo "$st" | awk '$1 == "NoNewPrivs:" { print $2 }')"
check "Seccomp" "2" "$(echo "$st" | awk '$1 == "Seccomp:" { print $2 }')"

# A setuid-root binary does not give root back (no_new_privs).
cp "$W/escape_probe" "$W/suid_probe"
chown root:root "$W/suid_probe"
chmod 4755 "$W/suid_probe"
suid=$(gbrun -- ./suid_probe ids | awk '$1 == "uid" { print ($2 == $3 && $3 == $4) ? $2 : "mismatch" }')
check "setuid binary euid" yes "$(sbx_uid "$suid")"

# Filesystem (Landlock + DAC): writes outside read_write fail, inside work.
sbx_user_workdir "$W"
check "write workdir" "write OK" "$(gbrun -- ./escape_probe write "$W/inside")"
# read_only paths are read-only bind mounts of the private root (EROFS
# before Landlock is even asked); what no policy names is not there at all.
check "write /usr" "write EROFS" "$(gbrun -- ./escape_probe write /usr/gb-escape-test)"
check "write /etc" "write EROFS" "$(gbrun -- ./escape_probe write /etc/gb-escape-test)"
check "read /root (outside policy)" "read ENOENT" "$(gbrun -- ./escape_probe read /root)"
check "read /etc/hostname (read_only)" "read OK" "$(gbrun -- ./escape_probe read /etc/hostname)"
[ -e /usr/gb-escape-test ] && check "nothing written to /usr" absent present
# A host world-writable dir outside the policy is not in the sandbox's root.
mkdir -p /var/tmp/gb-ll-$$ && chmod 1777 /var/tmp/gb-ll-$$
check "write world-writable dir outside policy" "write ENOENT" \
	"$(gbrun -- ./escape_probe write /var/tmp/gb-ll-$$/x)"
rm -rf /var/tmp/gb-ll-$$
# Landlock alone (not DAC, not the mount): the private /var/tmp is a 1777
# tmpfs that the default policy does not list.
check "write world-writable tmpfs outside policy" "write EACCES" \
	"$(gbrun -- ./escape_probe write /var/tmp/x)"

# Network: only loopback exists; nothing but the proxy is reachable.
check "connect 198.18.0.1 (no route)" "connect ENETUNREACH" \
	"$(gbrun -- ./escape_probe connect 198.18.0.1 80)"
# The supervisor runs the proxy on the socket it opened inside the sandbox.
check "connect 127.0.0.1:3128 reaches the sandbox proxy" "connect OK" \
	"$(gbrun -- ./escape_probe connect 127.0.0.1 3128)"
check "interfaces" "lo" "$(gbrun -- /bin/cat /proc/net/dev | awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' | tr '\n' ' ' | sed 's/ $//')"

# init (pid 1) never execs, so its dumpable=0 holds: the workload cannot
# reach its descriptors (the control socket) or memory through /proc.
check "init's /proc/1/environ" "read EACCES" "$(gbrun -- ./escape_probe read /proc/1/environ)"
check "init's /proc/1/fd" "read EACCES" "$(gbrun -- ./escape_probe read /proc/1/fd)"

# Killing everything it can reach from inside leaves the supervisor (not
# even visible in the pid namespace) and init standing.
out=$(gbrun -- /bin/sh -c 'kill -KILL -1; echo alive')
check "kill -KILL -1 from inside: status" 0 $?
check "kill -KILL -1 from inside: survived" alive "$out"
# No core file from a crash (RLIMIT_CORE hard 0).
gbrun -- /bin/sh -c 'kill -SEGV $$'
check "crash status" 139 $?
check "no core file" "" "$(ls "$W" | grep -i core || true)"
finish
