#!/usr/bin/env bash
# run.sh FUZZER SEEDS SECONDS [ARGS...]: run one libFuzzer harness for a
# bounded time (and memory) on its seed corpus.  New inputs go to a
# temporary directory (the committed seeds are never rewritten); a crash
# leaves its reproducer in the current directory and fails the run.
#
# FUZZ_CPU_SECS=N: stop instead once the harness has used N seconds of CPU
# (user + system, read from /proc every 5 s), SECONDS staying the wall-clock
# bound.  A niced harness on a shared machine gets a fraction of a core, so
# "N CPU-minutes" is only reached this way; the CPU seconds used are printed
# as "cpu_seconds: N" at the end either way.
set -euo pipefail
fz=$1 seeds=$2 secs=$3
shift 3
work=$(mktemp -d /tmp/gb-fuzz.XXXXXX)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
exec_args=(-max_total_time="$secs" -rss_limit_mb=1024 -malloc_limit_mb=512 -max_len=65536
           -timeout=10 -print_final_stats=1 "$@")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
tck=$(getconf CLK_TCK)
cpu_of() { # utime + stime of $1 in seconds (fields 14, 15 after the comm)
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	echo $(( (${12} + ${13}) / tck ))
}
"$fz" "${exec_args[@]}" "$work" "$seeds" &
pid=$!
used=0
budget=${FUZZ_CPU_SECS:-0}
while kill -0 "$pid" 2>/dev/null; do
	used=$(cpu_of "$pid" || echo "$used")
	if (( budget > 0 && used >= budget )); then
		# libFuzzer prints its final stats on SIGINT and exits 72
		kill -INT "$pid" 2>/dev/null || true
		break
	fi
	sleep 5 & wait $! || true
done
rc=0
wait "$pid" || rc=$?
pid=
# the exact figure: this shell's children's times once the harness is reaped
# (the rest of its children are cat and sleep)
times >"$work/times" # not in $(...): a subshell has no children of its own
read -r u s <<<"$(tail -1 "$work/times")"
secs_of() { local m=${1%%m*} r=${1#*m}; r=${r%s}; echo $(( m * 60 + ${r%.*} )); }
used=$(( $(secs_of "$u") + $(secs_of "$s") ))
echo "cpu_seconds: $used"
(( rc == 72 && budget > 0 && used >= budget )) && rc=0
exit "$rc"
