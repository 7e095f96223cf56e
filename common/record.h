/* common/record.h — the binary event records that travel through the ring
 * (enforcer -> exporter contract).
 *
 * A record in the ring is a ring header (length, type, flags, sequence,
 * CLOCK_REALTIME ns; see ring.h) followed by a payload produced by one of the
 * gb_rec_encode() calls below.  The payload starts with GB_RECORD_VERSION and
 * then the fields of the type in a fixed order: little-endian integers and
 * length-prefixed strings (u16 length, bytes, NUL).  No JSON ever: producers
 * sit on the enforcement path and must stay cheap.
 *
 * Ownership: encoders read the struct and copy everything into the caller's
 * buffer.  gb_rec_decode() does not allocate: every string pointer in the
 * decoded struct points into the caller's payload buffer (NUL-terminated,
 * validated), so the buffer must outlive the decoded struct.  Absent strings
 * decode as "" (never NULL); encoders accept NULL as "".
 *
 * Decoders reject malformed input (bad version, bad lengths, missing NUL,
 * truncated fields, unknown type, trailing garbage, too many ancestors)
 * with -EBADMSG and never read outside [payload, payload + len).
 */
#ifndef GB_COMMON_RECORD_H
#define GB_COMMON_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define GB_RECORD_VERSION 1

/* Record types (ring header `type`). */
enum gb_rec_type {
	GB_REC_NET_DECISION = 1,
	GB_REC_HTTP_DECISION = 2,
	GB_REC_PROC = 3,
	GB_REC_FINDING = 4,
	GB_REC_CONFIG = 5,
	GB_REC_LIFECYCLE = 6,
	GB_REC_LOSS = 7,
};
#define GB_REC_TYPE_MAX GB_REC_LOSS

const char *gb_rec_type_name(int type); /* "NET_DECISION", ... or NULL */

/* Limits enforced by encoders (strings longer than GB_STR_MAX are cut and
 * the record gets GB_RECF_TRUNCATED) and by decoders. */
#define GB_STR_MAX 4096
#define GB_MAX_ANCESTORS 16
#define GB_MAX_ARGV 64
#define GB_RECORD_MAX (64 * 1024) /* largest payload an encoder produces */

/* Flags carried in the ring header's `flags` field. */
#define GB_RECF_TRUNCATED 0x0001u /* some string or list was cut to a limit */

enum gb_verdict { GB_VERDICT_DENY = 0, GB_VERDICT_ALLOW = 1 };
enum gb_mode { GB_MODE_ENFORCE = 0, GB_MODE_AUDIT = 1 };

/* Identity confidence flags (gb_identity.flags). */
#define GB_ID_INTERPRETER 0x0001u   /* exe is an interpreter; see script */
#define GB_ID_LD_PRELOAD 0x0002u    /* code mapped from outside the system library dirs (maps) */
#define GB_ID_EXE_DELETED 0x0004u   /* /proc/PID/exe target was deleted */
#define GB_ID_MULTI_OWNER 0x0008u   /* several processes hold the socket */
#define GB_ID_LOOKUP_FAILED 0x0010u /* no owning process found -> deny */
#define GB_ID_HASH_MISMATCH 0x0020u /* exe hash differs from first use */
#define GB_ID_ANCESTORS_CUT 0x0040u /* chain incomplete: too long, or a link unvouched */

/* Who made a connection or request.  ancestors[0] is the direct parent. */
struct gb_identity {
	int32_t pid;
	uint32_t uid;
	uint32_t flags; /* GB_ID_* */
	const char *exe;    /* kernel-resolved /proc/PID/exe path */
	const char *sha256; /* lowercase hex of the exe, or "" */
	const char *script; /* interpreter script path (never used to grant), or "" */
	uint32_t n_ancestors;
	int32_t ancestor_pids[GB_MAX_ANCESTORS];
	const char *ancestors[GB_MAX_ANCESTORS];
};

struct gb_endpoint {
	const char *host; /* as asked (name or literal), or "" */
	const char *ip;   /* numeric address actually used / resolved, or "" */
	uint16_t port;
};

