/* tests/unit/test_http1.c — enforcer/proxy/http1.h: heads, body framing,
 * pipelining, and every smuggling shape refused (RFC 9112 §6.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "enforcer/proxy/http1.h"

/* Feed s whole; collect the events in order ("H", "B", "E", "!") into ev
 * and return the parser (caller frees). */
static struct gb_http1 *run(const char *s, size_t len, char *ev, size_t evcap, size_t step)
{
	struct gb_http1 *p = gb_http1_new(NULL);
	assert_non_null(p);
	size_t off = 0, n = 0;
	ev[0] = 0;
	int guard = 0;
	while (off <= len && n + 2 < evcap && guard++ < 10000) {
		size_t chunk = len - off < step ? len - off : step;
		size_t used = 0;
		enum gb_http1_event e = gb_http1_feed(p, s + off, chunk, &used);
		off += used;
		if (e == GB_HTTP1_ERROR) {
			ev[n++] = '!';
			break;
		}
		if (e == GB_HTTP1_HEAD)
			ev[n++] = 'H';
		else if (e == GB_HTTP1_BODY)
			ev[n++] = 'B';
		else if (e == GB_HTTP1_END)
			ev[n++] = 'E';
		else if (off == len)
			break; /* MORE with nothing left */
		if (e == GB_HTTP1_BODY && off == len)
			break;
	}
	ev[n] = 0;
	return p;
}

static const char *events(const char *s, size_t step, int *status)
{
	static char ev[64];
	struct gb_http1 *p = run(s, strlen(s), ev, sizeof ev, step);
	if (status)
		*status = gb_http1_status(p);
	gb_http1_free(p);
	return ev;
}

static void test_simple_get(void **state)
{
	const char *s = "GET http://a.test/x?q=1 HTTP/1.1\r\nHost: a.test\r\nUser-Agent: t\r\n\r\n";
	struct gb_http1 *p = gb_http1_new(NULL);
	size_t used;
	assert_int_equal(gb_http1_feed(p, s, strlen(s), &used), GB_HTTP1_HEAD);
	assert_int_equal(used, strlen(s));
	const struct gb_http1_head *h = gb_http1_head(p);
	assert_non_null(h);
	assert_string_equal(h->method, "GET");
	assert_int_equal(h->target_len, strlen("http://a.test/x?q=1"));
	assert_memory_equal(h->target, "http://a.test/x?q=1", h->target_len);
	assert_int_equal(h->minor, 1);
	assert_int_equal(h->n_host, 1);
	assert_int_equal(h->host_len, 6);
	assert_memory_equal(h->host, "a.test", 6);
	assert_int_equal(h->n_fields, 2);
	assert_int_equal(h->body, GB_HTTP1_BODY_NONE);
	assert_true(h->keep_alive);
	assert_int_equal(h->head_len, strlen(s));
	const struct gb_http1_field *ua = gb_http1_field(h, "user-agent");
	assert_non_null(ua);
	assert_int_equal(ua->value_len, 1);
	assert_int_equal(gb_http1_feed(p, "", 0, &used), GB_HTTP1_END);
	assert_int_equal(used, 0);
	/* the head stays readable until the next request starts */
	assert_string_equal(gb_http1_head(p)->method, "GET");
	assert_int_equal(gb_http1_count(p), 1);
	gb_http1_free(p);
}

static void test_byte_by_byte_and_pipelined(void **state)
{
	const char *s = "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nhello"
	                "GET http://a.test/2 HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n"
	                "5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"
	                "DELETE http://a.test/admin HTTP/1.1\r\nHost: a.test\r\n\r\n";
	for (size_t step = 1; step <= 4096; step *= 8) {
		const char *ev = events(s, step, NULL);
		char he[64];
		size_t n = 0;
		for (; *ev; ev++)
			if (*ev != 'B')
				he[n++] = *ev;
		he[n] = 0;
		assert_string_equal(he, "HEHEHE");
	}
}

static void test_body_bytes_exact(void **state)
{
	/* what comes back as body is exactly the declared body: the pipelined
	 * request after it is a new head, never body */
	const char *s = "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n\r\nabc"
	                "DELETE http://a.test/admin HTTP/1.1\r\nHost: a.test\r\n\r\n";
	struct gb_http1 *p = gb_http1_new(NULL);
	size_t used, off = 0;
	assert_int_equal(gb_http1_feed(p, s, strlen(s), &used), GB_HTTP1_HEAD);
	off += used;
	assert_int_equal(gb_http1_body_left(p), 3);
	assert_int_equal(gb_http1_feed(p, s + off, strlen(s) - off, &used), GB_HTTP1_END);
	assert_int_equal(used, 3);
	assert_memory_equal(s + off, "abc", 3);
	off += used;
	assert_int_equal(gb_http1_feed(p, s + off, strlen(s) - off, &used), GB_HTTP1_HEAD);
	assert_string_equal(gb_http1_head(p)->method, "DELETE");
	gb_http1_free(p);
}

