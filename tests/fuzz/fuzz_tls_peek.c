/* tests/fuzz/fuzz_tls_peek.c — libFuzzer harness for the first bytes of a
 * tunnel (enforcer/proxy/tls_peek.c): the classifier and the strict
 * ClientHello reader, the gate in front of OpenSSL for bytes a sandboxed
 * agent sends.  The input is copied to a buffer of exactly its size, so any
 * read past the end is an ASan report.  Properties checked besides memory
 * safety:
 *   - a complete hello's length lies within the input, and the same bytes
 *     cut to that length parse to the same hello (the record is self-
 *     contained); every shorter cut of a well-formed hello needs more bytes,
 *     never "malformed" (a client sending slowly is not refused);
 *   - the SNI is a NUL-terminated host name of printable bytes;
 *   - every refusal says why;
 *   - classification is stable: a prefix that is not NEED_MORE classifies
 *     the whole input the same way. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enforcer/proxy/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sni(const struct gb_client_hello *ch)
{
	if (!memchr(ch->sni, 0, sizeof ch->sni))
		__builtin_trap();
	for (const char *p = ch->sni; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	unsigned char *b = malloc(size ? size : 1);
	if (!b)
		return 0;
	memcpy(b, data, size);

	enum gb_peek_kind k = gb_tls_peek_classify(b, size);
	/* a decisive prefix decides the whole input alike */
	for (size_t cut = 1; cut < size && cut <= 64; cut++) {
		enum gb_peek_kind kp = gb_tls_peek_classify(b, cut);
		if (kp != GB_PEEK_NEED_MORE && kp != k)
			__builtin_trap();
	}

	struct gb_client_hello ch;
	memset(&ch, 0x5a, sizeof ch);
	const char *why = NULL;
	int rc = gb_tls_parse_client_hello(b, size, &ch, &why);
	if (rc < 0 && !why)
		__builtin_trap(); /* every refusal says why */
	if (rc > 0) {
		if ((size_t)rc > size)
			__builtin_trap();
		check_sni(&ch);
		unsigned char *exact = malloc((size_t)rc);
		if (exact) {
			memcpy(exact, b, (size_t)rc);
			struct gb_client_hello c2;
			const char *w2 = NULL;
			if (gb_tls_parse_client_hello(exact, (size_t)rc, &c2, &w2) != rc ||
			    strcmp(c2.sni, ch.sni) || c2.alpn_h2 != ch.alpn_h2 ||
			    c2.alpn_http11 != ch.alpn_http11 || c2.legacy_version != ch.legacy_version)
				__builtin_trap();
			/* slow clients: each shorter cut needs more bytes */
			size_t cuts[] = { 0, 1, 5, 9, (size_t)rc / 2, (size_t)rc - 1 };
			for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
				if (cuts[i] >= (size_t)rc)
					continue;
				struct gb_client_hello c3;
				const char *w3 = NULL;
				if (gb_tls_parse_client_hello(exact, cuts[i], &c3, &w3) != 0)
					__builtin_trap();
			}
			free(exact);
		}
	}
	free(b);
	return 0;
}