/* Why a decision went the way it did (denials and notable allows). */
enum gb_reason {
	GB_R_NONE = 0,            /* allowed */
	GB_R_NO_POLICY,           /* policy has no network entries */
	GB_R_NO_ENDPOINT,         /* no endpoint matches host:port */
	GB_R_BINARY_NOT_ALLOWED,  /* endpoint matches, binary not listed */
	GB_R_L7_DENY_RULE,        /* request matched a deny rule */
	GB_R_L7_NOT_PERMITTED,    /* no allow rule matched the request */
	GB_R_L7_BAD_PATH,         /* path failed canonicalisation */
	GB_R_L7_NEEDS_INSPECTION, /* enforce-mode L7 endpoint reached by an opaque tunnel */
	GB_R_SSRF,                /* destination tier refused (see ssrf_tier) */
	GB_R_DNS_FAILED,          /* name did not resolve */
	GB_R_UPSTREAM_FAILED,     /* connect to upstream failed / timed out */
	GB_R_IDENTITY_FAILED,     /* socket owner could not be identified */
	GB_R_BINARY_CHANGED,      /* TOFU hash mismatch */
	GB_R_BAD_REQUEST,         /* malformed proxy request */
	GB_R_AUDIT_FAIL_CLOSED,   /* records cannot be written and audit_mode is fail_closed */
	GB_R_LIMIT,               /* connection/header limit reached */
	GB_R_L7_UNSUPPORTED,      /* not HTTP/1.x (h2c preface, other bytes) on an inspected endpoint */
	GB_R_UPSTREAM_TLS,        /* upstream certificate or TLS handshake refused */
	GB_R_CRED_UNRESOLVED,     /* a credential placeholder that cannot be rewritten */
	GB_R_CRED_UNBOUND,        /* a credential headed for a host it is not bound to */
	GB_R_CRED_UNINSPECTED,    /* credentials on plain HTTP, L4 or `tls: skip` */
};
const char *gb_reason_name(int reason); /* "no_endpoint", ... stable, snake_case */

/* Which destination check refused an address (NET_DECISION.ssrf_tier). */
enum gb_ssrf_tier {
	GB_SSRF_NONE = 0,
	GB_SSRF_LOOPBACK,
	GB_SSRF_LINK_LOCAL,
	GB_SSRF_UNSPECIFIED,
	GB_SSRF_MULTICAST,
	GB_SSRF_CONTROL_PLANE_PORT,
	GB_SSRF_INTERNAL,          /* internal range, endpoint does not name it */
	GB_SSRF_NOT_IN_ALLOWED_IPS /* allowed_ips present but does not cover it */
};
const char *gb_ssrf_tier_name(int tier);

/* NET_DECISION: one per connection attempt (phase OPEN: the decision), and a
 * second one with the same conn_id when an allowed connection closes (phase
 * CLOSE: byte counts and duration). */
enum gb_net_phase { GB_NET_OPEN = 1, GB_NET_CLOSE = 2 };
enum gb_net_kind { GB_NET_CONNECT = 1, GB_NET_FORWARD = 2 /* absolute-form plain HTTP */ };
struct gb_net_decision {
	uint8_t phase;    /* gb_net_phase */
	uint8_t kind;     /* gb_net_kind */
	uint8_t verdict;  /* gb_verdict */
	uint8_t ssrf_tier;
	uint8_t inspected; /* 1 when an L7 endpoint's traffic was inspected */
	uint16_t reason;  /* gb_reason */
	uint64_t conn_id; /* unique per proxy instance; ties CLOSE and HTTP records */
	uint64_t policy_rev;
	uint64_t bytes_up, bytes_down, duration_ns; /* CLOSE phase */
	struct gb_endpoint src, dst;
	struct gb_identity id;
	const char *reason_text;
	const char *policy_entry; /* matched network_policies key, or "" */
	const char *endpoint;     /* matched endpoint as "host:port", or "" */
};

