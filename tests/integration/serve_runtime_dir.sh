#!/usr/bin/env bash
# The run <-> serve filesystem contract (common/paths.h): a daemon started
# with `--runtime-dir DIR/` (a trailing slash) or with any spelling of the
# root holds the serve.lock the supervisors look at, so a supervisor whose
# daemon is momentarily not draining waits for it at exit instead of
# removing its ring with the last records unread.  (Before paths.h, serve
# took dirname of "DIR/" once and locked DIR/serve.lock; supervisors
# looked at DIR/../serve.lock, saw no daemon and left at once.)
# A --runtime-dir or config runtime_dir naming another directory is refused.
#
# How the wait is made visible without timing anything: the daemon is
# stopped (SIGSTOP) before a short sandbox runs, so it cannot read the ring.
# The workload leaves a marker and exits; once the supervisor has no child
# left (it is closing), it must still be alive — waiting for the daemon —
# and, after SIGCONT, every record (the process exit, the stop) must reach
# the journal.
. "$(dirname "$0")/lib/serve_lib.sh"
G() { "$GLASSBOX" --root "$ROOT" "$@"; }
SBX=$ROOT/run/glassbox/sandboxes
SERVE=
# a stopped daemon takes no SIGTERM: let it go on before cleanup ends it
SERVE_EXTRA_CLEANUP='[[ -n $SERVE ]] && kill -CONT "$SERVE" 2>/dev/null || true'
chmod 1777 "$T/work" # the workload (the sandbox user) leaves its marker here

# start_serve_args ARGS...: the daemon with these arguments (after the
# global ones), stopped with SIGSTOP once it is watching.
start_serve_args() {
	: >"$T/serve.log"
	"$GLASSBOX" "$@" >>"$T/serve.log" 2>&1 &
	SERVE=$!
	pids+=("$SERVE")
	for _ in $(seq 200); do
		grep -q watching "$T/serve.log" && break
		kill -0 "$SERVE" 2>/dev/null || fail "serve $* exited"
		sleep 0.05
	done
	grep -q watching "$T/serve.log" || fail "serve $* did not start"
}

stop_serve() {
	kill -CONT "$SERVE" 2>/dev/null || true
	kill "$SERVE" 2>/dev/null || true
	wait "$SERVE" 2>/dev/null || true
}

# waits_for_drain NAME [RUN-ROOT]: a short sandbox under a stopped daemon.
waits_for_drain() {
	local name=$1 rroot=${2:-$ROOT}
	rm -f "$T/work/done-$name"
	kill -STOP "$SERVE"
	"$GLASSBOX" --root "$rroot" run --quiet --name "$name" --workdir "$T/work" -- \
		/bin/sh -c "touch done-$name; exit 7" &
	local run=$!
	pids+=("$run")
	for _ in $(seq 400); do [[ -e $T/work/done-$name ]] && break; sleep 0.05; done
	[[ -e $T/work/done-$name ]] || fail "$name: the workload did not run"
	# the workload is reaped and the supervisor closing: no child left
	for _ in $(seq 400); do
		[[ -z $(pgrep -P "$run" || true) ]] && break
		sleep 0.05
	done
	sleep 0.5
	if ! kill -0 "$run" 2>/dev/null; then
		kill -CONT "$SERVE"
		fail "$name: the supervisor left without waiting for the daemon (serve.lock not where it looks)"
	fi
	[[ -e $SBX/$name/events.ring ]] || fail "$name: ring removed while the supervisor waits"
	kill -CONT "$SERVE"
	set +e
	wait "$run"
	local rc=$?
	set -e
	[[ $rc == 7 ]] || fail "$name: exit status $rc"
	for _ in $(seq 100); do
		G logs "$name" 2>/dev/null | grep -q 'LIFECYCLE:STOP' && break
		sleep 0.05
	done
	G logs "$name" >"$T/$name.txt" 2>&1 || true
	grep -q 'PROC:TERMINATE .*exit:7' "$T/$name.txt" || fail "$name: the exit record was lost: $(cat "$T/$name.txt")"
	grep -q 'LIFECYCLE:STOP' "$T/$name.txt" || fail "$name: the stop record was lost"
	[[ ! -e $SBX/$name ]] || fail "$name: state directory left behind"
}

# 1. --runtime-dir with a trailing slash: the same directory, so accepted,
#    and serve.lock is where supervisors look.
start_serve_args --root "$ROOT" serve --runtime-dir "$SBX/"
[[ -e $ROOT/run/glassbox/serve.lock ]] || fail "serve.lock not at <root>/run/glassbox/serve.lock"
[[ ! -e $SBX/serve.lock ]] || fail "a serve.lock inside the sandboxes directory"
waits_for_drain w1
stop_serve
echo "ok   serve --runtime-dir DIR/: a supervisor waits for the drain"

# 2. Other spellings of the root (trailing and repeated slashes) on both
#    sides meet at the same lock and ring.
start_serve_args --root "$ROOT//" serve --runtime-dir "${SBX%/sandboxes}//sandboxes"
waits_for_drain w2 "$T//root/"
stop_serve
echo "ok   root spellings on both sides meet"

# 3. A runtime dir that is not the root's is refused (exit 2, says why and
#    what to use), from the flag and from the config file alike; so is one
#    naming the runtime dir itself rather than its sandboxes directory.
for bad in "$T/elsewhere" "$ROOT/run/glassbox"; do
	set +e
	G serve --runtime-dir "$bad" >"$T/bad.txt" 2>&1
	rc=$?
	set -e
	[[ $rc == 2 ]] || fail "--runtime-dir $bad: exit $rc"
	grep -q -- "--runtime-dir $bad: sandboxes are always in $SBX" "$T/bad.txt" || fail "message: $(cat "$T/bad.txt")"
	grep -q -- "--root" "$T/bad.txt" || fail "the message does not say to use --root"
done
[[ ! -e $T/elsewhere ]] || fail "a refused --runtime-dir was created"
cat >"$T/other.yaml" <<YAML
runtime_dir: $T/elsewhere
YAML
set +e
G serve --config "$T/other.yaml" --check-config >"$T/bad.txt" 2>&1
rc=$?
set -e
[[ $rc == 2 ]] || fail "config runtime_dir elsewhere: exit $rc"
grep -q "runtime_dir (config) $T/elsewhere" "$T/bad.txt" || fail "config message: $(cat "$T/bad.txt")"
cat >"$T/same.yaml" <<YAML
runtime_dir: $SBX/
YAML
G serve --config "$T/same.yaml" --check-config >/dev/null 2>&1 || fail "config runtime_dir equal to the root's refused"
echo "ok   a runtime dir other than <root>/run/glassbox/sandboxes is refused"
