#!/bin/bash
# bench/bench_inference.sh — what inference.local adds to a streamed model
# call: time to the first SSE event and the delay of each chunk, through
# glassbox (plain http://inference.local, and CONNECT inference.local:443
# with TLS terminated by the proxy's CA) against a direct connection to the
# same provider, in one invocation.  Needs root (network namespaces).
#
#   gbic$$ (client ns, NO default route)               gbiu$$ (provider ns)
#     bench_inference_client.py ->  127.0.0.1:3128 glassbox proxy --inference
#                               ->  198.18.0.10:8080 directly   inference_server.py
#                               ->  198.18.0.10:8443 directly, TLS   (the same, HTTPS)
#     198.18.0.2/24 ------------------ veth -------------------- 198.18.0.10/24
#
# Each mode: N requests (default 200) in each of two runs, each on a fresh
# connection, each a stream of CHUNKS events (default 20) GAP_MS apart
# (default 2); the modes' requests interleaved (one client, the order
# rotating per request), so a burst of load from elsewhere on a shared
# machine falls on all of them alike.  First
# byte: request sent -> first event read.  Per chunk: the provider's send
# time -> the client's read (one clock: both run on this machine).  Figures
# are medians and p99; "added" = through glassbox minus direct.  Bounded:
# N <= 2000, CHUNKS <= 200, every socket has a 10 s timeout.  Targets: < 1 ms
# added to the first byte, < 100 us per chunk.
#
# The TLS mode is also set against a direct TLS connection to the provider
# (direct_tls): the client's own TLS work (decrypting each record, Python's
# ssl layer, two reads per record) is paid on any HTTPS connection to a
# provider, so "https - direct_tls" is what the proxy adds, and
# "direct_tls - direct" what TLS costs the client anyway.
#
# GLASSBOX_BASE=other/glassbox runs a second proxy (on 3129) built from
# another commit, its http and https modes interleaved with the rest
# (http.base, https.base): before/after in one invocation, under one load.
#
#   GLASSBOX=build/release/cli/glassbox [GLASSBOX_BASE=...] bench/bench_inference.sh [N] [CHUNKS] [GAP_MS]
set -u
N=${1:-200}
CHUNKS=${2:-20}
GAP=${3:-2}
[ "$N" -ge 5 ] && [ "$N" -le 2000 ] || { echo "N must be 5..2000" >&2; exit 2; }
[ "$CHUNKS" -ge 1 ] && [ "$CHUNKS" -le 200 ] || { echo "CHUNKS must be 1..200" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
pick() { for c in "$@"; do [ -x "$c" ] && { echo "$c"; return; }; done; }
G=${GLASSBOX:-$(pick "$here/build/release/cli/glassbox" "$here/build/debug/cli/glassbox")}
[ -n "$G" ] && [ -x "$G" ] || { echo "set GLASSBOX to the glassbox binary" >&2; exit 2; }
B=${GLASSBOX_BASE:-}
[ -z "$B" ] || [ -x "$B" ] || { echo "GLASSBOX_BASE is not an executable" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
case "$G" in *debug*) echo "note: $G looks like a Debug (ASan) build; use Release for figures" ;; esac

CNS= UNS=
T=$(mktemp -d /tmp/gb-bench-inf.XXXXXX)
chmod 0755 "$T"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$CNS" ] && netns_teardown
	rm -rf "$T"
}
trap cleanup EXIT
die() { echo "bench_inference: $*" >&2; for f in "$T"/*.log; do [ -s "$f" ] && tail -5 "$f" >&2; done; exit 1; }
NETNS_LIB_EMBED=1 . "$here/tests/integration/lib/netns_lib.sh"
wait_port() { # NS IP PORT
	for _ in $(seq 100); do
		ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.05
	done
	die "nothing listens on $2:$3 in $1"
}
netns_setup gbi || die "cannot make network namespaces"

KEY="sk-bench-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$KEY" >"$T/key"
chmod 0600 "$T/key"
ip netns exec "$UNS" python3 "$here/tests/helpers/inference_server.py" --bind 198.18.0.10 --port 8080 \
	--key "$KEY" --log /dev/null >"$T/server.log" 2>&1 &
pids+=($!)
# the same provider over HTTPS: a throwaway CA-less certificate for its address
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=provider.test \
	-addext subjectAltName=IP:198.18.0.10 -keyout "$T/prov.key" -out "$T/prov.pem" >/dev/null 2>&1 ||
	die "openssl req"
ip netns exec "$UNS" python3 "$here/tests/helpers/inference_server.py" --bind 198.18.0.10 --port 8443 \
	--key "$KEY" --log /dev/null --tls-cert "$T/prov.pem" --tls-key "$T/prov.key" >"$T/server_tls.log" 2>&1 &
pids+=($!)
wait_port "$UNS" 198.18.0.10 8080
wait_port "$UNS" 198.18.0.10 8443
echo "198.18.0.10 provider.test" >"$T/hosts"
printf 'version: 1\nnetwork_policies: {}\n' >"$T/policy.yaml"
printf '{"provider":"bench","type":"openai","base_url":"http://provider.test:8080/v1","credential_file":"%s","model":"bench-model"}\n' \
	"$T/key" >"$T/route.json"
mkdir -p "$T/tls"
ip netns exec "$CNS" "$G" proxy --policy "$T/policy.yaml" --listen 127.0.0.1:3128 --hosts "$T/hosts" \
	--tls-dir "$T/tls" --inference "$T/route.json" >"$T/proxy.log" 2>&1 &
pids+=($!)
wait_port "$CNS" 127.0.0.1 3128
if [ -n "$B" ]; then
	mkdir -p "$T/tls_base"
	ip netns exec "$CNS" "$B" proxy --policy "$T/policy.yaml" --listen 127.0.0.1:3129 --hosts "$T/hosts" \
		--tls-dir "$T/tls_base" --inference "$T/route.json" >"$T/proxy_base.log" 2>&1 &
	pids+=($!)
	wait_port "$CNS" 127.0.0.1 3129
fi

client() { ip netns exec "$CNS" python3 "$here/bench/bench_inference_client.py" "$1" "$N" "$CHUNKS" "$GAP"; }
MODES="direct:198.18.0.10:8080:$KEY,direct_tls:198.18.0.10:8443:$KEY:$T/prov.pem,http:3128,https:3128:$T/tls/ca.pem"
[ -n "$B" ] && MODES="$MODES,http.base:3129,https.base:3129:$T/tls_base/ca.pem"
# warm-up (leaf minted, pool filled, page cache, python imports), then two
# runs; within a run the modes' requests are interleaved, so load from
# elsewhere on the machine falls on all three alike
N_=$N; N=5; client "$MODES" >/dev/null || die "warm-up"; N=$N_
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for round in 1 2; do
	client "$MODES" >"$T/all.$round.json" || die "round $round"
done
python3 - "$T" "$N" "$CHUNKS" "$GAP" "$load0" "${B:+base}" <<'PY'
import json, statistics, sys
T, n, chunks, gap, load0, base_on = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
modes = ["direct", "direct_tls", "http", "https"] + (["http.base", "https.base"] if base_on else [])
def load(m):
    d = {"first_us": [], "chunk_us": []}
    for r in (1, 2):
        j = json.load(open(f"{T}/all.{r}.json"))[m]
        for k in d:
            d[k] += j[k]
    return d
def p(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]
res = {m: load(m) for m in modes}
med = {m: (statistics.median(res[m]["first_us"]), statistics.median(res[m]["chunk_us"])) for m in modes}
print(f"bench_inference: {2 * n} streamed requests per mode, {chunks} chunks each, {gap} ms apart, "
      f"interleaved; load average {load0} before, {open('/proc/loadavg').read().split()[0]} after")
print(f"{'':30} {'first byte p50':>15} {'p99':>10} {'chunk p50':>11} {'p99':>10}")
label = {"direct": "direct to the provider", "direct_tls": "direct to the provider, TLS",
         "http": "glassbox http://inference", "https": "glassbox CONNECT+TLS",
         "http.base": "  base build, http", "https.base": "  base build, CONNECT+TLS"}
for m in modes:
    d = res[m]
    print(f"{label[m]:30} {med[m][0]:12.0f} us {p(d['first_us'], .99):7.0f} us {med[m][1]:8.0f} us "
          f"{p(d['chunk_us'], .99):7.0f} us")
def added(m, b, note):
    f, c = med[m]
    bf, bc = med[b]
    print(f"added by glassbox ({m}{note}): first byte {f - bf:+.0f} us (x{f / bf:.2f}; target < 1000 us), "
          f"per chunk {c - bc:+.0f} us (x{c / bc:.2f}; target < 100 us)")
    if m.startswith("https") and b == "direct":
        return  # TLS set against plain: the table has it against direct TLS
    # scripts/bench's table: the added time against the baseline's own
    print(f"GB_FIGURE\tinference\tfirst byte added, {m}{note}\t{f - bf:.6g}\tus\t{label[b]}\t{bf:.6g}\t<1000")
    print(f"GB_FIGURE\tinference\tper chunk added, {m}{note}\t{c - bc:.6g}\tus\t{label[b]}\t{bc:.6g}\t<100")
for m in [x for x in modes if x.startswith("http")]:
    added(m, "direct", "")
for m in [x for x in modes if x.startswith("https")]:
    added(m, "direct_tls", " vs direct TLS")
f, c = med["direct_tls"]
print(f"TLS on a direct connection: first byte {f - med['direct'][0]:+.0f} us, per chunk {c - med['direct'][1]:+.0f} us")
PY
