/* enforcer/proxy/cred_int.h — the credential store's layout, shared by
 * cred.c (load) and cred_rewrite.c (private to the proxy part), and the
 * mask's tail search, shared by cred_mask.c and cred_frame.c.
 *
 * Ownership: the store owns map (the secrets, map_len bytes). */
#ifndef GB_ENFORCER_PROXY_CRED_INT_H
#define GB_ENFORCER_PROXY_CRED_INT_H

#include "enforcer/proxy/cred.h"

struct gb_creds {
	size_t n;
	struct gb_cred_spec spec[GB_CRED_MAX];
	char *secret[GB_CRED_MAX]; /* into map; not NUL-terminated */
	size_t secret_len[GB_CRED_MAX];
	char *map;
	size_t map_len;
};

/* cred_mask.c: the longest k < len of some secret such that the last k
 * bytes of b[0..n) begin it (what a mask must hold back); cred_frame.c
 * uses it on its two views. */
size_t gb_cred_mask_held_tail(const struct gb_cred_mask *m, const char *b, size_t n);

#endif
