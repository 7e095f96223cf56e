# tests/integration/lib/serve_lib.sh — shared setup for the tests that run
# glassbox serve and sandboxes under a private --root (sourced).
# Sets: T ROOT pids; functions: fail, start_serve [N], run_sandbox NAME CMD.
# Background processes must be started as the program itself (not through
# a shell function) so that $! is their pid and cleanup can end them.
set -euo pipefail
: "${GLASSBOX:?}"
[[ $(id -u) == 0 ]] || { echo "SKIP: glassbox run needs root"; exit 77; }
T=$(mktemp -d /tmp/gb-serve-test.XXXXXX)
chmod 0755 "$T"
ROOT=$T/root
mkdir -p "$ROOT/etc/glassbox" "$T/work"
pids=()
serve_cleanup() {
	[[ -n ${SERVE_EXTRA_CLEANUP:-} ]] && eval "$SERVE_EXTRA_CLEANUP"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap serve_cleanup EXIT
fail() { echo "FAIL: $*"; [[ -f $T/serve.log ]] && tail -20 "$T/serve.log"; exit 1; }
# skip_kafka_under_tsan: librdkafka starts its threads with C11 thrd_create,
# which ThreadSanitizer does not intercept, and the first allocation on such
# a thread crashes (SEGV in the TSan allocator): a test of a Kafka sink skips
# in the Tsan build; the ASan+UBSan run covers it.
skip_kafka_under_tsan() {
	if grep -qs '^CMAKE_BUILD_TYPE:STRING=Tsan$' "${GB_BUILD_DIR:-}/CMakeCache.txt"; then
		echo "SKIP: librdkafka's threads cannot run under ThreadSanitizer"
		exit 77
	fi
}
# start_kafka_mock TOPIC: librdkafka's mock cluster (tests/helpers/kafka_mock)
# in its own process, commanded through fd 7 (echo down|up|"reject N" >&7);
# sets BROKERS.  Skips under TSan (above).
start_kafka_mock() {
	skip_kafka_under_tsan
	SERVE_EXTRA_CLEANUP='exec 7>&- 2>/dev/null || true'
	mkfifo "$T/mock.in"
	"$GB_HELPER_DIR/kafka_mock" "$1" <"$T/mock.in" >"$T/mock.out" 2>"$T/mock.err" &
	pids+=($!)
	exec 7>"$T/mock.in"
	for _ in $(seq 200); do [[ -s $T/mock.out ]] && break; sleep 0.1; done
	BROKERS=$(head -1 "$T/mock.out")
	[[ $BROKERS == *127.0.0.1* || $BROKERS == *localhost* ]] || fail "mock cluster: '$BROKERS' $(cat "$T/mock.err")"
}
# start_serve [N]: start the daemon (with the options in the array
# SERVE_OPTS, if set); N = how many starts the log must show
start_serve() {
	local want=${1:-$(( $(grep -c watching "$T/serve.log" 2>/dev/null || true) + 1 ))}
	"$GLASSBOX" --root "$ROOT" serve ${SERVE_OPTS[@]+"${SERVE_OPTS[@]}"} >>"$T/serve.log" 2>&1 &
	SERVE=$!
	pids+=("$SERVE")
	# up to 20 s: a start fsyncs the journal, its index and the checkpoint
	# signer (ten syncs), which a loaded CI disk can stretch past 5 s;
	# GB_SERVE_WAIT_STEPS: scripts/memcheck's valgrind starts slower still
	for _ in $(seq "${GB_SERVE_WAIT_STEPS:-400}"); do
		[[ $(grep -c watching "$T/serve.log" 2>/dev/null || true) -ge $want ]] && return
		sleep 0.05
	done
	fail "serve did not start"
}
# run_sandbox NAME SHELL-COMMAND: a quiet sandbox run; its status is ignored
run_sandbox() {
	"$GLASSBOX" --root "$ROOT" run --quiet --name "$1" --workdir "$T/work" -- /bin/sh -c "$2" || true
}
