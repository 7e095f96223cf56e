/* enforcer/proxy/cred.h — provider credentials the sandbox never holds: the
 * host-side store and the placeholder rewrite.
 *
 * The workload's environment gets a placeholder in each credential's
 * variable (`glassbox:credential:NAME`; OpenShell's
 * `openshell:resolve:env:VAR` is accepted too), never the secret.  On a
 * TLS-terminated tunnel the proxy replaces placeholders in request headers
 * (and, when the endpoint opts in with `request_body_credential_rewrite`,
 * in UTF-8 JSON / form / text bodies up to GB_CRED_BODY_MAX) with the
 * secret, only toward the hosts the credential is bound to.  Everything
 * else fails closed with a record (l7_http.c, proxy_conn.c): an unknown
 * placeholder, a credential headed for an unbound host, a placeholder in
 * plain HTTP, a CONNECT to a bound host on an endpoint that is not
 * inspected.  See docs/credentials.md.
 *
 * Secrets: read from files that must be regular, owned by root and without
 * group/other permission bits (0600 or 0400), at most GB_CRED_SECRET_MAX
 * bytes of visible ASCII other than '"' and '\' (one trailing newline is
 * dropped) — so a secret can go into a header or a JSON string as it is.
 * They live in one anonymous mapping marked MADV_DONTDUMP and MADV_DONTFORK
 * (not in a core, not in the sandbox child the supervisor forks), locked
 * when the kernel allows, and the process holding them is made
 * non-dumpable (PR_SET_DUMPABLE 0).  Rewritten output buffers are reserved
 * at their final size before a secret is copied in (no realloc leaves a
 * copy behind); gb_creds_buf_wipe() clears one before it is freed.  No
 * function here puts a secret into an error text.
 *
 * Ownership: gb_creds_load() returns a store the caller frees with
 * gb_creds_free() (which wipes the secrets) after every user (the proxy) is
 * gone.  The store is read-only after load: safe from many threads.
 */
#ifndef GB_ENFORCER_PROXY_CRED_H
#define GB_ENFORCER_PROXY_CRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/cred_spec.h"

#define GB_CRED_SECRET_MAX 4096
#define GB_CRED_BODY_MAX (256u << 10)
#define GB_CRED_PREFIX "glassbox:credential:"
#define GB_CRED_OPENSHELL_PREFIX "openshell:resolve:env:"

struct gb_creds;

/* Read every spec's secret (checks above).  n may be 0 (an empty store).
 * Two specs with one name or one variable are refused.  0, or negative
 * errno with the reason in err ("credential NAME: FILE: ..."). */
int gb_creds_load(const struct gb_cred_spec *specs, size_t n, struct gb_creds **out, char *err,
                  size_t errlen);
void gb_creds_free(struct gb_creds *c);

size_t gb_creds_count(const struct gb_creds *c);
const struct gb_cred_spec *gb_creds_spec(const struct gb_creds *c, size_t i);
/* The placeholder credential i's variable holds: "glassbox:credential:NAME". */
void gb_creds_placeholder(const struct gb_creds *c, size_t i, char *out, size_t n);
/* Is host:port bound to some credential?  The first one's name into name. */
bool gb_creds_bound(const struct gb_creds *c, const char *host, uint16_t port, char *name, size_t n);

/* Does data hold anything that looks like a placeholder (either form,
 * known or not)?  Needs no store. */
bool gb_creds_has_placeholder(const char *data, size_t len);

enum gb_cred_ctx {
	GB_CRED_HEADER, /* header lines: the secret as it is */
	GB_CRED_JSON,   /* a JSON body (UTF-8): as it is (it holds no '"' or '\') */
	GB_CRED_FORM,   /* application/x-www-form-urlencoded: percent-encoded */
	GB_CRED_TEXT,   /* text/ *: as it is (UTF-8) */
};
enum gb_cred_status {
	GB_CRED_OK = 0,      /* rewritten, or nothing to rewrite (n == 0) */
	GB_CRED_UNKNOWN,     /* a placeholder names no credential (what = its name) */
	GB_CRED_UNBOUND,     /* a credential is not bound to host:port (what = its name) */
	GB_CRED_NOT_UTF8,    /* a body with placeholders is not UTF-8 */
	GB_CRED_TOO_LARGE,   /* the result would exceed the output bound */
	GB_CRED_NOMEM,
};
struct gb_cred_result {
	int status;   /* gb_cred_status */
	size_t n;     /* placeholders found */
	uint64_t used; /* bit i: credential i written (GB_CRED_MAX <= 64) */
	char what[GB_CRED_NAME_MAX + 8]; /* a name, never a value */
};

/* Replace the placeholders of in[0..len) for a request to host:port.  With
 * n == 0 nothing is written to out; with GB_CRED_OK and n > 0, out holds
 * exactly the rewritten bytes (appended to what it held, at most max_out
 * bytes in total; 0 = no bound); a refusal writes nothing to out.
 * c may be NULL (then every placeholder is unknown). */
void gb_creds_rewrite(const struct gb_creds *c, enum gb_cred_ctx ctx, const char *host, uint16_t port,
                      const char *in, size_t len, size_t max_out, struct gb_buf *out,
                      struct gb_cred_result *r);
/* ---- cred_basic.c: `Authorization: Basic base64(user:placeholder)` ----
 * Does a header line block hold a Basic credential whose decoded bytes
 * carry a placeholder? */
