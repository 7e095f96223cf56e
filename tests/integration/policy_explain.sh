#!/usr/bin/env bash
# `glassbox policy explain` through the real binary on the shipped example
# policies: exit status per verdict, the text and --json forms (parsed with
# python3), L7 requests with queries, and usage errors.
set -euo pipefail
: "${GLASSBOX:?path of the glassbox binary}" "${GB_SOURCE_DIR:?source tree}"
tmp=$(mktemp -d /tmp/gb-policy-explain.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ex="$GB_SOURCE_DIR/policies/examples"

# explain EXPECTED_RC ARGS... -> stdout in $tmp/out
explain() {
  local want=$1; shift
  set +e
  "$GLASSBOX" policy explain "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  set -e
  [[ $rc == "$want" ]] || { cat "$tmp/out" "$tmp/err" >&2; fail "explain $* -> exit $rc, want $want"; }
}
json_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval("d"+sys.argv[2]))' "$tmp/out" "$1"; }

# 1. L4 allow and the three kinds of deny
explain 0 "$ex/github-readonly.yaml" --binary /usr/bin/curl --host api.github.com --port 443
grep -q '^decision:  allow' "$tmp/out" || fail "allow text"
grep -q '^entry:     github_api' "$tmp/out" || fail "entry shown"
explain 1 "$ex/github-readonly.yaml" --binary /usr/bin/python3.11 --host api.github.com --port 443
grep -q 'reason:    binary_not_allowed' "$tmp/out" || fail "binary reason: $(cat $tmp/out)"
explain 1 "$ex/github-readonly.yaml" --binary /usr/bin/curl --host evil.test --port 443
grep -q 'reason:    no_endpoint' "$tmp/out" || fail "no endpoint reason"
explain 1 "$ex/github-readonly.yaml" --binary /usr/bin/curl --host api.github.com --port 80
# ancestors grant, scripts never do
explain 0 "$ex/github-readonly.yaml" --binary /bin/sh --ancestor /usr/bin/git --host github.com --port 443
explain 1 "$ex/github-readonly.yaml" --binary /usr/bin/perl --script /usr/bin/curl --host api.github.com --port 443

# 2. L7: rules, queries, canonicalisation
explain 0 "$ex/github-readonly.yaml" --binary /usr/bin/git --host github.com --port 443 \
  --method GET --path '/acme/repo/info/refs?service=git-upload-pack' --json
[[ $(json_field '["verdict"]') == allow ]] || fail "L7 allow json"
[[ $(json_field '["rule"]') != None ]] || fail "L7 rule named"
explain 1 "$ex/github-readonly.yaml" --binary /usr/bin/git --host github.com --port 443 \
  --method GET --path '/acme/repo/info/refs?service=git-receive-pack' --json
[[ $(json_field '["reason"]') == l7_not_permitted ]] || fail "query refused: $(cat $tmp/out)"
explain 1 "$ex/github-readonly.yaml" --binary /usr/bin/git --host github.com --port 443 \
  --method POST --path '/acme/repo/git-receive-pack' --json
[[ $(json_field '["verdict"]') == deny ]] || fail "push refused"
explain 1 "$ex/github-readonly.yaml" --binary /usr/bin/curl --host api.github.com --port 443 \
  --method GET --path '/../etc/passwd' --json
[[ $(json_field '["reason"]') == l7_bad_path ]] || fail "escaping path: $(cat $tmp/out)"
explain 1 "$ex/github-readonly.yaml" --binary /usr/bin/curl --host api.github.com --port 443 \
  --method DELETE --path '/repos/acme/x'
grep -q '^rule:' "$tmp/out" || fail "rule line for L7"

# 3. JSON is one object with the request echoed
explain 0 "$ex/github-readonly.yaml" --binary /usr/bin/curl --host API.GitHub.com. --port 443 --json
[[ $(json_field '["request"]["host"]') == API.GitHub.com. ]] || fail "host echoed"
[[ $(json_field '["mode"]') == enforce ]] || fail "mode"
[[ $(json_field '["policy_sha256"]') =~ ^[0-9a-f]{64}$ ]] || fail "hash"

# 4. every example answers without crashing for a probe request
for f in "$GB_SOURCE_DIR"/policies/default.yaml "$ex"/*.yaml; do
  set +e
  "$GLASSBOX" policy explain "$f" --binary /usr/bin/curl --host example.com --port 443 --json >"$tmp/out" 2>"$tmp/err"
  rc=$?
  set -e
  [[ $rc == 0 || $rc == 1 ]] || fail "$f: exit $rc"
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out" || fail "$f: bad json"
done
# the default policy denies all egress
explain 1 "$GB_SOURCE_DIR/policies/default.yaml" --binary /usr/bin/curl --host example.com --port 443

# 4b. IP-literal hosts get the destination tiers, as in the proxy: listed
#     and still refused (loopback, link-local, IPv4-mapped loopback).
cat >"$tmp/literal.yaml" <<'Y'
version: 1
network_policies:
  lit:
    endpoints:
      - {host: "127.0.0.1", port: 80}
      - {host: "::1", port: 80}
      - {host: "::ffff:127.0.0.1", port: 80}
      - {host: "169.254.169.254", port: 80}
      - {host: "198.18.0.10", port: 80}
    binaries: [{path: /usr/bin/curl}]
Y
for h in 127.0.0.1 '[::1]' ::1 ::ffff:127.0.0.1 169.254.169.254; do
  explain 1 "$tmp/literal.yaml" --binary /usr/bin/curl --host "$h" --port 80 --json
  [[ $(json_field '["reason"]') == ssrf ]] || fail "$h: reason $(cat "$tmp/out")"
done
[[ $(json_field '["ssrf_tier"]') == link_local ]] || fail "169.254.169.254 tier"
# an internal address named exactly by the endpoint is allowed
explain 0 "$tmp/literal.yaml" --binary /usr/bin/curl --host 198.18.0.10 --port 80

# 5. usage errors and bad files exit 2
explain 2 "$ex/github-readonly.yaml" --binary /usr/bin/curl --host x --port 0
explain 2 "$ex/github-readonly.yaml" --binary /usr/bin/curl --host x --port 443 --method GET
explain 2 "$ex/github-readonly.yaml" --host x --port 443
explain 2 "$ex/github-readonly.yaml" --binary /usr/bin/curl --host x --port 443 --bogus 1
printf 'version: 1\nnetwork_policies: [\n' >"$tmp/broken.yaml"
explain 2 "$tmp/broken.yaml" --binary /usr/bin/curl --host x --port 443
grep -q 'broken.yaml:' "$tmp/err" || fail "diagnostics for the broken file"
explain 2 /nonexistent/policy.yaml --binary /usr/bin/curl --host x --port 443
explain 0 --help
echo "policy explain: all cases passed"