static void payload_cb(void *arg, const char *d, size_t n)
{
	strncat(arg, d, n);
}

static void test_chunked_payload(void **state)
{
	char got[64] = "";
	struct gb_http1_opts o = { .on_payload = payload_cb, .arg = got };
	struct gb_http1 *p = gb_http1_new(&o);
	const char *s = "POST http://a.test/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	                "3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n";
	size_t used, off = 0;
	assert_int_equal(gb_http1_feed(p, s, strlen(s), &used), GB_HTTP1_HEAD);
	off = used;
	assert_int_equal(gb_http1_head(p)->body, GB_HTTP1_BODY_CHUNKED);
	assert_int_equal(gb_http1_feed(p, s + off, strlen(s) - off, &used), GB_HTTP1_END);
	assert_int_equal(off + used, strlen(s));
	assert_string_equal(got, "abc0123456789");
	gb_http1_free(p);
}

static void test_connect(void **state)
{
	const char *s = "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n\x16\x03\x01";
	struct gb_http1 *p = gb_http1_new(NULL);
	size_t used;
	assert_int_equal(gb_http1_feed(p, s, strlen(s), &used), GB_HTTP1_HEAD);
	assert_int_equal(used, strlen(s) - 3); /* the TLS bytes are not HTTP */
	assert_true(gb_http1_head(p)->upgrade);
	assert_int_equal(gb_http1_head(p)->body, GB_HTTP1_BODY_NONE);
	gb_http1_free(p);
}

struct bad {
	const char *name, *req;
	int status;
};

static void test_refusals(void **state)
{
	static const struct bad bad[] = {
		{ "TE+CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
		{ "CL+TE", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", 400 },
		{ "dup CL same", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", 400 },
		{ "dup CL differ", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400 },
		{ "CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\na", 400 },
		{ "CL sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\na", 400 },
		{ "TE gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400 },
		{ "TE twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
		{ "TE 1.0", "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
		{ "obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400 },
		{ "space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400 },
		{ "bare CR", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400 },
		{ "bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400 },
		{ "NUL", "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 400 },
		{ "two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "leading CRLF", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 400 },
		{ "unknown method", "FROB / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "chunk 0x", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400 },
		{ "chunk negative", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400 },
		{ "chunk huge", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff1\r\n", 400 },
		{ "chunk bad end", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n", 400 },
		{ "chunk bare CR", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\rXhello\r\n0\r\n\r\n", 400 },
		{ "chunk space", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 ;x\r\nhello\r\n0\r\n\r\n", 400 },
		{ "chunk empty size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n", 400 },
		{ "trailer fold", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n X: 1\r\n\r\n", 400 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		for (size_t step = 1; step <= 4096; step *= 4096) {
			int status = 0;
			struct gb_http1 *p;
			char ev[64];
			size_t len = strlen(bad[i].req);
			if (!strcmp(bad[i].name, "NUL"))
				len = sizeof "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n" - 1;
			p = run(bad[i].req, len, ev, sizeof ev, step);
			status = gb_http1_status(p);
			if (!strchr(ev, '!') || status != bad[i].status)
				fail_msg("%s (step %zu): events %s status %d (%s)", bad[i].name, step, ev, status,
				         gb_http1_error(p));
			assert_true(gb_http1_error(p)[0] != 0);
			/* sticky */
			size_t used;
			assert_int_equal(gb_http1_feed(p, "GET", 3, &used), GB_HTTP1_ERROR);
			gb_http1_free(p);
		}
	}
}

static void test_limits(void **state)
{
	struct gb_http1_opts o = { .max_head = 256, .max_fields = 4 };
	struct gb_http1 *p = gb_http1_new(&o);
	char big[512];
	memset(big, 'a', sizeof big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	size_t used;
	assert_int_equal(gb_http1_feed(p, big, sizeof big, &used), GB_HTTP1_ERROR);
	assert_int_equal(gb_http1_status(p), 431);
	gb_http1_reset(p);
	const char *many = "GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n";
	assert_int_equal(gb_http1_feed(p, many, strlen(many), &used), GB_HTTP1_ERROR);
	assert_int_equal(gb_http1_status(p), 431);
	gb_http1_reset(p);
	const char *ok = "GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n";
	assert_int_equal(gb_http1_feed(p, ok, strlen(ok), &used), GB_HTTP1_HEAD);
	gb_http1_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_get),
		cmocka_unit_test(test_byte_by_byte_and_pipelined),
		cmocka_unit_test(test_body_bytes_exact),
		cmocka_unit_test(test_chunked_payload),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
