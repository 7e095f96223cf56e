#!/usr/bin/env bash
# Signed journal checkpoints end to end: `glassbox serve` creates the host
# key at first start (0600), signs every seal and the tail (every
# checkpoint_interval and at stop), journals each checkpoint as a valid
# OCSF 1.8.0 event; `glassbox journal key` prints the public key and
# `journal verify --key` proves the whole journal.  Then the attacks: a
# daemon killed before its next checkpoint leaves a tail that is reported
# unproven; another host's key proves nothing; a byte flipped in a sealed
# segment breaks exactly that segment.
: "${GB_SOURCE_DIR:?}"
. "$(dirname "$0")/lib/serve_lib.sh"
G() { "$GLASSBOX" --root "$ROOT" "$@"; }
J=$ROOT/var/lib/glassbox/journal
K=$ROOT/var/lib/glassbox/keys

cat >"$ROOT/etc/glassbox/glassbox.yaml" <<'YAML'
journal:
  segment_size: 8KiB
  checkpoint_interval: 1s
  fsync: always
YAML

start_serve
[[ -f $K/journal.key ]] || fail "no key created at first start"
[[ $(stat -c %a "$K/journal.key") == 600 ]] || fail "key mode $(stat -c %a "$K/journal.key")"
[[ $(stat -c %a "$K") == 700 ]] || fail "keys dir mode $(stat -c %a "$K")"
for i in 1 2 3; do
	run_sandbox "c$i" 'for n in 1 2 3 4 5; do curl -s -m 2 http://example.com/ >/dev/null; done; true'
done
sleep 1.5 # at least one interval: a tail checkpoint while running
kill "$SERVE"
wait "$SERVE" 2>/dev/null || true
echo "ok   serve signs while running and at stop"

G journal key >"$T/pub.pem" 2>"$T/key.txt"
grep -q 'BEGIN PUBLIC KEY' "$T/pub.pem" || fail "journal key printed no PEM"
grep -q 'key id [0-9a-f]\{16\}' "$T/key.txt" || fail "no key id: $(cat "$T/key.txt")"
[[ $(find "$J" -name '*.jsonl.zst' | wc -l) -ge 2 ]] || fail "expected sealed segments"

# Verify on a copy, with only the public key: everything proven.
cp -a "$J" "$T/copy"
set +e
G journal verify --journal "$T/copy" --key "$T/pub.pem" >"$T/v1.txt" 2>&1
rc=$?
set -e
[[ $rc == 0 ]] || fail "verify exit $rc: $(cat "$T/v1.txt")"
grep -q '^proven: segments 1-' "$T/v1.txt" || fail "sealed segments not proven: $(cat "$T/v1.txt")"
grep -q '^unproven: none' "$T/v1.txt" || fail "a cleanly stopped journal has an unproven part: $(cat "$T/v1.txt")"
grep -q ' 0 invalid' "$T/v1.txt" || fail "invalid checkpoints: $(cat "$T/v1.txt")"
echo "ok   journal verify --key proves every event"

# The checkpoint events are valid OCSF and carry the signed fields.
# (read from the files: checkpoints belong to no sandbox, so `logs NAME` has none)
for f in $(find "$J" -name '*.jsonl.zst' -o -name '*.jsonl' | sort); do
	case $f in *.zst) zstdcat "$f" ;; *) cat "$f" ;; esac
done | grep 'glassbox-checkpoint/1' >"$T/ckpt.jsonl" || true
[[ $(grep -c . "$T/ckpt.jsonl") -ge 3 ]] || fail "checkpoint events missing from the journal"
grep -q '"kind":"seal"' "$T/ckpt.jsonl" || fail "no seal checkpoint"
grep -q '"kind":"tail"' "$T/ckpt.jsonl" || fail "no tail checkpoint"
. "$(dirname "$0")/lib/ocsf_lib.sh"
ocsf_full_schema || fail "the official OCSF export is missing"
if [[ -n $OCSF_FULL ]]; then
	python3 "$GB_SOURCE_DIR/tests/ocsf_validate.py" --official "$OCSF_FULL" "$T/ckpt.jsonl"
else
	python3 "$GB_SOURCE_DIR/tests/ocsf_validate.py" "$T/ckpt.jsonl"
fi
echo "ok   checkpoints are OCSF 1.8.0 events"

# Killed before the next checkpoint: the events after the last one are unproven.
cat >"$ROOT/etc/glassbox/glassbox.yaml" <<'YAML'
journal:
  segment_size: 1MiB
  checkpoint_interval: 1h
  fsync: always
YAML
start_serve
run_sandbox late 'curl -s -m 2 http://example.com/ >/dev/null; true'
sleep 0.5
kill -9 "$SERVE"
wait "$SERVE" 2>/dev/null || true
set +e
G journal verify --key "$T/pub.pem" >"$T/v2.txt" 2>&1
rc=$?
set -e
[[ $rc == 0 ]] || fail "verify exit $rc after a kill: $(cat "$T/v2.txt")"
grep -q '^unproven: segment [0-9]* events [0-9]*-[0-9]* (written after the last checkpoint)' "$T/v2.txt" ||
	grep -q '^unproven: segment [0-9]* events 1-[0-9]* (no checkpoint covers it)' "$T/v2.txt" ||
	fail "the unsigned tail is not reported: $(cat "$T/v2.txt")"
echo "ok   the tail after the last checkpoint is unproven"

# Another host's key: nothing is proven.
openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout >"$T/other.pem"
G journal verify --key "$T/other.pem" >"$T/v3.txt" 2>&1 || true
grep -q '^proven' "$T/v3.txt" && fail "another key proved something: $(cat "$T/v3.txt")"
grep -q ' 0 valid' "$T/v3.txt" || fail "another key's count: $(cat "$T/v3.txt")"
echo "ok   another key proves nothing"

# A flipped byte in sealed segment 2: exit 1, that segment named as broken.
# Segment 1's seal checkpoint is usually journaled in segment 2, so segment 1
# is then unproven (a sink's copy of the checkpoint is what would still prove
# it), else still proven; segment 3 onwards stay proven.
seg=$(find "$T/copy" -name '000000000002.jsonl.zst')
[[ -n $seg ]] || fail "no segment 2"
printf '\x00' | dd of="$seg" bs=1 seek=40 conv=notrunc 2>/dev/null
set +e
G journal verify --journal "$T/copy" --key "$T/pub.pem" >"$T/v4.txt" 2>&1
rc=$?
set -e
[[ $rc == 1 ]] || fail "verify exit $rc after tampering"
grep -q '^broken: segment 2 ' "$T/v4.txt" || fail "segment 2 not named broken: $(cat "$T/v4.txt")"
grep -q '^unproven: segment 1 events 1-\|^proven: segments 1-1 \|^proven: segment 1 events ' "$T/v4.txt" || fail "segment 1: $(cat "$T/v4.txt")"
grep -q '^proven: segments 3-' "$T/v4.txt" || fail "segments after the damage not proven: $(cat "$T/v4.txt")"
echo "ok   a tampered segment is named with its events"

set +e
G journal verify --key "$T/nosuch.pem" >/dev/null 2>&1; [[ $? == 2 ]] || fail "a missing --key is not a usage error"
set -e
echo "ok   usage"
