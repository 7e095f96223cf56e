#!/usr/bin/env bash
# Real clients inside `glassbox run`, through HTTPS termination with the CA
# injected as the sandbox injects it (trust variables only, no client
# flags): curl, python3 urllib and http.client, git clone over smart HTTPS
# (git http-backend), pip install from a PEP 503 index, npm install from a
# registry, node https through a CONNECT tunnel.  The servers run in a test
# namespace with their own CA, which only the proxy is told about
# (--upstream-ca): a client that bypassed termination could not verify them.
#
#   gbc$$: glassbox run (supervisor + proxy)      gbu$$: 198.18.0.10:443
#          sandbox: lo only, 127.0.0.1:3128         https_server.py (static, git, echo)
. "$(dirname "$0")/lib/sandbox_lib.sh"
NETNS_LIB_EMBED=1 . "$(dirname "$0")/lib/netns_lib.sh"
netns_trap
H=$GB_SOURCE_DIR/tests/helpers
sbx_user_workdir "$W" # a user-owned workdir: idmapped, writable inside
netns_setup

# ---- upstream content: a git repo, a PEP 503 index, an npm registry ----
python3 "$H/tls_certs.py" "$T" api.test,git.test,pypi.test,npm.test
mkdir -p "$T/git" "$T/www/simple/gbdemo" "$T/www/files" "$T/www/npm/gbdemo/-"
git init -q --bare "$T/git/repo.git"
git init -q "$T/src" && echo tracked >"$T/src/file.txt" && git -C "$T/src" add file.txt
git -C "$T/src" -c user.email=t@t -c user.name=t commit -q -m first
git -C "$T/src" push -q "$T/git/repo.git" HEAD:refs/heads/main 2>/dev/null
git -C "$T/git/repo.git" symbolic-ref HEAD refs/heads/main
python3 - "$T/www" <<'PY'
import base64, hashlib, io, json, os, subprocess, sys, tarfile, zipfile
www = sys.argv[1]
# a wheel by hand: the three dist-info files pip needs
files = {"gbdemo/__init__.py": b"VALUE = 'from the test index'\n",
         "gbdemo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: gbdemo\nVersion: 1.0\n",
         "gbdemo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
rec = ""
for n, d in files.items():
    h = base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
    rec += f"{n},sha256={h},{len(d)}\n"
rec += "gbdemo-1.0.dist-info/RECORD,,\n"
whl = f"{www}/files/gbdemo-1.0-py3-none-any.whl"
with zipfile.ZipFile(whl, "w") as z:
    for n, d in files.items():
        z.writestr(n, d)
    z.writestr("gbdemo-1.0.dist-info/RECORD", rec)
sha = hashlib.sha256(open(whl, "rb").read()).hexdigest()
open(f"{www}/simple/gbdemo/index.html", "w").write(
    f'<!DOCTYPE html><html><body><a href="/files/gbdemo-1.0-py3-none-any.whl#sha256={sha}">gbdemo-1.0-py3-none-any.whl</a></body></html>\n')
# an npm package tarball (package/ prefix) and its packument
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as t:
    for n, d in {"package/package.json": json.dumps({"name": "gbdemo", "version": "1.0.0", "main": "index.js"}).encode(),
                 "package/index.js": b"module.exports = 'from the test registry';\n"}.items():
        ti = tarfile.TarInfo(n); ti.size = len(d); ti.mode = 0o644
        t.addfile(ti, io.BytesIO(d))
tgz = buf.getvalue()
open(f"{www}/npm/gbdemo/-/gbdemo-1.0.0.tgz", "wb").write(tgz)
integ = "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode()
open(f"{www}/npm/gbdemo/index.json", "w").write(json.dumps({
    "name": "gbdemo", "dist-tags": {"latest": "1.0.0"},
    "versions": {"1.0.0": {"name": "gbdemo", "version": "1.0.0", "dist": {
        "tarball": "https://npm.test/npm/gbdemo/-/gbdemo-1.0.0.tgz",
        "shasum": hashlib.sha1(tgz).hexdigest(), "integrity": integ}}}}))
PY
(exec ip netns exec "$UNS" python3 "$H/https_server.py" --bind 198.18.0.10 --port 443 --cert "$T/good.pem" \
  --key "$T/good.key" --root "$T/www" --git "$T/git" 2>"$T/https.log") & pids+=($!)
for _ in $(seq 50); do U bash -c 'exec 3<>/dev/tcp/198.18.0.10/443' 2>/dev/null && break; sleep 0.1; done

echo "198.18.0.10 api.test git.test pypi.test npm.test" >"$T/hosts"
cat >"$T/policy.yaml" <<'Y'
version: 1
filesystem_policy:
  read_only: [/usr, /bin, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/tmp, /dev/null]
  include_workdir: true
landlock:
  compatibility: best_effort
network_policies:
  tools:
    endpoints:
      - host: api.test
        port: 443
        protocol: rest
        enforcement: enforce
        rules: [ { allow: { method: GET, path: "/repos/**" } } ]
      - { host: git.test, port: 443, protocol: rest, enforcement: enforce, access: read-write }
      - { host: pypi.test, port: 443, protocol: rest, enforcement: enforce, access: read-only }
      - { host: npm.test, port: 443, protocol: rest, enforcement: enforce, access: read-only }
    binaries: [ { path: "/usr/**" } ]
Y
F="$GB_HELPER_DIR/sbx_ring_follow"
# sbx NAME CMD...: one sandbox in the client namespace, its ring followed
sbx() {
	local name=$1
	shift
	"$F" "$ROOT/run/glassbox/sandboxes/$name/events.ring" 30000 >"$T/$name.rec" &
	local fol=$!
	C "${GBRUN[@]}" --name "$name" --policy "$T/policy.yaml" --hosts "$T/hosts" \
	  --upstream-ca "$T/upca.pem" -- "$@" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	wait "$fol" || true
	[[ $rc == 0 ]] || { sed "s/^/  $name err: /" "$T/$name.err" | tail -15; grep -E '^(NET|HTTP)' "$T/$name.rec" | sed "s/^/  $name: /" | tail -10; }
}
https_lines() { grep -c '^HTTP verdict=allow .* scheme=https status=200 tls=1' "$T/$1.rec" || true; }

# curl with nothing but the environment
sbx curl /usr/bin/curl -sS -m 10 https://api.test/repos/a/issues
check "curl: status" 0 "$rc"
check "curl: body" /repos/a/issues "$(jq -r .path "$T/curl.out" 2>/dev/null)"
check "curl: HTTP record over https" yes "$([[ $(https_lines curl) -ge 1 ]] && echo yes || echo no)"
sbx curl403 /usr/bin/curl -sS -m 10 -o /dev/null -w '%{http_code}' -X DELETE https://api.test/repos/a
check "curl: DELETE refused by the rules" 403 "$(cat "$T/curl403.out")"

# python3: urllib and http.client (requests when installed)
cat >"$W/py.py" <<'PY'
import http.client, json, os, ssl, urllib.request
print(json.load(urllib.request.urlopen("https://api.test/repos/u/issues", timeout=10))["path"])
c = http.client.HTTPSConnection("127.0.0.1", 3128, timeout=10)  # SSL_CERT_FILE gives the trust
c.set_tunnel("api.test", 443)
c.request("GET", "/repos/h/issues"); r = c.getresponse(); print(json.load(r)["path"])
try:
    import requests
    print(requests.get("https://api.test/repos/r/issues", timeout=10).json()["path"])
except ImportError:
    print("/repos/r/issues")
PY
sbx py /usr/bin/python3 "$W/py.py"
check "python3 urllib, http.client, requests" "/repos/u/issues /repos/h/issues /repos/r/issues" "$(tr '\n' ' ' <"$T/py.out" | sed 's/ $//')"

# git clone over smart HTTPS (POST git-upload-pack inside the tunnel)
sbx git /usr/bin/git clone -q https://git.test/git/repo.git "$W/clone"
check "git clone over smart https" tracked "$(cat "$W/clone/file.txt" 2>/dev/null)"
check "git: upload-pack POST decided" yes "$(grep -q '^HTTP .*POST .*git-upload-pack' "$T/git.rec" && echo yes || echo no)"

# pip install from a PEP 503 index
sbx pip /usr/bin/env -u PIP_FIND_LINKS /usr/bin/python3 -m pip install -q --no-cache-dir --disable-pip-version-check --no-deps \
  --index-url https://pypi.test/simple/ --target "$W/pkgs" gbdemo
check "pip install from the index" yes "$([[ -f $W/pkgs/gbdemo/__init__.py ]] && echo yes || echo no)"

# npm install from a registry
mkdir -p "$W/npmproj" && echo '{"name":"t","version":"1.0.0"}' >"$W/npmproj/package.json" && sbx_user_workdir "$W"
sbx npm /usr/bin/env npm_config_cache="$W/.npm" npm_config_update_notifier=false npm_config_audit=false \
  npm_config_fund=false /usr/bin/npm --prefix "$W/npmproj" --registry https://npm.test/npm/ install gbdemo
check "npm install from the registry" "from the test registry" \
  "$(cd "$W/npmproj" && node -e 'console.log(require("gbdemo"))' 2>/dev/null)"

# node: https through a CONNECT tunnel, trusting NODE_EXTRA_CA_CERTS (node 20's
# fetch cannot use a proxy without the undici package, so https + CONNECT)
cat >"$W/node.js" <<'JS'
const http = require("http"), https = require("https");
const req = http.request({ host: "127.0.0.1", port: 3128, method: "CONNECT", path: "api.test:443",
                           headers: { host: "api.test:443" } });
req.on("connect", (res, socket) => {
  https.get({ host: "api.test", path: "/repos/n/issues", socket, agent: false,
              createConnection: () => require("tls").connect({ socket, servername: "api.test" }) }, (r) => {
    let b = ""; r.on("data", (d) => (b += d)); r.on("end", () => { console.log(JSON.parse(b).path); process.exit(0); });
  }).on("error", (e) => { console.error(e.message); process.exit(1); });
});
req.on("error", (e) => { console.error(e.message); process.exit(1); });
req.end();
JS
sbx node /usr/bin/node "$W/node.js"
check "node https through the tunnel" /repos/n/issues "$(cat "$T/node.out")"

# the CA: key never readable inside, certificates are
sbx key /usr/bin/sh -c 'cat "$(dirname "$SSL_CERT_FILE")"/ca.key; cat '"$ROOT"'/run/glassbox/sandboxes/key/ca.key; test -r "$NODE_EXTRA_CA_CERTS" && echo readable'
check "CA key not readable, certificate readable" readable "$(tail -1 "$T/key.out")"
# ... and bound read-only: the workload cannot swap the bundle for one of its own
sbx certro /usr/bin/sh -c 'echo x >>"$SSL_CERT_FILE" 2>/dev/null && echo written; rm -f "$NODE_EXTRA_CA_CERTS" 2>/dev/null && echo removed; test -s "$SSL_CERT_FILE" && echo intact'
check "CA certificates read-only inside" intact "$(cat "$T/certro.out")"
finish
