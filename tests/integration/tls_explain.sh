#!/usr/bin/env bash
# OpenShell's L7 semantics inside TLS, each case decided twice: by
# `glassbox policy explain` (no traffic) and by the proxy terminating a real
# curl's HTTPS request.  Both must agree, and the key cases must give what
# OpenShell's decision means: method (GET covers HEAD), path globs (*, **,
# [0-9], [!0], ? one character but never '/' nor the query mark), query matchers (every value of a listed key), deny rules
# over allows, the endpoint path selector, access presets, audit as the
# default, canonicalisation (dot segments, %2F, allow_encoded_slash), an L4
# grant for the same host and port never bypassing an inspected endpoint,
# protocol: tcp authorised like L4.
. "$(dirname "$0")/lib/netns_lib.sh"
H=$GB_SOURCE_DIR/tests/helpers
hosts="m.test g.test q.test d.test sel.test aud.test enc.test mix.test tcp.test"
python3 "$H/tls_certs.py" "$tmp" "$(tr ' ' , <<<"$hosts")"
bg "$UNS" python3 "$H/https_server.py" --bind 198.18.0.10 --port 443 --cert "$tmp/good.pem" --key "$tmp/good.key" 2>"$tmp/https.log"
echo "198.18.0.10 $hosts" >"$tmp/hosts"
cat >"$tmp/policy.yaml" <<'Y'
version: 1
network_policies:
  l7:
    endpoints:
      - host: m.test
        port: 443
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: "/repos/*/issues" }
          - allow: { method: POST, path: "/repos/**" }
      - host: g.test
        port: 443
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: "/v*/item" }
          - allow: { method: GET, path: "/id/[0-9]*" }
          - allow: { method: GET, path: "/n/[!0]x" }
          - allow: { method: GET, path: "/r/v?/item-??" }
      - host: q.test
        port: 443
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: /s, query: { page: "[0-9]*", q: { any: ["a*", "b*"] } } }
      - host: d.test
        port: 443
        protocol: rest
        enforcement: enforce
        access: read-write
        deny_rules:
          - { method: POST, path: "/admin/**" }
          - { method: GET, path: /x, query: { debug: "1" } }
      - { host: sel.test, port: 443, protocol: rest, enforcement: enforce, path: "/api/**", access: read-only }
      - { host: sel.test, port: 443, protocol: rest, enforcement: enforce, path: "/up/**", access: read-write }
      - { host: aud.test, port: 443, protocol: rest, access: read-only }
      - { host: enc.test, port: 443, protocol: rest, enforcement: enforce, access: full, allow_encoded_slash: true }
      - { host: mix.test, port: 443, protocol: rest, enforcement: enforce, access: read-only }
      - { host: tcp.test, port: 443, protocol: tcp }
    binaries: [ { path: /usr/bin/curl } ]
  l4_grant:
    endpoints: [ { host: mix.test, port: 443 } ]
    binaries: [ { path: /usr/bin/curl } ]
Y
bg "$CNS" "$GLASSBOX" proxy --policy "$tmp/policy.yaml" --listen 127.0.0.1:3128 --ring "$tmp/events.ring" \
  --hosts "$tmp/hosts" --workers 2 --tls-dir "$tmp/ca" --upstream-ca "$tmp/upca.pem" 2>"$tmp/proxy.log"
wait_tcp "$CNS" 127.0.0.1 3128
wait_tcp "$UNS" 198.18.0.10 443

