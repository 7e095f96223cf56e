#!/bin/bash
# tests/integration/sandbox_proxy_config.sh — the proxy options of
# `glassbox run` from its flags and from the daemon config's sandbox:
# section (issues 14, 15):
#   - internal_needs_allowed_ips: an exactly named host resolving to an
#     internal address (198.18.0.10) is allowed by default and refused
#     (403 ssrf) once the option is on, unless allowed_ips covers it;
#   - upstream_ca: an inspected HTTPS endpoint whose server has its own CA
#     is refused (502) unless the CA is configured; a flag wins over the file.
#
#   gbc$$: glassbox run (supervisor + proxy)     gbu$$: 198.18.0.10 :80 http.server
#          sandbox: lo only, 127.0.0.1:3128             :443 https_server.py (own CA)
. "$(dirname "$0")/lib/sandbox_lib.sh"
NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
netns_trap
H=$GB_SOURCE_DIR/tests/helpers
netns_setup
mkdir -p "$T/www"
echo hello >"$T/www/hello.txt"
upstream_http "$T/www" "$T/http80.log"
python3 "$H/tls_certs.py" "$T" tls.test
(exec ip netns exec "$UNS" python3 "$H/https_server.py" --bind 198.18.0.10 --port 443 --cert "$T/good.pem" \
	--key "$T/good.key" 2>"$T/https.log") & pids+=($!)
for _ in $(seq 50); do U bash -c 'exec 3<>/dev/tcp/198.18.0.10/443' 2>/dev/null && break; sleep 0.1; done
# another CA, trusted by nobody's server
mkdir -p "$T/other" && python3 "$H/tls_certs.py" "$T/other" tls.test

echo "198.18.0.10 allowed.test covered.test tls.test" >"$T/hosts"
cat >"$T/policy.yaml" <<'Y'
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/tmp, /dev/null]
landlock:
  compatibility: best_effort
network_policies:
  web:
    endpoints:
      - { host: allowed.test, port: 80 }
      - { host: covered.test, port: 80, allowed_ips: ["198.18.0.0/24"] }
      - { host: tls.test, port: 443, protocol: rest, enforcement: enforce, access: full,
          allowed_ips: ["198.18.0.10/32"] }
    binaries: [ { path: /usr/bin/curl } ]
Y
CONF="$ROOT/etc/glassbox/glassbox.yaml"
mkdir -p "$(dirname "$CONF")"
# st NAME URL [run flags...]: the HTTP status curl sees inside a sandbox
st() {
	local name=$1 url=$2
	shift 2
	C "${GBRUN[@]}" --name "$name" --policy "$T/policy.yaml" --hosts "$T/hosts" "$@" -- \
		/usr/bin/curl -s -m 10 -o /dev/null -w '%{http_code}' "$url" 2>"$T/$name.err"
}

# Defaults: the exact host's internal address is allowed; the upstream's
# own CA is unknown, so the inspected tunnel is refused.
rm -f "$CONF"
check "default: exact host on an internal address" 200 "$(st d1 http://allowed.test/hello.txt)"
check "default: unknown upstream CA refused" 502 "$(st d2 https://tls.test/echo)"

# The flags.
check "--internal-needs-allowed-ips refuses it" 403 \
	"$(st f1 http://allowed.test/hello.txt --internal-needs-allowed-ips)"
check "--internal-needs-allowed-ips: allowed_ips covers" 200 \
	"$(st f2 http://covered.test/hello.txt --internal-needs-allowed-ips)"
check "--upstream-ca trusts the server" 200 "$(st f3 https://tls.test/echo --upstream-ca "$T/upca.pem")"

# The same from the daemon config, with no flag.
cat >"$CONF" <<YAML
sandbox:
  internal_needs_allowed_ips: true
  upstream_ca: $T/upca.pem
YAML
check "config internal_needs_allowed_ips refuses it" 403 "$(st c1 http://allowed.test/hello.txt)"
check "config: allowed_ips covers" 200 "$(st c2 http://covered.test/hello.txt)"
check "config upstream_ca trusts the server" 200 "$(st c3 https://tls.test/echo)"
# A flag wins: another CA does not verify this server.
check "--upstream-ca overrides the config's" 502 "$(st c4 https://tls.test/echo --upstream-ca "$T/other/upca.pem")"
# A config CA that does not exist is named and stops the run.
printf 'sandbox:\n  upstream_ca: %s/nothere.pem\n' "$T" >"$CONF"
C "${GBRUN[@]}" --policy "$T/policy.yaml" -- /bin/true 2>"$T/miss.err"
check "missing config CA: exit 2" 2 $?
check "missing config CA: named" 1 "$(grep -c "sandbox.upstream_ca $T/nothere.pem" "$T/miss.err")"
finish
