#!/bin/bash
# bench/bench_api.sh — the API of glassbox serve, against nginx in the same
# run, on a journal of N events (default 1 000 000):
#   1. logs query latency p50/p99: a sandbox + 10 s time window (limit 100),
#      and a verdict filter (verdict=deny, limit 100)
#   2. requests/s of /v1/health and of a small logs query (limit=1), and of
#      nginx serving a static file of the same size over the same kind of
#      socket to the same client (bench_api_load), one after the other
#   3. follow latency: ring publish (ring_events) -> the NDJSON line at a
#      follow=1 client
#   4. policy set -> first connection decided on the new revision, end to
#      end, through the API (a PUT from a client with its own clock) and
#      through the CLI (`glassbox policy set`, its process start included),
#      a client in the sandbox connecting in a loop (its clock and ours are
#      the same CLOCK_REALTIME); and the supervisor's control socket alone
# Needs root (glassbox run, network namespaces).  Bounded: N <= 2 000 000,
# every phase a fixed count or a few seconds.
#
#   bench/bench_api.sh [N]
set -u
N=${1:-1000000}
[ "$N" -ge 1000 ] && [ "$N" -le 2000000 ] || { echo "N must be 1000..2000000" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
B=${GB_BUILD:-$here/build/release}
G=$B/cli/glassbox EV=$B/tests/ring_events LOAD=$B/bench/bench_api_load
for x in "$G" "$EV" "$LOAD"; do [ -x "$x" ] || { echo "missing $x (build $B)" >&2; exit 2; }; done
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 2; }
command -v nginx >/dev/null || { echo "needs nginx (scripts/bootstrap)" >&2; exit 2; }
T=$(mktemp -d /tmp/gb-bench-api.XXXXXX)
chmod 0755 "$T"
ROOT=$T/root
RT=$ROOT/run/glassbox/sandboxes
S=$ROOT/run/glassbox/api.sock
mkdir -p "$ROOT/etc/glassbox" "$T/work"
pids=()
CNS=gbbc$$
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$CNS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
pct() { sort -n | awk '{a[NR]=$1} END {printf "p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  (n=%d)", a[int(NR*0.5)+1], a[int(NR*0.95)+1], a[int(NR*0.99)+1], NR}'; }

cat >"$ROOT/etc/glassbox/glassbox.yaml" <<'Y'
journal:
  fsync: never
Y
"$G" --root "$ROOT" -q serve >"$T/serve.log" 2>&1 &
SERVE=$!; pids+=($SERVE)
for _ in $(seq 100); do [ -S "$S" ] && break; sleep 0.05; done

# ---- the journal: N events from 10 sandboxes ----
echo "filling the journal with $N events (10 sandboxes) ..."
t0=$(date +%s.%N)
per=$((N / 10))
for i in $(seq 0 9); do "$EV" "$RT" "sb$i" "$per" & done
wait $(jobs -p | grep -v "$SERVE") 2>/dev/null
# until everything published is journaled (a full ring drops, so: until
# the count stops moving for 2 s), at most 10 minutes
prev=-1 still=0
for _ in $(seq 1200); do
	c=$(curl -s --unix-socket "$S" http://b/metrics | awk '/^glassbox_exporter_events_total/ {print $2}')
	[ "${c:-0}" -ge $((per * 10)) ] && break
	if [ "${c:-0}" = "$prev" ]; then still=$((still + 1)); [ $still -ge 4 ] && break; else still=0; fi
	prev=${c:-0}
	sleep 0.5
done
t1=$(date +%s.%N)
du -sh "$ROOT/var/lib/glassbox/journal" | awk '{print "journal: " $1}'
echo "  $c events journaled in $(echo "$t1 - $t0" | bc) s"
first=$(curl -s --unix-socket "$S" "http://b/v1/sandboxes/sb3/logs?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"][0]["time"])')
last=$(date +%s%3N)

# ---- 1. query latency ----
python3 - "$first" "$last" >"$T/win.paths" <<'PY'
import random, sys
a, b = int(sys.argv[1]), int(sys.argv[2])
random.seed(1)
for _ in range(200):
    s = random.randint(a, max(a, b - 10000)); sb = random.randint(0, 9)
    print(f"/v1/sandboxes/sb{sb}/logs?since={s}&until={s + 10000}&limit=100")
PY
for i in $(seq 0 9); do echo "/v1/sandboxes/sb$i/logs?verdict=deny&limit=100"; done >"$T/deny.paths"
echo "1. logs queries (1 connection, 3 s each):"
echo "   sandbox + 10 s window: $("$LOAD" "$S" "$T/win.paths" 1 3)"
echo "   verdict=deny:          $("$LOAD" "$S" "$T/deny.paths" 1 3)"
echo "/v1/sandboxes/sb5/logs?verdict=deny&binary=/usr/bin/wget&host=h2.test&limit=100" >"$T/deny3.paths"
echo "   deny+binary+host:      $("$LOAD" "$S" "$T/deny3.paths" 1 3)"

