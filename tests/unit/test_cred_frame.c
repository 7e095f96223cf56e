/* tests/unit/test_cred_frame.c — the tunnel's response mask across the
 * server's chunk framing (enforcer/proxy/cred.h, cred_frame.c), driven the
 * way l7_http.c drives it: l7_resp.c's parser names the payload, the mask
 * reads it.  Attacks: a copy of the secret cut by a chunk boundary at every
 * position, in chunks of 1, 2 and 3 bytes (with chunk extensions), fed at
 * once and byte by byte; the output must be the server's bytes with only
 * the copy's bytes turned to '*' (same framing, same length).  A response
 * without a copy passes byte-identical; a secret's beginning framed in more
 * than the hold bound cuts the response. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "enforcer/proxy/cred_int.h"
#include "enforcer/proxy/l7.h"

#define SECRET "sk-test-0123456789abcdef+/="
#define HEAD "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n" \
	"Transfer-Encoding: chunked\r\n\r\n"

/* body framed in chunks: cut[] are the chunk ends (the last = len). */
static void frame(struct gb_buf *o, const char *body, const size_t *cut, size_t ncut, bool ext)
{
	gb_buf_puts(o, HEAD);
	size_t at = 0;
	for (size_t i = 0; i < ncut; i++) {
		gb_buf_printf(o, "%zx%s\r\n", cut[i] - at, ext && i % 2 ? ";x=sk-t" : "");
		gb_buf_append(o, body + at, cut[i] - at);
		gb_buf_puts(o, "\r\n");
		at = cut[i];
	}
	gb_buf_puts(o, "0\r\nTrailer-X: ok\r\n\r\n");
}

static void on_pay(void *arg, size_t off, size_t n)
{
	gb_cred_frame_payload(arg, off, n);
}

/* raw through parser and mask in pieces of step bytes (0 = at once). */
static int relay(const struct gb_buf *raw, size_t step, struct gb_buf *out)
{
	struct gb_cred_mask m;
	gb_cred_mask_init(&m);
	gb_cred_mask_add(&m, SECRET, strlen(SECRET));
	struct gb_cred_frame f;
	gb_cred_frame_init(&f, &m);
	struct l7_resp rs;
	l7_resp_init(&rs, false);
	rs.on_payload = on_pay;
	rs.arg = &f;
	size_t at = 0;
	int rc = 0;
	while (at < raw->len && !rs.done) {
		size_t n = step && raw->len - at > step ? step : raw->len - at, used = 0;
		if ((rc = l7_resp_feed(&rs, raw->data + at, n, &used)) < 0)
			break;
		if ((rc = gb_cred_frame_feed(&f, raw->data + at, used, out)) < 0)
			break;
		at += used;
	}
	if (rc == 0)
		rc = rs.done ? gb_cred_frame_flush(&f, out) : -EPIPE;
	gb_cred_frame_drop(&f);
	return rc;
}

static void check(const char *body, const char *want_body, const size_t *cut, size_t ncut, bool ext)
{
	struct gb_buf raw = GB_BUF_INIT, want = GB_BUF_INIT;
	frame(&raw, body, cut, ncut, ext);
	frame(&want, want_body, cut, ncut, ext);
	static const size_t steps[] = { 0, 1, 2, 7 };
	for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
		struct gb_buf out = GB_BUF_INIT;
		assert_int_equal(relay(&raw, steps[s], &out), 0);
		assert_int_equal(out.len, want.len);
		assert_memory_equal(out.data, want.data, want.len);
		assert_null(memmem(out.data, out.len, SECRET, strlen(SECRET)));
		gb_buf_free(&out);
	}
	gb_buf_free(&raw);
	gb_buf_free(&want);
}

/* The copy cut by one chunk boundary at every position inside it. */
static void split_every_position(void **state)
{
	(void)state;
	char body[128], masked[128], stars[64];
	size_t sl = strlen(SECRET);
	memset(stars, '*', sl);
	stars[sl] = '\0';
	snprintf(body, sizeof body, "{\"echo\": \"%s\"}", SECRET);
	snprintf(masked, sizeof masked, "{\"echo\": \"%s\"}", stars);
	size_t bl = strlen(body), k0 = 10;
	for (size_t p = 1; p < sl; p++) {
		size_t cut[2] = { k0 + p, bl };
		check(body, masked, cut, 2, false);
		check(body, masked, cut, 2, true);
	}
}

