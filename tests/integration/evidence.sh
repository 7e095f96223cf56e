#!/usr/bin/env bash
# glassbox evidence export|verify: a bundle from a real daemon's journal is
# a plain tar (GNU tar and python's tarfile read it), verifies in a fresh
# directory with nothing but itself (and with the host key passed as
# --key), and fails — naming the segment and its events — when one byte of
# a bundled segment is altered, when a member is added, or when it is
# checked against another host's key.
: "${GB_SOURCE_DIR:?}"
. "$(dirname "$0")/lib/serve_lib.sh"
G() { "$GLASSBOX" --root "$ROOT" "$@"; }

cat >"$ROOT/etc/glassbox/glassbox.yaml" <<'YAML'
journal:
  segment_size: 8KiB
  checkpoint_interval: 1s
  fsync: always
YAML
start_serve
for i in 1 2; do
	run_sandbox "e$i" 'for n in 1 2 3 4; do curl -s -m 2 http://example.com/ >/dev/null; done; true'
done
kill "$SERVE"
wait "$SERVE" 2>/dev/null || true
G journal key >"$T/host.pem" 2>/dev/null

G evidence export --since 30d --out "$T/ev.tar" >"$T/export.txt" || fail "export: $(cat "$T/export.txt")"
grep -q 'segments, .* events, .* checkpoints' "$T/export.txt" || fail "export said: $(cat "$T/export.txt")"
tar -tf "$T/ev.tar" >"$T/members.txt" || fail "GNU tar cannot list the bundle"
for m in manifest.json journal.pub checkpoints.jsonl policy-revisions.jsonl; do
	grep -qx "$m" "$T/members.txt" || fail "no $m in the bundle"
done
grep -q '^journal/.*\.jsonl\.zst$' "$T/members.txt" || fail "no sealed segment in the bundle"
grep -q '^journal/.*\.idx\.json$' "$T/members.txt" || fail "no index in the bundle"
echo "ok   export writes a plain tar with every part"

# On "another machine": a fresh directory, no root, no journal.
mkdir "$T/elsewhere"
cp "$T/ev.tar" "$T/elsewhere/"
(cd "$T/elsewhere" && "$GLASSBOX" --root "$T/elsewhere/nothing" evidence verify ev.tar) >"$T/v1.txt" 2>&1 ||
	fail "verify of an intact bundle: $(cat "$T/v1.txt")"
grep -q ': ok$' "$T/v1.txt" || fail "not ok: $(cat "$T/v1.txt")"
grep -q '^proven: segments 1-' "$T/v1.txt" || fail "nothing proven: $(cat "$T/v1.txt")"
grep -q 'the copy inside the bundle' "$T/v1.txt" || fail "does not say which key it trusted"
"$GLASSBOX" --root "$T/elsewhere/nothing" evidence verify "$T/elsewhere/ev.tar" --key "$T/host.pem" >"$T/v2.txt" 2>&1 ||
	fail "verify with the host key: $(cat "$T/v2.txt")"
echo "ok   the bundle verifies on its own, and with the host key"

# One byte of segment 2's data altered inside the tar.
python3 - "$T/elsewhere/ev.tar" "$T/bad.tar" <<'PY'
import shutil, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
shutil.copy(src, dst)
with tarfile.open(src) as t:
    m = next(m for m in t.getmembers() if m.name.endswith("000000000002.jsonl.zst"))
with open(dst, "r+b") as f:
    f.seek(m.offset_data + 20)
    b = f.read(1)
    f.seek(m.offset_data + 20)
    f.write(bytes([b[0] ^ 0x01]))
PY
set +e
"$GLASSBOX" evidence verify "$T/bad.tar" >"$T/v3.txt" 2>&1
rc=$?
set -e
[[ $rc == 1 ]] || fail "verify exit $rc for an altered bundle: $(cat "$T/v3.txt")"
grep -q 'problem: journal/.*000000000002.jsonl.zst: differs from the manifest .*: segment 2, events 1-[0-9]* (.* to .*) are not as exported' "$T/v3.txt" ||
	fail "the altered range is not named: $(cat "$T/v3.txt")"
grep -q '^broken: segment 2 ' "$T/v3.txt" || fail "segment 2 not broken: $(cat "$T/v3.txt")"
echo "ok   one altered byte fails verify, naming segment 2 and its events"

# A member added after export.
cp "$T/elsewhere/ev.tar" "$T/added.tar"
echo '{}' >"$T/extra.jsonl"
python3 - "$T/added.tar" "$T/extra.jsonl" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], "a", format=tarfile.USTAR_FORMAT) as t:
    t.add(sys.argv[2], arcname="journal/extra.jsonl")
PY
set +e
"$GLASSBOX" evidence verify "$T/added.tar" >"$T/v4.txt" 2>&1
rc=$?
set -e
[[ $rc == 1 ]] || fail "verify exit $rc with an added member"
grep -q 'journal/extra.jsonl: in the bundle but not in the manifest' "$T/v4.txt" || fail "added member: $(cat "$T/v4.txt")"
echo "ok   an added member is caught"

# Another host's key: the bundle does not verify as this host's.
openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout >"$T/other.pem"
set +e
"$GLASSBOX" evidence verify "$T/elsewhere/ev.tar" --key "$T/other.pem" >"$T/v5.txt" 2>&1
rc=$?
set -e
[[ $rc == 1 ]] || fail "verify exit $rc under another key"
grep -q 'exported under key' "$T/v5.txt" || fail "key mismatch not said: $(cat "$T/v5.txt")"
grep -q '^proven' "$T/v5.txt" && fail "another key proved something"
echo "ok   another host's key proves nothing"

# Not a bundle / a hostile tar: usage-level errors, nothing written outside.
head -c 700 "$T/elsewhere/ev.tar" >"$T/trunc.tar"
set +e
"$GLASSBOX" evidence verify "$T/trunc.tar" >/dev/null 2>&1; [[ $? == 2 ]] || fail "a truncated tar is not refused"
python3 - "$T/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.USTAR_FORMAT) as t:
    data = b"pwned"
    i = tarfile.TarInfo("../../escaped"); i.size = len(data)
    t.addfile(i, io.BytesIO(data))
PY
(cd "$T" && "$GLASSBOX" evidence verify evil.tar >/dev/null 2>&1); [[ $? == 2 ]] || fail "a ../ member is not refused"
set -e
[[ ! -e ${TMPDIR:-/tmp}/escaped && ! -e /escaped ]] || fail "a member escaped the unpack directory"
echo "ok   truncated and hostile tars are refused"
