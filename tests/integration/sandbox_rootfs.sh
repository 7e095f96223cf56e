#!/bin/bash
# tests/integration/sandbox_rootfs.sh — the filesystem the sandbox sees is
# exactly its policy (a private root, docs/sandbox.md "Private root"):
# root-owned 0777 unix sockets at host paths no policy names (a temp dir,
# /var/tmp, /run, the host's /tmp) accept on the host and are unreachable
# inside; /proc/self/mountinfo shows only the sandbox's own mounts; writes
# outside the read_write paths fail; /tmp is private in both directions;
# best_effort / hard_requirement apply to a bind that cannot be made;
# `policy check` warns about host socket directories.
. "$(dirname "$0")/lib/sandbox_lib.sh"
sbx_user_workdir "$W"
HID=$(mktemp -d /var/lib/gb-hidden.XXXXXX)
RUND=$(mktemp -d /run/gb-sock.XXXXXX)
HOSTTMP=$(mktemp -d /tmp/gb-hosttmp.XXXXXX)
chmod 0755 "$HID" "$RUND" "$HOSTTMP"
SOCKS=("$HID/x.sock" "/var/tmp/gb-sock-$$.sock" "$RUND/x.sock" "$HOSTTMP/x.sock")
SRV=
cleanup() {
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
	rm -rf "$T" "$HID" "$RUND" "$HOSTTMP" "/var/tmp/gb-sock-$$.sock" "/var/tmp/gb-rootfs-$$"
}
trap cleanup EXIT

# One root-owned server on every socket, 0777; bounded (30 s, 50 clients).
python3 - "${SOCKS[@]}" <<'EOP' &
import os, select, socket, sys, time
ls = []
for p in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(p); os.chmod(p, 0o777); s.listen(8); ls.append(s)
end, n = time.time() + 30, 0
while time.time() < end and n < 50:
    r, _, _ = select.select(ls, [], [], 0.5)
    for s in r:
        c, _ = s.accept(); c.sendall(b"pong\n"); c.close(); n += 1
EOP
SRV=$!
for _ in $(seq 50); do [ -S "$HOSTTMP/x.sock" ] && break; sleep 0.1; done
CLIENT='import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1]); print("connected", s.recv(5).decode().strip())
except OSError as e:
    import errno; print(errno.errorcode.get(e.errno, e.errno))'
for s in "${SOCKS[@]}"; do
	check "host reaches $s (control)" "connected pong" "$(python3 -c "$CLIENT" "$s")"
	check "sandbox cannot reach $s" "ENOENT" "$(gbrun -- /usr/bin/python3 -c "$CLIENT" "$s")"
done

