#!/bin/bash
# bench/bench_tunnels.sh — N (default 10 000, or the most the hard
# RLIMIT_NOFILE allows at 2N + 200 descriptors) concurrent CONNECT tunnels
# through one sandbox's proxy, held at once: the supervisor's RSS and
# descriptors idle, held and after the close, the rate tunnels open at, and
# every refusal.  Baseline in the same invocation: the same N plain
# connections from the client namespace straight to the echo server (no
# proxy).  Needs root (network namespaces).
#
#   gbtc$$ (client ns, NO default route)          gbtu$$ (upstream ns)
#     glassbox run --files N+64                      tunnels echo 198.18.0.10:7000
#       sandbox: tunnels open 127.0.0.1:3128 N
#     (baseline: tunnels open - 198.18.0.10:7000 N)
#     198.18.0.2/24 ------------ veth ------------  198.18.0.10/24
#
# The client (tests/helpers/tunnels.c) keeps at most 128 connections
# connecting at a time, passes one byte through each tunnel once all are
# open, holds them until told, then closes them.  Bounded: the client gives
# up after 120 s, the echo server ends after 300 s.  The supervisor needs
# 2 descriptors a tunnel (its two sockets; the relay's pipes are lent only
# while bytes are in flight) and ~150 of its own: the soft limit is set to
# 2N + 200 for it (the hard limit must allow that: N <= 9 900 under a hard
# limit of 20 000, which root cannot raise on some hosts).
#
#   GLASSBOX=build/release/cli/glassbox TUNNELS=build/release/tests/tunnels \
#     bench/bench_tunnels.sh [N]
set -u
hard=$(ulimit -Hn)
if [ -n "${1:-}" ]; then
	N=$1
elif [ "$hard" = unlimited ] || [ "$hard" -ge 20200 ]; then
	N=10000
else
	N=$(((hard - 200) / 2 / 100 * 100)) # e.g. 9 900 under 20 000, which root may not raise
fi
[ "$N" -ge 10 ] && [ "$N" -le 60000 ] || { echo "N must be 10..60000" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
pick() { for c in "$@"; do [ -x "$c" ] && { echo "$c"; return; }; done; }
G=${GLASSBOX:-$(pick "$here/build/release/cli/glassbox" "$here/build/debug/cli/glassbox")}
B=${TUNNELS:-$(pick "$here/build/release/tests/tunnels" "$here/build/debug/tests/tunnels")}
[ -n "$G" ] && [ -x "$G" ] || { echo "set GLASSBOX to the glassbox binary" >&2; exit 2; }
[ -n "$B" ] && [ -x "$B" ] || { echo "set TUNNELS to the tunnels binary (tests/helpers)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
case "$G" in *debug*) echo "note: $G looks like a Debug (ASan) build; use Release for figures" ;; esac

CNS= UNS=
T=$(mktemp -d /tmp/gb-bench-tunnels.XXXXXX)
chmod 0755 "$T"
W=$T/work
mkdir -p "$W" "$T/base"
chmod 0777 "$W"
cp "$B" "$W/tunnels"
pids=()
NETNS_LIB_EMBED=1 . "$here/tests/integration/lib/netns_lib.sh"
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$CNS" ] && netns_teardown
	rm -rf "$T"
}
trap cleanup EXIT
die() { echo "bench_tunnels: $*" >&2; [ -f "$T/run.err" ] && tail -5 "$T/run.err" >&2; exit 1; }
netns_setup gbt || die "cannot make the namespaces"
need=$((2 * N + 200))
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge $need ] || ulimit -Hn $need 2>/dev/null \
	|| die "the hard open-file limit $(ulimit -Hn) is below the $need N tunnels need, and cannot be raised here"
ulimit -Sn $need
ip netns exec "$UNS" "$W/tunnels" echo 198.18.0.10 7000 300 &
pids+=($!)
for _ in $(seq 200); do U bash -c 'exec 3<>/dev/tcp/198.18.0.10/7000' 2>/dev/null && break; sleep 0.1; done
load() { cut -d' ' -f1-3 /proc/loadavg; }

# baseline: plain connections, no proxy
touch "$T/base/release"
C "$W/tunnels" open - 198.18.0.10:7000 "$N" "$T/base" 120 >"$T/base.out" 2>&1
base_fig=$(cat "$T/base/held" 2>/dev/null)
base_load=$(load)
base_rate=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$base_fig")

