#!/bin/bash
# bench/bench_tls.sh — HTTPS inspection cost: requests/s and per-request
# latency through glassbox's TLS termination (CONNECT, leaf from the sandbox
# CA, request decided by an L7 rule, re-encrypted upstream with
# verification), against a direct TLS connection, haproxy terminating and
# re-encrypting (reverse-proxy style: the client connects to it directly),
# and mitmproxy (mitmdump, CONNECT) when installed — one run, same
# upstream.  Needs root (network namespaces).
#
#   gbtc$$ (client ns, no default route)               gbtu$$ (upstream ns)
#     bench_tls_load -> 127.0.0.1:3128 glassbox proxy    198.18.0.10:443 haproxy
#                    -> 127.0.0.1:4443 haproxy TLS->TLS     (TLS, returns 200 "ok")
#                    -> 127.0.0.1:3140 mitmdump
#                    -> 198.18.0.10:443 directly
#
# Per path: keep-alive (one connection, KA_N requests one after another:
# p50/p99 per request; then 4 connections at once: requests/s) and fresh
# connections (FRESH_N, each TCP + CONNECT + full handshake + one request).
# Bounded: fixed counts, 10 s socket timeouts, < 2 min in all.
#
#   GLASSBOX=build/clang/cli/glassbox LOAD=build/clang/bench/bench_tls_load bench/bench_tls.sh [KA_N] [FRESH_N]
set -u
KA_N=${1:-5000}
FRESH_N=${2:-500}
[ "$KA_N" -ge 100 ] && [ "$KA_N" -le 200000 ] || { echo "KA_N must be 100..200000" >&2; exit 2; }
[ "$FRESH_N" -ge 20 ] && [ "$FRESH_N" -le 20000 ] || { echo "FRESH_N must be 20..20000" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
pick() { for c in "$@"; do [ -x "$c" ] && { echo "$c"; return; }; done; }
G=${GLASSBOX:-$(pick "$here/build/release/cli/glassbox" "$here/build/clang/cli/glassbox" "$here/build/debug/cli/glassbox")}
L=${LOAD:-$(pick "$here/build/release/bench/bench_tls_load" "$here/build/clang/bench/bench_tls_load" "$here/build/debug/bench/bench_tls_load")}
[ -n "$G" ] && [ -x "$G" ] || { echo "set GLASSBOX to the glassbox binary" >&2; exit 2; }
[ -n "$L" ] && [ -x "$L" ] || { echo "set LOAD to bench_tls_load" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
command -v haproxy >/dev/null || { echo "needs haproxy (scripts/bootstrap)" >&2; exit 2; }
case "$G" in *debug*) echo "note: $G looks like a Debug (ASan) build; use Release for figures" ;; esac
G=$(readlink -f "$G") L=$(readlink -f "$L")

tag=$$
CNS=gbtc$tag UNS=gbtu$tag
T=$(mktemp -d /tmp/gb-bench-tls.XXXXXX)
chmod 0755 "$T"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$CNS" 2>/dev/null
	ip netns del "$UNS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
die() { echo "bench_tls: $*" >&2; for f in "$T"/*.log; do [ -s "$f" ] && tail -5 "$f" >&2; done; exit 1; }
C() { ip netns exec "$CNS" "$@"; }
U() { ip netns exec "$UNS" "$@"; }
wait_port() { # NS IP PORT
	for _ in $(seq 100); do
		ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.1
	done
	die "nothing listens on $2:$3 in $1"
}
ip netns add "$CNS" && ip netns add "$UNS" || die "netns"
ip link add "vc$tag" type veth peer name "vu$tag"
ip link set "vc$tag" netns "$CNS" && ip link set "vu$tag" netns "$UNS"
C ip link set lo up && U ip link set lo up
C ip addr add 198.18.0.2/24 dev "vc$tag" && U ip addr add 198.18.0.10/24 dev "vu$tag"
C ip link set "vc$tag" up && U ip link set "vu$tag" up

python3 "$here/tests/helpers/tls_certs.py" "$T" api.test || die "certificates"
cat "$T/good.pem" "$T/good.key" >"$T/good.all"
cat >"$T/up.cfg" <<CFG
global
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend up
  bind 198.18.0.10:443 ssl crt $T/good.all alpn http/1.1
  http-request return status 200 content-type text/plain string ok
CFG
cat >"$T/term.cfg" <<CFG
global
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 127.0.0.1:4443 ssl crt $T/good.all alpn http/1.1
  default_backend be
backend be
  http-reuse always
  server up 198.18.0.10:443 ssl verify required ca-file $T/upca.pem sni str(api.test) verifyhost api.test alpn http/1.1
CFG
U haproxy -f "$T/up.cfg" -db >"$T/haproxy-up.log" 2>&1 & pids+=($!)
C haproxy -f "$T/term.cfg" -db >"$T/haproxy-term.log" 2>&1 & pids+=($!)
echo "198.18.0.10 api.test" >"$T/hosts"
cat >"$T/policy.yaml" <<'Y'
version: 1
network_policies:
  bench:
    endpoints:
      - host: api.test
        port: 443
        protocol: rest
        enforcement: enforce
        rules: [ { allow: { method: GET, path: "/bench" } } ]
    binaries: [ { path: "/**" } ]
Y
C "$G" -q proxy --policy "$T/policy.yaml" --listen 127.0.0.1:3128 --hosts "$T/hosts" --tls-dir "$T/ca" \
  --upstream-ca "$T/upca.pem" >"$T/glassbox.log" 2>&1 & pids+=($!)
mitm=$(command -v mitmdump || true)
if [ -n "$mitm" ]; then
	C "$mitm" -q --listen-host 127.0.0.1 --listen-port 3140 --set confdir="$T/mitm" \
	  --set ssl_verify_upstream_trusted_ca="$T/upca.pem" >"$T/mitm.log" 2>&1 & pids+=($!)
fi
wait_port "$UNS" 198.18.0.10 443
wait_port "$CNS" 127.0.0.1 3128
wait_port "$CNS" 127.0.0.1 4443
[ -n "$mitm" ] && wait_port "$CNS" 127.0.0.1 3140

# run NAME ADDR CA [connect [AUTHORITY]]: the three measures of one path
declare -A P50 P99 RPS FRESH FP50
run() {
	local name=$1 addr=$2 ca=$3; shift 3
	local ka_n=$KA_N fresh_n=$FRESH_N
	[ "$name" = mitmproxy ] && { ka_n=$((KA_N / 5)); fresh_n=$((FRESH_N / 5)); }
	C "$L" "$addr" api.test "$ca" 200 1 ka "$@" >/dev/null 2>&1 # warm-up (leaf minted, caches)
	local a b c
	a=$(C "$L" "$addr" api.test "$ca" "$ka_n" 1 ka "$@" 2>"$T/$name.err") || die "$name keep-alive: $a"
	b=$(C "$L" "$addr" api.test "$ca" "$((ka_n * 2))" 4 ka "$@" 2>>"$T/$name.err") || die "$name keep-alive x4: $b"
	c=$(C "$L" "$addr" api.test "$ca" "$fresh_n" 1 fresh "$@" 2>>"$T/$name.err") || die "$name fresh: $c"
	P50[$name]=$(sed -n 's/.*p50_us=\([0-9]*\).*/\1/p' <<<"$a")
	P99[$name]=$(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$a")
	RPS[$name]=$(sed -n 's/req_s=\([0-9]*\).*/\1/p' <<<"$b")
	FRESH[$name]=$(sed -n 's/req_s=\([0-9]*\).*/\1/p' <<<"$c")
	FP50[$name]=$(sed -n 's/.*p50_us=\([0-9]*\).*/\1/p' <<<"$c")
	printf '%-10s keep-alive p50 %6s us p99 %6s us | x4 %7s req/s | fresh %6s conn/s p50 %6s us\n' \
	  "$name" "${P50[$name]}" "${P99[$name]}" "${RPS[$name]}" "${FRESH[$name]}" "${FP50[$name]}"
}
echo "bench_tls: $KA_N keep-alive requests (x4: $((KA_N * 2)) on 4 connections), $FRESH_N fresh connections"
run direct 198.18.0.10:443 "$T/upca.pem"
run glassbox 127.0.0.1:3128 "$T/ca/ca-bundle.pem" connect
run haproxy 127.0.0.1:4443 "$T/upca.pem"
[ -n "$mitm" ] && run mitmproxy 127.0.0.1:3140 "$T/mitm/mitmproxy-ca-cert.pem" connect 198.18.0.10:443
echo
awk -v g="${P50[glassbox]}" -v d="${P50[direct]}" -v gf="${FP50[glassbox]}" -v df="${FP50[direct]}" \
  'BEGIN { printf "glassbox added latency: keep-alive p50 %.0f us (target < 1000), fresh p50 %.0f us\n", g - d, gf - df }'
awk -v g="${RPS[glassbox]}" -v h="${RPS[haproxy]}" -v gf="${FRESH[glassbox]}" -v hf="${FRESH[haproxy]}" \
  'BEGIN { printf "glassbox / haproxy: keep-alive %.2fx (target >= 0.8), fresh %.2fx\n", g / h, gf / hf }'
[ -n "$mitm" ] && awk -v g="${RPS[glassbox]}" -v m="${RPS[mitmproxy]}" -v gf="${FRESH[glassbox]}" -v mf="${FRESH[mitmproxy]}" \
  'BEGIN { printf "glassbox / mitmproxy: keep-alive %.1fx (target >= 10), fresh %.1fx\n", g / m, gf / mf }'
[ -z "$mitm" ] && echo "mitmproxy: not installed (Debian package mitmproxy), skipped"
exit 0
