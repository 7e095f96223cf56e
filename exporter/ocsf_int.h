/* exporter/ocsf_int.h — internals shared by the per-class OCSF mappers
 * (ocsf_*.c).  Not a public contract: only exporter/ocsf*.c include it.
 *
 * Each mapper opens the event object, writes the envelope with
 * ocsf_envelope(), its class attributes, and closes with ocsf_finish(),
 * which writes metadata/device last so that the profiles the mapper used
 * (collected in ev->profiles as it writes) are exactly the ones declared.
 */
#ifndef GB_EXPORTER_OCSF_INT_H
#define GB_EXPORTER_OCSF_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/ip_literal.h"
#include "common/jsonw.h"
#include "exporter/ocsf.h"

/* OCSF class uids we emit. */
#define OCSF_NET 4001
#define OCSF_HTTP 4002
#define OCSF_PROC 1007
#define OCSF_FINDING 2004
#define OCSF_CONFIG 5019
#define OCSF_LIFECYCLE 6002
#define OCSF_EVENT_LOG 1008 /* LOSS: see ocsf_loss.c */
#define OCSF_API 6003       /* inference.local requests: ocsf_api.c */

/* Profiles (metadata.profiles), a bit each. */
#define OCSF_P_HOST 0x01u             /* actor, device */
#define OCSF_P_CONTAINER 0x02u        /* device.container */
#define OCSF_P_SECURITY_CONTROL 0x04u /* action, disposition, firewall_rule, policy, is_alert */
#define OCSF_P_LINUX_USERS 0x08u      /* process.group (extension profile linux/linux_users) */
#define OCSF_P_AI 0x10u               /* ai_model, message_context (ai_operation) */

/* Enum values used (OCSF 1.8.0). */
#define OCSF_STATUS_SUCCESS 1
#define OCSF_STATUS_FAILURE 2
#define OCSF_ACTION_ALLOWED 1
#define OCSF_ACTION_DENIED 2
#define OCSF_DISP_ALLOWED 1
#define OCSF_DISP_BLOCKED 2
#define OCSF_DISP_DETECTED 15

struct ocsf_ev {
	struct gb_jsonw w;
	const struct gb_ocsf_ctx *ctx;
	const struct gb_record *rec;
	unsigned profiles;
	struct gb_ocsf_meta meta; /* set by the envelope, handed to the caller */
};

/* Begin the event object and write class/category/activity/type and
 * severity.  status_id 0 = not written. */
void ocsf_envelope(struct ocsf_ev *ev, int class_uid, int activity_id, int severity_id, int status_id);
/* Same, with a source-specific activity_name for activity 99 (Other). */
void ocsf_envelope_other(struct ocsf_ev *ev, int class_uid, const char *activity_name, int severity_id,
                         int status_id);
/* security_control: action_id/disposition_id (0 = not written). */
void ocsf_action(struct ocsf_ev *ev, int action_id, int disposition_id);
/* metadata, device (+container), close the object.  Returns 0 or -ENOMEM. */
int ocsf_finish(struct ocsf_ev *ev);

/* "file": {...} for an executable (name, path, type, SHA-256 hash). */
void ocsf_file(struct gb_jsonw *w, const char *path, const char *sha256, bool deleted);
/* Keys are constants of this code (plain ASCII, nothing to escape): write
 * them in one copy instead of through the escaper.  Macros, not functions,
 * so that a literal key's length and copy are compiled in at every call
 * (the writer makes ~110 keys per event; bench_ocsf). */
#define ocsf_key(w, key) gb_jw_key_plain((w), (key), strlen(key))
#define ocsf_kstr(w, key, s)                                                                     \
	do {                                                                                     \
		ocsf_key((w), (key));                                                            \
		gb_jw_str((w), (s));                                                             \
	} while (0)
/* "key": "caption" for a caption of this code's tables (plain ASCII). */
#define ocsf_kcap(w, key, cap)                                                                   \
	do {                                                                                     \
		const char *c_ = (cap);                                                          \
		ocsf_key((w), (key));                                                            \
		gb_jw_str_plain((w), c_, strlen(c_));                                            \
	} while (0)
/* A member whose key and value are both literals ("key", "\"text\"" or
 * "8"): the whole `"key":value` is one literal, written in one copy.  Only
 * literals compile here. */
#define ocsf_klit(w, key, json) gb_jw_raw((w), "\"" key "\":" json, sizeof("\"" key "\":" json) - 1)
/* OCSF integers are signed (long_t: 64 bits) and so are most consumers'
 * (jansson, Java): a u64 beyond INT64_MAX is written as INT64_MAX. */
#define ocsf_kuint(w, key, v)                                                                    \
	do {                                                                                     \
		uint64_t v_ = (v);                                                               \
		ocsf_key((w), (key));                                                            \
		gb_jw_uint((w), v_ > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : v_);            \
	} while (0)
