#!/usr/bin/env bash
# bench/bench_syslog_kafka.sh — events/s into Kafka, one run, one broker:
#   - a plain librdkafka producer sending pre-made OCSF lines (baseline),
#   - glassbox end to end (ring -> OCSF -> journal -> Kafka sink) and its
#     Kafka sink alone over the written journal (bench_sink_kafka),
#   - rsyslog 8 shipping the very same lines with omkafka (peer tool):
#     imfile reads them from a file, omkafka sends them raw (%rawmsg%).
# All to librdkafka's mock cluster in its own process (tests/helpers/
# kafka_mock, loopback), each to its own topic, zstd, acks=all, idempotent.
# rsyslog is timed from its start until a consumer (tests/helpers/
# kafka_consume) has all N messages from its topic; the same consumer
# reading the finished baseline topic is timed too, to show it is not the
# bottleneck.  Bounded: every wait has a timeout; everything started here
# is stopped by pid.
#
#   bench/bench_syslog_kafka.sh [EVENTS]   (default 200000)
set -u
N=${1:-200000}
[[ $N -ge 1000 && $N -le 2000000 ]] || { echo "EVENTS must be 1000..2000000" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
R=${GB_BUILD_DIR:-$here/build/release}
BS=$R/bench/bench_sink_kafka MOCK=$R/tests/kafka_mock CONS=$R/tests/kafka_consume
for x in "$BS" "$MOCK" "$CONS"; do
	[[ -x $x ]] || { echo "bench_syslog_kafka: $x is missing (build the Release tree)" >&2; exit 2; }
done
RSD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[[ -x $RSD && -e /usr/lib/x86_64-linux-gnu/rsyslog/omkafka.so ]] \
	|| { echo "bench_syslog_kafka: rsyslog with omkafka is missing (scripts/bootstrap installs rsyslog-kafka)" >&2; exit 2; }

T=$(mktemp -d /tmp/gb-bench-syslog.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
die() { echo "bench_syslog_kafka: $*" >&2; exit 1; }
now() { date +%s.%N; }

mkfifo "$T/mock.in"
"$MOCK" plain glassbox rsyslog <"$T/mock.in" >"$T/mock.out" 2>"$T/mock.err" &
pids+=($!)
exec 7>"$T/mock.in"
for _ in $(seq 50); do [[ -s $T/mock.out ]] && break; sleep 0.1; done
BROKERS=$(head -1 "$T/mock.out")
[[ $BROKERS == 127.0.0.1:* || $BROKERS == localhost:* ]] || die "mock cluster: '$BROKERS' $(cat "$T/mock.err")"

# 1. the baseline and glassbox, writing the lines for rsyslog
"$BS" --brokers "$BROKERS" --dump "$T/lines.jsonl" "$N" >"$T/gb.txt" 2>"$T/gb.err" || die "bench_sink_kafka: $(tail -3 "$T/gb.err")"
rate() { sed -n "s/^$1[^:]*: *\([0-9]*\) events.*/\1/p" "$T/gb.txt" | head -1; }
plain=$(rate "plain librdkafka producer")
e2e=$(rate "ring -> OCSF")
alone=$(rate "Kafka sink alone")
[[ -n $plain && -n $e2e && -n $alone ]] || die "unexpected bench_sink_kafka output: $(cat "$T/gb.txt")"

# 2. rsyslog: imfile -> omkafka, the same lines, queues sized for the run
mkdir "$T/rs"
cat >"$T/rsyslog.conf" <<EOF
global(workDirectory="$T/rs" maxMessageSize="64k")
module(load="imfile" mode="inotify")
module(load="omkafka")
template(name="raw" type="string" string="%rawmsg%")
input(type="imfile" file="$T/lines.jsonl" tag="ocsf" ruleset="k" freshStartTail="off")
ruleset(name="k" queue.type="LinkedList" queue.size="2000000" queue.dequeueBatchSize="1024") {
	action(type="omkafka" broker=["$BROKERS"] topic="rsyslog" template="raw"
	       confParam=["compression.codec=zstd", "enable.idempotence=true", "linger.ms=5"]
	       topicConfParam=["request.required.acks=-1"]
	       queue.type="LinkedList" queue.size="2000000" queue.dequeueBatchSize="1024")
}
EOF
"$RSD" -N1 -f "$T/rsyslog.conf" >"$T/rs-check.txt" 2>&1 || die "rsyslog config: $(cat "$T/rs-check.txt")"
"$CONS" "$BROKERS" rsyslog "$N" 30000 >/dev/null 2>"$T/cons.err" &
cons=$!
pids+=($cons)
sleep 0.5 # the consumer is assigned and waiting
t0=$(now)
"$RSD" -n -f "$T/rsyslog.conf" -i "$T/rsyslogd.pid" >"$T/rsyslogd.log" 2>&1 &
pids+=($!)
wait "$cons" || die "rsyslog: not all $N messages arrived within the timeout: $(tail -3 "$T/rsyslogd.log")"
t1=$(now)
rs=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')

# 3. the consumer alone, on the finished baseline topic
t0=$(now)
"$CONS" "$BROKERS" plain "$N" 30000 >/dev/null 2>"$T/cons2.err" || die "consumer: $(cat "$T/cons2.err")"
t1=$(now)
cons_rate=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
bytes=$(( $(stat -c %s "$T/lines.jsonl") / N ))
echo "bench_syslog_kafka: $N OCSF events of $bytes bytes, one mock broker (own process), zstd, acks=all"
printf '%-52s %9s events/s\n' "plain librdkafka producer, pre-made lines (baseline)" "$plain"
printf '%-52s %9s events/s  %sx plain\n' "rsyslog $("$RSD" -v | head -1 | awk '{print $2}' | tr -d ,) imfile -> omkafka, same lines (peer)" "$rs" "$(ratio "$rs" "$plain")"
printf '%-52s %9s events/s  %sx plain, %sx rsyslog\n' "glassbox Kafka sink alone, journal written" "$alone" "$(ratio "$alone" "$plain")" "$(ratio "$alone" "$rs")"
printf '%-52s %9s events/s  %sx plain, %sx rsyslog\n' "glassbox ring -> OCSF -> journal -> Kafka" "$e2e" "$(ratio "$e2e" "$plain")" "$(ratio "$e2e" "$rs")"
printf '%-52s %9s events/s  (the measuring consumer is not the bottleneck when this is higher)\n' "consumer alone, reading a finished topic" "$cons_rate"
echo quit >&7
