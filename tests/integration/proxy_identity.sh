#!/usr/bin/env bash
# Who the proxy says made a connection, attacked (issue 14), with
# `glassbox proxy` in a test network (lib/netns_lib.sh):
#  - a curl chrooted into a small root (bind mounts of /usr in a private
#    mount namespace): the kernel shows its exe as <root>/usr/bin/curl to
#    the proxy; the identity must be /usr/bin/curl, as the workload sees it
#    (and a file at <root>/usr/bin/curl on the host side must not be what
#    a policy entry for that host path matches);
#  - a preloaded library that wipes its environment is still flagged
#    ld_preload (from /proc/PID/maps), and a plain curl is not.
. "$(dirname "$0")/lib/netns_lib.sh"

cat >"$tmp/hosts" <<'H'
198.18.0.10     allowed.test
H
cat >"$tmp/policy.yaml" <<Y
version: 1
network_policies:
  up:
    endpoints:
      - {host: allowed.test, port: 80}
    binaries: [{path: /usr/bin/curl}]
Y
mkdir -p "$tmp/www"
echo hello >"$tmp/www/hello.txt"
(cd "$tmp/www" && exec ip netns exec "$UNS" python3 -m http.server 80 --bind 198.18.0.10 >"$tmp/http.log" 2>&1) &
pids+=($!)
bg "$CNS" "$GLASSBOX" proxy --policy "$tmp/policy.yaml" --listen 127.0.0.1:3128 --ring "$tmp/events.ring" \
	--hosts "$tmp/hosts" --workers 2 >"$tmp/proxy.log" 2>&1
wait_tcp "$CNS" 127.0.0.1 3128
wait_tcp "$UNS" 198.18.0.10 80
P=http://127.0.0.1:3128

# 1. chroot: a root with /usr bind-mounted (read-only) and the merged-/usr
#    links; the mounts live in a mount namespace of their own and vanish
#    with it.
root=$tmp/root
mkdir -p "$root/usr" "$root/etc" "$root/tmp" "$root/dev"
for l in bin lib lib64 sbin; do ln -s "usr/$l" "$root/$l"; done
cat >"$tmp/inroot.sh" <<'SH'
set -e
root=$1; shift
mount --make-rprivate /
mount --bind -o ro /usr "$root/usr"
mount --bind /dev "$root/dev"
exec chroot "$root" "$@"
SH
out=$(C unshare -m bash "$tmp/inroot.sh" "$root" /usr/bin/curl -s -m 10 -o /dev/null -w '%{http_code}' \
	-x "$P" http://allowed.test/hello.txt) || true
[[ $out == 200 ]] || fail "chrooted curl (listed as /usr/bin/curl) got $out"

# 2. LD_PRELOAD of a library that wipes the environment it was named in
cat >"$tmp/wipe.c" <<'C'
#include <string.h>
extern char **environ;
/* Overwrite the environment strings in place: /proc/PID/environ reads
 * this memory, so afterwards it shows no LD_PRELOAD. */
__attribute__((constructor)) static void wipe(void)
{
	for (char **e = environ; *e; e++)
		memset(*e, 0, strlen(*e));
}
C
gcc -shared -fPIC -o "$tmp/wipe.so" "$tmp/wipe.c"
[[ $(C env LD_PRELOAD="$tmp/wipe.so" curl -s -m 10 -o /dev/null -w '%{http_code}' -x "$P" \
	-H 'X-Case: preload' http://allowed.test/hello.txt) == 200 ]] || fail "preloaded curl"
# proof the wipe works: a preloaded process's environ no longer names it
C env LD_PRELOAD="$tmp/wipe.so" sleep 2 & spid=$!
pids+=($spid)
sleep 0.5
tr '\0' '\n' <"/proc/$spid/environ" | grep -q LD_PRELOAD && fail "the wipe library did not wipe"
[[ $(C curl -s -m 10 -o /dev/null -w '%{http_code}' -x "$P" -H 'X-Case: plain' http://allowed.test/hello.txt) == 200 ]] \
	|| fail "plain curl"

# ---- records ----
sleep 0.3
"$GB_HELPER_DIR/ring_dump" "$tmp/events.ring" 1000 >"$tmp/records.jsonl"
python3 - "$tmp/records.jsonl" <<'PY' || fail "records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
opens = [r for r in recs if r["type"] == "NET_DECISION" and r["phase"] == "open"]
assert len(opens) == 3, opens
chroot, pre, plain = opens
assert chroot["verdict"] == "allow" and chroot["exe"] == "/usr/bin/curl", chroot
PRELOAD = 0x2
assert pre["verdict"] == "allow" and pre["id_flags"] & PRELOAD, pre
assert not plain["id_flags"] & PRELOAD and not chroot["id_flags"] & PRELOAD, (plain, chroot)
print(len(recs), "records checked")
PY
echo "proxy_identity: all cases passed"
