#!/bin/bash
# bench/bench_proxy.sh — the egress proxy's throughput, connection rate and
# added latency against a direct connection, tinyproxy (CONNECT) and
# haproxy (mode tcp, splice) in the same invocation.  Needs root (network
# namespaces).
#
#   gbpc$$ (client ns, NO default route)                gbpu$$ (upstream ns)
#     proxy_load bulk|rate   ->  127.0.0.1:3128 glassbox proxy (CONNECT)
#                                127.0.0.1:3129 tinyproxy      (CONNECT)
#                                127.0.0.1:3130 haproxy        (tcp)
#                            ->  198.18.0.10:9000 directly     proxy_load serve 198.18.0.10:9000
#     198.18.0.2/24 ------------------- veth -------------------- 198.18.0.10/24
#
# Two measures per path: one BULK_MIB MiB download (default 1 GiB, best of
# 3 runs) and RATE_N new connections each carrying one tiny request
# (connections/s, p50/p99 latency per request, from connect to the answer),
# opened by 1 client one after another, then by 8 clients at once; the
# paths take turns, RATE_ROUNDS (default 3) rounds, best round kept.
# 200 idle processes live in the client namespace during the rate runs, as
# the proxy's identity lookup walks /proc.  Bounded: each rate run stops
# after 10 s, each download after the receive timeouts; < 5 min in all.
# BENCH_PROXY_WRAP (e.g. "strace -f -c -o FILE") prefixes glassbox;
# BENCH_PROXY_ARGS are added to its command line (e.g. "--workers 2").
# GLASSBOX_BASE=another glassbox binary (an older build) adds the path
# "gb-base" on 127.0.0.1:3131, measured in the same interleaved rounds: a
# before/after pair from one invocation.
#
# The load generator and upstream server: tests/helpers/proxy_load.c.
#
#   GLASSBOX=build/release/cli/glassbox PROXY_LOAD=build/release/tests/proxy_load \
#     [RATE_ROUNDS=3] bench/bench_proxy.sh [BULK_MIB] [RATE_N]
set -u
BULK_MIB=${1:-1024}
RATE_N=${2:-2000}
RATE_ROUNDS=${RATE_ROUNDS:-3}
[ "$BULK_MIB" -ge 1 ] && [ "$BULK_MIB" -le 4096 ] || { echo "BULK_MIB must be 1..4096" >&2; exit 2; }
[ "$RATE_N" -ge 10 ] && [ "$RATE_N" -le 100000 ] || { echo "RATE_N must be 10..100000" >&2; exit 2; }
[ "$RATE_ROUNDS" -ge 1 ] && [ "$RATE_ROUNDS" -le 10 ] || { echo "RATE_ROUNDS must be 1..10" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
pick() { for c in "$@"; do [ -x "$c" ] && { echo "$c"; return; }; done; }
G=${GLASSBOX:-$(pick "$here/build/release/cli/glassbox" "$here/build/debug/cli/glassbox")}
B=${PROXY_LOAD:-$(pick "$here/build/release/tests/proxy_load" "$here/build/debug/tests/proxy_load")}
[ -n "$G" ] && [ -x "$G" ] || { echo "set GLASSBOX to the glassbox binary" >&2; exit 2; }
[ -n "$B" ] && [ -x "$B" ] || { echo "set PROXY_LOAD to the proxy_load binary (tests/helpers)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
case "$G" in *debug*) echo "note: $G looks like a Debug (ASan) build; use Release for figures" ;; esac
B=$(readlink -f "$B")

CNS= UNS=
T=$(mktemp -d /tmp/gb-bench-proxy.XXXXXX)
chmod 0755 "$T"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$CNS" ] && netns_teardown
	rm -rf "$T"
}
trap cleanup EXIT
die() { echo "bench_proxy: $*" >&2; for f in "$T"/*.log; do [ -s "$f" ] && tail -5 "$f" >&2; done; exit 1; }
NETNS_LIB_EMBED=1 . "$here/tests/integration/lib/netns_lib.sh"
wait_port() { # NS IP PORT
	for _ in $(seq 100); do
		ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.05
	done
	die "nothing listens on $2:$3 in $1"
}

netns_setup gbp || die "cannot make the network namespaces"
TARGET=198.18.0.10:9000

# ---- upstream server and the three proxies ----
# Background processes are started by `ip netns exec` itself (not through
# the C/U functions, which would fork a subshell) so that $! is the process.
ip netns exec "$UNS" "$B" serve 198.18.0.10 9000 >"$T/server.log" 2>&1 &
pids+=($!)
cat >"$T/policy.yaml" <<Y
version: 1
network_policies:
  bench:
    endpoints:
      - host: 198.18.0.10
        port: 9000
    binaries:
      - path: $B
Y
ip netns exec "$CNS" ${BENCH_PROXY_WRAP:-} "$G" proxy --policy "$T/policy.yaml" --listen 127.0.0.1:3128 --ring "$T/events.ring" \
	${BENCH_PROXY_ARGS:-} >"$T/glassbox.log" 2>&1 &
pids+=($!)
gb_pid=$!
have_base=0
if [ -n "${GLASSBOX_BASE:-}" ]; then
	[ -x "$GLASSBOX_BASE" ] || die "GLASSBOX_BASE=$GLASSBOX_BASE is not executable"
	ip netns exec "$CNS" "$GLASSBOX_BASE" proxy --policy "$T/policy.yaml" --listen 127.0.0.1:3131 \
		--ring "$T/events-base.ring" >"$T/glassbox-base.log" 2>&1 &
	pids+=($!)
	base_pid=$!
	have_base=1
fi
mkdir -m 0777 "$T/tp"
cat >"$T/tinyproxy.conf" <<EOF
User nobody
Group nogroup
Port 3129
Listen 127.0.0.1
Timeout 60
MaxClients 256
Allow 127.0.0.1
LogFile "$T/tp/tinyproxy.log"
LogLevel Critical
EOF
have_tp=0 have_ha=0
if command -v tinyproxy >/dev/null; then
	ip netns exec "$CNS" tinyproxy -d -c "$T/tinyproxy.conf" >"$T/tinyproxy.log" 2>&1 &
	pids+=($!)
	tp_pid=$!
	have_tp=1
fi
cat >"$T/haproxy.cfg" <<EOF
global
  maxconn 4096
defaults
  mode tcp
  option splice-auto
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend f
  bind 127.0.0.1:3130
  default_backend b
backend b
  server up $TARGET
EOF
if command -v haproxy >/dev/null; then
	ip netns exec "$CNS" haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 &
	pids+=($!)
	ha_pid=$!
	have_ha=1
fi
wait_port "$UNS" 198.18.0.10 9000
wait_port "$CNS" 127.0.0.1 3128
[ $have_base = 1 ] && wait_port "$CNS" 127.0.0.1 3131
[ $have_tp = 1 ] && wait_port "$CNS" 127.0.0.1 3129
[ $have_ha = 1 ] && wait_port "$CNS" 127.0.0.1 3130

# path name -> proxy_load PROXY argument (haproxy is "direct" to its port)
declare -A PX TG
PX[direct]=- TG[direct]=$TARGET
PX[glassbox]=127.0.0.1:3128 TG[glassbox]=$TARGET
order=(direct glassbox)
[ $have_base = 1 ] && { PX[gb-base]=127.0.0.1:3131; TG[gb-base]=$TARGET; order+=(gb-base); }
[ $have_tp = 1 ] && { PX[tinyproxy]=127.0.0.1:3129; TG[tinyproxy]=$TARGET; order+=(tinyproxy); }
[ $have_ha = 1 ] && { PX[haproxy]=-; TG[haproxy]=127.0.0.1:3130; order+=(haproxy); }

# The CPU a proxy used, in clock ticks: utime+stime of its process (all
# threads) and of its children, live (tinyproxy's preforked workers) or
# reaped (cutime+cstime).  Read before and after each rate run: CPU per
# connection, the figure a 0-idle box turns into the rate.
declare -A PPID_OF
PPID_OF[glassbox]=$gb_pid
[ $have_base = 1 ] && PPID_OF[gb-base]=$base_pid
[ $have_tp = 1 ] && PPID_OF[tinyproxy]=$tp_pid
[ $have_ha = 1 ] && PPID_OF[haproxy]=$ha_pid
ticks() { # pid
	local t=0 c
	for c in "$1" $(pgrep -P "$1"); do
		t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$c/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
HZ=$(getconf CLK_TCK)
declare -A CPU_US

# Everything must work once before it is measured.
for p in "${order[@]}"; do
	C "$B" rate "${PX[$p]}" "${TG[$p]}" 10 5 >/dev/null || die "$p does not relay"
done

echo "bench_proxy: load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs, glassbox $(basename "$(dirname "$(dirname "$G")")") build, bulk ${BULK_MIB} MiB, rate $RATE_N connections"
declare -A MBPS CPS P50 P99
bytes=$((BULK_MIB * 1024 * 1024))
for p in "${order[@]}"; do
	best=0
	for _ in 1 2 3; do
		out=$(C "$B" bulk "${PX[$p]}" "${TG[$p]}" "$bytes") || die "$p bulk failed"
		v=${out##*MBps=}
		best=$(awk -v a="$v" -v b="$best" 'BEGIN { print (a > b) ? a : b }')
	done
	MBPS[$p]=$best
done

# 200 idle processes in the client namespace (killed with their shell),
# alive until the end.
ip netns exec "$CNS" bash -c 'trap "kill \$(jobs -p) 2>/dev/null; exit 0" TERM; for i in $(seq 200); do sleep 60 & done; wait' &
pids+=($!)
sleep 0.3
# Rate runs are interleaved, RATE_ROUNDS rounds of every path in turn, and
# each path keeps its best round: on a shared machine a load burst during
# one path's only run would otherwise decide the ratio.
for conc in 1 8; do
	for _ in $(seq "$RATE_ROUNDS"); do
		for p in "${order[@]}"; do
			pp=${PPID_OF[$p]:-}
			[ -n "$pp" ] && t0=$(ticks "$pp")
			out=$(C "$B" rate "${PX[$p]}" "${TG[$p]}" "$RATE_N" 10 "$conc") || die "$p rate ($conc clients) failed"
			[ -n "$pp" ] && CPU_US[$p.$conc]+=" $((($(ticks "$pp") - t0) * 1000000 / HZ / RATE_N))"
			cps= p50= p99=
			for kv in $out; do
				case $kv in
				conns_per_s=*) cps=${kv#*=} ;;
				p50_us=*) p50=${kv#*=} ;;
				p99_us=*) p99=${kv#*=} ;;
				esac
			done
			if awk -v a="$cps" -v b="${CPS[$p.$conc]:-0}" 'BEGIN { exit !(a > b) }'; then
				CPS[$p.$conc]=$cps P50[$p.$conc]=$p50 P99[$p.$conc]=$p99
			fi
		done
	done
done

echo "bench_proxy: rate runs done, load $(cut -d' ' -f1-3 /proc/loadavg)"
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
printf '\n%-10s %8s | %-38s | %-38s\n' "" "bulk" "1 client: new connections" "8 clients: new connections"
printf '%-10s %8s | %8s %8s %8s %10s | %8s %8s %8s %10s\n' path "MB/s" "conns/s" "p50 µs" "p99 µs" \
	"added p50" "conns/s" "p50 µs" "p99 µs" "added p50"
for p in "${order[@]}"; do
	printf '%-10s %8.0f' "$p" "${MBPS[$p]}"
	for conc in 1 8; do
		printf ' | %8.0f %8.0f %8.0f %10.0f' "${CPS[$p.$conc]}" "${P50[$p.$conc]}" "${P99[$p.$conc]}" \
			"$((P50[$p.$conc] - P50[direct.$conc]))"
	done
	echo
done
echo
echo "glassbox/direct:    throughput $(ratio "${MBPS[glassbox]}" "${MBPS[direct]}")x, conns/s $(ratio "${CPS[glassbox.1]}" "${CPS[direct.1]}")x (1 client) $(ratio "${CPS[glassbox.8]}" "${CPS[direct.8]}")x (8 clients)"
[ $have_tp = 1 ] && echo "glassbox/tinyproxy: throughput $(ratio "${MBPS[glassbox]}" "${MBPS[tinyproxy]}")x, conns/s $(ratio "${CPS[glassbox.1]}" "${CPS[tinyproxy.1]}")x (1 client) $(ratio "${CPS[glassbox.8]}" "${CPS[tinyproxy.8]}")x (8 clients), added p50 (1 client) $((P50[glassbox.1] - P50[direct.1])) µs vs $((P50[tinyproxy.1] - P50[direct.1])) µs"
# for scripts/bench's table (bench_util.h: bench_figure)
if [ $have_tp = 1 ]; then
	printf 'GB_FIGURE\tproxy\tnew connections/s, 1 client\t%s\tconns/s\ttinyproxy\t%s\t>=1.0x\n' "${CPS[glassbox.1]}" "${CPS[tinyproxy.1]}"
	printf 'GB_FIGURE\tproxy\tnew connections/s, 8 clients\t%s\tconns/s\ttinyproxy\t%s\t>=1.0x\n' "${CPS[glassbox.8]}" "${CPS[tinyproxy.8]}"
	printf 'GB_FIGURE\tproxy\tCONNECT throughput\t%s\tMB/s\ttinyproxy\t%s\t>=3x\n' "${MBPS[glassbox]}" "${MBPS[tinyproxy]}"
fi
[ $have_base = 1 ] && echo "glassbox/gb-base:   throughput $(ratio "${MBPS[glassbox]}" "${MBPS[gb-base]}")x, conns/s $(ratio "${CPS[glassbox.1]}" "${CPS[gb-base.1]}")x (1 client) $(ratio "${CPS[glassbox.8]}" "${CPS[gb-base.8]}")x (8 clients); gb-base/tinyproxy conns/s $(ratio "${CPS[gb-base.1]}" "${CPS[tinyproxy.1]:-0}")x (1 client) $(ratio "${CPS[gb-base.8]}" "${CPS[tinyproxy.8]:-0}")x (8 clients)"
printf 'proxy CPU per connection (µs, median of %d rounds; 1 client / 8 clients):' "$RATE_ROUNDS"
for p in "${order[@]}"; do
	[ -n "${PPID_OF[$p]:-}" ] || continue
	printf ' %s %s / %s' "$p" "$(echo "${CPU_US[$p.1]}" | median)" "$(echo "${CPU_US[$p.8]}" | median)"
done
echo
[ $have_tp = 1 ] && echo "glassbox/tinyproxy CPU per connection: $(ratio "$(echo "${CPU_US[glassbox.8]}" | median)" "$(echo "${CPU_US[tinyproxy.8]}" | median)")x (8 clients; below 1 is cheaper)"
[ $have_ha = 1 ] && echo "glassbox/haproxy:   throughput $(ratio "${MBPS[glassbox]}" "${MBPS[haproxy]}")x, conns/s $(ratio "${CPS[glassbox.1]}" "${CPS[haproxy.1]}")x (1 client) $(ratio "${CPS[glassbox.8]}" "${CPS[haproxy.8]}")x (8 clients) (haproxy: plain tcp relay, no CONNECT, no identity, no policy)"
kill -TERM "$gb_pid" 2>/dev/null && wait "$gb_pid" 2>/dev/null
tail -1 "$T/glassbox.log"

# The identity lookup on its own (sock_diag + /proc walk + cached hash),
# with the 200 idle processes still alive.
I=${BENCH_IDENTITY:-$(dirname "$G")/../bench/bench_identity}
[ -x "$I" ] && C "$I" 300
