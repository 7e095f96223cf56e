/* api/mhd_lazy.h — libmicrohttpd, loaded when the first API listener starts.
 *
 * Why not link it: libmicrohttpd brings GnuTLS and its tree (nettle,
 * hogweed, gmp, p11-kit, tasn1, idn2, unistring, ffi: ten libraries, ~3 700
 * symbol relocations bound at load), and every `glassbox run`, which never
 * serves HTTP, paid that at each sandbox start: an empty program linked
 * with the glassbox libraries starts in 5.4 ms of CPU, 3.2 ms without
 * libmicrohttpd and SQLite (bench_run; exporter/curl_lazy.h did the same
 * for libcurl; api/gnutls_lazy.h does it for the GnuTLS calls of the API's
 * own TLS checks, api_tls.c).  The header still gives the types and constants; the
 * functions the API calls (twelve) are renamed here to wrappers that dlopen
 * "libmicrohttpd.so.12" on first use (mhd_lazy.c).  api_int.h includes
 * this right after <microhttpd.h>, so the API's code reads as plain
 * libmicrohttpd.
 *
 * If the library cannot be loaded, gb_mhd_start_daemon() returns NULL (as
 * MHD_start_daemon does when it fails) after logging why; every other
 * function is only reached through a running daemon.
 * MHD_get_connection_info, MHD_get_daemon_info: the info types glassbox asks
 * for take no extra argument, and the wrappers pass none.  A function the
 * API starts to use needs its line here (the link fails until it has one).
 *
 * Ownership: the table is process-wide, loaded once, never unloaded. */
#ifndef GB_API_MHD_LAZY_H
#define GB_API_MHD_LAZY_H

#include <microhttpd.h>
#include <stdint.h>

struct MHD_Daemon *gb_mhd_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                       void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...);
void gb_mhd_stop_daemon(struct MHD_Daemon *d);
enum MHD_Result gb_mhd_queue_response(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r);
struct MHD_Response *gb_mhd_create_response_from_callback(uint64_t size, size_t block_size,
                                                          MHD_ContentReaderCallback crc, void *crc_cls,
                                                          MHD_ContentReaderFreeCallback crfc);
struct MHD_Response *gb_mhd_create_response_from_buffer(size_t size, void *buffer,
                                                        enum MHD_ResponseMemoryMode mode);
void gb_mhd_destroy_response(struct MHD_Response *r);
enum MHD_Result gb_mhd_add_response_header(struct MHD_Response *r, const char *header, const char *content);
const char *gb_mhd_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
                                           const char *key);
const union MHD_ConnectionInfo *gb_mhd_get_connection_info(struct MHD_Connection *c,
                                                           enum MHD_ConnectionInfoType type, ...);
const union MHD_DaemonInfo *gb_mhd_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType type, ...);
/* Loads the library too (asked before any daemon starts); MHD_NO when it
 * cannot be loaded. */
enum MHD_Result gb_mhd_is_feature_supported(enum MHD_FEATURE feature);

#ifndef GB_MHD_LAZY_IMPL
#define MHD_start_daemon gb_mhd_start_daemon
#define MHD_stop_daemon gb_mhd_stop_daemon
#define MHD_queue_response gb_mhd_queue_response
#define MHD_create_response_from_callback gb_mhd_create_response_from_callback
#define MHD_create_response_from_buffer gb_mhd_create_response_from_buffer
#define MHD_destroy_response gb_mhd_destroy_response
#define MHD_add_response_header gb_mhd_add_response_header
#define MHD_lookup_connection_value gb_mhd_lookup_connection_value
#define MHD_get_connection_info gb_mhd_get_connection_info
#define MHD_get_daemon_info gb_mhd_get_daemon_info
#define MHD_is_feature_supported gb_mhd_is_feature_supported
#endif

#endif
