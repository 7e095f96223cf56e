#!/usr/bin/env bash
# `cmake --install` puts the binary, the default and example policies, the
# OCSF schemas, the systemd unit and the sample config in place; the
# installed binary finds its default policy and the unit passes systemd's
# own checks (when systemd-analyze exists).
set -euo pipefail
: "${GB_BUILD_DIR:?}"
p=$(mktemp -d /tmp/gb-install.XXXXXX)
trap 'rm -rf "$p"' EXIT
cmake --install "$GB_BUILD_DIR" --prefix "$p" >/dev/null
for f in bin/glassbox share/glassbox/policies/default.yaml share/glassbox/policies/examples/pypi.yaml \
         share/glassbox/schemas/ocsf lib/systemd/system/glassbox.service etc/glassbox/glassbox.yaml; do
	[[ -e $p/$f ]] || { echo "FAIL: $f not installed"; exit 1; }
done
"$p/bin/glassbox" policy check "$p/share/glassbox/policies/default.yaml" >/dev/null
grep -q '^ExecStart=/.*/glassbox serve$' "$p/lib/systemd/system/glassbox.service" || { echo "FAIL: ExecStart"; exit 1; }
# the sample config is valid as shipped
"$p/bin/glassbox" --root "$p/root" serve --config "$p/etc/glassbox/glassbox.yaml" --check-config >/dev/null
if command -v systemd-analyze >/dev/null; then
	sed "s|^ExecStart=[^ ]*|ExecStart=$p/bin/glassbox|" "$p/lib/systemd/system/glassbox.service" >"$p/glassbox.service"
	systemd-analyze verify "$p/glassbox.service"
fi
echo "install: ok"
