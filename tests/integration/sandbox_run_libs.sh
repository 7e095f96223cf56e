# tests/integration/sandbox_run_libs.sh — `glassbox run` never loads the
# libraries only the daemon's API, sinks and advisor use: librdkafka,
# libcurl, libmicrohttpd, SQLite, GnuTLS and GnuTLS's tree (nettle,
# hogweed, p11-kit, tasn1).  Each cost every sandbox start its loading,
# relocation and constructors (issue 13's start-speed target;
# exporter/curl_lazy.h, rdkafka_lazy.h, api/mhd_lazy.h, sqlite_lazy.h,
# gnutls_lazy.h load them on first use).  Attacked two ways: the maps of a
# running supervisor and of its init (after the proxy has started for a
# connection), and the dynamic loader's own account of every object it
# initialised during a whole run (LD_DEBUG=libs, dlopen included).
. "$(dirname "$0")/lib/sandbox_lib.sh"

forbidden='librdkafka|libcurl|libmicrohttpd|libsqlite3|libgnutls|libnettle|libhogweed|libp11-kit|libtasn1'

# 1. A sandbox that stays up: its workload connects to the proxy (which
# starts the proxy in the supervisor) and then sleeps until stopped.
tag="47.$$"
"${GBRUN[@]}" -- /bin/bash -c "exec 3<>/dev/tcp/127.0.0.1/3128; exec 3>&-; exec /bin/sleep $tag" &
sup=$!
up=no
for _ in $(seq 400); do # bounded: 20 s
	pgrep -fx "/bin/sleep $tag" >/dev/null && { up=yes; break; }
	kill -0 "$sup" 2>/dev/null || break
	sleep 0.05
done
check "sandbox up" yes "$up"
init=$(pgrep -P "$sup" | head -1)
maps_sup=$(cat "/proc/$sup/maps" 2>/dev/null)
maps_init=$(cat "/proc/$init/maps" 2>/dev/null)
# the maps read are a glassbox run's: libc and the glassbox binary are in both
# (OpenSSL is linked in: GB_STATIC_DEPS, integration.lazy_libs)
gbexe=$(readlink -f "$GLASSBOX")
check "supervisor maps read" yes "$(grep -q 'libc\.so' <<<"$maps_sup" && grep -qF "$gbexe" <<<"$maps_sup" && echo yes || echo no)"
check "init maps read" yes "$(grep -q 'libc\.so' <<<"$maps_init" && grep -qF "$gbexe" <<<"$maps_init" && echo yes || echo no)"
check "supervisor maps none of them" "" \
	"$(grep -oE "($forbidden)[^ ]*" <<<"$maps_sup" | sort -u | tr '\n' ' ')"
check "init maps none of them" "" \
	"$(grep -oE "($forbidden)[^ ]*" <<<"$maps_init" | sort -u | tr '\n' ' ')"
kill -TERM "$sup" 2>/dev/null
wait "$sup"

# 2. The loader's account of a whole run, start to end (a dlopen at any
# point, e.g. at exit, shows as "calling init").
out=$(LD_DEBUG=libs gbrun -- /bin/true 2>&1)
check "run exits 0 under LD_DEBUG" 0 $?
inits=$(grep -E 'calling init: ' <<<"$out")
check "loader trace seen" yes "$(grep -q 'libc\.so' <<<"$inits" && echo yes || echo no)"
check "loader initialised none of them" "" \
	"$(grep -oE "($forbidden)[^ ]*" <<<"$inits" | sort -u | tr '\n' ' ')"
finish
