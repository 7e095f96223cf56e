#!/usr/bin/env bash
# glassbox serve -v / --quiet: -v adds the debug lines (each ring attached
# and detached), --quiet removes the start/stop lines and the warnings of a
# sink that keeps failing, and neither ever silences an error.  The default
# level is run beside each, so a level that changed nothing fails.
. "$(dirname "$0")/lib/serve_lib.sh"

# A file sink whose directory cannot be created: it warns every second.
cat >"$ROOT/etc/glassbox/glassbox.yaml" <<YAML
sinks:
  - name: stuck
    type: file
    path: /proc/glassbox-no-such-dir/out.jsonl
YAML

# serve_for LOG [OPTIONS...]: start the daemon, wait for its ring to be
# drained, let the sink fail twice, stop it.
serve_for() {
	local log=$1
	shift
	"$GLASSBOX" --root "$ROOT" serve "$@" >"$log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	# ready once the runtime dir exists and discovery runs
	for _ in $(seq 100); do
		[[ -d $ROOT/run/glassbox/sandboxes ]] && break
		sleep 0.05
	done
	sleep 0.3
	run_sandbox "lvl$RANDOM" 'true'
	sleep 2.2
	kill -TERM "$pid"
	wait "$pid" || fail "serve $* exited $?"
}

serve_for "$T/default.log"
grep -q "^glassbox serve: watching " "$T/default.log" || fail "default: no start line: $(cat "$T/default.log")"
grep -q "^glassbox serve: warning: sink stuck: .*(retrying)" "$T/default.log" || fail "default: no sink warning: $(cat "$T/default.log")"
grep -q "^glassbox serve: stopped" "$T/default.log" || fail "default: no stop line"
grep -q "draining" "$T/default.log" && fail "default: debug lines without -v"
echo "ok   default level: start, sink warning, stop; no debug"

serve_for "$T/verbose.log" -v
grep -q "^glassbox serve: draining .*/events.ring" "$T/verbose.log" || fail "-v: no ring attach line: $(cat "$T/verbose.log")"
grep -q "^glassbox serve: .*/events.ring: detached" "$T/verbose.log" || fail "-v: no ring detach line"
grep -q "^glassbox serve: watching " "$T/verbose.log" || fail "-v lost the info lines"
echo "ok   serve -v: each ring attached and detached"

serve_for "$T/quiet.log" --quiet
[[ ! -s $T/quiet.log ]] || fail "--quiet printed: $(cat "$T/quiet.log")"
# the global -q, before the command, is the same level
"$GLASSBOX" -q --root "$ROOT" serve --runtime-dir /proc/glassbox-no-such-dir >"$T/err.log" 2>&1 &&
	fail "serve started on an impossible runtime dir"
grep -q "^glassbox serve: .*glassbox-no-such-dir" "$T/err.log" || fail "--quiet silenced an error: $(cat "$T/err.log")"
"$GLASSBOX" --root "$ROOT" serve --quiet --no-such-option x >"$T/err2.log" 2>&1 && fail "bad option accepted"
grep -q "^glassbox serve: unknown option '--no-such-option'" "$T/err2.log" || fail "--quiet silenced a usage error"
echo "ok   serve --quiet: nothing but errors"
