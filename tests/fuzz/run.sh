#!/usr/bin/env bash
# run.sh FUZZER SEEDS SECONDS [ARGS...]: run one libFuzzer harness for a
# bounded time (and memory) on its seed corpus.  New inputs go to a
# temporary directory (the committed seeds are never rewritten); a crash
# leaves its reproducer in the current directory and fails the run.
set -euo pipefail
fz=$1 seeds=$2 secs=$3
shift 3
work=$(mktemp -d /tmp/gb-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
exec_args=(-max_total_time="$secs" -rss_limit_mb=1024 -malloc_limit_mb=512 -max_len=65536
           -timeout=10 -print_final_stats=1 "$@")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$fz" "${exec_args[@]}" "$work" "$seeds"
