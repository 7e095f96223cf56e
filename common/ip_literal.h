/* common/ip_literal.h — is a host string an IP address literal?
 *
 * The policy validator (a `host:` that is an address), the policy hash and
 * the OCSF mapper (an endpoint's `ip` vs `hostname`) must agree on what an
 * address is, so there is one test: what inet_pton(3) accepts for AF_INET
 * (dotted quad) or AF_INET6 (without brackets or a zone).
 *
 * Ownership: borrows the string for the call; thread-safe.
 */
#ifndef GB_COMMON_IP_LITERAL_H
#define GB_COMMON_IP_LITERAL_H

#include <stdbool.h>

/* true when s is an IPv4 or IPv6 literal; *version (may be NULL) becomes 4
 * or 6.  NULL and "" are not. */
bool gb_ip_literal(const char *s, int *version);

#endif
