/* tests/fuzz/fuzz_proxy_head.c — libFuzzer harness for the proxy's request
 * head parser and the upstream rewrite (enforcer/proxy/proxy_http.c; its
 * private header proxy_int.h): the bytes a sandboxed agent sends.  The
 * parser is given a complete head (the proxy calls it once CRLFCRLF is
 * seen), so the input gets one appended when it has none. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "enforcer/proxy/proxy_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *buf = malloc(size + 4);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	size_t len = size;
	if (len < 4 || memcmp(buf + len - 4, "\r\n\r\n", 4)) {
		memcpy(buf + len, "\r\n\r\n", 4);
		len += 4;
	}
	struct http_req r;
	memset(&r, 0, sizeof r);
	const char *why = NULL;
	if (http_parse_head(buf, len, &r, &why) == 0) {
		if (r.head_len > len || !memchr(r.host, 0, sizeof r.host) || !memchr(r.path, 0, sizeof r.path))
			__builtin_trap();
		struct gb_buf out = GB_BUF_INIT;
		http_upstream_head(buf, len, &r, r.path, &out);
		gb_buf_free(&out);
	} else if (!why)
		__builtin_trap(); /* every refusal says why */
	free(buf);
	return 0;
}
