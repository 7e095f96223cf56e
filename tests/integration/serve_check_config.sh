#!/usr/bin/env bash
# `glassbox serve --check-config` refuses sinks that can never work, each
# with FILE:LINE:COL and the field (issue 20, defect 7): a URL without a
# host or with port 99999, a broker without a valid port, a kafka.* key
# librdkafka does not know or a value it refuses — refused by `serve` at
# start too; and, probed by --check-config only, a file sink that cannot be
# written, an unreadable ca_file, an http host or kafka brokers that do not
# accept a connection.  A config whose sinks are up passes; `serve` itself
# starts with a well-formed sink that is down now (it is retried).
# Network: loopback only (port 1 has no listener; the good sinks are a
# python3 listener started here).
set -u
: "${GLASSBOX:?}"
T=$(mktemp -d /tmp/gb-chkcfg.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
G() { "$GLASSBOX" --root "$T/root" "$@"; }
mkdir -p "$T/root" "$T/out"

# one_sink NAME YAML EXPECTED_FIELD_MESSAGE [serve]: the config with one
# sink is refused by --check-config (and by serve when "serve" is given),
# with the message at the line and column of the offending value.
one_sink() {
	local name=$1 body=$2 want=$3 f="$T/$1.yaml"
	printf 'sinks:\n  - name: %s\n%s\n' "$name" "$body" >"$f"
	G serve --config "$f" --check-config >"$T/out.txt" 2>&1
	local rc=$?
	[[ $rc == 1 ]] || { cat "$T/out.txt"; fail "$name: --check-config exit $rc, want 1"; }
	grep -qE "^$f:[0-9]+:[0-9]+: error: $want" "$T/out.txt" ||
		{ cat "$T/out.txt"; fail "$name: no '$want' with file:line:col"; }
	if [[ ${4:-} == serve ]]; then
		timeout 20 "$GLASSBOX" --root "$T/root" serve --config "$f" --api-socket none >"$T/serve.txt" 2>&1
		rc=$?
		[[ $rc == 1 ]] || { cat "$T/serve.txt"; fail "$name: serve exit $rc, want 1 (refused at start)"; }
		grep -qE "^$f:[0-9]+:[0-9]+: error: $want" "$T/serve.txt" || { cat "$T/serve.txt"; fail "$name: serve message"; }
	fi
	echo "ok   $name: $(grep -m1 error: "$T/out.txt" | sed "s|$T/||")"
}

one_sink nohost '    type: http
    url: "http://"' 'sinks\[0\]\.url: .http://. cannot be sent to' serve
one_sink bigport '    type: http
    url: "http://127.0.0.1:99999/x"' 'sinks\[0\]\.url: .* cannot be sent to: Port number' serve
one_sink brokerport '    type: kafka
    topic: t
    brokers: "127.0.0.1:9092,kafka.test:99999"' "sinks\[0\]\.brokers: 'kafka.test:99999' is not host:port" serve
one_sink brokerbare '    type: kafka
    topic: t
    brokers: kafka.test' "sinks\[0\]\.brokers: 'kafka.test' is not host:port" serve
one_sink kafkakey '    type: kafka
    topic: t
    brokers: "127.0.0.1:1"
    kafka.bogus.property: "1"' 'sinks\[0\]\.kafka\.bogus\.property: librdkafka refuses it: No such configuration property' serve
one_sink kafkavalue '    type: kafka
    topic: t
    brokers: "127.0.0.1:1"
    kafka.acks: sometimes' 'sinks\[0\]\.kafka\.acks: librdkafka refuses it: Invalid value' serve
# probed by --check-config
one_sink filedir "    type: file
    path: $T/missing/events.jsonl" "sinks\[0\]\.path: .* cannot be written: No such file or directory"
touch "$T/plainfile"
one_sink filenotdir "    type: file
    path: $T/plainfile/events.jsonl" "sinks\[0\]\.path: .* cannot be written: Not a directory"
one_sink filedirectory "    type: file
    path: $T/out" "sinks\[0\]\.path: .* is not a regular file"
one_sink httpdown '    type: http
    url: "http://127.0.0.1:1/in"' 'sinks\[0\]\.url: .*cannot connect to 127.0.0.1 port 1: Connection refused'
one_sink kafkadown '    type: kafka
    topic: t
    brokers: "127.0.0.1:1"' 'sinks\[0\]\.brokers: no broker is reachable'
one_sink cafile "    type: http
    url: \"http://127.0.0.1:1/in\"
    ca_file: $T/missing.pem" "sinks\[0\]\.ca_file: .* cannot be read"

# Every problem of a file is listed, each at its own line.
printf 'sinks:\n  - name: a\n    type: http\n    url: "http://"\n  - name: b\n    type: kafka\n    topic: t\n    brokers: "x.test:0"\n' >"$T/two.yaml"
G serve --config "$T/two.yaml" --check-config >"$T/out.txt" 2>&1
[[ $(grep -cE "^$T/two.yaml:(4|8):[0-9]+: error: sinks\[[01]\]" "$T/out.txt") == 2 ]] || { cat "$T/out.txt"; fail "two errors, two lines"; }
echo "ok   every error listed at its line"

# Sinks that are up pass; a well-formed sink that is down does not stop serve.
python3 - "$T/port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(1)
end = time.time() + 60
while time.time() < end:
    try:
        c, _ = s.accept(); c.close()
    except OSError:
        pass
PY
pids+=($!)
for _ in $(seq 50); do [[ -s $T/port ]] && break; sleep 0.1; done
PORT=$(cat "$T/port")
[[ -n $PORT ]] || fail "listener did not start"
cat >"$T/good.yaml" <<Y
sinks:
  - name: siem
    type: http
    url: http://127.0.0.1:$PORT/in
  - name: bus
    type: kafka
    topic: t
    brokers: "127.0.0.1:1,127.0.0.1:$PORT"
    kafka.acks: all
  - name: shipper
    type: file
    path: $T/out/events.jsonl
Y
G serve --config "$T/good.yaml" --check-config >"$T/out.txt" 2>&1 || { cat "$T/out.txt"; fail "good config refused"; }
[[ ! -e $T/out/events.jsonl ]] || fail "the probe left the file sink's file behind"
echo "ok   sinks that are up pass --check-config"
cat >"$T/down.yaml" <<Y
sinks:
  - name: later
    type: http
    url: http://127.0.0.1:1/in
Y
"$GLASSBOX" --root "$T/root" serve --config "$T/down.yaml" --api-socket none >"$T/serve.txt" 2>&1 &
sp=$!
pids+=("$sp")
for _ in $(seq 200); do grep -q "watching" "$T/serve.txt" && break; kill -0 "$sp" 2>/dev/null || break; sleep 0.1; done
grep -q "watching" "$T/serve.txt" || { cat "$T/serve.txt"; fail "serve refused a sink that is only down"; }
kill "$sp"
wait "$sp" 2>/dev/null
echo "ok   serve starts with a sink that is down now"
echo "serve_check_config: all cases passed"
