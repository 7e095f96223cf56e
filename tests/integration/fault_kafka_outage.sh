#!/usr/bin/env bash
# Kafka away "for minutes", compressed into seconds: librdkafka's mock
# cluster (tests/helpers/kafka_mock, its own process) goes down for ~12 s
# while sandboxes keep making events.  Every timer that a real outage of
# minutes would fire is shortened by config so that it fires several times
# within the outage:
#
#   timer (who)                          default        here    fires during the outage
#   message.timeout.ms (librdkafka)      0 in glassbox  2 s     every queued event times out
#                                        (never)                (~5 rounds)
#   the sink's re-send backoff           200 ms..30 s   ..1 s   (backoff_max) each round of
#                                                               timed-out events is re-sent
#   reconnect.backoff(.max).ms           100 ms..10 s   50..300 ms  reconnect attempts
#   retry.backoff.ms                     100 ms         50 ms   produce retries
#   topic.metadata.refresh.interval.ms   5 min          1 s     metadata refresh fails
#
# so 12 s here stand for ~6 minutes of a default-configured producer whose
# message.timeout.ms is 5 min (librdkafka's own default) and for longer than
# glassbox's 30 s backoff ceiling.
# Checked: events keep being journaled while the broker is away; the sink's
# metrics say the truth (lag_bytes > 0 and failed grows while away, sent does
# not move; lag 0 and failed == retried once caught up); the timeouts are
# logged; after the broker returns every journaled event is on the topic
# exactly once (counted by metadata.uid) — none lost, none duplicated (a
# timed-out event was never written, so its re-send is its only copy).
: "${GB_HELPER_DIR:?}"
. "$(dirname "$0")/lib/serve_lib.sh"
start_kafka_mock events

cat >"$ROOT/etc/glassbox/glassbox.yaml" <<YAML
sinks:
  - name: kafka
    type: kafka
    brokers: $BROKERS
    topic: events
    backoff_max: 1s
    kafka.message.timeout.ms: "2000"
    kafka.reconnect.backoff.ms: "50"
    kafka.reconnect.backoff.max.ms: "300"
    kafka.retry.backoff.ms: "50"
    kafka.topic.metadata.refresh.interval.ms: "1000"
    kafka.linger.ms: "2"
YAML
start_serve
M=$ROOT/run/glassbox/metrics.json
# snap: the kafka sink's counters from a metrics file written now, as
# shell assignments (sent failed retried lag_bytes lag_segments lost)
snap() {
	local before
	before=$(stat -c %Y.%s "$M" 2>/dev/null || true)
	kill -USR1 "$SERVE"
	for _ in $(seq 100); do
		[[ -s $M && $(stat -c %Y.%s "$M" 2>/dev/null) != "$before" ]] && break
		sleep 0.05
	done
	eval "$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); k=m["sinks"][0]
print(" ".join(f"{n}={k[n]}" for n in ("sent","failed","retried","lag_bytes","lag_segments")), "lost=%d" % m["lost"])' "$M")"
}
journal() { for n in "$@"; do "$GLASSBOX" --root "$ROOT" logs "$n" --json || true; done; }
run() { run_sandbox "$1" 'curl -s -m 2 http://k1.example/ >/dev/null; curl -s -m 2 http://k2.example/ >/dev/null'; }

run o1
# caught up before the outage: lag 0
for _ in $(seq 200); do snap; ((lag_bytes == 0 && sent > 0)) && break; sleep 0.1; done
((lag_bytes == 0)) || fail "sink never caught up before the outage"
sent0=$sent

echo down >&7
t0=$SECONDS
n=0
saw_failed=0 saw_lag=0
while ((SECONDS - t0 < 12)); do
	n=$((n + 1))
	run "d$n"
	snap
	((failed > 0)) && saw_failed=1
	((lag_bytes > 0)) && saw_lag=1
	((sent == sent0)) || fail "sent moved from $sent0 to $sent while the broker is down"
done
ev_down=$(journal $(seq -f 'd%g' 1 $n) | wc -l)
((ev_down >= 4 * n)) || fail "only $ev_down events journaled by $n sandboxes while Kafka was away"
((saw_lag)) || fail "lag_bytes stayed 0 while the broker was down"
((saw_failed)) || fail "failed stayed 0 over 12 s of an outage with a 2 s message timeout"
failed_down=$failed
grep -q "events refused: Local: Message timed out" "$T/serve.log" \
	|| fail "the timeouts are not logged: $(grep 'sink kafka' "$T/serve.log" | tail -3)"
rounds=$(grep -c "events refused: Local: Message timed out" "$T/serve.log")
echo "ok   $n sandboxes journaled $ev_down events in 12 s without Kafka; failed=$failed_down over $rounds timeout rounds, lag_bytes > 0, sent unchanged"

echo up >&7
run o2
for _ in $(seq 200); do snap; ((lag_bytes == 0 && lag_segments == 0)) && break; sleep 0.1; done
((lag_bytes == 0)) || fail "the sink did not catch up within 20 s of the broker's return"
((retried >= failed)) || fail "failed=$failed but retried=$retried: some timed-out events were never re-sent"
echo "ok   caught up after the broker returned: lag 0, failed=$failed, retried=$retried"

# every journaled event exactly once on the topic
journal o1 o2 $(seq -f 'd%g' 1 $n) glassbox >"$T/all.jsonl"
want=$(wc -l <"$T/all.jsonl")
# one more than expected, so the consumer reads until it is sure no
# duplicate follows (it stops 3 s after the last message)
"$GB_HELPER_DIR/kafka_consume" "$BROKERS" events $((want + 1000)) 3000 >"$T/got.tsv" || true
python3 - "$T/got.tsv" "$T/all.jsonl" <<'PY' || fail "delivery after the outage"
import collections, json, sys
got = [json.loads(l.rstrip("\n").split("\t", 1)[1]) for l in open(sys.argv[1]) if l.strip()]
want = {json.loads(l)["metadata"]["uid"] for l in open(sys.argv[2])}
n = collections.Counter(e["metadata"]["uid"] for e in got)
missing = want - set(n)
dups = {u: c for u, c in n.items() if c > 1}
# events journaled after the snapshot (the daemon's checkpoints) may be
# on the topic too; none may be missing or twice there
assert not missing, f"{len(missing)} of {len(want)} events never arrived, e.g. {sorted(missing)[:3]}"
assert not dups, f"{len(dups)} events arrived more than once, e.g. {list(dups.items())[:3]}"
print(len(got), "messages,", len(want), "journaled events, each exactly once")
PY
snap
((lost == 0)) || fail "the daemon counted ring loss"
echo "ok   every event on the topic exactly once after the outage (by metadata.uid)"
echo "fault_kafka_outage: all cases passed"
