#!/usr/bin/env bash
# The Grafana dashboard (dashboards/grafana/glassbox.json) against the real
# /metrics: the JSON parses as a dashboard (unique panel ids, every panel
# with a query, every datasource the dashboard's own variable), and every
# metric each panel query, the variable and the annotation name is one that
# glassbox serve actually exports — scraped here over its TCP listener with
# the token, after real events, with a file sink configured so the sink
# families carry samples.  The checker is attacked too: a copy with an
# unknown metric, a foreign metric and a panel without a query must fail.
. "$(dirname "$0")/lib/serve_lib.sh"
: "${GB_SOURCE_DIR:?}" "${GB_HELPER_DIR:?}"
DASH=$GB_SOURCE_DIR/dashboards/grafana/glassbox.json
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$T/token"
chmod 0600 "$T/token"
mkdir -p "$T/out"
cat >"$ROOT/etc/glassbox/glassbox.yaml" <<YAML
sinks:
  - name: archive
    type: file
    path: $T/out/events.jsonl
YAML
# port 0: the kernel picks a free one (tests run in parallel); the
# listener's own port is then read back from glassbox dashboard --json
"$GLASSBOX" --root "$ROOT" serve --api-listen "127.0.0.1:0" --api-token "$T/token" >"$T/serve.log" 2>&1 &
SERVE=$!; pids+=($SERVE)
for _ in $(seq 400); do grep -q watching "$T/serve.log" && break; sleep 0.05; done
grep -q watching "$T/serve.log" || fail "serve did not start"
port=$("$GLASSBOX" --root "$ROOT" dashboard --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["reused"]; print(d["port"])') ||
	fail "glassbox dashboard --json did not name the listener"
"$GB_HELPER_DIR/ring_events" "$ROOT/run/glassbox/sandboxes" g1 12 || fail "ring_events"
scrape() { curl -s -H "Authorization: Bearer $(cat "$T/token")" "http://127.0.0.1:$port/metrics"; }
for _ in $(seq 100); do
	scrape >"$T/metrics"
	grep -q '^glassbox_decisions_total{.*sandbox="g1".*verdict="deny"' "$T/metrics" &&
		grep -q '^glassbox_sink_sent_total{sink="archive"} [1-9]' "$T/metrics" && break
	sleep 0.1
done
grep -q '^glassbox_decisions_total{' "$T/metrics" || fail "no decisions in /metrics: $(head -c 600 "$T/metrics")"

cat >"$T/check.py" <<'PY'
import json, re, sys
dash, metrics = sys.argv[1], sys.argv[2]
exported = set()
for line in open(metrics):
    m = re.match(r'# TYPE (\S+) (\S+)', line)
    if m:
        exported.add(m.group(1))
        if m.group(2) == 'histogram':
            exported.update(m.group(1) + s for s in ('_bucket', '_sum', '_count'))
    elif line.strip() and not line.startswith('#'):
        exported.add(re.match(r'[a-zA-Z_:][a-zA-Z0-9_:]*', line).group(0))
FUNCS = {'sum', 'rate', 'irate', 'increase', 'changes', 'delta', 'histogram_quantile', 'avg', 'max',
         'min', 'count', 'topk', 'bottomk', 'label_values', 'abs', 'clamp_min', 'deriv', 'idelta'}
KEYWORDS = {'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset',
            'and', 'or', 'unless'}
def metric_names(expr):
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)           # strings
    e = re.sub(r'\{[^}]*\}', '', e)                         # label matchers
    e = re.sub(r'\[[^\]]*\]', '', e)                        # ranges
    e = re.sub(r'\$\{?\w+\}?', '', e)                       # dashboard variables
    e = re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)', ' ', e)
    e = re.sub(r'label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)', r'\1', e)
    names = []
    for m in re.finditer(r'(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?', e):
        word, call = m.group(1), m.group(2)
        if call and word in FUNCS:
            continue
        if word in KEYWORDS:
            continue
        names.append(word)
    return names
d = json.load(open(dash))
problems, checked = [], 0
variables = {v['name'] for v in d.get('templating', {}).get('list', [])}
def ds_ok(where, ds):
    if not isinstance(ds, dict) or ds.get('type') != 'prometheus' or ds.get('uid') != '${datasource}':
        problems.append(f'{where}: datasource is not the dashboard variable ${{datasource}}: {ds}')
def check_expr(where, expr):
    global checked
    names = metric_names(expr)
    if not names:
        problems.append(f'{where}: query names no metric: {expr}')
    for n in names:
        checked += 1
        if not n.startswith('glassbox_'):
            problems.append(f'{where}: {n} is not a glassbox metric')
        elif n not in exported:
            problems.append(f'{where}: {n} is not exported by /metrics')
ids = set()
panels = d['panels'] + [p for r in d['panels'] for p in r.get('panels', [])]
for p in panels:
    if p['id'] in ids:
        problems.append(f'panel id {p["id"]} twice')
    ids.add(p['id'])
    if p['type'] == 'row':
        continue
    where = f'panel {p["id"]} "{p["title"]}"'
    ds_ok(where, p.get('datasource'))
    if not p.get('targets'):
        problems.append(f'{where}: no query')
    for t in p.get('targets', []):
        ds_ok(where, t.get('datasource'))
        check_expr(f'{where} {t["refId"]}', t['expr'])
for v in d['templating']['list']:
    if v['type'] == 'query':
        q = v['query']['query'] if isinstance(v['query'], dict) else v['query']
        check_expr(f'variable {v["name"]}', q)
for a in d.get('annotations', {}).get('list', []):
    if 'expr' in a:
        check_expr(f'annotation {a["name"]}', a['expr'])
for need in ('datasource', 'sandbox'):
    if need not in variables:
        problems.append(f'variable {need} missing')
for p in problems:
    print('  ' + p)
print(f'{len(panels)} panels, {checked} metric references, {len(problems)} problems')
sys.exit(1 if problems else 0)
PY
FAILS=0
check() { if [[ $2 == "$3" ]]; then echo "ok   $1"; else echo "FAIL $1: expected '$2', got '$3'"; FAILS=$((FAILS + 1)); fi; }
set +e
python3 "$T/check.py" "$DASH" "$T/metrics" >"$T/check.out" 2>&1
rc=$?
cat "$T/check.out"
check "every panel query names a metric /metrics exports" 0 "$rc"
# the checker must catch what it is for
python3 - "$DASH" "$T/bad.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = [x for x in d['panels'] if x['type'] != 'row']
p[0]['targets'][0]['expr'] = 'sum(rate(glassbox_decisions_totl[5m]))'
p[1]['targets'][0]['expr'] = 'up{job="glassbox"}'
p[2]['targets'] = []
json.dump(d, open(sys.argv[2], 'w'))
PY
python3 "$T/check.py" "$T/bad.json" "$T/metrics" >"$T/bad.out" 2>&1
check "a misspelt metric, a foreign metric, a panel without a query: all caught" "1 1 1 1" \
	"$? $(grep -c 'glassbox_decisions_totl is not exported' "$T/bad.out") $(grep -c 'up is not a glassbox metric' "$T/bad.out") $(grep -c 'no query' "$T/bad.out")"
set -e
((FAILS)) && { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