/* "key": "<string of an unsigned number>" (OCSF string_t ids). */
void ocsf_kstr_u64(struct gb_jsonw *w, const char *key, uint64_t v);
/* A string value assembled from pieces without a temporary buffer. */
void ocsf_sbegin(struct gb_jsonw *w, const char *key);
void ocsf_sadd(struct gb_jsonw *w, const char *s);
void ocsf_saddn(struct gb_jsonw *w, const char *s, size_t n);
void ocsf_sadd_u64(struct gb_jsonw *w, uint64_t v);
void ocsf_send(struct gb_jsonw *w);
/* Write "key": s only when s is non-empty. */
void ocsf_kstr_opt(struct gb_jsonw *w, const char *key, const char *s);
/* Inside ocsf_sbegin/ocsf_send: sep then s, only when s is non-empty (a
 * message's optional tail, e.g. ": detail"). */
void ocsf_sadd_opt(struct gb_jsonw *w, const char *sep, const char *s);
/* "key": {"field": "<v as a string>"} (user and group objects). */
void ocsf_kobj_str_u64(struct gb_jsonw *w, const char *key, const char *field, uint64_t v);
/* "key": {"pid": pid} (a process known by its pid alone). */
void ocsf_kpid(struct gb_jsonw *w, const char *key, uint64_t pid);
/* "actor": {"app_name": "glassbox"} — glassbox itself acting — with
 * "process": {"pid": pid} inside when pid > 0; sets the host profile. */
void ocsf_glassbox_actor(struct ocsf_ev *ev, int32_t pid);

/* actor.process (and friends) from an identity.  Writes "key": {...}. */
void ocsf_identity_process(struct ocsf_ev *ev, const char *key, const struct gb_identity *id);
/* "actor": {"process": ...} when the identity names a process, else
 * "actor": {"app_name": "glassbox"} when required is set. */
void ocsf_actor(struct ocsf_ev *ev, const struct gb_identity *id, bool required);
/* Identity confidence flags as a JSON array of names (caller wrote the key);
 * ocsf_identity_unmapped_flags() drops those OCSF has a place for. */
void ocsf_identity_flags(struct gb_jsonw *w, uint32_t flags);
uint32_t ocsf_identity_unmapped_flags(const struct gb_identity *id);

/* network_endpoint object: "key": {hostname, ip, port}; nothing when the
 * endpoint is empty unless always. */
void ocsf_endpoint(struct gb_jsonw *w, const char *key, const struct gb_endpoint *ep, bool always);
/* connection_info shared by NET and HTTP events (same uid). */
void ocsf_connection_info(struct ocsf_ev *ev, uint64_t conn_id, const struct gb_endpoint *dst);

/* Names, stable snake_case (same strings as record.c's tables; kept here
 * so the exporter does not depend on the decoder being linked). */
const char *ocsf_severity_caption(int id);
const char *ocsf_basename(const char *path);

/* One decision, one account: NET and HTTP events of a connection give a
 * denial the same severity and name the same rule (ocsf_net.c). */
int ocsf_deny_severity(int reason);
int ocsf_deny_disposition(int reason);
const char *ocsf_rule_type(int reason, const char *l7_type);
const char *ocsf_rule_name(const char *entry, int reason);

/* The memo (ocsf_memo.c): per-thread copies of serialised fragments that
 * are the same for many events, found by the exact bytes of what they
 * depend on.  The caller builds the key from every value the fragment is
 * written from (ocsf_memo_key_*), looks it up, and on a miss writes the
 * fragment as before and stores the bytes it wrote. */
#define OCSF_MEMO_KEY_MAX 1024
#define OCSF_MEMO_VAL_MAX 4096
enum ocsf_memo_kind { OCSF_MEMO_HEAD, OCSF_MEMO_IDENT };
struct ocsf_memo_key {
	size_t len;
	bool over; /* did not fit: not memoised */
	char b[OCSF_MEMO_KEY_MAX];
};
/* The envelope's class/activity heads (ocsf_common.c), in the same
 * per-thread memo; NULL when out of range or without memory. */
#define OCSF_ENV_MAX 320
#define OCSF_ENV_CLASSES 8
#define OCSF_ENV_ACTS 12
struct ocsf_env_memo {
	uint16_t len;
	char s[OCSF_ENV_MAX];
};
struct ocsf_env_memo *ocsf_memo_env(unsigned class_idx, unsigned activity_id);
void ocsf_memo_key_bytes(struct ocsf_memo_key *k, const void *p, size_t n);
void ocsf_memo_key_str(struct ocsf_memo_key *k, const char *s);
const char *ocsf_memo_get(enum ocsf_memo_kind kind, const struct ocsf_memo_key *k, size_t *vlen);
void ocsf_memo_put(enum ocsf_memo_kind kind, const struct ocsf_memo_key *k, const char *val, size_t vlen);

int ocsf_net(struct ocsf_ev *ev);
int ocsf_http(struct ocsf_ev *ev);
int ocsf_api_inference(struct ocsf_ev *ev); /* HTTP_DECISION with ai_provider */
int ocsf_proc(struct ocsf_ev *ev);
int ocsf_finding(struct ocsf_ev *ev);
int ocsf_loss(struct ocsf_ev *ev);
int ocsf_config(struct ocsf_ev *ev);
int ocsf_lifecycle(struct ocsf_ev *ev);

#endif