# ---- 2. requests/s against nginx ----
mkdir -p "$T/www"
curl -s --unix-socket "$S" http://b/v1/health >"$T/www/health"
curl -s --unix-socket "$S" "http://b/v1/sandboxes/sb1/logs?limit=1" >"$T/www/logs1"
cat >"$T/nginx.conf" <<NG
worker_processes 2;
pid $T/nginx.pid;
error_log $T/nginx.err;
events { worker_connections 256; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $T/ngtmp; proxy_temp_path $T/ngtmp; fastcgi_temp_path $T/ngtmp;
  uwsgi_temp_path $T/ngtmp; scgi_temp_path $T/ngtmp;
  server { listen unix:$T/nginx.sock; root $T/www; default_type application/json; }
}
NG
mkdir -p "$T/ngtmp"
nginx -c "$T/nginx.conf" || { echo "nginx did not start" >&2; exit 1; }
for _ in $(seq 50); do [ -S "$T/nginx.sock" ] && break; sleep 0.05; done
echo /v1/health >"$T/h.paths"; echo /health >"$T/nh.paths"
echo "/v1/sandboxes/sb1/logs?limit=1" >"$T/l.paths"; echo /logs1 >"$T/nl.paths"
echo "2. requests/s, 2 connections, 5 s each (health $(wc -c <"$T/www/health") B, logs $(wc -c <"$T/www/logs1") B):"
gh=$("$LOAD" "$S" "$T/h.paths" 2 5); nh=$("$LOAD" "$T/nginx.sock" "$T/nh.paths" 2 5)
gl=$("$LOAD" "$S" "$T/l.paths" 2 5); nl=$("$LOAD" "$T/nginx.sock" "$T/nl.paths" 2 5)
echo "   glassbox /v1/health:   $gh"
echo "   nginx same-size file:  $nh"
echo "   glassbox logs limit=1: $gl"
echo "   nginx same-size file:  $nl"
r() { awk '{for(i=1;i<=NF;i++) if($i=="req/s") print $(i-1)}' <<<"$1"; }
echo "   ratio health/nginx $(echo "scale=2; $(r "$gh") / $(r "$nh")" | bc), logs/nginx $(echo "scale=2; $(r "$gl") / $(r "$nl")" | bc)"
kill "$(cat "$T/nginx.pid")"; rm -f "$T/nginx.pid"

# ---- 3. follow latency ----
# The answer is chunked (Transfer-Encoding): a line can span chunks and a
# chunk hold many lines, so the client decodes the chunks and times each
# line when its last byte arrived — every event is measured.
python3 - "$S" "$T/following" >"$T/recv" <<'PY' &
import socket, sys, time, json
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"GET /v1/sandboxes/fl/logs?follow=1 HTTP/1.1\r\nHost: b\r\n\r\n")
s.settimeout(60)
raw = b""; body = b""; n = 0; deadline = time.time() + 60
def more():
    global raw
    d = s.recv(65536)
    if not d:
        raise EOFError
    raw += d
    return time.time_ns()
try:
    while b"\r\n\r\n" not in raw:
        more()
    raw = raw.split(b"\r\n\r\n", 1)[1]
    open(sys.argv[2], "w").close()  # the reader is at the tail: publish now
    t = time.time_ns()
    while n < 500 and time.time() < deadline:
        while b"\r\n" not in raw:
            t = more()
        size_line, rest = raw.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        while len(rest) < size + 2:
            raw = rest; t = more(); rest = raw
        body += rest[:size]; raw = rest[size + 2:]
        while b"\n" in body:
            line, body = body.split(b"\n", 1)
            if not line.startswith(b"{"):
                continue      # heartbeats
            ev = json.loads(line)["event"]
            print(ev["metadata"]["uid"].split(":")[-1], t, flush=True)
            n += 1
except (EOFError, socket.timeout):
    pass
PY
fp=$!; pids+=($fp)
for _ in $(seq 400); do [ -e "$T/following" ] && break; sleep 0.05; done
"$EV" "$RT" fl 500 2000 >"$T/sent"
wait "$fp" 2>/dev/null
echo "3. follow latency, ring publish -> client (500 events, 2 ms apart; $(wc -l <"$T/recv") of $(wc -l <"$T/sent") received): $(join <(sort "$T/sent") <(sort "$T/recv") | awk '{print ($3 - $2) / 1e6}' | pct)"

