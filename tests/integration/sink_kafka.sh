#!/usr/bin/env bash
# The Kafka sink against librdkafka's mock cluster (its own process,
# tests/helpers/kafka_mock, on loopback) with a real consumer: every event of
# the sandboxes reaches the topic, keyed by sandbox name, including events
# made while the broker is down and delivered after it comes back — zero
# lost; the sink's kafka.* keys reach librdkafka (a bad one is refused at start).
: "${GB_HELPER_DIR:?}"
. "$(dirname "$0")/lib/serve_lib.sh"
start_kafka_mock events

cat >"$ROOT/etc/glassbox/glassbox.yaml" <<YAML
sinks:
  - name: kafka
    type: kafka
    brokers: $BROKERS
    topic: events
    batch: 10
    kafka.client.id: glassbox-test
    kafka.linger.ms: "2"
YAML
start_serve
run() { run_sandbox "$1" 'for i in 1 2 3; do curl -s -m 2 http://k$i.example/ >/dev/null; done'; }
run k1
echo down >&7
sleep 0.5
run k2 # made while the broker is away
sleep 1
echo up >&7
run k3

# glassbox: the daemon's own signed checkpoints are delivered too
journal() { for n in k1 k2 k3 glassbox; do "$GLASSBOX" --root "$ROOT" logs "$n" --json || true; done; }
# delivered GOT.tsv JOURNAL.jsonl: every journaled event is on the topic
# (by metadata.uid), each message keyed by its sandbox
delivered() {
	python3 - "$1" "$2" <<'PY'
import json, sys
got = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1]) if l.strip()]
uids = {json.loads(v)["metadata"]["uid"] for k, v in got}
want = {json.loads(l)["metadata"]["uid"] for l in open(sys.argv[2])}
assert want <= uids, f"{len(want - uids)} of {len(want)} events missing"
for k, v in got:
    assert k == json.loads(v)["metadata"]["log_name"], (k, v[:80])
print(len(got), "messages for", len(want), "events")
PY
}
want=$(journal | wc -l)
[[ $want -ge 24 ]] || fail "only $want events journaled"
"$GB_HELPER_DIR/kafka_consume" "$BROKERS" events "$want" 20000 >"$T/got.tsv" || true
delivered "$T/got.tsv" <(journal) || fail "kafka delivery"
echo "ok   every event on the topic, keyed by sandbox, across a broker outage"

# Per-event acknowledgement: the broker refuses the next produce requests
# with an error no retry fixes; the sink re-sends just those events (read
# again from the journal) after a backoff, and every event still arrives.
echo "reject 3" >&7
run k4
for _ in $(seq 100); do grep -q "events refused" "$T/serve.log" && break; sleep 0.1; done
grep -q "events refused: Broker: Message size too large" "$T/serve.log" \
	|| fail "no refusal reported: $(tail -5 "$T/serve.log")"
want=$(journal | wc -l)
want=$((want + $("$GLASSBOX" --root "$ROOT" logs k4 --json | wc -l)))
"$GB_HELPER_DIR/kafka_consume" "$BROKERS" events "$want" 20000 >"$T/got2.tsv" || true
delivered "$T/got2.tsv" <(journal; "$GLASSBOX" --root "$ROOT" logs k4 --json) || fail "kafka delivery after refusals"
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
grep -E "sink kafka: sent [0-9]+, failed [1-9][0-9]*, retried [1-9]" "$T/serve.log" >/dev/null \
	|| fail "metrics do not show the refusals and re-sends: $(grep 'sink kafka:' "$T/serve.log" | tail -2)"
echo "ok   refused events are re-sent alone and arrive; metrics count them"

# kill -9 of the daemon while the sink has events in flight, restart: the
# cursor (the highest contiguous acknowledged event) loses nothing
start_serve
echo down >&7 # reports cannot come back: everything stays in flight
run k5
sleep 0.5
kill -9 "$SERVE"; wait "$SERVE" 2>/dev/null || true
echo up >&7
start_serve
all() { journal; for n in k4 k5; do "$GLASSBOX" --root "$ROOT" logs "$n" --json; done; }
# one snapshot for the count and the check: the restarted daemon may journal
# a checkpoint after it, which the consumer did not wait for
all >"$T/all3.jsonl"
want=$(wc -l <"$T/all3.jsonl")
"$GB_HELPER_DIR/kafka_consume" "$BROKERS" events "$want" 20000 >"$T/got3.tsv" || true
delivered "$T/got3.tsv" "$T/all3.jsonl" || fail "kafka delivery after kill -9"
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
echo "ok   kill -9 with events in flight, restart: none lost"

# a bad kafka.* key is refused by librdkafka: serve does not start with a
# sink that could only fail forever, and says where (file:line:col, field)
cat >"$ROOT/etc/glassbox/glassbox.yaml" <<YAML
sinks:
  - name: kafka2
    type: kafka
    brokers: $BROKERS
    topic: events
    kafka.no.such.property: "1"
YAML
rc=0
timeout 20 "$GLASSBOX" --root "$ROOT" serve >"$T/serve2.log" 2>&1 || rc=$?
[[ $rc == 1 ]] || fail "serve started with a bad kafka.* key (exit $rc)"
grep -q "glassbox.yaml:6:5: error: sinks\[0\].kafka.no.such.property: librdkafka refuses it: No such configuration property" "$T/serve2.log" \
	|| fail "bad property: $(cat "$T/serve2.log")"
echo "ok   a bad kafka.* key is refused at start"
echo "sink_kafka: all cases passed"
