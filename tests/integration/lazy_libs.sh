#!/usr/bin/env bash
# The libraries glassbox loads with dlopen when a feature first needs them
# (libmicrohttpd and GnuTLS: api/mhd_lazy.h, api/gnutls_lazy.h; libcurl and
# librdkafka: exporter/curl_lazy.h, rdkafka_lazy.h; SQLite: api/sqlite_lazy.h) stay out of the
# binary's NEEDED list: linked, each brings its tree and constructors back
# to every `glassbox run` and `glassbox policy set` (GnuTLS alone: ~7 ms of
# each start under load).  Attacked: a build that links one of them again
# fails here.  That the dlopen'd libraries work is integration.api_tls's
# (client certificates, GnuTLS's reasons) and the sink tests' part.
set -euo pipefail
: "${GLASSBOX:?path of the glassbox binary}"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v readelf >/dev/null || fail "readelf (binutils, scripts/bootstrap: build-essential) is missing"
needed=$(readelf -d "$GLASSBOX" | awk '/\(NEEDED\)/ {gsub(/[][]/, "", $NF); print $NF}')
[ -n "$needed" ] || fail "readelf found no NEEDED entries in $GLASSBOX"
for lib in libmicrohttpd libgnutls libcurl librdkafka libsqlite3; do
	if grep -q "^$lib\." <<<"$needed"; then
		fail "$GLASSBOX links $lib (it must be loaded with dlopen): $(tr '\n' ' ' <<<"$needed")"
	fi
done
echo "ok   not linked: libmicrohttpd, GnuTLS, libcurl, librdkafka, SQLite ($(wc -l <<<"$needed") libraries linked)"
echo "all checks passed"
