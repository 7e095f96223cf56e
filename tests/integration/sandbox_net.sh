# tests/integration/sandbox_net.sh — `glassbox run` end to end on the
# network: real clients (curl, python3 urllib, git) inside the sandbox, the
# sandbox's proxy in its supervisor, real servers on test hosts.
#
#   gbc$$ (client ns, NO default route)             gbu$$ (upstream ns)
#     glassbox run --hosts H (supervisor + proxy)     198.18.0.10 http :80
#       sandbox netns: lo only, 127.0.0.1:3128
#     198.18.0.2/24 ----------------- veth -------    198.18.0.10/24
#
# Upstream connections leave from the supervisor, i.e. from gbc$$: names
# come from the --hosts file.  Every run's ring is followed while it runs
# (it is removed at exit) and the NET_DECISION records are checked against
# the sandboxed process: its pid (the PROC launch record), exe and the
# sandbox user's uid.
. "$(dirname "$0")/lib/sandbox_lib.sh"

NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
netns_trap
die() { echo "FAIL: $*" >&2; exit 1; }
F="$GB_HELPER_DIR/sbx_ring_follow"
sbx_user_workdir "$W"
netns_setup
# Counters proving SSRF refusals send nothing: upstream input to :80 and
# client-namespace output to loopback:80 / the metadata address.
nft_counter_setup 80 "{ 127.0.0.0/8, 169.254.0.0/16 }"

# ---- upstream: python3 http.server serving a file and a dumb-HTTP git repo ----
mkdir -p "$T/www"
echo "hello from upstream" >"$T/www/hello.txt"
git init -q --bare "$T/www/repo.git"
git init -q "$T/src"
echo "tracked" >"$T/src/file.txt"
git -C "$T/src" add file.txt
git -C "$T/src" -c user.email=t@t -c user.name=t commit -q -m first
git -C "$T/src" push -q "$T/www/repo.git" HEAD:refs/heads/main 2>/dev/null
git -C "$T/www/repo.git" symbolic-ref HEAD refs/heads/main
git -C "$T/www/repo.git" update-server-info
upstream_http "$T/www" "$T/http80.log"

cat >"$T/hosts" <<'H'
198.18.0.10 allowed.test git.test nothere.test anc.test
127.0.0.1   loop.test
169.254.169.254 meta.test
H
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
      - host: allowed.test
        port: 80
    binaries:
      - path: /usr/bin/curl
  ssrf:
    endpoints:
      - host: loop.test
        port: 80
      - host: meta.test
        port: 80
    binaries:
      - path: /usr/bin/curl
  anc:
    endpoints:
      - host: anc.test
        port: 80
    binaries:
      - path: /usr/bin/bash
  git:
    endpoints:
      - host: git.test
        port: 80
    binaries:
      - path: /usr/lib/git-core/git-remote-http
Y
cat >"$W/get.py" <<'PY'
import sys, json, urllib.request, urllib.error
try:  # the proxy comes from HTTP_PROXY, set by the sandbox
    r = urllib.request.urlopen(sys.argv[1], timeout=10)
    print(r.status, r.read().decode().strip())
except urllib.error.HTTPError as e:
    b = json.loads(e.read())
    print(e.code, b["error"], b["reason"], b["binary"], b["destination"])
PY

