# tests/integration/sandbox_holders.sh — every process holding a proxy
# connection's socket is decided (issue 14), inside `glassbox run`:
#  1. an unlisted python3 connects, hands the socket over SCM_RIGHTS to a
#     sibling that lets an allowed curl inherit it and closes its own copy;
#     the python3 then writes the request.  The newest holder is curl, whose
#     ancestors do not hold the socket: a first-holder-and-family search
#     decides for curl alone.  It must be refused, and both recorded.
#  2. an unlisted python3 connects, then execs an allowed curl that writes
#     the request (its stdout is the socket): the process that connected is
#     decided too (seen at accept), even when curl has exited before the
#     head is read (nobody holds the socket then: not identity_failed).
#  3. curl alone is still allowed (no false positive from the search).
# Network as in sandbox_net.sh: client namespace without a default route,
# upstream python3 http.server on 198.18.0.10.
. "$(dirname "$0")/lib/sandbox_lib.sh"

NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
netns_trap
F="$GB_HELPER_DIR/sbx_ring_follow"
sbx_user_workdir "$W" # a user-owned workdir: idmapped, writable inside
netns_setup
mkdir -p "$T/www"
echo "hello from upstream" >"$T/www/hello.txt"
upstream_http "$T/www" "$T/http80.log"
echo "198.18.0.10 allowed.test" >"$T/hosts"
cat >"$T/policy.yaml" <<Y
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/tmp, /dev/null]
  include_workdir: true
landlock:
  compatibility: best_effort
network_policies:
  web:
    endpoints:
      - {host: allowed.test, port: 80}
    binaries:
      - path: /usr/bin/curl
Y
printf 'GET http://allowed.test/hello.txt HTTP/1.1\r\nHost: allowed.test\r\n\r\n' >"$W/req.txt"

# 1. W connects; H (W's sibling) receives the socket over SCM_RIGHTS, starts
#    curl with it inherited and closes its copy; W writes the request.
cat >"$W/handover.py" <<'PY'
import os, socket, subprocess, sys, time
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
h = os.fork()
if h == 0:  # H: receive, let curl inherit it, close our copy
    a.close()
    msg, fds, _, _ = socket.recv_fds(b, 16, 1)
    fd = fds[0]
    os.set_inheritable(fd, True)
    c = subprocess.Popen(["/usr/bin/curl", "-s", "-m", "4", "-o", "/dev/null", "file:///dev/urandom"],
                         pass_fds=[fd])
    os.close(fd)
    b.sendall(b"r")
    time.sleep(2)  # (file:// ignores curl's -m)
    c.kill()
    c.wait()
    os._exit(0)
w = os.fork()
if w == 0:  # W: connect, hand over, then talk through our own copy
    b.close()
    s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
    socket.send_fds(a, [b"x"], [s.fileno()])
    a.recv(1)  # curl holds it now, and H does not
    time.sleep(0.5)
    s.sendall(open(sys.argv[1], "rb").read())
    data = b""
    while True:
        d = s.recv(65536)
        if not d: break
        data += d
    print(data.split(b"\r\n")[0].decode(), flush=True)  # os._exit does not flush
    os._exit(0)
a.close(); b.close()
os.waitpid(w, 0); os.waitpid(h, 0)
PY

# 2. connect, then exec curl with the socket as its stdout: curl writes the
#    request it reads from a file.
cat >"$W/execafter.py" <<'PY'
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
time.sleep(0.5)  # connected, as python3
os.dup2(s.fileno(), 1)
os.execv("/usr/bin/curl", ["curl", "-s", "-m", "3", "file://" + sys.argv[1]])
PY

sbx() {
	local name=$1
	shift
	"$F" "$ROOT/run/glassbox/sandboxes/$name/events.ring" 20000 >"$T/$name.rec" &
	local fol=$!
	C "${GBRUN[@]}" --name "$name" --policy "$T/policy.yaml" --hosts "$T/hosts" -- "$@" \
		>"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	wait "$fol" || echo "  ($name: the follower did not see the stopped record)"
	sed "s/^/  $name: /" "$T/$name.rec" | grep -E ' (NET|FINDING|PROC launch)' || true
}
net() { grep -m1 '^NET open ' "$T/$1.rec"; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
py=$(readlink -f /usr/bin/python3)

sbx hand /usr/bin/python3 "$W/handover.py" "$W/req.txt"
check "handover: refused" "HTTP/1.1 403 Forbidden" "$(cat "$T/hand.out")"
r=$(net hand)
check "handover: record verdict" deny "$(field "$r" verdict)"
check "handover: reason" binary_not_allowed "$(field "$r" reason)"
f=$(grep -m1 '^FINDING .* detail=pid ' "$T/hand.rec" || true)
check "handover: finding names the python3 holder" yes "$(grep -q "$py (binary_not_allowed)" <<<"$f" && echo yes || echo no)"
check "handover: finding names curl" yes "$(grep -q '/usr/bin/curl' <<<"$f" && echo yes || echo no)"

sbx exec /usr/bin/python3 "$W/execafter.py" "$W/req.txt"
r=$(net exec)
check "exec after connect: record verdict" deny "$(field "$r" verdict)"
check "exec after connect: reason" binary_not_allowed "$(field "$r" reason)"
f=$(grep -m1 '^FINDING .* detail=pid ' "$T/exec.rec" || true)
check "exec after connect: finding names python3" yes "$(grep -q "$py (binary_not_allowed)" <<<"$f" && echo yes || echo no)"
# curl writes the request and exits at once: when it is gone before the head
# is read, nobody holds the socket and the accept-time view (python3) is all
# there is — then the FINDING says so; otherwise it names curl as well.
check "exec after connect: finding names curl, or that no process held it" yes \
	"$(grep -qE '/usr/bin/curl|no process held it' <<<"$f" && echo yes || echo no)"

sbx alone /usr/bin/curl -s -m 10 http://allowed.test/hello.txt
check "curl alone: allowed" "hello from upstream" "$(cat "$T/alone.out")"
check "curl alone: no finding" 0 "$(grep -c '^FINDING .* detail=pid ' "$T/alone.rec" || true)"
finish
