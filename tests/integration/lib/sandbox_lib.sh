# tests/integration/lib/sandbox_lib.sh — shared setup for the sandbox_* tests
# (sourced; not a test itself: CTest only runs sandbox_*.sh that call it).
set -u
: "${GLASSBOX:?GLASSBOX must point to the glassbox binary}"
: "${GB_HELPER_DIR:?}"
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: glassbox run needs root"
	exit 0
fi
FAILS=0
# Workdir under /tmp (read_write in the default policy) and a private --root.
T=$(mktemp -d /tmp/gb-sbx-test.XXXXXX)
chmod 0755 "$T"
W="$T/work"
ROOT="$T/root"
mkdir -p "$W" "$ROOT"
cp "$GB_HELPER_DIR/escape_probe" "$W/"
trap 'rm -rf "$T"' EXIT
# The sandbox user must be able to write its workdir (Landlock allows, DAC decides).
# An array, not a function: `"${GBRUN[@]}" ... &` leaves $! = the supervisor.
GBRUN=("$GLASSBOX" --root "$ROOT" run --quiet --workdir "$W")
gbrun() { "${GBRUN[@]}" "$@"; }
# Each sandbox runs as a uid of its own from the range of
# enforcer/sandbox/limits.h (GB_UID_FIRST, GB_UID_COUNT).
SBX_UID_RE='18[0-9]{8}'
# A workdir owned by a non-root account is idmapped into the sandbox: the
# sandbox can write it and its files stay this owner's.
SBX_OWNER=4242:4242
# Inside a chroot the kernel makes no user namespace, hence no idmapping:
# glassbox then binds the workdir as it is (with a FINDING), and only what
# its permissions grant others is writable to the sandbox's uid.
if unshare -U true 2>/dev/null; then SBX_IDMAP=yes; else SBX_IDMAP=no; fi
sbx_user_workdir() { # DIR: owned by $SBX_OWNER with all below, writable inside either way
	chown -R "$SBX_OWNER" "$1"
	[ "$SBX_IDMAP" = yes ] || chmod -R a+rwX "$1"
}
sbx_uid() { # prints yes when $1 is a sandbox uid
	if [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1879048192 ] && [ "$1" -lt 1879113728 ]; then
		echo yes
	else
		echo "not a sandbox uid: '$1'"
	fi
}
# sbx_policy_yaml ENTRY HOST PORT BINARY: a policy with the suite's usual
# static sections and one network entry: BINARY may reach HOST:PORT (stdout)
sbx_policy_yaml() {
	cat <<Y
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/tmp, /dev/null]
  include_workdir: true
landlock:
  compatibility: best_effort
network_policies:
  $1:
    endpoints:
      - host: $2
        port: $3
    binaries:
      - path: $4
Y
}
check() { # check NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		echo "ok   $1"
	else
		echo "FAIL $1: expected '$2', got '$3'"
		FAILS=$((FAILS + 1))
	fi
}
finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