# sbx NAME CMD...: one sandbox, in the client namespace, its ring followed;
# stdout in $T/NAME.out, records in $T/NAME.rec, status in $rc.
sbx() {
	local name=$1
	shift
	"$F" "$ROOT/run/glassbox/sandboxes/$name/events.ring" 20000 >"$T/$name.rec" &
	local fol=$!
	C "${GBRUN[@]}" --name "$name" --policy "$T/policy.yaml" --hosts "$T/hosts" -- "$@" \
		>"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	wait "$fol" || echo "  ($name: the follower did not see the stopped record)"
	sed "s/^/  $name: /" "$T/$name.rec" | grep -E ' (NET|HTTP|PROC launch)' || true
}
# net NAME: the first NET open line of that run's records
net() { grep -m1 '^NET open ' "$T/$1.rec"; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
launch_pid() { sed -n 's/^PROC launch pid=\([0-9]*\) .*/\1/p' "$T/$1.rec" | head -1; }
# ident NAME EXE: the NET record's identity is the sandboxed process
ident() {
	local r
	r=$(net "$1")
	check "$1: record pid is the sandboxed $2" "$(launch_pid "$1")" "$(field "$r" pid)"
	check "$1: record exe" "$2" "$(field "$r" exe)"
	check "$1: record uid is a sandbox uid" yes "$(sbx_uid "$(field "$r" uid)")"
}

# 1. curl, listed: plain-HTTP forward and CONNECT tunnel (curl -p)
sbx fwd /usr/bin/curl -sS -m 10 http://allowed.test/hello.txt
check "curl forward: status" 0 "$rc"
check "curl forward: body" "hello from upstream" "$(cat "$T/fwd.out")"
r=$(net fwd)
check "curl forward: record" "forward allow allowed.test 198.18.0.10 80 web" \
	"$(awk '{print $3}' <<<"$r") $(field "$r" verdict) $(field "$r" host) $(field "$r" ip) $(field "$r" port) $(field "$r" entry)"
ident fwd /usr/bin/curl
check "curl forward: close record has bytes" yes \
	"$(grep -qE '^NET close forward verdict=allow .* down=[1-9]' "$T/fwd.rec" && echo yes || echo no)"

sbx tun /usr/bin/curl -sS -m 10 -p http://allowed.test/hello.txt
check "curl CONNECT: status" 0 "$rc"
check "curl CONNECT: body" "hello from upstream" "$(cat "$T/tun.out")"
r=$(net tun)
check "curl CONNECT: record" "connect allow allowed.test 80" \
	"$(awk '{print $3}' <<<"$r") $(field "$r" verdict) $(field "$r" host) $(field "$r" port)"
ident tun /usr/bin/curl

# 2. the same destination from python3 urllib (not listed): 403 + JSON body
py=$(readlink -f /usr/bin/python3)
sbx py /usr/bin/python3 get.py http://allowed.test/hello.txt
check "python3 unlisted: 403 JSON body" "403 policy_denied binary_not_allowed $py allowed.test:80" \
	"$(cat "$T/py.out")"
r=$(net py)
check "python3 unlisted: record" "deny binary_not_allowed" "$(field "$r" verdict) $(field "$r" reason)"
ident py "$py"

# 3. a host no policy entry names
sbx host /usr/bin/curl -s -m 10 -o "$W/host.body" -w '%{http_code}' http://nothere.test/hello.txt
check "denied host: 403" 403 "$(cat "$T/host.out")"
check "denied host: JSON body" "policy_denied no_endpoint /usr/bin/curl nothere.test:80" \
	"$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print(b["error"], b["reason"], b["binary"], b["destination"])' "$W/host.body" 2>&1)"
r=$(net host)
check "denied host: record" "deny no_endpoint nothere.test" \
	"$(field "$r" verdict) $(field "$r" reason) $(field "$r" host)"
ident host /usr/bin/curl

# 4. SSRF: listed names mapped to loopback / metadata: refused, nothing sent
up0=$(counter U) lo0=$(counter C)
sbx loop /usr/bin/curl -s -m 10 -o /dev/null -w '%{http_code}' http://loop.test/
check "SSRF loopback name: 403" 403 "$(cat "$T/loop.out")"
r=$(net loop)
check "SSRF loopback: record" "deny ssrf loopback 127.0.0.1" \
	"$(field "$r" verdict) $(field "$r" reason) $(field "$r" tier) $(field "$r" ip)"
ident loop /usr/bin/curl
sbx meta /usr/bin/curl -s -m 10 -o /dev/null -w '%{http_connect}' -p http://meta.test/latest/meta-data/
check "SSRF metadata (CONNECT): 403" 403 "$(cat "$T/meta.out")"
r=$(net meta)
check "SSRF metadata: record" "deny ssrf link_local 169.254.169.254" \
	"$(field "$r" verdict) $(field "$r" reason) $(field "$r" tier) $(field "$r" ip)"
check "SSRF: client-namespace loopback/metadata counter" "0 0" "$lo0 $(counter C)"
check "SSRF: upstream counter unchanged" "$up0" "$(counter U)"

# 5. git clone over dumb HTTP: git-remote-http is listed, git is its ancestor
sbx git /usr/bin/git clone -q http://git.test/repo.git "$W/clone"
check "git clone: status" 0 "$rc"
check "git clone: content" tracked "$(cat "$W/clone/file.txt" 2>/dev/null)"
r=$(net git)
check "git clone: record" "allow git /usr/lib/git-core/git-remote-http" \
	"$(field "$r" verdict) $(field "$r" entry) $(field "$r" exe)"
check "git clone: record uid" yes "$(sbx_uid "$(field "$r" uid)")"
case ",$(field "$r" ancestors)," in *,/usr/bin/git,*) a=yes ;; *) a="$(field "$r" ancestors)" ;; esac
check "git clone: /usr/bin/git among the ancestors" yes "$a"
# git clone runs `git remote-http` (git) which execs git-remote-http
case ",$(field "$r" apids)," in *,"$(launch_pid git)",*) a=yes ;; *) a="$(field "$r" apids)" ;; esac
check "git clone: the sandboxed git's pid among the ancestor pids" yes "$a"
# the chain stops at the sandbox: no supervisor, no host shell
case ",$(field "$r" ancestors)," in *glassbox*|*/bash,*|*timeout*|*ctest*) a="$(field "$r" ancestors)" ;; *) a=inside ;; esac
check "git clone: ancestors end at the sandbox boundary" inside "$a"

