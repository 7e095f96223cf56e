# tests/integration/sandbox_audit.sh — Landlock denials and seccomp
# refusals read from the kernel audit stream become findings naming the
# path or syscall, the right and the process.
# Enables kernel auditing for the duration of the test and restores it.
. "$(dirname "$0")/lib/sandbox_lib.sh"
AC="$GB_HELPER_DIR/audit_ctl"
prev=$("$AC" get) || { echo "FAIL: cannot query kernel audit"; exit 1; }
trap '"$AC" set "$prev" >/dev/null; rm -rf "$T"' EXIT

# The private /var/tmp is a world-writable tmpfs that the default policy does
# not grant: only Landlock stands in the way of creating a file there.  (With
# private roots, what no policy names is not visible at all, so a denial
# needs something the root shows but the policy does not grant.)
# With auditing off, the run says denials are not recorded (no failure).
"$AC" set 0 >/dev/null
out=$("$GLASSBOX" --root "$ROOT" run --workdir "$W" -- /usr/bin/touch /var/tmp/gb-audit 2>&1)
check "denied with audit off" 1 $?
case "$out" in *"denied: /var/tmp:"*) r=reported ;; *) r=silent ;; esac
check "nothing reported with audit off" silent "$r"

"$AC" set 1 >/dev/null
out=$("$GLASSBOX" --root "$ROOT" run --workdir "$W" -- /usr/bin/touch /var/tmp/gb-audit 2>&1)
check "denied with audit on" 1 $?
echo "$out" | sed 's/^/  out: /'
line=$(echo "$out" | grep "glassbox: denied: /var/tmp:")
case "$line" in *"Landlock denied fs.make_reg (/usr/bin/touch, pid "*" uid 18"[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]","*) r=yes ;; *) r="$line" ;; esac
check "denial reported with path, right, exe, uid" yes "$r"
# The same denial as a FINDING record in the sandbox's ring, with identity.
ring="$ROOT/run/glassbox/sandboxes/aud1/events.ring"
"$GB_HELPER_DIR/sbx_ring_follow" "$ring" 10000 >"$T/records" &
fol=$!
"$GLASSBOX" --root "$ROOT" run --quiet --name aud1 --workdir "$W" -- /bin/sh -c \
	"sleep 0.3; /usr/bin/touch /var/tmp/gb-audit" 2>/dev/null
wait "$fol"
rec=$(grep "^FINDING kind=3 " "$T/records")
case "$rec" in *"subject=/var/tmp pid="*" uid=18"[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]" exe=/usr/bin/touch detail=Landlock denied fs.make_reg"*) r=yes ;; *) r="$rec" ;; esac
check "denial recorded in the ring with identity" yes "$r"

# A supervisor started in another network namespace (ip netns exec, a
# container's) records the same denial: the kernel multicasts audit records
# only in the initial namespace, so the supervisor makes its socket there.
out=$(unshare --net "$GLASSBOX" --root "$ROOT" run --workdir "$W" -- /usr/bin/touch /var/tmp/gb-audit 2>&1)
check "denied from another netns" 1 $?
case "$out" in *"glassbox: denied: /var/tmp: Landlock denied fs.make_reg (/usr/bin/touch, pid "*) r=yes ;; *) r="$out" ;; esac
check "denial reported from another netns" yes "$r"
"$GB_HELPER_DIR/sbx_ring_follow" "$ROOT/run/glassbox/sandboxes/aud2/events.ring" 10000 >"$T/records2" &
fol=$!
unshare --net "$GLASSBOX" --root "$ROOT" run --quiet --name aud2 --workdir "$W" -- /bin/sh -c \
	"sleep 0.3; /usr/bin/touch /var/tmp/gb-audit" 2>/dev/null
wait "$fol"
case "$(grep "^FINDING kind=3 " "$T/records2")" in *"subject=/var/tmp pid="*"exe=/usr/bin/touch detail=Landlock denied fs.make_reg"*) r=yes ;; *) r=$(cat "$T/records2") ;; esac
check "denial recorded in the ring from another netns" yes "$r"
# When the initial namespace cannot be entered (its ns links hidden here),
# the run says plainly that denials cannot be seen, on stderr and as a FINDING.
"$GB_HELPER_DIR/sbx_ring_follow" "$ROOT/run/glassbox/sandboxes/aud3/events.ring" 10000 >"$T/records3" &
fol=$!
out=$(unshare --net --mount sh -c 'mount -t tmpfs none /proc/2/ns && mount -t tmpfs none /proc/1/ns &&
	exec "$0" --root "$1" run --name aud3 --workdir "$2" -- /bin/sh -c "sleep 0.3; /usr/bin/touch /var/tmp/gb-audit"' \
	"$GLASSBOX" "$ROOT" "$W" 2>&1)
wait "$fol"
case "$out" in *"outside the initial network namespace and cannot enter it"*) r=yes ;; *) r="$out" ;; esac
check "unseen denials said on stderr" yes "$r"
case "$(grep "^FINDING kind=" "$T/records3")" in *"outside the initial network namespace"*) r=yes ;; *) r=$(cat "$T/records3") ;; esac
check "unseen denials said as a FINDING" yes "$r"

# seccomp refusals: logged while auditing is on, attributed by pid namespace.
out=$("$GLASSBOX" --root "$ROOT" run --workdir "$W" -- ./escape_probe all 2>&1 >/dev/null)
case "$out" in *"denied: seccomp refused memfd_create ($W/escape_probe, pid "*" uid 18"[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]")"*) r=yes ;; *) r="$out" ;; esac
check "seccomp refusal reported" yes "$r"
# The last things a workload does before it exits are recorded too: the
# supervisor stops reading the audit stream only once its own end mark came
# back behind the sandbox's records (or the Landlock domain's end), never
# after a guessed quiet time.  Twelve refusals, then exit at once; a denied
# file creation as the very last act.
out=$("$GLASSBOX" --root "$ROOT" run --workdir "$W" -- /usr/bin/python3 -c '
import os
for i in range(12):
    try:
        os.memfd_create("x%d" % i)
    except OSError:
        pass
os._exit(0)' 2>&1 >/dev/null)
check "every refusal just before exit recorded" 12 "$(echo "$out" | grep -c 'denied: seccomp refused memfd_create')"
out=$("$GLASSBOX" --root "$ROOT" run --workdir "$W" -- /bin/sh -c 'echo x >/var/tmp/gb-last; exit 0' 2>&1)
check "a denial as the last act recorded" 1 "$(echo "$out" | grep -c 'denied: /var/tmp:')"
# Reads that are allowed produce nothing.
out=$("$GLASSBOX" --root "$ROOT" run --workdir "$W" -- /bin/cat /etc/hostname 2>&1 >/dev/null)
check "no denial for an allowed read" "" "$(echo "$out" | grep 'denied:')"
finish
