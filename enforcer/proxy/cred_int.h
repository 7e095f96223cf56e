/* enforcer/proxy/cred_int.h — the credential store's layout, shared by
 * cred.c (load) and cred_rewrite.c (private to the proxy part).
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

#endif
