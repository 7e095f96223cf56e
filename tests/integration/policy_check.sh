#!/usr/bin/env bash
# `glassbox policy check` driven through the real binary: exit codes, the
# text and --json diagnostics (parsed with python3's json), the shipped
# policies, and hostile files (bounded in size and time).
set -euo pipefail
: "${GLASSBOX:?path of the glassbox binary}" "${GB_SOURCE_DIR:?source tree}"
tmp=$(mktemp -d /tmp/gb-policy-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. every shipped policy passes
n=0
for f in "$GB_SOURCE_DIR"/policies/default.yaml "$GB_SOURCE_DIR"/policies/examples/*.yaml; do
  "$GLASSBOX" policy check "$f" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "$f does not pass"; }
  grep -q ': ok: ' "$tmp/out" || fail "$f: no ok line"
  ! grep -q 'error:' "$tmp/err" || fail "$f: errors printed"
  n=$((n + 1))
done
(( n >= 5 )) || fail "expected the default and at least 4 examples, found $n"

# 2. an invalid file: exit 1, every error printed as file:line:col: error: field: message
cat >"$tmp/bad.yaml" <<'YAML'
version: 1
filesystem_policy:
  read_onyl: [/usr]
  read_write: [/]
process:
  run_as_user: root
network_policies:
  gh:
    endpoints:
      - host: api.github.com
        port: 70000
        protocol: rest
        access: readonly
    binaries:
      - path: /bin/bash
YAML
set +e
"$GLASSBOX" policy check "$tmp/bad.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
(( rc == 1 )) || fail "invalid policy: exit $rc, want 1"
for want in \
  "bad.yaml:3:3: error: filesystem_policy.read_onyl: unknown key 'read_onyl' (did you mean 'read_only'?)" \
  "bad.yaml:4:16: error: filesystem_policy.read_write[0]: read_write '/' is overly broad" \
  "bad.yaml:6:16: error: process.run_as_user: must not be root" \
  "bad.yaml:11:15: error: network_policies.gh.endpoints[0].port: expected a port number 1-65535" \
  "bad.yaml:13:17: error: network_policies.gh.endpoints[0].access: unknown value 'readonly'" \
  "bad.yaml:15:15: warning: network_policies.gh.binaries[0].path: '/bin/bash' is a shell" \
  "invalid: 5 errors, 2 warnings"; do
  grep -qF -- "$want" "$tmp/err" || { cat "$tmp/err"; fail "missing: $want"; }
done

# 3. --json: one array, parsed by python3, same content, same exit code
set +e
"$GLASSBOX" policy check "$tmp/bad.yaml" --json >"$tmp/json" 2>"$tmp/err"; rc=$?
set -e
(( rc == 1 )) || fail "--json invalid policy: exit $rc, want 1"
python3 - "$tmp/json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, list), d
keys = {"file", "line", "column", "path", "severity", "message", "suggestion"}
for x in d:
    assert set(x) == keys, x
errs = [x for x in d if x["severity"] == "error"]
warns = [x for x in d if x["severity"] == "warning"]
assert len(errs) == 5 and len(warns) == 2, d
first = d[0]
assert first["line"] == 3 and first["column"] == 3, first
assert first["path"] == "filesystem_policy.read_onyl", first
assert first["suggestion"] == "did you mean 'read_only'?", first
assert first["file"].endswith("bad.yaml"), first
assert any(x["path"] == "network_policies.gh.endpoints[0].port" and x["line"] == 11
           and x["column"] == 15 for x in errs), errs
PY
"$GLASSBOX" policy check "$GB_SOURCE_DIR/policies/examples/pypi.yaml" --json >"$tmp/json" \
  || fail "--json on a valid policy must exit 0"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(x["severity"]=="warning" for x in d) and d, d' "$tmp/json"

# 4. usage and I/O errors
set +e
"$GLASSBOX" policy check >/dev/null 2>&1; rc=$?
(( rc == 2 )) || fail "no FILE: exit $rc, want 2"
"$GLASSBOX" policy check "$tmp/bad.yaml" --frobnicate >/dev/null 2>&1; rc=$?
(( rc == 2 )) || fail "unknown option: exit $rc, want 2"
"$GLASSBOX" policy check "$tmp/missing.yaml" 2>"$tmp/err"; rc=$?
set -e
(( rc == 1 )) || fail "missing file: exit $rc, want 1"
grep -q "cannot open" "$tmp/err" || fail "missing file: no reason"

set +e
"$GLASSBOX" policy >/dev/null 2>&1; rc=$?
(( rc == 2 )) || fail "policy without a subcommand: exit $rc, want 2"
"$GLASSBOX" policy frobnicate >/dev/null 2>&1; rc=$?
(( rc == 2 )) || fail "unknown policy subcommand: exit $rc, want 2"
set -e
"$GLASSBOX" --help | grep -q '^  policy ' || fail "policy missing from glassbox --help"

# 5. hostile files: fail cleanly (exit 1, a diagnostic), never crash
head -c 65536 /dev/urandom >"$tmp/random.yaml"
python3 - "$tmp" <<'PY'
import sys
t = sys.argv[1]
open(t + "/deep.yaml", "w").write("[" * 200000)
laughs = "version: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
prev = "a"
for n in "bcdefghij":
    laughs += "%s: &%s [%s]\n" % (n, n, ", ".join(["*" + prev] * 10))
    prev = n
open(t + "/laughs.yaml", "w").write(laughs)
open(t + "/huge.yaml", "w").write("version: 1\nx: " + "a" * (9 << 20) + "\n")
open(t + "/nul.yaml", "wb").write(b"version: 1\nprocess:\n  run_as_user: \"\\0\"\n\x00\xff")
PY
for f in random deep laughs huge nul; do
  set +e
  timeout 60 "$GLASSBOX" policy check "$tmp/$f.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
  set -e
  (( rc == 1 )) || { cat "$tmp/err"; fail "$f: exit $rc, want 1"; }
  grep -q "error:" "$tmp/err" || fail "$f: no diagnostic"
done
echo "policy_check: ok"
