#!/bin/bash
# bench/bench_run.sh — sandbox start-up latency: `glassbox run -- /bin/true`
# (private root, cgroup, own uid) against bubblewrap given the same binds and
# namespaces, bubblewrap binding the host read-only, and firejail, in the
# same invocation.  Prints median and mean wall time per tool, the median
# CPU time (perf stat task-clock of the process tree, when perf works) and
# the ratios to bwrap (the baseline).  Needs root (glassbox run does).
#
#   GLASSBOX=path/to/glassbox [GLASSBOX_BASE=path/to/older/glassbox] bench/bench_run.sh [RUNS]
#
# GLASSBOX_BASE adds another glassbox build (e.g. one before a change) as
# "glassbox-base", run the same way, for a before/after figure.
#
# Uses hyperfine when installed, else a timed loop (each run timed alone,
# the tools interleaved run by run, median of RUNS).  Bounded: RUNS (default
# 50) runs per tool, 3 warm-ups, and RUNS more per tool for the CPU times.
set -u
RUNS=${1:-50}
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 1000 ] || { echo "RUNS must be 1..1000" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
G=${GLASSBOX:-}
if [ -z "$G" ]; then
	for c in "$here/build/release/cli/glassbox" "$here/build/Release/cli/glassbox" \
	         "$here/build/debug/cli/glassbox"; do
		[ -x "$c" ] && { G=$c; break; }
	done
fi
[ -n "$G" ] && [ -x "$G" ] || { echo "set GLASSBOX to the glassbox binary" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "glassbox run needs root" >&2; exit 2; }
case "$G" in *debug*) echo "note: $G looks like a Debug (ASan) build; use Release for figures" ;; esac

T=$(mktemp -d /tmp/gb-bench-run.XXXXXX)
chmod 0755 "$T"
# The state directory (with the 16 MiB event ring) lives under /run, which
# is tmpfs on a normal host; use tmpfs here too (/dev/shm) when there is one,
# else the temporary directory (a disk-backed ring costs a few ms more).
R=$T
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	R=$(mktemp -d /dev/shm/gb-bench-root.XXXXXX)
fi
trap 'rm -rf "$T" "$R"' EXIT
echo "state root: $R ($(stat -f -c %T "$R"))"

# Same program, same working directory.  glassbox runs with its default
# policy: a private root (tmpfs + pivot_root) holding read-only binds of
# /usr /etc /var/log (and the merged-/usr symlinks), a fresh /proc, a
# minimal /dev, private /tmp and /var/tmp, the workdir read-write; new
# mount/pid/net/ipc/uts namespaces; a cgroup (pids, memory); its own uid.
# bwrap gets the same binds and namespaces (the baseline; --unshare-all makes
# a user and a cgroup namespace too, which glassbox does not: strace shows its
# clone flags, docs/benchmarks.md); bwrap-root the
# old comparison that binds the whole host read-only; firejail its closest.
declare -A CMD
CMD[glassbox]="$G --root $R run --quiet --workdir $T -- /bin/true"
[ -n "${GLASSBOX_BASE:-}" ] && CMD[glassbox-base]="$GLASSBOX_BASE --root $R run --quiet --workdir $T -- /bin/true"
if command -v bwrap >/dev/null; then
	b="bwrap --unshare-all --die-with-parent"
	for p in /usr /bin /sbin /lib /lib64 /etc /var/log /app; do
		if [ -L "$p" ]; then
			b="$b --symlink $(readlink "$p") $p"
		elif [ -e "$p" ]; then
			b="$b --ro-bind $p $p"
		fi
	done
	CMD[bwrap]="$b --proc /proc --dev /dev --tmpfs /tmp --tmpfs /var/tmp --bind $T $T --chdir $T /bin/true"
	CMD[bwrap-root]="bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev --die-with-parent /bin/true"
fi
command -v firejail >/dev/null &&
	CMD[firejail]="firejail --quiet --noprofile --net=none /bin/true"
order=(glassbox)
[ -n "${CMD[glassbox-base]:-}" ] && order+=(glassbox-base)
[ -n "${CMD[bwrap]:-}" ] && order+=(bwrap bwrap-root)
[ -n "${CMD[firejail]:-}" ] && order+=(firejail)

# Every command must work before it is timed.
for t in "${order[@]}"; do
	if ! ${CMD[$t]} >/dev/null 2>&1; then
		echo "$t fails here: ${CMD[$t]}" >&2
		exit 1
	fi