/* HTTP_DECISION: one L7 request on a connection. */
struct gb_http_decision {
	uint8_t verdict;
	uint8_t mode; /* gb_mode in effect for the matched endpoint */
	uint16_t reason;
	uint16_t status; /* response status sent or relayed, 0 unknown */
	uint64_t conn_id;
	uint64_t policy_rev;
	struct gb_endpoint src, dst;
	struct gb_identity id;
	const char *method;
	const char *scheme; /* "http" or "https" */
	const char *path;   /* canonical path */
	const char *query;  /* values redacted */
	const char *rule;   /* matched rule description, or "" */
	const char *reason_text;
	const char *policy_entry;
	/* request by request inside a tunnel (0/"" for plain forward requests
	 * decided before any response) */
	uint64_t bytes_req, bytes_resp; /* request and response bytes, heads included */
	uint64_t latency_ns;            /* request head read -> response complete */
	uint8_t tls;                    /* gb_http_tls */
	const char *sni;                /* ClientHello server name, or "" */
	const char *tls_version;        /* "TLSv1.3", ... or "" */
	const char *credentials;        /* names of the credentials rewritten into the
	                                 * request, comma-separated (never a value), or "" */
	/* an inference.local request (OCSF API Activity 6003): ai_provider
	 * names the route's provider, "" (or NULL) for any other request.
	 * Encoded after the fields above only when set. */
	const char *ai_provider, *ai_type, *ai_model;
	uint64_t ai_ttfb_ns;                 /* request head -> first response byte */
	int64_t ai_tokens_in, ai_tokens_out; /* what the provider reported; -1 unknown */
	uint8_t ai_stream;                   /* the response was an SSE stream */
};
enum gb_http_tls { GB_HTTP_TLS_NONE = 0, GB_HTTP_TLS_TERMINATED = 1 };

/* PROC: launch, exit and privilege-drop of sandboxed processes. */
enum gb_proc_activity { GB_PROC_LAUNCH = 1, GB_PROC_EXIT = 2, GB_PROC_PRIV_DROP = 3 };
struct gb_proc {
	uint8_t activity;
	int32_t pid, ppid;
	uint32_t uid, gid;
	int32_t exit_code; /* EXIT: code, or -1 when killed */
	int32_t signal;    /* EXIT: terminating signal, or 0 */
	uint64_t duration_ns;
	const char *exe;
	const char *sha256;
	const char *detail; /* free text (e.g. the drop: "uid 1000 gid 1000 groups []") */
	uint32_t argc;
	const char *argv[GB_MAX_ARGV];
	/* The supervisor that launched / reaped it (the event's actor; ppid is
	 * the direct parent, the sandbox's init).  Written after argv; a record
	 * without it (an older ring) decodes with 0. */
	int32_t supervisor_pid;
};

/* FINDING: security-relevant observations. */
enum gb_finding_kind {
	GB_F_LANDLOCK_UNAVAILABLE = 1,
	GB_F_LANDLOCK_DEGRADED,   /* missing ABI feature or a path skipped */
	GB_F_LANDLOCK_DENIED,     /* kernel audit: filesystem access denied */
	GB_F_BINARY_CHANGED,      /* TOFU mismatch */
	GB_F_BYPASS_ATTEMPT,      /* e.g. direct connect bypassing the proxy */
	GB_F_SECCOMP_DENIED,
	GB_F_SSRF_BLOCKED,
	GB_F_POLICY_WARNING,
	GB_F_CONTAINMENT_DEGRADED, /* private root / cgroup / uid not (fully) set up */
	GB_F_RESOURCE_LIMIT,       /* a cgroup limit was hit: OOM kill, pids.max */
	GB_F_OTHER = 99,
};
enum gb_severity { /* OCSF severity_id values */
	GB_SEV_INFO = 1, GB_SEV_LOW = 2, GB_SEV_MEDIUM = 3, GB_SEV_HIGH = 4, GB_SEV_CRITICAL = 5,
};
struct gb_finding {
	uint16_t kind;    /* gb_finding_kind */
	uint8_t severity; /* gb_severity */
	uint8_t has_identity;
	struct gb_identity id; /* valid when has_identity */
	const char *title;
	const char *detail;
	const char *subject; /* the path, address or syscall concerned, or "" */
};