# mountinfo: the root, the policy's paths (and what is mounted below them),
# the workdir and the sandbox's own /proc /dev /tmp /var/tmp — nothing else.
allowed=(/usr /bin /sbin /lib /lib64 /etc /proc /dev /var/log /app /tmp /var/tmp "$W")
bad=
while read -r mp; do
	ok=0
	[ "$mp" = / ] && ok=1
	for a in "${allowed[@]}"; do
		case "$mp" in "$a" | "$a"/*) ok=1 ;; esac
	done
	[ $ok = 1 ] || bad="$bad $mp"
done < <(gbrun -- /bin/cat /proc/self/mountinfo | cut -d' ' -f5)
check "mountinfo shows only the sandbox's mounts" "" "$bad"
n_in=$(gbrun -- /bin/cat /proc/self/mountinfo | wc -l)
check "mountinfo is the sandbox's (< 40 lines)" yes "$([ "$n_in" -lt 40 ] && echo yes || echo "$n_in")"
check "/sys is not there" "read ENOENT" "$(gbrun -- ./escape_probe read /sys/kernel)"
check "/run is not there" "read ENOENT" "$(gbrun -- ./escape_probe read /run)"
check "/proc is the sandbox's" "1 2" "$(gbrun -- /bin/ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\n' ' ' | sed 's/ $//')"
for d in null zero full random urandom tty; do
	check "/dev/$d is a device" yes "$(gbrun -- /bin/sh -c "[ -c /dev/$d ] && echo yes")"
done
check "private devpts" yes "$(gbrun -- /bin/sh -c '[ -c /dev/pts/ptmx ] && [ -L /dev/ptmx ] && echo yes')"
for d in mem kmsg vda sda loop0 console; do
	check "host /dev/$d absent" "read ENOENT" "$(gbrun -- ./escape_probe read /dev/$d)"
done
check "/dev/zero usable" "4" "$(gbrun -- /bin/sh -c 'head -c 4 /dev/zero | wc -c')"

# Writes outside the read_write paths fail; the read_write ones work.
check "write /" "write EROFS" "$(gbrun -- ./escape_probe write /gb-x)"
check "write /usr" "write EROFS" "$(gbrun -- ./escape_probe write /usr/gb-x)"
check "write /etc/passwd" "write EROFS" "$(gbrun -- ./escape_probe write /etc/passwd)"
check "write /dev" "write EACCES" "$(gbrun -- ./escape_probe write /dev/gb-x)"
check "write workdir" "write OK" "$(gbrun -- ./escape_probe write "$W/x")"
check "write /tmp (private)" "write OK" "$(gbrun -- ./escape_probe write /tmp/gb-rootfs-$$)"
check "private /tmp not written through" "absent" "$([ -e /tmp/gb-rootfs-$$ ] && echo present || echo absent)"
echo secret >"$HOSTTMP/secret"; chmod 0644 "$HOSTTMP/secret"
check "host /tmp not visible" "read ENOENT" "$(gbrun -- ./escape_probe read "$HOSTTMP/secret")"
check "private /tmp is size-limited" "1" \
	"$(gbrun -- /bin/sh -c 'df -k /tmp | tail -1' | awk '{print ($2 <= 524288) ? 1 : $2}')"
check "nosuid on read_only binds" "1" \
	"$(gbrun -- /bin/cat /proc/self/mountinfo | awk '$5=="/usr"' | grep -c 'ro,nosuid,nodev')"

# A bind that cannot be made is a FINDING under best_effort and an error
# naming the path under hard_requirement: a policy directory so deep that
# its mount point in the new root would exceed PATH_MAX.
deep="$T/$(printf 'd%.0s' $(seq 200))"
for _ in $(seq 19); do deep="$deep/$(printf 'e%.0s' $(seq 200))"; done
deep="$deep/$(printf 'f%.0s' $(seq $((4080 - ${#deep}))))" # 4081 < PATH_MAX on the host
mkdir -p "$deep"
for mode in best_effort hard_requirement; do
	cat >"$T/$mode.yaml" <<EOP
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, "$deep"]
  read_write: [/tmp]
  include_workdir: true
landlock:
  compatibility: $mode
network_policies: {}
EOP
done
out=$("$GLASSBOX" --root "$ROOT" run --workdir "$W" --policy "$T/best_effort.yaml" -- /bin/true 2>&1)
check "best_effort: runs without the bind" 0 $?
check "best_effort: names what failed" 1 "$(echo "$out" | grep -c "private root: bind failed (File name too long): $T/ddd")"
out=$(gbrun --policy "$T/hard_requirement.yaml" -- /bin/true 2>&1)
check "hard_requirement: refuses to start" 125 $?
check "hard_requirement: names what failed" 1 "$(echo "$out" | grep -c "hard_requirement: private root: bind failed (File name too long): $T/ddd")"

# A policy symlink with an absolute target is recreated as it is; a mount
# point below it would lead out of the new root (before pivot_root, into
# the host's tree): refused with a FINDING instead.
ln -s /usr/lib "$T/abs"
printf 'version: 1\nfilesystem_policy:\n  read_only: [/usr, /bin, /lib, /lib64, /etc, %s, %s]\n' \
	"$T/abs" "$T/abs/os-release" >"$T/abs.yaml"
out=$("$GLASSBOX" --root "$ROOT" run --workdir "$W" --policy "$T/abs.yaml" -- /bin/true 2>&1)
check "symlink out of the root: still runs" 0 $?
check "symlink out of the root: named" 1 \
	"$(echo "$out" | grep -c "private root: mount point (a symlink leads out of the root) failed .*: $T/abs/os-release")"

# A policy that reads the whole host ("/") still gets the sandbox's own
# /etc/passwd line, /proc, /dev and private /tmp on top, read-only below.
printf 'version: 1\nfilesystem_policy:\n  read_only: [/]\n  read_write: [/tmp]\n' >"$T/all.yaml"
out=$("$GLASSBOX" --root "$ROOT" run --quiet --workdir "$W" --policy "$T/all.yaml" -- /bin/sh -c \
	'whoami; ls -A /tmp; touch /usr/gb-x 2>/dev/null || echo ro' 2>&1)
# (the private /tmp holds only the way to the workdir)
check "read_only /: named sandbox, private /tmp, read-only" "sandbox $(basename "$T") ro" "$(echo $out)"

# policy check: a host socket directory in a policy is a warning.
printf 'version: 1\nfilesystem_policy:\n  read_only: [/usr, /run]\n  read_write: [/var/run/dbus]\n' >"$T/sock.yaml"
out=$("$GLASSBOX" policy check "$T/sock.yaml" 2>&1)
check "policy check warns: /run" 1 "$(echo "$out" | grep -c "'/run' brings the host's socket directory /run")"
check "policy check warns: /var/run/dbus" 1 "$(echo "$out" | grep -c "'/var/run/dbus' brings the host's socket directory /var/run")"
finish
