#!/usr/bin/env bash
# The CLI on the daemon's API: `logs` (OpenShell's -n, --tail, --since,
# --source, --level; --json; colour only on a TTY), `ls`, `policy` through
# the API (diagnostics name the user's file, the author is the CLI's pid),
# `run --serve` (a daemon for the run's lifetime), and the plain messages
# when no daemon runs (logs falls back to the journal files, saying so).
. "$(dirname "$0")/lib/serve_lib.sh"
EV="$GB_HELPER_DIR/ring_events"
RT=$ROOT/run/glassbox/sandboxes
G() { "$GLASSBOX" --root "$ROOT" "$@"; }
cp "$GB_SOURCE_DIR/policies/default.yaml" "$T/p.yaml"
# has PATTERN CMD...: CMD's output matches (no pipe: grep -q would SIGPIPE it under pipefail)
has() { local pat=$1; shift; "$@" >"$T/has" 2>&1 || true; grep -qE -- "$pat" "$T/has"; }

# ---- no daemon ----
G ls >"$T/ls.out" 2>"$T/ls.err" || fail "ls without a daemon"
grep -q 'the daemon is not running (start it with `glassbox serve`)' "$T/ls.err" || fail "ls: no plain message: $(cat "$T/ls.err")"
G logs nothing >/dev/null 2>"$T/l.err" || true
grep -q 'the daemon is not running .*reading the journal files directly' "$T/l.err" || fail "logs fallback message: $(cat "$T/l.err")"
G run --name warn1 --workdir "$T/work" --policy "$T/p.yaml" -- /bin/true 2>"$T/w.err" || fail "run"
grep -q 'no glassbox daemon is running' "$T/w.err" || fail "run without daemon: no warning"
echo "ok   no daemon: ls, logs and run say so plainly"

# ---- run --serve: a daemon for the run's lifetime ----
G run --quiet --serve --name rs1 --workdir "$T/work" --policy "$T/p.yaml" -- \
	/bin/sh -c 'curl -s -m 5 http://example.test/ >/dev/null; exit 4' && rc=0 || rc=$?
[[ $rc == 4 ]] || fail "run --serve: status $rc"
[[ ! -S $ROOT/run/glassbox/api.sock ]] || fail "run --serve left the daemon's socket"
flock -n "$ROOT/run/glassbox/serve.lock" true || fail "run --serve left a daemon running"
has 'NET:REFUSE .*example.test' G logs rs1 || fail "run --serve: the denial never reached the journal"
echo "ok   run --serve: events journaled, daemon gone afterwards"

# ---- with a daemon ----
start_serve
"$EV" "$RT" s1 30
for _ in $(seq 100); do [[ $(G logs s1 --json 2>/dev/null | wc -l) == 30 ]] && break; sleep 0.05; done
[[ $(G logs s1 | wc -l) == 30 ]] || fail "logs: $(G logs s1 | wc -l) lines"
has 'not running' G logs s1 && fail "logs with a daemon fell back"
has 'DENIED' G logs s1 || fail "logs shorthand"
G logs s1 --json | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' || fail "logs --json"
[[ $(G logs s1 -n 5 --json) == "$(G logs s1 --json | tail -5)" ]] || fail "-n 5"
[[ $(G logs s1 --level medium | wc -l) == 15 ]] || fail "--level medium"
[[ $(G logs s1 --since 10m --source sandbox | wc -l) == 30 ]] || fail "--since 10m --source sandbox"
[[ $(G logs s1 --since 2099-01-01T00:00:00.123Z | wc -l) == 0 ]] || fail "--since with fractions"
G logs s1 --since nonsense >/dev/null 2>&1 && fail "bad --since accepted"
has $'\e\\[' script -qec "$GLASSBOX --root $ROOT logs s1 -n 1" /dev/null || fail "no colour on a TTY"
has $'\e\\[' G logs s1 -n 1 && fail "colour into a pipe"
G logs s1 --tail >"$T/tail.out" 2>&1 &
tp=$!; pids+=($tp)
for _ in $(seq 100); do [[ $(wc -l <"$T/tail.out") -ge 30 ]] && break; sleep 0.05; done
"$EV" "$RT" s1 5
for _ in $(seq 200); do [[ $(wc -l <"$T/tail.out") -ge 35 ]] && break; sleep 0.05; done
kill "$tp" 2>/dev/null || true
[[ $(grep -c 'NET:' "$T/tail.out") == 35 ]] || fail "--tail: $(wc -l <"$T/tail.out") lines"
echo "ok   logs on the API: -n, --tail, --since, --source, --level, --json, colour only on a TTY"

# ---- ls and policy through the API, against a running sandbox ----
G run --quiet --name live1 --workdir "$T/work" --policy "$T/p.yaml" -- /bin/sh -c 'for i in $(seq 300); do [ -e stop ] && exit 0; sleep 0.1; done' &
sp=$!; pids+=($sp)
for _ in $(seq 400); do [[ -S $RT/live1/control.sock ]] && break; sleep 0.05; done
has '^live1 +running +[0-9]+ +1 ' G ls || fail "ls: $(G ls)"
[[ $(G ls --json | python3 -c 'import json,sys; print([s["policy"]["revision"] for s in json.load(sys.stdin)["sandboxes"] if s["name"]=="live1"][0])') == 1 ]] || fail "ls --json"
printf 'version: 1\nnetwork_policies:\n  x:\n    endpoints:\n      - host: a.test\n        port: 70000\n    binaries: [{path: /usr/bin/curl}]\n' >"$T/bad.yaml"
G policy update live1 "$T/bad.yaml" 2>"$T/bad.err" && fail "bad update accepted"
grep -q "$T/bad.yaml:6:[0-9]*: error: .*port" "$T/bad.err" || fail "diagnostics through the API: $(cat "$T/bad.err")"
sed 's/70000/80/' "$T/bad.yaml" >"$T/ok.yaml"
has 'policy revision 2 .*added x' G policy update live1 "$T/ok.yaml" || fail "update through the API"
has 'api PATCH by uid 0 pid' G policy history live1 || fail "history: the author through the API: $(G policy history live1)"
has '"a.test"' G policy get live1 || fail "get through the API"
has 'start it with' G policy get nosuch || fail "get nosuch: no hint"
touch "$T/work/stop"; wait "$sp" 2>/dev/null || true
echo "ok   ls and policy get|update|history through the API"
echo "all checks passed"