done

declare -A MED MEAN
if command -v hyperfine >/dev/null; then
	args=()
	for t in "${order[@]}"; do args+=(-n "$t" "${CMD[$t]}"); done
	hyperfine -N -w 3 -r "$RUNS" --export-json "$T/h.json" "${args[@]}" >/dev/null
	while read -r name med mean; do
		MED[$name]=$med
		MEAN[$name]=$mean
	done < <(python3 -c '
import json,sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"], r["median"]*1000, r["mean"]*1000)' "$T/h.json")
else
	# Interleaved (each run times every tool once, in turn) so that a load
	# that changes during the benchmark weighs on every tool alike.
	for t in "${order[@]}"; do
		for _ in 1 2 3; do ${CMD[$t]} >/dev/null 2>&1; done
		: >"$T/$t.times"
	done
	for _ in $(seq "$RUNS"); do
		for t in "${order[@]}"; do
			s=$(date +%s%N)
			${CMD[$t]} >/dev/null 2>&1
			e=$(date +%s%N)
			echo $(((e - s) / 1000)) >>"$T/$t.times"
		done
	done
	for t in "${order[@]}"; do
		MED[$t]=$(sort -n "$T/$t.times" | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m / 1000 }')
		MEAN[$t]=$(awk '{ s += $1 } END { printf "%.2f", s / NR / 1000 }' "$T/$t.times")
	done
fi

# CPU time of each start (the process tree's task-clock, `perf stat`),
# interleaved like the wall times: on a loaded machine the wall time is
# mostly the scheduler's, the CPU time what the tool itself costs.
# BENCH_CPU=0 skips it; without perf it is left out.
declare -A CPU
if [ "${BENCH_CPU:-1}" != 0 ] && command -v perf >/dev/null &&
	perf stat -x, -e task-clock true >/dev/null 2>&1; then
	for t in "${order[@]}"; do : >"$T/$t.cpu"; done
	for _ in $(seq "$RUNS"); do
		for t in "${order[@]}"; do
			perf stat -x, -e task-clock ${CMD[$t]} 2>&1 >/dev/null |
				awk -F, '/task-clock/ { print $1 }' >>"$T/$t.cpu"
		done
	done
	for t in "${order[@]}"; do
		CPU[$t]=$(sort -n "$T/$t.cpu" | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m }')
	done
fi

echo "sandbox start-up: /bin/true, $RUNS runs each ($(command -v hyperfine >/dev/null && echo hyperfine || echo timed loop)); load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-14s %12s %12s %14s %12s %12s\n" tool "median ms" "mean ms" "median/bwrap" "CPU ms" "CPU/bwrap"
base=${MED[bwrap]:-}
cbase=${CPU[bwrap]:-}
for t in "${order[@]}"; do
	r="-" c="-" cr="-"
	[ -n "$base" ] && r=$(awk -v a="${MED[$t]}" -v b="$base" 'BEGIN { printf "%.2fx", a / b }')
	[ -n "${CPU[$t]:-}" ] && c=${CPU[$t]}
	[ -n "${CPU[$t]:-}" ] && [ -n "$cbase" ] &&
		cr=$(awk -v a="${CPU[$t]}" -v b="$cbase" 'BEGIN { printf "%.2fx", a / b }')
	printf "%-14s %12.2f %12.2f %14s %12s %12s\n" "$t" "${MED[$t]}" "${MEAN[$t]}" "$r" "$c" "$cr"
done
# for scripts/bench's table (bench_util.h: bench_figure); issue 13's target
if [ -n "$base" ]; then
	printf 'GB_FIGURE\trun\tglassbox run -- /bin/true, median wall\t%s\tms\tbwrap, same binds and namespaces\t%s\t<=1.2x\n' \
		"${MED[glassbox]}" "$base"
	[ -n "$cbase" ] && [ -n "${CPU[glassbox]:-}" ] &&
		printf 'GB_FIGURE\trun\tthe same, CPU of the process tree\t%s\tms\tbwrap CPU\t%s\t<=1.2x\n' \
			"${CPU[glassbox]}" "$cbase"
	[ -n "${MED[firejail]:-}" ] &&
		printf 'GB_FIGURE\trun\tfirejail --net=none /bin/true, median wall\t%s\tms\tbwrap\t%s\t-\n' \
			"${MED[firejail]}" "$base"
fi