bool gb_creds_basic_has_placeholder(const char *in, size_t len);
/* Header lines in[0..len) with every such Basic credential decoded,
 * rewritten toward host:port (gb_creds_rewrite's refusals) and encoded
 * again, appended to out; r as gb_creds_rewrite (n == 0: nothing written,
 * nothing to do).  The other lines are copied unchanged. */
void gb_creds_rewrite_basic(const struct gb_creds *c, const char *host, uint16_t port, const char *in,
                            size_t len, size_t max_out, struct gb_buf *out, struct gb_cred_result *r);
/* Zero a buffer's bytes (secrets) and free it. */
void gb_creds_buf_wipe(struct gb_buf *b);
/* A short text for a refusal ("credential placeholder 'x' names no
 * credential", ...), never a value. */
void gb_creds_result_text(const struct gb_cred_result *r, const char *host, uint16_t port, char *out,
                          size_t n);
/* The names of the credentials in used, comma-separated, into out. */
void gb_creds_used_names(const struct gb_creds *c, uint64_t used, char *out, size_t n);

/* ---- cred_mask.c: secrets masked in what goes to the sandbox ----
 * A stream (a response body) is fed piece by piece; every whole copy of an
 * added secret is replaced by '*' even when it straddles two pieces: the
 * longest tail of a piece that begins a secret is held back until the next
 * piece (or flush), nothing else — a piece that cannot start a secret goes
 * out whole at once.  Secrets shorter than GB_CRED_MASK_MIN are not masked
 * (they would mask ordinary text).  The struct holds pointers to the
 * secrets (the caller keeps them alive) and at most one secret's length of
 * held bytes, wiped by flush/drop.  Not thread-safe: one per stream. */
#define GB_CRED_MASK_MIN 8
#define GB_CRED_MASK_SECRETS 16
struct gb_cred_mask {
	const char *sec[GB_CRED_MASK_SECRETS];
	size_t len[GB_CRED_MASK_SECRETS];
	size_t n;
	char pend[GB_CRED_SECRET_MAX];
	size_t pn;
};
void gb_cred_mask_init(struct gb_cred_mask *m);
void gb_cred_mask_add(struct gb_cred_mask *m, const char *s, size_t n);
/* Append to out what may go on now (masked).  0, or -1 out of memory. */
int gb_cred_mask_feed(struct gb_cred_mask *m, const char *in, size_t n, struct gb_buf *out);
/* The stream ended: the held bytes into out (masked when 4 bytes or more:
 * the end came inside a copy). */
int gb_cred_mask_flush(struct gb_cred_mask *m, struct gb_buf *out);
/* The stream was cut: the held bytes are wiped, never sent. */
void gb_cred_mask_drop(struct gb_cred_mask *m);
/* Add the secrets of every credential bound to host:port (c may be NULL). */
void gb_creds_mask_bound(const struct gb_creds *c, const char *host, uint16_t port,
                         struct gb_cred_mask *m);

/* ---- cred_frame.c: the mask over a framed response (a tunnel's) ----
 * A tunnel forwards the server's response as it came, framing included, so
 * a copy of a secret split by the server's chunked framing ("sk-ab" CRLF
 * "3" CRLF "cde...") is not whole in the bytes as received.  This mask
 * reads two views of the same bytes: the bytes as received (a copy in a
 * header, a trailer, a chunk extension) and the payload alone (the body
 * as the framing decodes it, segments the caller names: l7_resp.c's
 * parser).  A whole copy in either view has its bytes, where they are in
 * the framed stream, replaced by '*' (the same length: the framing stays
 * valid and byte-identical); what may go on is the framed stream up to the
 * first byte either view must hold back (a tail that could begin a
 * secret), nothing more.  A response without a secret's beginning at the
 * end of a piece is passed on whole at once.  Held bytes are bounded by
 * GB_CRED_FRAME_HOLD_MAX: a server that frames a secret's beginning in
 * more than that (long chunk extensions around 1-byte chunks) gets its
 * response cut (feed fails), never passed unmasked.
 * Ownership: the struct borrows m (its secrets), owns its buffers (wiped
 * and freed by flush or drop).  One per response, not thread-safe. */
#define GB_CRED_FRAME_HOLD_MAX (256u << 10)
struct gb_cred_frame {
	const struct gb_cred_mask *m;
	struct gb_buf raw;   /* framed bytes held back */
	struct gb_buf pay;   /* the payload bytes among them, decoded */
	uint32_t *at;        /* at[i]: where pay[i] is in raw */
	size_t at_cap;
	size_t *seg;         /* the next piece's payload: (offset, length) pairs */
	size_t nseg, seg_cap;
	int err;             /* sticky -ENOMEM */
};
void gb_cred_frame_init(struct gb_cred_frame *f, const struct gb_cred_mask *m);
/* in[off..off+n) of the next piece fed is payload (call before the feed). */
void gb_cred_frame_payload(struct gb_cred_frame *f, size_t off, size_t n);
/* Append to out what may go on now (masked).  0, -ENOMEM, or -E2BIG when
 * more than GB_CRED_FRAME_HOLD_MAX would be held (cut the response). */
int gb_cred_frame_feed(struct gb_cred_frame *f, const char *in, size_t n, struct gb_buf *out);
/* The response ended: the held bytes into out, a held beginning of a
 * secret (4 bytes or more) masked as gb_cred_mask_flush does. */
int gb_cred_frame_flush(struct gb_cred_frame *f, struct gb_buf *out);
/* The response was cut: held bytes wiped, never sent; buffers freed. */
void gb_cred_frame_drop(struct gb_cred_frame *f);

#endif
