/* common/ip_literal.c — the one IP-literal test (contract: ip_literal.h). */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "common/ip_literal.h"

bool gb_ip_literal(const char *s, int *version)
{
	unsigned char tmp[16];
	int v = 0;
	if (s && *s)
		v = inet_pton(AF_INET, s, tmp) == 1 ? 4 : inet_pton(AF_INET6, s, tmp) == 1 ? 6 : 0;
	if (v && version)
		*version = v;
	return v != 0;
}