/* The whole body in chunks of 1, 2, 3 bytes, the copy at every offset. */
static void small_chunks(void **state)
{
	(void)state;
	size_t sl = strlen(SECRET);
	for (size_t cs = 1; cs <= 3; cs++)
		for (size_t lead = 0; lead < 4; lead++) {
			char body[128], masked[128];
			snprintf(body, sizeof body, "%.*s%s tail", (int)lead, "abc ", SECRET);
			snprintf(masked, sizeof masked, "%.*s%.*s tail", (int)lead, "abc ", (int)sl,
			         "****************************************");
			size_t bl = strlen(body), cut[128], n = 0;
			for (size_t at = cs; at < bl + cs; at += cs)
				cut[n++] = at < bl ? at : bl;
			check(body, masked, cut, n, cs == 2);
		}
}

/* No copy: byte-identical, also with a secret's beginning at a chunk end
 * that turns out to be something else. */
static void no_secret_identical(void **state)
{
	(void)state;
	const char *body = "data: {\"x\":\"sk-test-0123456789abcdef+/\"}\n\nsk-test-01 then not";
	size_t bl = strlen(body);
	for (size_t p = 1; p < bl; p++) {
		size_t cut[2] = { p, bl };
		check(body, body, cut, 2, true);
	}
	size_t cut1[64], n = 0;
	for (size_t at = 1; at <= bl; at++)
		cut1[n++] = at;
	check(body, body, cut1, n, false);
}

/* A response that ends inside a copy: its held beginning is masked. */
static void end_inside_copy(void **state)
{
	(void)state;
	const char *body = "quoted: sk-test-0123";
	size_t cut[3] = { 9, 14, strlen(body) };
	check(body, "quoted: ************", cut, 3, false);
}

/* A secret's beginning framed in more than the hold bound: cut. */
static void hold_bound(void **state)
{
	(void)state;
	struct gb_cred_mask m;
	gb_cred_mask_init(&m);
	gb_cred_mask_add(&m, SECRET, strlen(SECRET));
	struct gb_cred_frame f;
	gb_cred_frame_init(&f, &m);
	struct gb_buf out = GB_BUF_INIT;
	gb_cred_frame_payload(&f, 0, 4);
	assert_int_equal(gb_cred_frame_feed(&f, "sk-t", 4, &out), 0);
	assert_int_equal(out.len, 0); /* held: it could begin the secret */
	char *filler = malloc(64 << 10);
	assert_non_null(filler);
	memset(filler, ';', 64 << 10);
	int rc = 0;
	for (int i = 0; i < 8 && rc == 0; i++)
		rc = gb_cred_frame_feed(&f, filler, 64 << 10, &out);
	assert_int_equal(rc, -E2BIG);
	assert_int_equal(out.len, 0); /* nothing of it went out */
	gb_cred_frame_drop(&f);
	free(filler);
	gb_buf_free(&out);
}

/* refuse_encoded (l7_resp.c): a compressed response from a bound host is an
 * error whatever the spelling or the read boundaries; identity and other
 * headers pass; the flag off, nothing is judged. */
static int feed_head(const char *head, size_t step, bool refuse)
{
	struct l7_resp rs;
	l7_resp_init(&rs, false);
	rs.refuse_encoded = refuse;
	size_t n = strlen(head), at = 0, used;
	while (at < n && !rs.done) {
		size_t k = step && step < n - at ? step : n - at;
		if (l7_resp_feed(&rs, head + at, k, &used) < 0)
			return -1;
		at += used ? used : k;
	}
	return rs.done ? 0 : 1;
}

static void encoded_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\ncontent-encoding:br\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Encoding:\r\nCONTENT-ENCODING: deflate\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Encoding: identity, gzip\r\nContent-Length: 0\r\n\r\n",
		("HTTP/1.1 200 OK\r\nContent-Encoding: identity                                        x\r\n"
		 "Content-Length: 0\r\n\r\n"),
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n",
	};
	static const char *const good[] = {
		"HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\ncontent-encoding:   IDENTITY  \r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Encoding:\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-Content-Encoding: gzip\r\nContent-Encodings: gzip\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Type: gzip\r\nContent-Length: 0\r\n\r\n",
	};
	for (size_t step = 0; step <= 3; step++) {
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			assert_int_equal(feed_head(bad[i], step, true), -1);
			assert_int_equal(feed_head(bad[i], step, false), 0); /* off: not judged */
		}
		for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
			assert_int_equal(feed_head(good[i], step, true), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_every_position),
		cmocka_unit_test(small_chunks),
		cmocka_unit_test(no_secret_identical),
		cmocka_unit_test(end_inside_copy),
		cmocka_unit_test(hold_bound),
		cmocka_unit_test(encoded_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