# case HOST METHOD PATH WANT: WANT is the HTTP status the proxy must answer
# (200 forwarded, 403 refused by the rules, 400 refused path) and the
# status explain's decision implies
n=0
case_() {
	local host=$1 method=$2 path=$3 want=$4
	"$GLASSBOX" policy explain "$tmp/policy.yaml" --binary /usr/bin/curl --host "$host" --port 443 \
	  --method "$method" --path "$path" --json >"$tmp/ex.json" 2>/dev/null || true
	local ex
	ex=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(200 if d["verdict"]=="allow" else 400 if d["reason"]=="l7_bad_path" else 403)' "$tmp/ex.json")
	local m=(-X "$method")
	[[ $method == HEAD ]] && m=(-I)
	local got
	got=$(C curl -s -g --path-as-is -o /dev/null -w '%{http_code}' --max-time 10 --proxy http://127.0.0.1:3128 \
	  --cacert "$tmp/ca/ca-bundle.pem" "${m[@]}" "https://$host$path")
	[[ $ex == "$want" ]] || fail "explain: $method $host$path -> $ex, want $want ($(cat "$tmp/ex.json"))"
	[[ $got == "$want" ]] || fail "proxy: $method $host$path -> $got, want $want (explain agrees: $ex)"
	n=$((n + 1))
}
case_ m.test GET /repos/a/issues 200
case_ m.test HEAD /repos/a/issues 200            # a GET rule covers HEAD
case_ m.test GET /repos/a/b/issues 403           # * stays inside one segment
case_ m.test POST /repos/a/b/c 200               # ** crosses segments
case_ m.test PUT /repos/a 403                    # method
case_ m.test GET /repos/a/./issues 200           # dot segment resolved before matching
case_ m.test GET /repos/a//issues 200            # // collapsed before matching
case_ m.test GET /repos/x/../a/issues 200
case_ m.test GET /../repos/a/issues 400          # .. above the root refused, not clamped
case_ m.test GET '/repos/a%2Fb/issues' 400       # %2F refused without allow_encoded_slash
case_ m.test GET '/repos/%61/issues' 200         # unreserved escape decoded: /repos/a/issues
case_ m.test GET '/repos/a;x=1/issues' 200       # ;params stripped
case_ g.test GET /v1/item 200
case_ g.test GET /v1/x/item 403
case_ g.test GET /id/7abc 200
case_ g.test GET /id/x 403
case_ g.test GET /n/1x 200
case_ g.test GET /n/0x 403
case_ g.test GET /r/v1/item-42 200               # ? is one character
case_ g.test GET /r/v/item-42 403                # ... not zero
case_ g.test GET /r/v12/item-42 403              # ... not two
case_ g.test GET /r/v1/item-4/ 403               # ... never a '/'
case_ g.test GET '/r/v1/item-4%2F' 400           # ... nor an encoded one
case_ g.test GET '/r/v1/item-4?' 403             # ... nor the query mark
case_ g.test GET '/r/v%31/item-42' 200           # matched after decoding
case_ q.test GET '/s?page=2&q=ab' 200
case_ q.test GET '/s?page=x&q=ab' 403
case_ q.test GET '/s?page=2' 403                 # a listed key must be present
case_ q.test GET '/s?page=2&q=a1&q=zz' 403       # every value of it must match
case_ q.test GET '/s?page=2&q=b&extra=1' 200     # unlisted keys are free
case_ d.test POST /a 200
case_ d.test POST /admin/x 403                   # deny rule over the preset
case_ d.test GET '/x?debug=1' 403
case_ d.test GET '/x?debug=0' 200
case_ d.test DELETE /a 403                       # read-write has no DELETE
case_ sel.test GET /api/x 200
case_ sel.test POST /api/x 403                   # the /api selector's endpoint is read-only
case_ sel.test POST /up/x 200
case_ sel.test GET /other 403                    # no selector takes it
case_ aud.test POST /x 200                       # audit (the default): forwarded
case_ aud.test GET /../x 400                     # a bad path is refused even in audit
case_ enc.test GET '/pkg/@scope%2Fname' 200      # allow_encoded_slash keeps %2F
case_ enc.test GET '/pkg/%2E%2E/x' 200
case_ mix.test GET /x 200
case_ mix.test POST /x 403                       # the L4 grant does not bypass the rules
# protocol: tcp is L4: the client sees the server's own certificate
"$GLASSBOX" policy explain "$tmp/policy.yaml" --binary /usr/bin/curl --host tcp.test --port 443 --json >"$tmp/ex.json"
[[ $(jq -r .l7 "$tmp/ex.json") == false && $(jq -r .verdict "$tmp/ex.json") == allow ]] || fail "tcp explain: $(cat "$tmp/ex.json")"
C curl -sS --max-time 10 --proxy http://127.0.0.1:3128 --cacert "$tmp/upca.pem" -o /dev/null https://tcp.test/x \
  || fail "protocol: tcp tunnel"
# ... and the mixed host is inspected at connection level too (not the L4 grant)
"$GLASSBOX" policy explain "$tmp/policy.yaml" --binary /usr/bin/curl --host mix.test --port 443 --json >"$tmp/ex.json"
[[ $(jq -r .l7 "$tmp/ex.json") == true && $(jq -r .mode "$tmp/ex.json") == enforce ]] || fail "mix explain: $(cat "$tmp/ex.json")"
echo "tls_explain: $n cases agree"
