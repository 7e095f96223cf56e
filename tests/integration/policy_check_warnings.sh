#!/usr/bin/env bash
# `glassbox policy check` warns about binaries that hand their entry to
# whatever they run (issue 14): general launchers (git runs aliases and
# hooks; make, npm, ssh ProxyCommand), program launchers (env, xargs),
# shells, and binaries under writable paths (replaceable; first-use trust is
# per sandbox there).  Each warning names its line; a plain client does not
# get one, and warnings alone keep the exit status 0.
set -euo pipefail
: "${GLASSBOX:?path of the glassbox binary}"
tmp=$(mktemp -d /tmp/gb-policy-warn.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cat >"$tmp/p.yaml" <<'YAML'
version: 1
network_policies:
  tools:
    endpoints:
      - {host: example.test, port: 443}
    binaries:
      - path: /usr/bin/curl
      - path: /usr/bin/git
      - path: /usr/bin/make
      - path: /usr/bin/env
      - path: /usr/bin/xargs
      - path: /usr/bin/npm
      - path: /usr/bin/ssh
      - path: /bin/sh
      - path: /tmp/tool
      - path: /home/dev/bin/agent
      - path: /usr/local/bin/helper
YAML
"$GLASSBOX" policy check "$tmp/p.yaml" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "warnings must not fail the check"; }
want() { # LINE TEXT
	grep -q "p.yaml:$1:[0-9]*: warning: .*$2" "$tmp/err" || { cat "$tmp/err"; fail "no warning on line $1 ($2)"; }
}
want 8 "/usr/bin/git' is a general launcher"
want 9 "/usr/bin/make' is a general launcher"
want 10 "/usr/bin/env' is a program launcher"
want 11 "/usr/bin/xargs' is a program launcher"
want 12 "/usr/bin/npm' is a general launcher"
want 13 "/usr/bin/ssh' is a general launcher"
want 14 "/bin/sh' is a shell"
want 15 "/tmp/tool' is under /tmp/, which is usually writable"
want 16 "/home/dev/bin/agent' is under /home/, which is usually writable"
grep -q -e "p.yaml:7:" -e "p.yaml:17:" "$tmp/err" && { cat "$tmp/err"; fail "curl or /usr/local/bin warned"; }
echo "policy_check_warnings: all cases passed"
