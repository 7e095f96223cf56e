#!/usr/bin/env bash
# The API of glassbox serve under hostile clients and load (issue 20): every
# one bounded in count and time, loopback unix socket only.
#   - a query value that is not UTF-8 gets a JSON 400 (it closed the
#     connection without an answer: found by fuzz_api_body);
#   - slowloris: 200 clients holding half a request head do not stop the
#     API answering others; 300 (more than its connection limit) are cut
#     at the request-head deadline (API_HEAD_DEADLINE_S, 5 s) and it
#     answers again — before, 64 such clients shut it out for good;
#   - descriptor exhaustion: with 96 descriptors and 150 idle clients the
#     daemon does not spin, and answers once they leave;
#   - 200 concurrent follow clients each receive every event written after
#     they started.
. "$(dirname "$0")/lib/serve_lib.sh"
EV="$GB_HELPER_DIR/ring_events"
RT=$ROOT/run/glassbox/sandboxes
S=$ROOT/run/glassbox/api.sock
api() { curl -s -m 5 --unix-socket "$S" -o "$T/body" -w '%{http_code}' "$@" || true; }

start_serve
# ---- a query value that is not UTF-8 ----
"$EV" "$RT" s1 1 >/dev/null
for q in 'since=%9A' 'until=2026%FF' 'level=%C3' 'class=%ED%A0%80' 'limit=%F4%90%80%80'; do
	[[ $(api "http://gb/v1/sandboxes/s1/logs?$q") == 400 ]] || fail "$q: status $(cat "$T/body")"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d["error"], str) and d["detail"]' "$T/body" ||
		fail "$q: not a JSON error: $(cat "$T/body")"
done
echo "ok   query values that are not UTF-8: JSON 400"

# ---- slowloris ----
slow() { # slow N SECONDS: N clients each send half a head, then hold; prints
	# "held CUT" where CUT = how many the daemon closed within SECONDS
	python3 - "$S" "$1" "$2" <<'PY'
import socket, sys, time
path, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
held = []
for i in range(n):
    for _ in range(100):            # the accept backlog fills: retry, bounded
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        try:
            s.connect(path)
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: gb\r\n")
            held.append(s)
            break
        except BlockingIOError:
            s.close()
            time.sleep(0.01)
        except OSError:
            s.close()
            break
open(sys.argv[1] + ".held", "w").write(str(len(held)))
end = time.time() + secs
cut = 0
for s in held:
    s.settimeout(max(0.01, end - time.time()))
    try:
        if s.recv(100) == b"":
            cut += 1
    except socket.timeout:
        pass
    except OSError:
        cut += 1
print(len(held), cut)
PY
}
slow 200 20 >"$T/slow200" &
sl=$!
for _ in $(seq 100); do [[ -s $S.held ]] && break; sleep 0.05; done
[[ $(api http://gb/v1/health) == 200 ]] || fail "health while 200 slow clients hold heads"
wait "$sl"
read -r held cut <"$T/slow200"
[[ $held == 200 && $cut == 200 ]] || fail "200 slow clients: $held held, $cut cut"
echo "ok   200 slow clients: the API answers meanwhile; all cut at the head deadline"
rm -f "$S.held"
slow 300 25 >"$T/slow300" &
sl=$!
for _ in $(seq 100); do [[ -s $S.held ]] && break; sleep 0.05; done
ok=""
for _ in $(seq 30); do [[ $(api http://gb/v1/health) == 200 ]] && { ok=1; break; }; sleep 0.5; done
[[ -n $ok ]] || fail "health never answered while 300 slow clients came and were cut"
wait "$sl"
read -r held cut <"$T/slow300"
[[ $cut == "$held" ]] || fail "300 slow clients: $held held, only $cut cut"
echo "ok   300 slow clients (over the connection limit): cut at the deadline, the API answers again"
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true

# ---- descriptor exhaustion ----
prlimit --nofile=96 "$GLASSBOX" --root "$ROOT" serve >>"$T/serve.log" 2>&1 &
SERVE=$!
pids+=("$SERVE")
for _ in $(seq 100); do [[ $(api http://gb/v1/health) == 200 ]] && break; sleep 0.05; done
python3 - "$S" "$SERVE" <<'PY' >"$T/emfile" || fail "EMFILE phase"
import socket, sys, time
held = []
for i in range(150):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(1)
    try:
        s.connect(sys.argv[1]); held.append(s)
    except OSError:
        s.close()
time.sleep(0.5)
def ticks():
    f = open("/proc/%s/stat" % sys.argv[2]).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
t0 = ticks(); time.sleep(2); t1 = ticks()
print(len(held), t1 - t0)
for s in held:
    s.close()
PY
read -r nheld spin <"$T/emfile"
kill -0 "$SERVE" || fail "serve died at EMFILE"
[[ $spin -lt 100 ]] || fail "serve spun at EMFILE: $spin ticks in 2 s"
ok=""
for _ in $(seq 40); do [[ $(api http://gb/v1/health) == 200 ]] && { ok=1; break; }; sleep 0.25; done
[[ -n $ok ]] || fail "not answering after EMFILE"
echo "ok   EMFILE ($nheld clients, 96 descriptors): $spin CPU ticks in 2 s, answering again"
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true

# ---- 200 concurrent follow clients ----
# Each follows from a time before the events, so a client that connects
# late (200 curls on a busy machine) still gets every one, from the journal
# then live.
start_serve
"$EV" "$RT" s2 1 >/dev/null
t0=$(( $(date +%s%3N) ))
fol=()
for i in $(seq 200); do
	timeout 40 curl -sN --unix-socket "$S" "http://gb/v1/sandboxes/s2/logs?follow=1&since=$t0" >"$T/f$i" 2>/dev/null &
	fol+=($!)
done
pids+=("${fol[@]}")
"$EV" "$RT" s2 20 >/dev/null
python3 - "$T" 200 20 <<'PY' || true
import sys, time
d, n, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
end = time.time() + 30
while time.time() < end:
    got = sum(open("%s/f%d" % (d, i), errors="replace").read().count('"cursor"') >= want for i in range(1, n + 1))
    if got == n:
        break
    time.sleep(0.5)
open(d + "/follow.got", "w").write(str(got))
PY
for p in "${fol[@]}"; do kill "$p" 2>/dev/null || true; done
got=$(cat "$T/follow.got")
[[ $got == 200 ]] || for i in $(seq 200); do echo "f$i $(grep -c '"cursor"' "$T/f$i") $(head -c 200 "$T/f$i")"; done | sort -k2 -n | head -5
[[ $got == 200 ]] || fail "follow: $got of 200 clients got all 20 events"
echo "ok   200 concurrent follow clients each received all 20 new events"
echo "api_faults: all cases passed"
