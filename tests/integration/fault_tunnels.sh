#!/usr/bin/env bash
# 1 000 concurrent CONNECT tunnels through one sandbox's proxy, held at once,
# a byte through each, then closed: the supervisor's descriptors return to
# their baseline (nothing leaks per tunnel), and while held an idle tunnel
# costs the supervisor its two sockets only (the relay's pipes are lent per
# burst of bytes, not kept per tunnel: 6 descriptors each would cap a
# 20 000-descriptor supervisor at ~3 300 tunnels).
# The supervisor starts with the soft RLIMIT_NOFILE most shells and services
# hand out (1024), the hard limit above it: it must take what the operator
# granted, as `glassbox proxy` does, or tunnel ~170 is refused.
# The workload raises its own limit within the policy's bounds (--files).
# The full 10 000 with figures: bench/bench_tunnels.sh.
#
#   gbc$$ (clients; NO default route)           gbu$$ (upstream)
#     glassbox run: sandbox -> 127.0.0.1:3128      tunnels echo 198.18.0.10:7000
#     198.18.0.2/24 --------------- veth --------- 198.18.0.10/24
. "$(dirname "$0")/lib/sandbox_lib.sh"
NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
netns_trap
die() { echo "FAIL: $*" >&2; [ -f "$T/run.err" ] && tail -20 "$T/run.err" >&2; exit 1; }
N=${FAULT_TUNNELS_N:-1000}
netns_setup || die "cannot make the test network"
cp "$GB_HELPER_DIR/tunnels" "$W/"
sbx_user_workdir "$W"
ip netns exec "$UNS" bash -c 'ulimit -n 20000 2>/dev/null || ulimit -n 8192; exec "$0" echo 198.18.0.10 7000 120' "$W/tunnels" &
pids+=($!)
for _ in $(seq 200); do U bash -c 'exec 3<>/dev/tcp/198.18.0.10/7000' 2>/dev/null && break; sleep 0.1; done
echo "198.18.0.10 echo.test" >"$T/hosts"
sbx_policy_yaml echo echo.test 7000 "$W/tunnels" >"$T/policy.yaml"
# sh waits (bounded) for go, runs the tunnels, then waits for end so the
# supervisor is measured after the close while it still runs
cmd="mkdir warm && touch warm/release && ./tunnels open 127.0.0.1:3128 echo.test:7000 1 warm 20 >warm.out 2>&1; touch ready
i=0; while [ ! -e go ] && [ \$i -lt 600 ]; do sleep 0.05; i=\$((i+1)); done
./tunnels open 127.0.0.1:3128 echo.test:7000 $N . 60 >tunnels.out 2>&1; echo \$? >tunnels.rc
i=0; while [ ! -e end ] && [ \$i -lt 600 ]; do sleep 0.05; i=\$((i+1)); done"
hard=$(ulimit -Hn)
[ "$hard" -ge $((2 * N + 300)) ] || ulimit -Hn $((2 * N + 300)) 2>/dev/null || die "hard RLIMIT_NOFILE $hard is below what $N tunnels need"
(ulimit -Sn 1024 && exec ip netns exec "$CNS" "${GBRUN[@]}" --name tun --files $((N + 64)) --policy "$T/policy.yaml" \
	--hosts "$T/hosts" -- /bin/sh -c "$cmd") >"$T/run.out" 2>"$T/run.err" &
sup=$!
pids+=($sup)
fds() { ls "/proc/$sup/fd" 2>/dev/null | wc -l; }
# the baseline once one tunnel has come and gone (the proxy starts with the
# first connection; its identity cache then keeps a pidfd per process)
for _ in $(seq 400); do [ -e "$W/ready" ] && break; sleep 0.05; done
[ -e "$W/ready" ] || die "the sandbox did not start"
grep -q "^ok=1 refused=0 .* echoed=1" "$W/warm/held" || die "the first tunnel failed: $(cat "$W/warm.out")"
base=$(fds)
touch "$W/go"
for _ in $(seq 1200); do [ -e "$W/held" ] && break; sleep 0.05; done
[ -e "$W/held" ] || die "the tunnels were not all open within 60 s: $(cat "$W/tunnels.out" 2>/dev/null)"
held=$(fds)
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$sup/status")
echo "  $(cat "$W/held" | tr -d '\n'); supervisor fds: $base before, $held held; RSS ${rss} kB"
grep -q "^ok=$N refused=0 .* echoed=$N\$" "$W/held" || die "not every tunnel opened and carried its byte: $(cat "$W/tunnels.out")"
[ "$held" -ge $((base + 2 * N)) ] || die "$N tunnels held but the supervisor has only $held descriptors (baseline $base)"
# at most the two sockets of each, plus the workers' spare pipes (2 x 32 x 2)
[ "$held" -le $((base + 2 * N + 150)) ] || die "$N idle tunnels held cost the supervisor $((held - base)) descriptors (> 2 each + spares): $(ls -l /proc/$sup/fd | awk '{print $NF}' | sed 's/:\[.*//' | sort | uniq -c)"
echo "ok   $N tunnels open at once, a byte through each"
touch "$W/release"
for _ in $(seq 400); do [ -e "$W/closed" ] && break; sleep 0.05; done
[ -e "$W/closed" ] || die "the client never closed"
# the proxy closes its side as it sees each EOF: bounded wait for the baseline
now=$(fds)
# (slack: 8, the identity cache's pidfd of the new client process and
# its like; a leak per tunnel is ~N)
for _ in $(seq 400); do now=$(fds); [ "$now" -le $((base + 8)) ] && break; sleep 0.05; done
[ "$now" -le $((base + 8)) ] || die "after closing the $N tunnels the supervisor holds $now descriptors, baseline $base: $(ls -l /proc/$sup/fd | awk '{print $NF}' | sed 's/:\[.*//' | sort | uniq -c)"
echo "ok   descriptors back to the baseline ($now, baseline $base) after the close"
# the upstream side is closed too: no established connection to :7000 left
est=1
for _ in $(seq 200); do est=$(U ss -Htn state established '( sport = :7000 )' | wc -l); [ "$est" = 0 ] && break; sleep 0.05; done
[ "$est" = 0 ] || die "$est upstream connections still established after the close"
echo "ok   every upstream connection closed"
touch "$W/end"
wait "$sup"; rc=$?
[ "$rc" = 0 ] || die "the sandbox exited $rc"
grep -qx closed "$W/tunnels.out" || die "tunnels: $(cat "$W/tunnels.out")"
echo "fault_tunnels: all checks passed"
