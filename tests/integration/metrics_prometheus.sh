#!/usr/bin/env bash
# /metrics scraped by a real Prometheus (Debian's, started here on
# loopback with its own data directory): glassbox serve's API on a TCP
# listener with a bearer token, Prometheus configured with that token, the
# target must come up and the decision counters must be queryable with
# the values the journal holds.  A Prometheus without the token must see
# the target down (401).
. "$(dirname "$0")/lib/serve_lib.sh"
command -v prometheus >/dev/null || { echo "SKIP: prometheus not installed (scripts/bootstrap)"; exit 77; }
EV="$GB_HELPER_DIR/ring_events"
RT=$ROOT/run/glassbox/sandboxes
port=$((20000 + $$ % 20000)) pport=$((port + 1))
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$T/token"
chmod 0600 "$T/token"
"$GLASSBOX" --root "$ROOT" serve --api-listen "127.0.0.1:$port" --api-token "$T/token" >"$T/serve.log" 2>&1 &
SERVE=$!; pids+=($SERVE)
for _ in $(seq 400); do grep -q watching "$T/serve.log" && break; sleep 0.05; done
"$EV" "$RT" m1 12
cat >"$T/prom.yml" <<Y
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: glassbox
    authorization:
      credentials_file: $T/token
    static_configs:
      - targets: ['127.0.0.1:$port']
  - job_name: notoken
    static_configs:
      - targets: ['127.0.0.1:$port']
Y
promtool check config "$T/prom.yml" >/dev/null || fail "promtool check config"
prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$T/prom.log" 2>&1 &
PROM=$!; pids+=($PROM)
q() { curl -s "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
ok=""
for _ in $(seq 150); do
	v=$(q 'sum(glassbox_decisions_total{sandbox="m1",verdict="deny"})' 2>/dev/null || true)
	[[ $v == 6 ]] && { ok=1; break; }
	sleep 0.2
done
[[ -n $ok ]] || { tail -5 "$T/prom.log"; fail "Prometheus never saw 6 denied decisions of m1 (last: $v)"; }
[[ $(q 'up{job="glassbox"}') == 1 ]] || fail "glassbox target not up"
# the notoken job's first scrape may not have happened yet: wait, bounded
for _ in $(seq 50); do [[ $(q 'up{job="notoken"}') != none ]] && break; sleep 0.2; done
[[ $(q 'up{job="notoken"}') == 0 ]] || fail "the target without a token is up ($(q 'up{job="notoken"}'))"
[[ $(q 'sum(glassbox_events_total)') -ge 12 ]] || fail "events_total"
# the refused scrape of the notoken job shows up in the next authorised
# scrape (1 s apart, in either order): wait for it, bounded
n4=none
for _ in $(seq 50); do
	n4=$(q 'glassbox_api_requests_total{code="4xx",job="glassbox"}')
	[[ $n4 != none && $n4 -ge 1 ]] && break
	sleep 0.2
done
[[ $n4 != none && $n4 -ge 1 ]] || fail "the unauthenticated scrapes are not counted as 4xx ($n4)"
echo "ok   a real Prometheus scrapes /metrics with the token (and is refused without)"
echo "all checks passed"
