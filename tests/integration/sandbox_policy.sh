# tests/integration/sandbox_policy.sh — the static policy sections as the
# sandbox applies them: filesystem lists, include_workdir, Landlock
# compatibility modes, process identity.
. "$(dirname "$0")/lib/sandbox_lib.sh"
P="$T/policies"
mkdir -p "$P" "$T/rw" "$T/ro"
chmod 0777 "$T/rw"
echo hello >"$T/ro/file"
chmod 0755 "$T/ro"
sbx_user_workdir "$W"

policy() { # NAME COMPAT INCLUDE_WORKDIR USER EXTRA_RO
	cat >"$P/$1.yaml" <<EOP
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom, $T/ro$5]
  read_write: [/tmp, /dev/null, $T/rw]
  include_workdir: $3
landlock:
  compatibility: $2
process:
  run_as_user: "$4"
network_policies: {}
EOP
}

policy base best_effort true sandbox ""
check "read_only dir readable" "read OK" "$(gbrun --policy "$P/base.yaml" -- ./escape_probe read "$T/ro/file")"
check "read_only dir not writable" "write EROFS" \
	"$(gbrun --policy "$P/base.yaml" -- ./escape_probe write "$T/ro/new")"
check "read_write dir writable" "write OK" \
	"$(gbrun --policy "$P/base.yaml" -- ./escape_probe write "$T/rw/new")"
check "workdir writable (include_workdir)" "write OK" \
	"$(gbrun --policy "$P/base.yaml" -- ./escape_probe write "$W/new")"

policy nowd best_effort false sandbox ""
# A workdir outside /tmp (which the policy makes writable anyway), owned by
# the sandbox user: only Landlock stands in the way.  The probe runs from
# the read_write dir.
W2=/var/tmp/gb-wd-$$
mkdir -p "$W2" && sbx_user_workdir "$W2"
trap 'rm -rf "$T" "$W2"' EXIT
cp "$W/escape_probe" "$T/rw/"
check "workdir not writable without include_workdir" "write EACCES" \
	"$("$GLASSBOX" --root "$ROOT" run --quiet --workdir "$W2" --policy "$P/nowd.yaml" -- "$T/rw/escape_probe" write "$W2/new")"
policy wd best_effort true sandbox ""
check "same workdir writable with include_workdir" "write OK" \
	"$("$GLASSBOX" --root "$ROOT" run --quiet --workdir "$W2" --policy "$P/wd.yaml" -- "$T/rw/escape_probe" write "$W2/new")"

# Missing path: best_effort runs (the path is skipped), hard_requirement
# refuses to start and names the path.
policy missing_be best_effort true sandbox ", /nonexistent-gb-$$"
gbrun --policy "$P/missing_be.yaml" -- /bin/true
check "best_effort with a missing path runs" 0 $?
policy missing_hard hard_requirement true sandbox ", /nonexistent-gb-$$"
msg=$("$GLASSBOX" --root "$ROOT" run --workdir "$W" --policy "$P/missing_hard.yaml" -- /bin/true 2>&1)
check "hard_requirement with a missing path: status" 125 $?
case "$msg" in *"hard_requirement"*"/nonexistent-gb-$$"*) r=yes ;; *) r="$msg" ;; esac
check "hard_requirement error names the path" yes "$r"
policy hard hard_requirement true sandbox ""
check "hard_requirement with every path present" "write OK" \
	"$(gbrun --policy "$P/hard.yaml" -- ./escape_probe write "$W/new3")"

# Numeric user: exactly that uid and gid, no supplementary groups.
policy numeric best_effort true 54321 ""
ids=$(gbrun --policy "$P/numeric.yaml" -- "$T/rw/escape_probe" ids)
check "numeric run_as_user uid" "uid 54321 54321 54321" "$(echo "$ids" | grep '^uid')"
check "numeric run_as_user groups" "groups" "$(echo "$ids" | grep '^groups')"
finish