# 6. ancestor-based allow: bash is listed for anc.test.  curl under a
#    sandboxed bash gets through; curl alone is refused although this very
#    test (and so the supervisor) runs under bash: host processes never grant.
sbx anc1 /usr/bin/bash -c '/usr/bin/curl -sS -m 10 http://anc.test/hello.txt; exit $?'
check "ancestor allow: curl under sandboxed bash" "hello from upstream" "$(cat "$T/anc1.out")"
r=$(net anc1)
check "ancestor allow: record" "allow anc /usr/bin/curl /usr/bin/bash" \
	"$(field "$r" verdict) $(field "$r" entry) $(field "$r" exe) $(field "$r" ancestors | cut -d, -f1)"
check "ancestor allow: the parent is the sandboxed bash" "$(launch_pid anc1)" "$(field "$r" apids)"
check "ancestor allow: uid is a sandbox uid" yes "$(sbx_uid "$(field "$r" uid)")"
sbx anc2 /usr/bin/curl -s -m 10 -o /dev/null -w '%{http_code}' http://anc.test/hello.txt
check "ancestor outside the sandbox does not grant" 403 "$(cat "$T/anc2.out")"
r=$(net anc2)
check "ancestor outside: record" "deny binary_not_allowed" "$(field "$r" verdict) $(field "$r" reason)"
check "ancestor outside: no ancestors past the sandbox" "" "$(field "$r" ancestors)"

# 7. a direct connection bypassing the proxy: no route out of the sandbox
sbx direct ./escape_probe connect 198.18.0.10 80
check "direct connect to the test host" "connect ENETUNREACH" "$(cat "$T/direct.out")"
sbx direct2 /usr/bin/curl -sS -m 5 --noproxy '*' http://198.18.0.10/hello.txt
check "curl --noproxy fails" 7 "$rc"
check "direct connect: no NET record" 0 "$(grep -c '^NET ' "$T/direct.rec")"

finish
