/* tests/fuzz/fuzz_http1.c — libFuzzer harness for the proxy's HTTP/1.1
 * request framing (enforcer/proxy/http1.c over libhttp-parser): the bytes
 * a sandboxed agent sends, fed in pieces whose sizes come from the first
 * input byte, request after request (pipelining).  Properties besides
 * memory safety: a feed never consumes more than it was given, an error is
 * sticky and carries a status and a reason, and the loop always progresses. */
#include <stddef.h>
#include <stdint.h>

#include "enforcer/proxy/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = (size_t)(data[0] % 64) + 1;
	const char *p = (const char *)data + 1;
	size_t left = size - 1;
	struct gb_http1 *h = gb_http1_new(NULL);
	if (!h)
		return 0;
	int stalls = 0;
	for (int i = 0; i < 100000 && left; i++) {
		size_t n = left < step ? left : step, used = 0;
		enum gb_http1_event ev = gb_http1_feed(h, p, n, &used);
		if (used > n)
			__builtin_trap();
		if (ev == GB_HTTP1_ERROR) {
			int st = gb_http1_status(h);
			if ((st != 400 && st != 431) || !gb_http1_error(h))
				__builtin_trap();
			if (gb_http1_feed(h, p, n, &used) != GB_HTTP1_ERROR)
				__builtin_trap(); /* sticky */
			break;
		}
		if (ev == GB_HTTP1_HEAD) {
			const struct gb_http1_head *hd = gb_http1_head(h);
			if (!hd || hd->n_host > 1 || hd->n_fields > GB_HTTP1_MAX_FIELDS)
				__builtin_trap();
			if (hd->upgrade)
				break; /* a tunnel follows: not HTTP any more */
		}
		p += used;
		left -= used;
		/* only END-after-head may consume nothing, and not twice in a row */
		stalls = used ? 0 : stalls + 1;
		if (stalls > 2)
			__builtin_trap();
	}
	gb_http1_free(h);
	return 0;
}