# ---- 4. policy set -> first connection on the new revision ----
ip netns add "$CNS"; ip netns exec "$CNS" ip link set lo up
echo "198.18.0.99 up.test" >"$T/hosts"   # unroutable in that namespace: the proxy answers 502
STATIC='version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/tmp, /dev/null]
  include_workdir: true
landlock:
  compatibility: best_effort'
printf '%s\nnetwork_policies: {}\n' "$STATIC" >"$T/deny.yaml"
printf '%s\nnetwork_policies:\n  up:\n    endpoints:\n      - host: up.test\n        port: 80\n    binaries:\n      - path: /usr/bin/python3*\n' "$STATIC" >"$T/allow.yaml"
cat >"$T/work/loop.py" <<'PY'
import socket, time, os, sys
out = open("attempts", "w", buffering=1)
end = time.time() + 120
while time.time() < end and not os.path.exists("stop"):
    s = socket.create_connection(("127.0.0.1", 3128))
    s.sendall(b"CONNECT up.test:80 HTTP/1.1\r\nHost: up.test:80\r\n\r\n")
    code = s.recv(64).split(b" ")[1].decode()
    s.close()
    out.write(f"{time.time_ns()} {code}\n")
    time.sleep(0.0002)
PY
chown -R sandbox "$T/work" 2>/dev/null || true
ip netns exec "$CNS" "$G" --root "$ROOT" run --quiet --name pl --workdir "$T/work" --policy "$T/deny.yaml" \
	--hosts "$T/hosts" -- /usr/bin/python3 "$T/work/loop.py" &
sp=$!; pids+=($sp)
for _ in $(seq 100); do [ -s "$T/work/attempts" ] && break; sleep 0.05; done
: >"$T/lat"
# 4a. through the API, the operator's call: a client with its own clock
# (no process start in the figure) PUTs the policy; t0 just before the
# request is sent, t1 when the answer is in.  Also the supervisor alone
# (its control socket: parse, validate, swap, record, answer).
python3 - "$S" "$RT/pl/control.sock" "$T/deny.yaml" "$T/allow.yaml" >"$T/puts" <<'PY'
import json, socket, sys, time
api, ctl, deny, allow = sys.argv[1], sys.argv[2], open(sys.argv[3], "rb").read(), open(sys.argv[4], "rb").read()
def talk(path, data):
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(20)
    t0 = time.time_ns(); s.sendall(data); s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    t1 = time.time_ns(); s.close()
    return t0, t1, got
def put(body):
    r = talk(api, b"PUT /v1/sandboxes/pl/policy HTTP/1.1\r\nHost: b\r\nContent-Length: %d\r\n"
             b"Connection: close\r\n\r\n" % len(body) + body)
    assert r[2].startswith(b"HTTP/1.1 200"), r[2][:300]
    return r
def ctlset(body):
    r = talk(ctl, json.dumps({"op": "set", "yaml": body.decode(), "file": "bench"}).encode())
    assert b'"ok":true' in r[2], r[2][:300]
    return r
for i in range(20):
    put(deny); time.sleep(0.05)
    t0, t1, _ = put(allow); print("api", t0, t1, flush=True); time.sleep(0.05)
for i in range(50):
    ctlset(deny)
    t0, t1, _ = ctlset(allow); print("ctl", t0, t1, flush=True)
PY
awk '$1 == "api" {print ($3 - $2) / 1e6}' "$T/puts" >"$T/ans"
awk '$1 == "ctl" {print ($3 - $2) / 1e6}' "$T/puts" >"$T/ctl"
awk '$1 == "api" {print $2}' "$T/puts" | while read -r t0; do
	awk -v t0="$t0" '$1 > t0 && $2 == "502" {print ($1 - t0) / 1e6; exit}' "$T/work/attempts"
done >"$T/lat_api"
# 4b. through the CLI (`glassbox policy set`, a process start, through the API)
for i in $(seq 20); do
	"$G" --root "$ROOT" -q policy set pl "$T/deny.yaml" >/dev/null
	sleep 0.05
	t0=$(date +%s%N)
	"$G" --root "$ROOT" -q policy set pl "$T/allow.yaml" >/dev/null
	sleep 0.05
	awk -v t0="$t0" '$1 > t0 && $2 == "502" {print ($1 - t0) / 1e6; exit}' "$T/work/attempts" >>"$T/lat"
done
touch "$T/work/stop"; wait "$sp" 2>/dev/null
echo "4. policy set -> first connection decided on the new revision (the sandbox's client connects every ~1 ms):"
echo "   supervisor alone (control socket round trip, 50 sets): $(pct <"$T/ctl")"
echo "   API PUT answered (20 sets):                            $(pct <"$T/ans")"
echo "   API PUT -> first connection on it:                     $(pct <"$T/lat_api")"
echo "   CLI (glassbox policy set) -> first connection on it:   $(pct <"$T/lat")"
