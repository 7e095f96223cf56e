/* api/mhd_lazy.c — see mhd_lazy.h.  This file alone sees the real names. */
#define GB_MHD_LAZY_IMPL
#include "api/mhd_lazy.h"

#include <stdarg.h>

#include "common/array.h"
#include "common/log.h"
#include "exporter/dl_load.h"

static struct {
	struct MHD_Daemon *(*start_daemon_va)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
	                                      MHD_AccessHandlerCallback, void *, va_list);
	void (*stop_daemon)(struct MHD_Daemon *);
	enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
	struct MHD_Response *(*create_response_from_callback)(uint64_t, size_t, MHD_ContentReaderCallback,
	                                                      void *, MHD_ContentReaderFreeCallback);
	struct MHD_Response *(*create_response_from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
	void (*destroy_response)(struct MHD_Response *);
	enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
	const char *(*lookup_connection_value)(struct MHD_Connection *, enum MHD_ValueKind, const char *);
	const union MHD_ConnectionInfo *(*get_connection_info)(struct MHD_Connection *,
	                                                        enum MHD_ConnectionInfoType, ...);
	const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *, enum MHD_DaemonInfoType, ...);
	enum MHD_Result (*is_feature_supported)(enum MHD_FEATURE);
} api;

static void load(void);
static struct gb_dl_lazy lib = GB_DL_LAZY_INIT(load);

static void load(void)
{
	const struct gb_dl_sym syms[] = {
		{ "MHD_start_daemon_va", &api.start_daemon_va },
		{ "MHD_stop_daemon", &api.stop_daemon },
		{ "MHD_queue_response", &api.queue_response },
		{ "MHD_create_response_from_callback", &api.create_response_from_callback },
		{ "MHD_create_response_from_buffer", &api.create_response_from_buffer },
		{ "MHD_destroy_response", &api.destroy_response },
		{ "MHD_add_response_header", &api.add_response_header },
		{ "MHD_lookup_connection_value", &api.lookup_connection_value },
		{ "MHD_get_connection_info", &api.get_connection_info },
		{ "MHD_get_daemon_info", &api.get_daemon_info },
		{ "MHD_is_feature_supported", &api.is_feature_supported },
	};
	if (gb_dl_load("libmicrohttpd.so.12", syms, GB_ARRAY_LEN(syms), lib.why, sizeof lib.why) == 0)
		lib.loaded = &api;
}

struct MHD_Daemon *gb_mhd_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                       void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	char err[300];
	if (!gb_dl_lazy_get(&lib, err, sizeof err)) {
		gb_log_error("api", "%s", err);
		return NULL;
	}
	va_list ap;
	va_start(ap, dh_cls);
	struct MHD_Daemon *d = api.start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

/* The rest run only inside a daemon that started, i.e. after the load. */
void gb_mhd_stop_daemon(struct MHD_Daemon *d)
{
	if (d)
		api.stop_daemon(d);
}

enum MHD_Result gb_mhd_queue_response(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r)
{
	return api.queue_response(c, status, r);
}

struct MHD_Response *gb_mhd_create_response_from_callback(uint64_t size, size_t block_size,
                                                          MHD_ContentReaderCallback crc, void *crc_cls,
                                                          MHD_ContentReaderFreeCallback crfc)
{
	return api.create_response_from_callback(size, block_size, crc, crc_cls, crfc);
}

struct MHD_Response *gb_mhd_create_response_from_buffer(size_t size, void *buffer,
                                                        enum MHD_ResponseMemoryMode mode)
{
	return api.create_response_from_buffer(size, buffer, mode);
}

void gb_mhd_destroy_response(struct MHD_Response *r)
{
	api.destroy_response(r);
}

enum MHD_Result gb_mhd_add_response_header(struct MHD_Response *r, const char *header, const char *content)
{
	return api.add_response_header(r, header, content);
}

const char *gb_mhd_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
                                           const char *key)
{
	return api.lookup_connection_value(c, kind, key);
}

const union MHD_ConnectionInfo *gb_mhd_get_connection_info(struct MHD_Connection *c,
                                                           enum MHD_ConnectionInfoType type, ...)
{
	return api.get_connection_info(c, type);
}

const union MHD_DaemonInfo *gb_mhd_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType type, ...)
{
	return api.get_daemon_info(d, type);
}

enum MHD_Result gb_mhd_is_feature_supported(enum MHD_FEATURE feature)
{
	char err[300];
	if (!gb_dl_lazy_get(&lib, err, sizeof err)) {
		gb_log_error("api", "%s", err);
		return MHD_NO;
	}
	return api.is_feature_supported(feature);
}
