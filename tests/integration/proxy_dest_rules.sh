#!/usr/bin/env bash
# Destination rules that need no DNS answer, applied alike by `policy
# explain` and the proxy (issue 14): an exactly declared host on a cluster
# control-plane port (2379, 2380, 6443, 10250, 10255) is refused by both.
# An exactly named host resolving to an internal range stays allowed, and
# its record says the address class; `--internal-needs-allowed-ips` makes
# the proxy refuse it unless allowed_ips covers it.
. "$(dirname "$0")/lib/netns_lib.sh"

cat >"$tmp/hosts" <<'H'
198.18.0.10     allowed.test kube.test covered.test
H
cat >"$tmp/policy.yaml" <<Y
version: 1
network_policies:
  web:
    endpoints:
      - {host: allowed.test, port: 80}
      - {host: covered.test, port: 80, allowed_ips: ["198.18.0.0/24"]}
    binaries: [{path: /usr/bin/curl}]
  kube:
    endpoints:
      - {host: kube.test, port: 6443}
      - {host: kube.test, port: 10250}
      - {host: "198.18.0.10", port: 2379}
    binaries: [{path: /usr/bin/curl}]
Y
mkdir -p "$tmp/www"
echo hello >"$tmp/www/hello.txt"
(cd "$tmp/www" && exec ip netns exec "$UNS" python3 -m http.server 80 --bind 198.18.0.10 >"$tmp/http.log" 2>&1) &
pids+=($!)
nft_counter_setup 6443

# 1. explain: every control-plane case is a deny, with the reason
for hp in kube.test:6443 kube.test:10250 198.18.0.10:2379; do
	out=$("$GLASSBOX" policy explain "$tmp/policy.yaml" --binary /usr/bin/curl --host "${hp%:*}" --port "${hp#*:}" --json) \
		&& fail "explain allowed $hp: $out"
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["verdict"]=="deny" and d["reason"]=="ssrf" and d["ssrf_tier"]=="control_plane_port", d' "$out" \
		|| fail "explain $hp: $out"
done
"$GLASSBOX" policy explain "$tmp/policy.yaml" --binary /usr/bin/curl --host allowed.test --port 80 >/dev/null \
	|| fail "explain allowed.test:80 must allow"

# 2. the proxy agrees, and sends nothing (not even a lookup is needed)
start() {
	bg "$CNS" "$GLASSBOX" proxy --policy "$tmp/policy.yaml" --listen 127.0.0.1:3128 --ring "$tmp/events$1.ring" \
		--hosts "$tmp/hosts" --workers 1 "${@:2}" >>"$tmp/proxy.log" 2>&1
	PROXY=$!
	wait_tcp "$CNS" 127.0.0.1 3128
}
stop() { kill "$PROXY"; wait "$PROXY" 2>/dev/null || true; }
st() { C curl -s -m 10 -o "$tmp/body" -w '%{http_code}' -x http://127.0.0.1:3128 "$@" || true; }
start 1
wait_tcp "$UNS" 198.18.0.10 80
[[ $(st http://kube.test:6443/) == 403 ]] || fail "proxy: kube.test:6443"
grep -q '"reason":"ssrf"' "$tmp/body" || fail "proxy 6443 reason: $(cat "$tmp/body")"
[[ $(st -p http://kube.test:10250/) == 000 ]] || fail "proxy: CONNECT kube.test:10250 must fail"
[[ $(counter U) == 0 ]] || fail "packets reached upstream :6443"
[[ $(st http://allowed.test/hello.txt) == 200 ]] || fail "exact host, internal address: allowed"
stop

# 3. the operator option: internal addresses need allowed_ips
start 2 --internal-needs-allowed-ips
[[ $(st http://allowed.test/hello.txt) == 403 ]] || fail "strict: internal address without allowed_ips"
grep -q '"reason":"ssrf"' "$tmp/body" || fail "strict reason: $(cat "$tmp/body")"
[[ $(st http://covered.test/hello.txt) == 200 ]] || fail "strict: allowed_ips covers it"
stop

# ---- records ----
"$GB_HELPER_DIR/ring_dump" "$tmp/events1.ring" 1000 >"$tmp/r1.jsonl"
"$GB_HELPER_DIR/ring_dump" "$tmp/events2.ring" 1000 >"$tmp/r2.jsonl"
python3 - "$tmp/r1.jsonl" "$tmp/r2.jsonl" <<'PY' || fail "records"
import json, sys
def opens(f):
    return [r for r in map(json.loads, open(f)) if r["type"] == "NET_DECISION" and r["phase"] == "open"]
a, b = opens(sys.argv[1]), opens(sys.argv[2])
cp = [r for r in a if r["port"] in (6443, 10250)]
assert len(cp) == 2 and all(r["verdict"] == "deny" and r["ssrf_tier"] == "control_plane_port" for r in cp), cp
ok = [r for r in a if r["host"] == "allowed.test"][0]
assert ok["verdict"] == "allow" and "address class internal" in ok["reason_text"], ok
s = [r for r in b if r["host"] == "allowed.test"][0]
assert s["verdict"] == "deny" and s["ssrf_tier"] == "internal", s
c = [r for r in b if r["host"] == "covered.test"][0]
assert c["verdict"] == "allow", c
print("records checked")
PY
echo "proxy_dest_rules: all cases passed"
