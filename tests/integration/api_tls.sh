#!/usr/bin/env bash
# The API's TCP listener over TLS with client certificates (api/api_tls.c),
# attacked with real curl on loopback: the server certificate verifies
# against its CA (and not against another), a client certificate from the
# client CA gets in, one from another CA, an expired one, one for servers
# only, and none at all are refused (before the token is looked at), the
# token is still needed with a good certificate, plain HTTP gets nothing,
# and bad TLS settings (a key others can read, a key that is not the
# certificate's, a client CA without TLS, TLS without a TCP listener) stop
# the daemon with a sentence.
. "$(dirname "$0")/lib/serve_lib.sh"
command -v openssl >/dev/null || { echo "SKIP: needs openssl"; exit 77; }
P=$T/pki
mkdir -p "$P"
cd "$P"
# ca NAME: a CA; leaf NAME CA EXT [DAYS-FLAGS]: a certificate signed by it
ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
	-days 2 -keyout "$1.key" -out "$1.pem" 2>/dev/null; }
leaf() {
	local n=$1 c=$2 ext=$3; shift 3
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n" \
		-keyout "$n.key" -out "$n.csr" 2>/dev/null
	printf '%s\n' "$ext" >"$n.ext"
	openssl x509 -req -in "$n.csr" -CA "$c.pem" -CAkey "$c.key" -CAcreateserial \
		-extfile "$n.ext" -out "$n.pem" "$@" 2>/dev/null
}
ca server-ca
ca client-ca
ca other-ca
leaf server server-ca "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth" -days 2
leaf good client-ca "extendedKeyUsage=clientAuth" -days 2
leaf stranger other-ca "extendedKeyUsage=clientAuth" -days 2
leaf serveronly client-ca "extendedKeyUsage=serverAuth" -days 2
# expired: -days 0 makes notAfter the second of signing; it is past once
# that second is over (waited for, at most 2 s, before it is used)
leaf expired client-ca "extendedKeyUsage=clientAuth" -days 0
expired_at=$(date +%s)
chmod 0600 ./*.key
cd - >/dev/null
for f in server good stranger serveronly expired; do [[ -s $P/$f.pem ]] || fail "openssl made no $f.pem"; done
port=$((20000 + ($$ + 7) % 20000))
tok=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
echo "$tok" >"$T/token"; chmod 0600 "$T/token"
serve_tls() { "$GLASSBOX" --root "$ROOT" serve --api-listen "127.0.0.1:$port" --api-token "$T/token" "$@"; }
U=https://127.0.0.1:$port

# ---- bad settings stop the daemon, with a sentence ----
chmod 0644 "$P/server.key"
serve_tls --api-tls-cert "$P/server.pem" --api-tls-key "$P/server.key" >"$T/bad.log" 2>&1 &&
	fail "a key others can read was accepted"
grep -q 'readable by group or others' "$T/bad.log" || fail "key mode message: $(cat "$T/bad.log")"
chmod 0600 "$P/server.key"
serve_tls --api-tls-cert "$P/server.pem" --api-tls-key "$P/good.key" >"$T/bad.log" 2>&1 &&
	fail "a key that is not the certificate's was accepted"
grep -q 'do not load as a certificate and its key' "$T/bad.log" || fail "pair message: $(cat "$T/bad.log")"
serve_tls --api-client-ca "$P/client-ca.pem" >"$T/bad.log" 2>&1 && fail "a client CA without TLS was accepted"
grep -q 'needs both a certificate and its key' "$T/bad.log" || fail "CA-only message: $(cat "$T/bad.log")"
"$GLASSBOX" --root "$ROOT" serve --api-tls-cert "$P/server.pem" --api-tls-key "$P/server.key" \
	>"$T/bad.log" 2>&1 && fail "TLS without a TCP listener was accepted"
grep -q 'give --api-listen too' "$T/bad.log" || fail "no-listener message: $(cat "$T/bad.log")"
echo "ok   bad TLS settings refused: key mode, mismatched key, CA without TLS, TLS without TCP"

# ---- TLS with client certificates ----
"$GLASSBOX" --root "$ROOT" serve --api-listen "127.0.0.1:$port" --api-token "$T/token" \
	--api-tls-cert "$P/server.pem" --api-tls-key "$P/server.key" --api-client-ca "$P/client-ca.pem" \
	>>"$T/serve.log" 2>&1 &
SERVE=$!; pids+=($SERVE)
for _ in $(seq 100); do
	curl -s -o /dev/null --cacert "$P/server-ca.pem" "$U/v1/health" 2>/dev/null && break
	sleep 0.05
done
# t ARGS...: the status code (000 when the connection fails)
t() { curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$@" || true; }
auth=(-H "Authorization: Bearer $tok")
good=(--cacert "$P/server-ca.pem" --cert "$P/good.pem" --key "$P/good.key")
[[ $(t "${good[@]}" "${auth[@]}" "$U/v1/health") == 200 ]] || fail "good certificate + token: $(cat "$T/body")"
grep -q '"ok"' "$T/body" || fail "health body: $(cat "$T/body")"
[[ $(t "${good[@]}" "${auth[@]}" "$U/v1/sandboxes") == 200 ]] || fail "good certificate: sandboxes"
# the server's certificate: verified against its CA, refused against another
rc=0; curl -s -o /dev/null --max-time 10 --cacert "$P/other-ca.pem" --cert "$P/good.pem" \
	--key "$P/good.key" "${auth[@]}" "$U/v1/health" || rc=$?
[[ $rc == 60 ]] || fail "the server certificate verified against another CA (curl exit $rc)"
# no client certificate: 401, whatever the token
[[ $(t --cacert "$P/server-ca.pem" "${auth[@]}" "$U/v1/health") == 401 ]] || fail "no client certificate: $(cat "$T/body")"
grep -q 'needs a client certificate' "$T/body" || fail "no-cert detail: $(cat "$T/body")"
# another CA's certificate, an expired one, one for servers only: 403
for _ in $(seq 20); do (($(date +%s) > expired_at + 1)) && break; sleep 0.2; done
for c in stranger expired serveronly; do
	code=$(t --cacert "$P/server-ca.pem" --cert "$P/$c.pem" --key "$P/$c.key" "${auth[@]}" "$U/v1/health")
	[[ $code == 403 ]] || fail "client certificate '$c': $code $(cat "$T/body")"
	grep -q 'client certificate refused' "$T/body" || fail "'$c' detail: $(cat "$T/body")"
done
# a good certificate is not a token
[[ $(t "${good[@]}" "$U/v1/health") == 401 ]] || fail "good certificate without token"
[[ $(t "${good[@]}" -H "Authorization: Bearer wrong$tok" "$U/v1/health") == 403 ]] || fail "good certificate, wrong token"
# plain HTTP on the TLS port answers nothing usable
[[ $(t "${auth[@]}" "http://127.0.0.1:$port/v1/health") != 200 ]] || fail "plain HTTP answered on the TLS listener"
# the unix socket is unchanged
[[ $(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$ROOT/run/glassbox/api.sock" http://gb/v1/health) == 200 ]] ||
	fail "the unix socket"
echo "ok   TLS: server certificate verified (and not by another CA); client certificate good 200, none 401, other CA / expired / server-only 403; token still required"
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true

# ---- TLS without client certificates: the token alone ----
"$GLASSBOX" --root "$ROOT" serve --api-listen "127.0.0.1:$port" --api-token "$T/token" \
	--api-tls-cert "$P/server.pem" --api-tls-key "$P/server.key" >>"$T/serve.log" 2>&1 &
SERVE=$!; pids+=($SERVE)
for _ in $(seq 100); do
	curl -s -o /dev/null --cacert "$P/server-ca.pem" "$U/v1/health" 2>/dev/null && break
	sleep 0.05
done
[[ $(t --cacert "$P/server-ca.pem" "${auth[@]}" "$U/v1/health") == 200 ]] || fail "TLS, token, no client CA"
[[ $(t --cacert "$P/server-ca.pem" "$U/v1/health") == 401 ]] || fail "TLS without token"
echo "ok   TLS without a client CA: the token decides"
echo "all checks passed"
