# tests/integration/sandbox_records.sh — what `glassbox run` writes into the
# sandbox's ring: LIFECYCLE created/started/stopped with the posture, PROC
# launch and exit, FINDINGs for degraded layers.
. "$(dirname "$0")/lib/sandbox_lib.sh"
F="$GB_HELPER_DIR/sbx_ring_follow"
ring="$ROOT/run/glassbox/sandboxes/rec1/events.ring"
P="$T/p.yaml"
cat >"$P" <<EOP
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /nonexistent-gb-$$]
  read_write: [/tmp, /dev/null]
  include_workdir: true
landlock:
  compatibility: best_effort
network_policies: {}
EOP
# The follower attaches while CMD sleeps; the supervisor then waits for it
# to read the last records before removing the ring.
"$F" "$ring" 10000 >"$T/records" &
fol=$!
gbrun --name rec1 --policy "$P" -- /bin/sh -c 'sleep 0.5; exit 3'
check "exit status" 3 $?
wait "$fol"
check "follower saw the stopped record" 0 $?
sed 's/^/  rec: /' "$T/records"
uid=$SBX_UID_RE # each sandbox has its own uid
r=$(cat "$T/records")
has() { if echo "$r" | grep -qE "$2"; then check "$1" yes yes; else check "$1" "line matching $2" "none"; fi; }
has "LIFECYCLE created" '^LIFECYCLE created .* name=rec1$'
has "LIFECYCLE started with posture" "^LIFECYCLE started layers=ff abi=[0-9]+ uid=$uid rights=execute,.*truncate.* seccomp=filter.* name=rec1$"
has "PROC launch" "^PROC launch pid=[0-9]+ uid=$uid exe=/bin/sh sha256=[0-9a-f]{64} argv=/bin/sh -c sleep 0.5; exit 3$"
has "PROC exit" '^PROC exit pid=[0-9]+ code=3 signal=0 duration_ns=[0-9]{9,}$'
has "FINDING missing path" "^FINDING kind=2 sev=2 subject=/nonexistent-gb-$$ "
has "LIFECYCLE stopped" '^LIFECYCLE stopped .* name=rec1$'
check "order" "created started stopped" "$(echo "$r" | awk '$1 == "LIFECYCLE" { printf "%s%s", (n++ ? " " : ""), $2 }')"
check "ring removed after exit" absent "$([ -e "$ring" ] && echo present || echo absent)"

# PROC events as OCSF (issue 20, defect 6): the supervisor is the actor, the
# sandbox's init the parent, the exit carries the command line, and a
# relative command's path is canonical (no "/./").
cp /bin/true "$W/mytrue"
# ./mytrue ends within milliseconds, so a live follower can start reading
# after the ring has gone (seen on a loaded CI box). Nobody reads this run's
# ring, so the supervisor keeps it for the next serve: read that copy.
"${GBRUN[@]}" --name rec2 --policy "$P" -- ./mytrue one "two words" 2>"$T/rec2.err" &
sup=$!
wait "$sup"
check "relative command ran" 0 $?
kept=("$ROOT"/run/glassbox/leftover/rec2@*.ring)
check "unread ring kept" 1 "${#kept[@]}"
check "kept ring is a file" yes "$([ -f "${kept[0]}" ] && echo yes)"
"$F" "${kept[0]}" 10000 "$T/proc.ocsf" >/dev/null
r=$(python3 - "$T/proc.ocsf" "$sup" "$W/mytrue" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
p = [e for e in ev if e.get("class_uid") == 1007]
assert [e["activity_id"] for e in p] == [1, 2], [e.get("activity_id") for e in p]
for e in p:
    assert e["actor"]["process"]["pid"] == int(sys.argv[2]), ("actor", e["actor"])
    par = e["process"]["parent_process"]["pid"]
    assert par > 0 and par != int(sys.argv[2]), ("parent", par)
    assert e["process"]["path"] == sys.argv[3], e["process"]["path"]
    assert e["process"]["cmd_line"] == './mytrue one "two words"', e["process"].get("cmd_line")
print("yes")
PY
)
check "PROC actor, parent, cmd_line, canonical path" yes "$r"
finish
