#!/usr/bin/env bash
# The REST API of glassbox serve (api/), every route with real curl over
# its unix socket (and TCP with a token): health, sandboxes, logs with each
# filter, paging by cursor across segment seals and a daemon restart (no
# gap, no repeat), follow as NDJSON and SSE receiving events written after
# it started, a forced gap (retention deleted what a cursor pointed into)
# reported as loss, /metrics checked by promtool, and the attacks: bad
# arguments, traversal names, oversized bodies, header floods, connection
# floods, missing and wrong tokens, a token file others can read.
. "$(dirname "$0")/lib/serve_lib.sh"
EV="$GB_HELPER_DIR/ring_events"
RT=$ROOT/run/glassbox/sandboxes
S=$ROOT/run/glassbox/api.sock
cat >"$ROOT/etc/glassbox/glassbox.yaml" <<'YAML'
journal:
  segment_size: 8KiB
  fsync: always
YAML
start_serve
[[ $(stat -c '%a %u' "$S") == "600 0" ]] || fail "api.sock is not 0600 root: $(stat -c '%a %u' "$S")"
# api PATH [curl args...]: body on stdout, status in $T/code
api() { local p=$1; shift; curl -s --unix-socket "$S" -o "$T/body" -w '%{http_code}' "$@" "http://gb$p" >"$T/code" || true; cat "$T/body"; }
code() { cat "$T/code"; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
expect() { # expect STATUS ERROR PATH [curl args]: an error answer of that shape
	local want=$1 err=$2 p=$3; shift 3
	local b; b=$(api "$p" "$@")
	[[ $(code) == "$want" ]] || fail "$p: status $(code), wanted $want: $b"
	[[ $(jq_ 'd["error"]' <<<"$b") == "$err" ]] || fail "$p: error $(jq_ 'd.get("error")' <<<"$b"), wanted $err"
	jq_ 'd["detail"]' <<<"$b" >/dev/null || fail "$p: no detail"
}
# all NAME [QUERY]: every event by paging with limit=7, one uid per line
all() {
	local c="" q=${2:-} n=0
	: >"$T/all"
	while :; do
		api "/v1/sandboxes/$1/logs?limit=7$q${c:+&cursor=$c}" >"$T/page"
		[[ $(code) == 200 ]] || fail "paging: $(code) $(cat "$T/page")"
		python3 -c 'import json,sys; [print(e["metadata"]["uid"]) for e in json.load(open(sys.argv[1]))["events"]]' "$T/page" >>"$T/all"
		[[ $(jq_ 'd["more"]' <"$T/page") == True ]] || break
		c=$(jq_ 'd["next_cursor"]' <"$T/page")
		n=$((n + 1)); ((n < 2000)) || fail "paging does not end"
	done
	cat "$T/all"
}
wait_count() { # wait_count NAME N: until the journal has N events of NAME
	for _ in $(seq 200); do
		[[ $(api "/v1/sandboxes/$1/logs?limit=10000" | jq_ 'd["count"]') -ge $2 ]] && return
		sleep 0.05
	done
	fail "$1: never $2 events"
}

# ---- health, sandboxes, errors of shape ----
[[ $(api /v1/health | jq_ 'd["status"]') == ok && $(code) == 200 ]] || fail health
api /v1/sandboxes | jq_ 'd["sandboxes"]' >/dev/null || fail "sandboxes list"
expect 404 not_found /v1/nothing
expect 404 not_found /v1/sandboxes/nosuch
expect 404 not_found /v1/sandboxes/nosuch/logs
expect 404 not_found /v1/sandboxes/nosuch/policy
expect 405 method_not_allowed /v1/health -X DELETE
expect 405 method_not_allowed /v1/sandboxes/x/logs -X PUT
for bad in '..' '.hidden' '-x' '%2e%2e' '..%2f..%2fetc' 'a%00b' "$(printf 'x%.0s' $(seq 70))"; do
	expect 400 invalid_name "/v1/sandboxes/$bad/logs" --path-as-is
done
b=$(api "/v1/sandboxes/../../etc/passwd" --path-as-is)
[[ $(code) =~ ^4 ]] || fail "path traversal answered $(code)"
echo "ok   health, sandboxes, routes, names"

# ---- events, filters ----
"$EV" "$RT" s1 40
wait_count s1 40
[[ $(api "/v1/sandboxes/s1/logs?verdict=deny&limit=1000" | jq_ 'd["count"]') == 20 ]] || fail "verdict=deny"
[[ $(api "/v1/sandboxes/s1/logs?verdict=allow&limit=1000" | jq_ 'd["count"]') == 20 ]] || fail "verdict=allow"
[[ $(api "/v1/sandboxes/s1/logs?binary=/usr/bin/wget&limit=1000" | jq_ 'd["count"]') == 10 ]] || fail "binary="
[[ $(api "/v1/sandboxes/s1/logs?binary=wget&verdict=deny&limit=1000" | jq_ 'd["count"]') == 10 ]] || fail "binary=wget&verdict=deny"
[[ $(api "/v1/sandboxes/s1/logs?host=h1.test&limit=1000" | jq_ 'd["count"]') == 13 ]] || fail "host="
[[ $(api "/v1/sandboxes/s1/logs?policy=web&limit=1000" | jq_ 'd["count"]') == 20 ]] || fail "policy=web"
[[ $(api "/v1/sandboxes/s1/logs?severity=medium&limit=1000" | jq_ 'd["count"]') == 20 ]] || fail "severity=medium"
[[ $(api "/v1/sandboxes/s1/logs?class=4001&limit=1000" | jq_ 'd["count"]') == 40 ]] || fail "class=4001"
[[ $(api "/v1/sandboxes/s1/logs?class=4002&limit=1000" | jq_ 'd["count"]') == 0 ]] || fail "class=4002"
[[ $(api "/v1/sandboxes/s1/logs?since=10m&limit=1000" | jq_ 'd["count"]') == 40 ]] || fail "since=10m"
[[ $(api "/v1/sandboxes/s1/logs?since=2099-01-01T00:00:00.5Z" | jq_ 'd["count"]') == 0 ]] || fail "since future"
# RFC 3339 with fractions and offsets: since = the 11th event's time
t11=$(api "/v1/sandboxes/s1/logs?limit=11" | jq_ 'd["events"][10]["time"]')
iso=$(python3 -c "import datetime,sys; t=int(sys.argv[1]); print(datetime.datetime.fromtimestamp(t/1000, datetime.timezone(datetime.timedelta(hours=2))).isoformat(timespec='milliseconds'))" "$t11")
want=$(api "/v1/sandboxes/s1/logs?limit=1000" | python3 -c "import json,sys; print(sum(1 for e in json.load(sys.stdin)['events'] if e['time'] >= $t11))")
[[ $(api "/v1/sandboxes/s1/logs?since=${iso/+/%2B}&limit=1000" | jq_ 'd["count"]') == "$want" ]] || fail "since=$iso (want $want)"
[[ $(api "/v1/sandboxes/s1/logs?until=${iso/+/%2B}&limit=1000" | jq_ 'd["count"]') == $((40 - want + $(api "/v1/sandboxes/s1/logs?limit=1000" | python3 -c "import json,sys; print(sum(1 for e in json.load(sys.stdin)['events'] if e['time'] == $t11))"))) ]] || fail "until=$iso"
for q in 'since=yesterday' 'until=2026-13-01T00:00:00Z' 'since=2026-01-01T00:00:00' 'limit=0' 'limit=10001' 'limit=x' \
	'cursor=garbage' 'cursor=c1.zz.1' 'verdict=maybe' 'severity=loud' 'class=abc' 'follow=2' 'source=gateway'; do
	expect 400 bad_request "/v1/sandboxes/s1/logs?$q"
done
echo "ok   logs filters (verdict, binary, host, policy, severity, class, since/until RFC 3339 and durations) and bad arguments"

# ---- cursor: across seals and a restart, no gap, no repeat ----
all s1 >"$T/p1"
[[ $(wc -l <"$T/p1") == 40 && $(sort -u "$T/p1" | wc -l) == 40 ]] || fail "paging 40: $(wc -l <"$T/p1") lines"
C0=$(api "/v1/sandboxes/s1/logs?limit=3" | jq_ 'd["next_cursor"]')
END=$(api "/v1/sandboxes/s1/logs?limit=10000" | jq_ 'd["next_cursor"]')
"$EV" "$RT" s2 200 # other sandbox's events seal several segments
"$EV" "$RT" s1 30 # s1 again (a new ring, as a new run of the name): 30 more
wait_count s1 70
ls "$ROOT"/var/lib/glassbox/journal/*/*.zst >/dev/null 2>&1 || fail "no segment was sealed"
n=$(api "/v1/sandboxes/s1/logs?limit=10000&cursor=$END" | jq_ 'd["count"]')
[[ $n == 30 ]] || { api "/v1/sandboxes/s1/logs?limit=10000&cursor=$END" | python3 -c 'import json,sys; [print(e["class_uid"], e.get("message","")[:100]) for e in json.load(sys.stdin)["events"]]' | sort | uniq -c; fail "resume after seals: $n"; }
kill "$SERVE"; wait "$SERVE" || true
start_serve
[[ $(api "/v1/sandboxes/s1/logs?limit=10000&cursor=$END" | jq_ 'd["count"]') == 30 ]] || fail "resume after restart"
all s1 >"$T/p2"
[[ $(wc -l <"$T/p2") == 70 && $(sort -u "$T/p2" | wc -l) == 70 ]] || { sort "$T/p2" | uniq -d; fail "paging after restart: $(wc -l <"$T/p2")"; }
diff <(head -40 "$T/p2") "$T/p1" >/dev/null || fail "the first 40 changed"
echo "ok   cursor resumes exactly across segment seals and a daemon restart"

# ---- follow: NDJSON and SSE get what is written after they start ----
END=$(api "/v1/sandboxes/s1/logs?limit=10000" | jq_ 'd["next_cursor"]')
timeout 20 curl -sN --unix-socket "$S" "http://gb/v1/sandboxes/s1/logs?follow=1&cursor=$END" >"$T/f.nd" &
f1=$!; pids+=($f1)
timeout 20 curl -sN --unix-socket "$S" -H 'Accept: text/event-stream' "http://gb/v1/sandboxes/s1/logs?follow=1&verdict=deny&since=1d" >"$T/f.sse" &
f2=$!; pids+=($f2)
# without cursor or since: from the journal's tail, none of the history
timeout 20 curl -sN --unix-socket "$S" "http://gb/v1/sandboxes/s1/logs?follow=1" >"$T/f.tail" &
f3=$!; pids+=($f3)
sleep 0.3
"$EV" "$RT" s1 10
for _ in $(seq 200); do [[ $(grep -c cursor "$T/f.nd" 2>/dev/null) -ge 10 ]] && break; sleep 0.05; done
[[ $(grep -c '"cursor"' "$T/f.nd") == 10 ]] || fail "follow NDJSON got $(grep -c cursor "$T/f.nd") of 10"
python3 - "$T/f.nd" <<'PY' || fail "follow NDJSON lines"
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert all(l["event"]["metadata"]["log_name"] == "s1" for l in ls), ls
PY
for _ in $(seq 100); do [[ $(grep -c '^id: ' "$T/f.sse" 2>/dev/null) -ge 40 ]] && break; sleep 0.05; done
[[ $(grep -c '^id: c1\.' "$T/f.sse") == 40 ]] || fail "follow SSE (deny, since=1d) got $(grep -c '^id:' "$T/f.sse") of 40"
for _ in $(seq 100); do [[ $(grep -c cursor "$T/f.tail" 2>/dev/null) -ge 10 ]] && break; sleep 0.05; done
sleep 0.2
[[ $(grep -c '"cursor"' "$T/f.tail") == 10 ]] || fail "follow from the tail got $(grep -c cursor "$T/f.tail") (want the 10 new)"
diff <(grep -o '"cursor":"[^"]*"' "$T/f.nd") <(grep -o '"cursor":"[^"]*"' "$T/f.tail") >/dev/null || fail "tail and cursor followers disagree"
kill "$f1" "$f2" "$f3" 2>/dev/null || true
# an SSE client resuming with Last-Event-ID gets nothing twice
last=$(grep '^id: ' "$T/f.sse" | tail -1 | cut -d' ' -f2)
[[ $(api "/v1/sandboxes/s1/logs?verdict=deny&limit=1000" -H "Last-Event-ID: $last" | jq_ 'd["count"]') == 0 ]] || fail "Last-Event-ID"
echo "ok   follow (NDJSON with cursors, SSE with ids, from the tail without a cursor) receives new events; Last-Event-ID resumes"

# ---- attacks on the server itself ----
head -c $((2 << 20)) /dev/zero | tr '\0' a >"$T/big"
expect 413 too_large /v1/sandboxes/s1/policy -X PUT --data-binary @"$T/big"
expect 413 too_large /v1/sandboxes/s1/policy -X PUT -H 'Transfer-Encoding: chunked' --data-binary @"$T/big"
hdrs=(); for i in $(seq 200); do hdrs+=(-H "X-Flood-$i: $(printf 'v%.0s' $(seq 200))"); done
api /v1/health "${hdrs[@]}" >/dev/null
[[ $(code) =~ ^(431|413|400|000)$ ]] || fail "header flood answered $(code)"
# an argument flood: each argument costs libmicrohttpd a record from the
# connection's pool, which once closed the connection without an answer
# (fuzz_api_body); over 64 arguments is a JSON 414
expect 414 too_many_arguments "/v1/sandboxes/s1/advisor/suggestions?$(printf '&%.0s' $(seq 1000))"
expect 414 too_many_arguments "/v1/sandboxes/s1/logs?$(printf 'verdict=deny&%.0s' $(seq 600))"
[[ $(api "/v1/sandboxes/s1/logs?limit=1$(printf '&%.0s' $(seq 63))" | jq_ 'd["count"]') == 1 ]] || fail "64 arguments refused"
python3 - "$S" <<'PY' || fail "connection flood"
import socket, sys, time
held = []
for i in range(150):            # more than the connection limit, bounded
    s = socket.socket(socket.AF_UNIX); s.settimeout(2)
    try:
        s.connect(sys.argv[1]); held.append(s)
    except OSError:
        s.close()
# a slow client sending half a request must not block the others
held[0].sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
for s in held:
    s.close()
time.sleep(0.3)
PY
[[ $(api /v1/health | jq_ 'd["status"]') == ok ]] || fail "health after the floods"
echo "ok   oversized bodies (413), header flood, connection flood: the daemon keeps answering"

# ---- /metrics ----
api /metrics >"$T/metrics"
[[ $(code) == 200 ]] || fail "/metrics $(code)"
promtool check metrics <"$T/metrics" || fail "promtool check metrics"
# since this daemon started (the restart): the 10 of the follow phase, 5 denied
grep -q '^glassbox_decisions_total{sandbox="s1",verdict="deny",layer="L4",reason="binary_not_allowed"} 5$' "$T/metrics" ||
	fail "decisions counter: $(grep decisions_total "$T/metrics")"
grep -q '^glassbox_journal_segments [1-9]' "$T/metrics" || fail "journal segments"
grep -q '^glassbox_api_requests_total{code="4xx"} [1-9]' "$T/metrics" || fail "api requests"
echo "ok   /metrics passes promtool and counts what was journaled since the start"

# ---- forced gap: retention deletes what an old cursor points into ----
kill "$SERVE"; wait "$SERVE" || true
cat >>"$ROOT/etc/glassbox/glassbox.yaml" <<'YAML'
  retention:
    max_size: 16KiB
YAML
start_serve
for _ in $(seq 100); do
	[[ $(api "/v1/sandboxes/s1/logs?cursor=$C0&limit=1" | jq_ '"loss" in d') == True ]] && break
	sleep 0.1
done
api "/v1/sandboxes/s1/logs?cursor=$C0&limit=1" | jq_ 'd["loss"]["reason"]' | grep -q retention || fail "query with a cursor into deleted segments: no loss"
timeout 5 curl -sN --unix-socket "$S" "http://gb/v1/sandboxes/s1/logs?follow=1&cursor=$C0" >"$T/gap.nd" || true
head -1 "$T/gap.nd" | grep -q '^{"loss":{"reason":"retention"' || fail "follow across the gap: $(head -c 300 "$T/gap.nd")"
echo "ok   a forced gap is reported as loss (query and follow), the stream goes on"

# ---- TCP listener: bearer token ----
kill "$SERVE"; wait "$SERVE" || true
port=$((20000 + $$ % 20000))
tok=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
echo "$tok" >"$T/token"; chmod 0644 "$T/token"
"$GLASSBOX" --root "$ROOT" serve --api-listen "127.0.0.1:$port" --api-token "$T/token" >"$T/tcp.log" 2>&1 && fail "a 0644 token file was accepted"
grep -q 'must be mode 0600' "$T/tcp.log" || fail "token mode message: $(cat "$T/tcp.log")"
chmod 0600 "$T/token"
"$GLASSBOX" --root "$ROOT" serve --api-listen "127.0.0.1:$port" --api-token "$T/token" >>"$T/serve.log" 2>&1 &
SERVE=$!; pids+=($SERVE)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v1/health" && break; sleep 0.05; done
t() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
[[ $(t "http://127.0.0.1:$port/v1/health") == 401 ]] || fail "TCP without token"
[[ $(t -H "Authorization: Bearer wrong$tok" "http://127.0.0.1:$port/v1/health") == 403 ]] || fail "TCP wrong token"
[[ $(t -H "Authorization: Bearer ${tok:0:10}" "http://127.0.0.1:$port/v1/health") == 403 ]] || fail "TCP token prefix"
[[ $(t -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/v1/health") == 200 ]] || fail "TCP right token"
[[ $(t -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/v1/sandboxes/s1/logs?limit=1") == 200 ]] || fail "TCP logs"
[[ $(api /v1/health | jq_ 'd["status"]') == ok ]] || fail "the unix socket needs no token"
echo "ok   TCP listener: no token 401, wrong 403, right 200; 0644 token file refused"
echo "all checks passed"