/* CONFIG: policy life. */
enum gb_config_action {
	GB_CFG_LOADED = 1, GB_CFG_VALIDATED, GB_CFG_UPDATED, GB_CFG_APPROVED,
	GB_CFG_REJECTED, GB_CFG_REFUSED, /* a bad file or static change refused */
};
struct gb_config {
	uint8_t action;
	uint64_t revision;
	const char *sha256; /* content hash of the revision */
	const char *source; /* file path, "api", "advisor", ... */
	const char *detail;
};

/* LIFECYCLE: sandbox life and enforcement posture. */
enum gb_lifecycle_activity { GB_LC_CREATED = 1, GB_LC_STARTED, GB_LC_STOPPED };
#define GB_LAYER_NETNS 0x01u
#define GB_LAYER_LANDLOCK 0x02u
#define GB_LAYER_SECCOMP 0x04u
#define GB_LAYER_PRIVDROP 0x08u
#define GB_LAYER_PROXY 0x10u
#define GB_LAYER_ROOTFS 0x20u  /* private root (pivot_root into the policy's paths) */
#define GB_LAYER_CGROUP 0x40u  /* resource limits */
#define GB_LAYER_OWN_UID 0x80u /* a uid of its own for this sandbox */
struct gb_lifecycle {
	uint8_t activity;
	uint32_t layers; /* GB_LAYER_* active */
	uint32_t landlock_abi;
	uint32_t uid, gid;
	const char *sandbox_name;
	const char *landlock_rights; /* human text of handled rights */
	const char *seccomp_mode;    /* e.g. "filter (runtime list v1)" */
	const char *detail;
	/* The resource limits set on the sandbox, 0 = none (an optional tail,
	 * encoded only when one is set; older records decode as none). */
	uint64_t memory_max, pids_max, nofile;
	uint32_t cpu_milli; /* CPUs x 1000 */
};

/* LOSS: synthesised by the consumer (or the journal) when records are gone. */
enum gb_loss_cause {
	GB_LOSS_RING_FULL = 1, /* no space in the ring */
	GB_LOSS_ABANDONED,     /* a producer died between reserve and publish */
	GB_LOSS_RETENTION,     /* the journal deleted what a sink had not delivered */
	GB_LOSS_GENERATION,    /* the ring was re-created with records unread */
	GB_LOSS_MALFORMED,     /* a record in the ring did not decode */
	GB_LOSS_JOURNAL_DAMAGED, /* journal bytes that no longer decode (reader side) */
};
struct gb_loss {
	uint8_t cause;
	uint64_t count;
	uint64_t first_seq, last_seq; /* inclusive range, when known */
	const char *detail;
};

/* A decoded record.  seq/ts_ns/flags/type are filled by the ring reader (or
 * by the caller) — gb_rec_decode() fills only the union member for `type`. */
struct gb_record {
	uint16_t type;
	uint16_t flags;
	uint64_t seq;
	uint64_t ts_ns;
	union {
		struct gb_net_decision net;
		struct gb_http_decision http;
		struct gb_proc proc;
		struct gb_finding finding;
		struct gb_config config;
		struct gb_lifecycle lifecycle;
		struct gb_loss loss;
	} u;
};

/* Encode `rec->u.<type>` into buf[0..cap).  Returns the payload length, or
 * -ENOSPC when it does not fit, -EINVAL for an unknown type.  *flags_out (may
 * be NULL) receives GB_RECF_TRUNCATED when a string or list was cut. */
int gb_rec_encode(const struct gb_record *rec, void *buf, size_t cap, uint16_t *flags_out);

/* Decode a payload of the given type into out->u.  Returns 0 or -EBADMSG.
 * Sets out->type; leaves seq/ts_ns/flags alone. */
int gb_rec_decode(int type, const void *payload, size_t len, struct gb_record *out);

#endif