echo "198.18.0.10 echo.test" >"$T/hosts"
cat >"$T/policy.yaml" <<Y
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/tmp, /dev/null]
  include_workdir: true
landlock:
  compatibility: best_effort
network_policies:
  echo:
    endpoints:
      - host: echo.test
        port: 7000
    binaries:
      - path: $W/tunnels
Y
cmd="mkdir warm && touch warm/release && ./tunnels open 127.0.0.1:3128 echo.test:7000 1 warm 20 >warm.out 2>&1; touch ready
i=0; while [ ! -e go ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i+1)); done
./tunnels open 127.0.0.1:3128 echo.test:7000 $N . 120 >tunnels.out 2>&1
i=0; while [ ! -e end ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i+1)); done"
ip netns exec "$CNS" "$G" --root "$T/root" run --quiet --name tunnels --workdir "$W" --files $((N + 64)) \
	--policy "$T/policy.yaml" --hosts "$T/hosts" -- /bin/sh -c "$cmd" >"$T/run.out" 2>"$T/run.err" &
sup=$!
pids+=($sup)
fds() { ls "/proc/$sup/fd" 2>/dev/null | wc -l; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$sup/status"; }
for _ in $(seq 400); do [ -e "$W/ready" ] && break; sleep 0.05; done
[ -e "$W/ready" ] || die "the sandbox did not start"
fd0=$(fds) rss0=$(rss)
touch "$W/go"
for _ in $(seq 2600); do [ -e "$W/held" ] && break; sleep 0.05; done
[ -e "$W/held" ] || die "the tunnels were not all open within 130 s: $(cat "$W/tunnels.out")"
fd1=$(fds) rss1=$(rss)
fig=$(cat "$W/held")
fig_load=$(load)
rate=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$fig")
touch "$W/release"
for _ in $(seq 600); do [ -e "$W/closed" ] && break; sleep 0.05; done
fd2=$(fds)
for _ in $(seq 400); do fd2=$(fds); [ "$fd2" -le $((fd0 + 8)) ] && break; sleep 0.05; done
rss2=$(rss)
touch "$W/end"
wait "$sup"

ratio=$(awk -v a="$rate" -v b="$base_rate" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
per_fd=$(awk -v a="$fd1" -v b="$fd0" -v n="$N" 'BEGIN { printf "%.2f", (a - b) / n }')
per_kb=$(awk -v a="$rss1" -v b="$rss0" -v n="$N" 'BEGIN { printf "%.1f", (a - b) / n }')
echo "bench_tunnels: N=$N"
printf '%-34s %s   (load %s)\n' "baseline: direct connections" "$base_fig" "$base_load"
printf '%-34s %s   (load %s)\n' "through the sandbox's proxy" "$fig" "$fig_load"
printf '%-34s %s\n' "open rate ratio (proxy / direct)" "$ratio"
printf '%-34s idle %s, held %s (%s per tunnel), after close %s\n' "supervisor descriptors" "$fd0" "$fd1" "$per_fd" "$fd2"
printf '%-34s idle %s kB, held %s kB (%s kB per tunnel), after close %s kB\n' "supervisor RSS" "$rss0" "$rss1" "$per_kb" "$rss2"
ok=$(sed -n 's/^ok=\([0-9]*\).*/\1/p' "$W/held")
# for scripts/bench's table (bench_util.h: bench_figure)
printf 'GB_FIGURE\ttunnels\ttunnels held at once through one sandbox proxy\t%s\ttunnels\tasked (hard RLIMIT_NOFILE %s)\t%s\t>=10000\n' "${ok:-0}" "$hard" "$N"
printf 'GB_FIGURE\ttunnels\tnew tunnels/s while %s are opened\t%s\ttunnels/s\tdirect connections\t%s\t-\n' "$N" "$rate" "$base_rate"
printf 'GB_FIGURE\ttunnels\tsupervisor descriptors per held tunnel\t%s\tfds\t\t0\t-\n' "$per_fd"
printf 'GB_FIGURE\ttunnels\tsupervisor RSS per held tunnel\t%s\tkB\t\t0\t-\n' "$per_kb"
grep -q "^ok=$N refused=0 .* echoed=$N\$" "$W/held" || { echo "refusals: $(cat "$W/tunnels.out")"; exit 1; }
