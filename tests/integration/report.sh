#!/usr/bin/env bash
# glassbox report over a run with known traffic: in a test network (client
# namespace with no default route, an upstream python http.server on
# 198.18.0.10), one sandbox's curl makes 2 allowed and 3 denied requests;
# the report (json, md, html) shows exactly those counts for
# /usr/bin/curl, the sandbox and its posture, the policy it loaded, no
# loss, and an integrity result; --sandbox narrows it to one run.
: "${GB_SOURCE_DIR:?}"
. "$(dirname "$0")/lib/serve_lib.sh"
NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
SERVE_EXTRA_CLEANUP=netns_teardown
G() { "$GLASSBOX" --root "$ROOT" "$@"; }
chmod 0777 "$T/work"
netns_setup
mkdir -p "$T/www"
echo hi >"$T/www/hi.txt"
upstream_http "$T/www" "$T/http.log"
cat >"$T/hosts" <<'H'
198.18.0.10 allowed.test nothere.test
H
cat >"$T/policy.yaml" <<'Y'
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/tmp, /dev/null]
  include_workdir: true
landlock:
  compatibility: best_effort
network_policies:
  web:
    endpoints:
      - host: allowed.test
        port: 80
    binaries:
      - path: /usr/bin/curl
Y
start_serve
C "$GLASSBOX" --root "$ROOT" run --quiet --name known --workdir "$T/work" --policy "$T/policy.yaml" \
	--hosts "$T/hosts" -- /bin/sh -c '
	for i in 1 2; do curl -s -m 5 -o /dev/null http://allowed.test/hi.txt; done
	for i in 1 2 3; do curl -s -m 5 -o /dev/null http://nothere.test/hi.txt; done
	true' || fail "the sandbox run failed"
G run --quiet --name other --workdir "$T/work" -- /bin/true || true
kill "$SERVE"
wait "$SERVE" 2>/dev/null || true
[[ $(grep -c 'GET /hi.txt' "$T/http.log") == 2 ]] || fail "upstream saw $(grep -c 'GET /hi.txt' "$T/http.log") requests, not 2"

G report --since 1h --format json --out "$T/r.json" || fail "report json"
python3 - "$T/r.json" <<'PY' || fail "json report counts"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["format"] == "glassbox-report/1", r["format"]
rows = [d for d in r["destinations"] if d["sandbox"] == "known" and d["binary"] == "/usr/bin/curl"]
got = {d["destination"]: (d["allowed"], d["denied"]) for d in rows}
assert got == {"allowed.test:80": (2, 0), "nothere.test:80": (0, 3)}, got
assert r["totals"]["allowed"] == 2 and r["totals"]["denied"] == 3, r["totals"]
assert r["top_denied"][0] == {"destination": "nothere.test:80", "count": 3}, r["top_denied"]
names = sorted(s["name"] for s in r["sandboxes"])
assert names == ["known", "other"], names
k = next(s for s in r["sandboxes"] if s["name"] == "known")
assert "landlock" in k["layers"] and "seccomp" in k["layers"] and k["stopped_ms"] >= k["started_ms"], k
assert any(p["sandbox"] == "known" and p["action"] == "loaded" and p["revision"] == "1" for p in r["policies"]), r["policies"]
assert r["loss"]["events"] == [] and r["loss"]["lost"] == 0, r["loss"]
assert sum(r["timeline"]["allowed"]) == 2 and sum(r["timeline"]["denied"]) == 3, r["timeline"]
i = r["integrity"]
assert i["chain_problems"] == 0 and i["checkpoint_problems"] == 0 and i["broken_segments"] == 0, i
assert i["result"].startswith("intact"), i
PY
echo "ok   json: exactly 2 allowed and 3 denied for curl, posture, policy, no loss"

G report --since 1h --sandbox other --format json >"$T/other.json"
python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
assert [s["name"] for s in r["sandboxes"]] == ["other"], r["sandboxes"]
assert r["totals"]["allowed"] == 0 and r["totals"]["denied"] == 0, r["totals"]
' "$T/other.json" || fail "--sandbox other"
echo "ok   --sandbox narrows the report"

G report --since 1h --format md >"$T/r.md"
grep -q '^| known | /usr/bin/curl | allowed.test:80 | 2 | 0 |$' "$T/r.md" || fail "md allowed row: $(cat "$T/r.md")"
grep -q '^| known | /usr/bin/curl | nothere.test:80 | 0 | 3 |$' "$T/r.md" || fail "md denied row"
grep -q 'No events were lost in this period' "$T/r.md" || fail "md loss statement"
grep -q '^Result: intact' "$T/r.md" || fail "md integrity"
echo "ok   markdown"

G report --since 1h --format html --out "$T/r.html"
grep -q '<svg role="img" aria-label="decisions over time by verdict"' "$T/r.html" || fail "no timeline chart"
grep -q 'aria-label="top denied destinations"' "$T/r.html" || fail "no top-denied chart"
grep -q '@media print' "$T/r.html" || fail "no print CSS"
grep -Eiq '(src|href)=|<script|@import|url\(' "$T/r.html" && fail "the HTML references an external resource or script"
python3 - "$T/r.html" <<'PY' || fail "html is not well-formed"
import sys, html.parser
class P(html.parser.HTMLParser):
    void = {"meta", "br", "img", "line", "rect"}
    def __init__(s): super().__init__(); s.stack = []
    def handle_starttag(s, t, a):
        if t not in s.void: s.stack.append(t)
    def handle_startendtag(s, t, a): pass
    def handle_endtag(s, t):
        if t in s.void: return
        assert s.stack and s.stack[-1] == t, (t, s.stack[-3:])
        s.stack.pop()
p = P(); p.feed(open(sys.argv[1]).read()); assert not p.stack, p.stack
PY
echo "ok   html: inline SVG charts, print CSS, nothing external, well-formed"

set +e
G report --format pdf >/dev/null 2>&1; [[ $? == 2 ]] || fail "bad --format accepted"
G report --since yesterday >/dev/null 2>&1; [[ $? == 2 ]] || fail "bad --since accepted"
set -e
echo "ok   usage"

# Headless Chromium renders it with no console message and loads nothing but
# the page itself; it runs in a network namespace of its own with no
# interface up, so it cannot reach anything.  Screenshot:
# <build>/artefacts/report.png.
command -v chromium >/dev/null || fail "chromium is missing (scripts/bootstrap installs it)"
A=${GB_BUILD_DIR:-$T}/artefacts
mkdir -p "$A"
rm -f "$A/report.png"
timeout 120 unshare -n chromium --headless --no-sandbox --disable-gpu --user-data-dir="$T/chromium" \
	--enable-logging=stderr --v=1 --window-size=1000,2400 --screenshot="$A/report.png" \
	"file://$T/r.html" 2>"$T/chromium.log" || fail "chromium: $(tail -5 "$T/chromium.log")"
[[ -s $A/report.png ]] || fail "no screenshot"
# (Chromium's own pages, chrome://..., may log under load, e.g. "Slow network
# is detected": those are not the report's)
grep 'INFO:CONSOLE' "$T/chromium.log" | grep -v 'source: chrome://' && fail "console messages while rendering the report"
grep -o 'FileURLLoader::Start: [^ ]*' "$T/chromium.log" | grep -v "file://$T/r.html\$" && fail "the page loaded another resource"
echo "ok   headless chromium renders the HTML without console errors ($A/report.png)"
