# tests/integration/sandbox_lifecycle.sh — exit status and signal
# propagation, reaping, pid namespace, environment, state directory and
# stale-state cleanup of `glassbox run`.
. "$(dirname "$0")/lib/sandbox_lib.sh"

gbrun -- /bin/true; check "exit 0" 0 $?
gbrun -- /bin/sh -c 'exit 42'; check "exit 42" 42 $?
gbrun -- /bin/sh -c 'kill -KILL $$'; check "killed by SIGKILL" 137 $?
gbrun -- /bin/sh -c 'kill -SEGV $$'; check "killed by SIGSEGV" 139 $?
gbrun -- /nonexistent/cmd 2>/dev/null; check "not found" 127 $?
gbrun -- "$W" 2>/dev/null; check "not executable" 126 $?
mkdir -m 0700 "$T/private"
msg=$("$GLASSBOX" --root "$ROOT" run --workdir "$T/private" -- /bin/true 2>&1)
check "workdir the sandbox user cannot enter" 126 $?
case "$msg" in *"workdir $T/private: cannot enter it as user sandbox: Permission denied"*) r=yes ;; *) r="$msg" ;; esac
check "workdir error message" yes "$r"
"$GLASSBOX" --root "$ROOT" run --quiet --policy /nonexistent.yaml -- /bin/true 2>/dev/null
check "missing policy file" 125 $?

# Not root: a clear refusal before anything is created.
msg=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$GLASSBOX" --root "$ROOT" run -- /bin/true 2>&1)
check "non-root refused" 125 $?
case "$msg" in *"must be started as root"*) r=yes ;; *) r="$msg" ;; esac
check "non-root message" yes "$r"

# Sandboxes side by side: each has its own 127.0.0.1:3128 and pid 1.
"${GBRUN[@]}" --name side1 -- /bin/sh -c 'sleep 0.3; exit 3' &
a=$!
"${GBRUN[@]}" --name side2 -- /bin/sh -c 'sleep 0.3; exit 4' &
b=$!
wait "$a"; ra=$?
wait "$b"; rb=$?
check "two sandboxes at once" "3 4" "$ra $rb"

# Signals sent to the supervisor reach CMD.
for sig in INT TERM HUP; do
	"${GBRUN[@]}" -- /bin/sleep 30.$$ &
	sup=$!
	for _ in $(seq 100); do pgrep -fx "/bin/sleep 30.$$" >/dev/null && break; sleep 0.05; done
	kill -"$sig" "$sup"
	wait "$sup"
	rc=$?
	check "SIG$sig forwarded" $((128 + $(kill -l "$sig"))) "$rc"
done
# A CMD that handles the signal decides its own exit status.
# (The signal is sent once the sleep runs, i.e. after the trap is set.)
"${GBRUN[@]}" -- /bin/sh -c "trap 'exit 9' TERM; sleep 30.$$ & wait" &
sup=$!
for _ in $(seq 100); do pgrep -fx "sleep 30.$$" >/dev/null && break; sleep 0.05; done
kill -TERM "$sup"
wait "$sup"
check "SIGTERM handled by CMD" 9 $?

# pid namespace: CMD is pid 2 under our init, and /proc shows nothing else.
check "pids inside" "1 2" "$(gbrun -- /bin/sh -c 'cd /proc && echo [0-9]*')"

# Every descendant is gone when CMD exits (init is pid 1; the kernel kills
# the rest of the namespace).
tag="59.$$"
gbrun -- /bin/sh -c "/bin/sleep $tag & exit 0"
sleep 0.2
check "orphan killed" "" "$(pgrep -f "^/bin/sleep $tag" || true)"

# Environment.
env_out=$(gbrun -- /usr/bin/env)
for v in HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy; do
	check "env $v" "$v=http://127.0.0.1:3128" "$(echo "$env_out" | grep "^$v=")"
done
check "env NO_PROXY" "NO_PROXY=localhost,127.0.0.1" "$(echo "$env_out" | grep '^NO_PROXY=')"
if [ -r /etc/ssl/certs/ca-certificates.crt ]; then
	for v in SSL_CERT_FILE REQUESTS_CA_BUNDLE CURL_CA_BUNDLE NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO \
	         PIP_CERT DENO_CERT; do
		check "env $v" "$v=/etc/ssl/certs/ca-certificates.crt" "$(echo "$env_out" | grep "^$v=")"
	done
fi
check "env USER" "USER=sandbox" "$(echo "$env_out" | grep '^USER=')"
check "hostname = sandbox name" "probe-host" \
	"$(gbrun --name probe-host -- /bin/cat /proc/sys/kernel/hostname)"

# State directory: present while running, gone afterwards.
sd="$ROOT/run/glassbox/sandboxes/st1"
"${GBRUN[@]}" --name st1 -- /bin/sleep 30 &
sup=$!
for _ in $(seq 50); do [ -s "$sd/supervisor.pid" ] && break; sleep 0.1; done
check "state dir while running" "$sup" "$(cat "$sd/supervisor.pid" 2>/dev/null)"
gbrun --name st1 -- /bin/true 2>/dev/null
check "same name refused while running" 125 $?
kill -TERM "$sup"
wait "$sup"
check "state dir removed" "absent" "$([ -e "$sd" ] && echo present || echo absent)"

# Supervisor killed with SIGKILL: the sandbox dies with it, and the next run
# with that name cleans the stale state.
tag="58.$$"
"${GBRUN[@]}" --name st2 -- /bin/sleep "$tag" &
sup=$!
sd="$ROOT/run/glassbox/sandboxes/st2"
for _ in $(seq 50); do pgrep -f "^/bin/sleep $tag" >/dev/null && break; sleep 0.1; done
kill -KILL "$sup"
wait "$sup" 2>/dev/null
sleep 0.3
check "sandbox died with its supervisor" "" "$(pgrep -f "^/bin/sleep $tag" || true)"
check "stale state left behind" "present" "$([ -e "$sd/supervisor.pid" ] && echo present || echo absent)"
msg=$("$GLASSBOX" --root "$ROOT" run --name st2 --workdir "$W" -- /bin/true 2>&1)
check "restart over stale state" 0 $?
case "$msg" in *"stale state of sandbox 'st2' (supervisor pid $sup is gone)"*) r=yes ;; *) r="$msg" ;; esac
check "stale state reported" yes "$r"
check "stale state removed" "absent" "$([ -e "$sd" ] && echo present || echo absent)"
finish
