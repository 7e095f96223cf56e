#!/usr/bin/env bash
# Every byte through a tunnel arrives, in order, in both directions, when
# the relay has to hold bytes back (proxy_relay.c): a direction starts by
# copying small reads and splices once reads are large, and what a
# destination will not take waits in the direction's pipe.  Real python3
# clients and an upstream on a test-made network (lib/netns_lib.sh), the
# proxy's sockets with 4 KiB send buffers (tcp_wmem in its namespace): an
# upstream with a 4 KiB receive buffer that starts reading only after 0.5 s
# while the client trickles 256 KiB in 1 400-byte pieces (small reads meet
# a full destination: the copy's rest goes into the pipe) or writes 8 MiB
# at once; a client that does the same to an upstream sending 8 MiB; 400
# tiny echoes (1-200 bytes, the copy path only); four at once.  Each side
# checks SHA-256.
. "$(dirname "$0")/lib/netns_lib.sh"

cat >"$tmp/hosts" <<'H'
198.18.0.10     bulk.test
H
py=$(readlink -f /usr/bin/python3)
cat >"$tmp/policy.yaml" <<Y
version: 1
network_policies:
  bulk:
    endpoints:
      - {host: bulk.test, port: 9100}
    binaries: [{path: $py}]
Y

# One connection: a header line "MODE SIZE SEED", then
#   up    read SIZE bytes (after 0.5 s), answer their SHA-256
#   down  send SIZE bytes of the SEED stream in 1 400-byte pieces, close
#   echo  echo each line back until EOF
cat >"$tmp/upstream.py" <<'PY'
import hashlib, random, socket, threading, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # inherited: a small window
srv.bind(("0.0.0.0", 9100)); srv.listen(64)
def serve(c):
    c.settimeout(60)
    f = c.makefile("rb")
    mode, size, seed = f.readline().split()
    size, seed = int(size), int(seed)
    if mode == b"up":
        time.sleep(0.5)
        h, left = hashlib.sha256(), size
        while left:
            b = f.read(min(left, 65536))
            if not b: break
            h.update(b); left -= len(b)
        c.sendall((h.hexdigest() + "\n").encode())
    elif mode == b"down":
        data = random.Random(seed).randbytes(size)
        for i in range(0, size, 1400):
            c.sendall(data[i:i + 1400])
    else:
        for line in f:
            c.sendall(line)
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat >"$tmp/client.py" <<'PY'
import hashlib, random, socket, sys, time
mode, size, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(60)
s.connect(("127.0.0.1", 3128))
s.sendall(b"CONNECT bulk.test:9100 HTTP/1.1\r\nHost: bulk.test:9100\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    b = s.recv(1)
    assert b, "proxy closed before its answer"
    head += b
assert head.startswith(b"HTTP/1.1 200"), head + s.recv(2000)
s.sendall(f"{'up' if mode == 'trickle' else mode} {size} {seed}\n".encode())
data = random.Random(seed).randbytes(size)
if mode in ("up", "trickle"):
    for i in range(0, size, 1400):
        s.sendall(data[i:i + 1400])
        if mode == "trickle":
            time.sleep(0.002)
    got = s.makefile("rb").readline().strip().decode()
    assert got == hashlib.sha256(data).hexdigest(), ("upstream got other bytes", got)
elif mode == "down":
    time.sleep(0.5)
    h, n = hashlib.sha256(), 0
    while True:
        b = s.recv(65536)
        if not b: break
        h.update(b); n += len(b)
    assert n == size and h.hexdigest() == hashlib.sha256(data).hexdigest(), ("client got other bytes", n)
else:
    rnd = random.Random(seed)
    f = s.makefile("rb")
    for i in range(400):
        line = bytes(rnd.randrange(97, 123) for _ in range(rnd.randrange(1, 200))) + b"\n"
        s.sendall(line)
        assert f.readline() == line, ("echo", i)
    s.shutdown(socket.SHUT_WR)
print(mode, "ok")
PY

C sysctl -q -w net.ipv4.tcp_wmem="4096 4096 4096" || fail "tcp_wmem in the client namespace"
(exec ip netns exec "$UNS" "$py" "$tmp/upstream.py" >"$tmp/upstream.log" 2>&1) &
pids+=($!)
ip netns exec "$CNS" "$GLASSBOX" proxy --policy "$tmp/policy.yaml" --listen 127.0.0.1:3128 \
	--ring "$tmp/events.ring" --hosts "$tmp/hosts" --workers 2 >"$tmp/proxy.log" 2>&1 &
pids+=($!)
wait_tcp "$UNS" 198.18.0.10 9100
wait_tcp "$CNS" 127.0.0.1 3128

M=$((8 << 20))
C timeout 90 "$py" "$tmp/client.py" trickle $((256 << 10)) 3 || fail "trickle: the bytes differ or the tunnel failed"
for m in up down echo; do
	C timeout 90 "$py" "$tmp/client.py" "$m" "$M" 7 || fail "$m: the bytes differ or the tunnel failed"
done
# four at once, on two workers
cp=()
for m in up down echo up; do
	C timeout 90 "$py" "$tmp/client.py" "$m" "$M" "$RANDOM" >>"$tmp/par.log" 2>&1 &
	cp+=($!)
done
for p in "${cp[@]}"; do wait "$p" || { cat "$tmp/par.log"; fail "concurrent tunnels: the bytes differ"; }; done
[ "$(grep -c ' ok$' "$tmp/par.log")" = 4 ] || fail "concurrent tunnels: $(cat "$tmp/par.log")"
echo "proxy_relay_bytes: all cases passed"
