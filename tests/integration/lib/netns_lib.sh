# tests/integration/lib/netns_lib.sh — a two-namespace test network (sourced).
#
#   $CNS (clients, proxy; NO default route)      $UNS (upstream hosts)
#     lo                                            lo
#     198.18.0.2/24 ------------ veth ------------  198.18.0.10/24 (+ extra addresses)
#
# Names come from $tmp/hosts (written by the test).  Everything the test
# starts in the background goes through bg(), so cleanup ends it by pid.
# Sets: tmp CNS UNS pids; functions C U bg fail wait_tcp nft_counter_setup
# counter.
# Sourced as is, it sets everything up for a proxy test (set -e, $tmp, the
# trap, the network).  With NETNS_LIB_EMBED=1 it only defines the functions
# (netns_setup, netns_teardown, nft_counter_setup, counter, C, U), for a
# test or benchmark with its own setup (sandbox_net.sh, bench/bench_proxy.sh).

C() { ip netns exec "$CNS" "$@"; }
U() { ip netns exec "$UNS" "$@"; }

# netns_setup [PREFIX]: the two namespaces (PREFIXc$$, PREFIXu$$; default
# prefix gb) and the veth; returns 1 when they cannot be made (callers
# without set -e check it), exits 1 if the client side has a default route.
netns_setup() {
	tag=$$
	CNS=${1:-gb}c$tag UNS=${1:-gb}u$tag
	ip netns add "$CNS" || return 1
	ip netns add "$UNS" || return 1
	ip link add "vc$tag" type veth peer name "vu$tag" || return 1
	ip link set "vc$tag" netns "$CNS"
	ip link set "vu$tag" netns "$UNS"
	C ip link set lo up
	U ip link set lo up
	C ip addr add 198.18.0.2/24 dev "vc$tag"
	U ip addr add 198.18.0.10/24 dev "vu$tag"
	C ip link set "vc$tag" up
	U ip link set "vu$tag" up
	if C ip route | grep -q '^default'; then
		echo "FAIL: client namespace has a default route" >&2
		exit 1
	fi
}
# netns_trap: for a sandbox test on this network — pids=() (bg jobs go
# there; a daemon may be kept in $serve_pid) and an EXIT trap ending them by
# pid, then the namespaces and $T (with GB_TEST_DEBUG set, the daemon's log
# $T/serve.log is shown first).
netns_cleanup() {
	for p in "${pids[@]}" ${serve_pid:-}; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${GB_TEST_DEBUG:-}" ] && [ -f "$T/serve.log" ] && tail -60 "$T/serve.log"
	netns_teardown
	rm -rf "$T"
}
netns_trap() {
	pids=()
	trap netns_cleanup EXIT
}

# upstream_http DIR LOG: python3's http.server on 198.18.0.10:80 in $UNS,
# serving DIR, its output in LOG; its pid joins pids (cleanup ends it); waits
# (bounded, 5 s) until it accepts.
upstream_http() {
	(cd "$1" && exec ip netns exec "$UNS" python3 -m http.server 80 --bind 198.18.0.10 >"$2" 2>&1) &
	pids+=($!)
	for _ in $(seq 50); do U bash -c 'exec 3<>/dev/tcp/198.18.0.10/80' 2>/dev/null && return 0; sleep 0.1; done
	echo "upstream_http: 198.18.0.10:80 never accepted" >&2
	return 1
}

netns_teardown() {
	ip netns del "$CNS" 2>/dev/null || true
	ip netns del "$UNS" 2>/dev/null || true
}

# nft counters: packets arriving upstream on PORT, and packets the client
# namespace sends to DADDRS:PORT (default loopback) — both must stay 0 in
# SSRF cases.
nft_counter_setup() { # PORT [IPv4 DADDR SET]
	U nft -f - <<NFT
table inet gbt {
  chain in {
    type filter hook input priority 0;
    tcp dport $1 counter
  }
}
NFT
	C nft -f - <<NFT
table inet gbt {
  chain out {
    type filter hook output priority 0;
    ip daddr ${2:-127.0.0.0/8} tcp dport $1 counter
    ip6 daddr ::1 tcp dport $1 counter
  }
}
NFT
}
counter() { "$@" nft list table inet gbt | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'; }

[[ -n ${NETNS_LIB_EMBED:-} ]] && return 0

set -euo pipefail
: "${GLASSBOX:?}" "${GB_HELPER_DIR:?}"
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root for network namespaces"; exit 77; }
tmp=$(mktemp -d /tmp/gb-net.XXXXXX)
chmod 0755 "$tmp"
pids=()
netns_cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	netns_teardown
	[[ -n ${GB_KEEP_LOG:-} && -f $tmp/proxy.log ]] && cp "$tmp/proxy.log" "$GB_KEEP_LOG"
	rm -rf "$tmp"
}
trap netns_cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f $tmp/proxy.log ]] && tail -20 "$tmp/proxy.log" >&2; exit 1; }
# bg NS CMD...: start CMD in namespace NS in the background; $! is CMD itself.
bg() { local ns=$1; shift; ip netns exec "$ns" "$@" & pids+=($!); }
# provider_key PREFIX: a fresh provider key in $SECRET and in $tmp/key
# (0600, as the proxy demands of a credential file)
provider_key() {
	SECRET="$1-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	printf '%s\n' "$SECRET" >"$tmp/key"
	chmod 0600 "$tmp/key"
}
# provider PORT TYPE: the test provider (tests/helpers/inference_server.py,
# openai or anthropic) at 198.18.0.10:PORT in $UNS, answering 401 to any key
# but $SECRET, logging each request to $tmp/TYPE.log
provider() {
	bg "$UNS" python3 "$GB_SOURCE_DIR/tests/helpers/inference_server.py" --bind 198.18.0.10 --port "$1" \
		--type "$2" --key "$SECRET" --log "$tmp/$2.log"
}
# wait_tcp NS ADDR PORT: until something listens (5 s)
wait_tcp() {
	for _ in $(seq 50); do
		ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "nothing listens on $2:$3 in $1"
}
netns_setup
