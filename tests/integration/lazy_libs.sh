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
# GB_STATIC_DEPS (the default): OpenSSL and the other libraries with a
# Debian archive are linked into the binary, which the loader then neither
# maps nor relocates at every start (~1.1 ms of CPU of each `glassbox run`,
# CMakeLists.txt).  Attacked: a build that links their shared objects again.
cache=${GB_BUILD_DIR:+$GB_BUILD_DIR/CMakeCache.txt}
if [ -n "$cache" ] && grep -q '^GB_STATIC_DEPS:BOOL=ON$' "$cache"; then
	for lib in libcrypto libssl libyaml libjansson libseccomp libcares libzstd libhttp_parser; do
		# a library whose archive configure did not find stays shared (CMakeLists.txt gb_dep)
		grep -q "^GB_ARCHIVE_$lib\.a:FILEPATH=/" "$cache" || continue
		if grep -q "^$lib[.-]" <<<"$needed"; then
			fail "$GLASSBOX links $lib's shared object although GB_STATIC_DEPS is ON: $(tr '\n' ' ' <<<"$needed")"
		fi
	done
	echo "ok   static: OpenSSL, libyaml, jansson, libseccomp, c-ares, zstd, http-parser ($(tr '\n' ' ' <<<"$needed"))"
fi
echo "all checks passed"
