/* tests/unit/test_inference_pool.c — the inference route's pool of idle
 * provider connections (enforcer/proxy/inference_pool.c): a connection is
 * handed out only for the generation it was kept for; a route change closes
 * every entry and refuses older generations offered back later; a
 * connection the peer closed, or one with unread bytes (a desynchronised
 * provider), is closed instead of handed out; idle entries expire; the
 * pool is bounded.  Connections are socketpairs: the peer end shows whether
 * the pool closed its end (read() returns 0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "enforcer/proxy/inference_int.h"

/* A connection: *ours goes to the pool, the peer stays with the test. */
static void pair(int *ours, int *peer)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	*ours = sv[0];
	*peer = sv[1];
}

/* Did the pool close the other end of peer? */
static bool closed(int peer)
{
	struct pollfd pf = { .fd = peer, .events = POLLIN };
	if (poll(&pf, 1, 0) != 1)
		return false;
	char b;
	return read(peer, &b, 1) <= 0; /* EOF, or ECONNRESET: closed with unread bytes */
}

static void generations(void **state)
{
	(void)state;
	struct inf_pool *p;
	assert_int_equal(inf_pool_new(&p, 4, 60000), 0);
	inf_pool_reset(p, 7);
	int a, pa, fd;
	SSL *ssl;
	pair(&a, &pa);
	inf_pool_give(p, 7, a, NULL);
	assert_int_equal(inf_pool_take(p, 8, &fd, &ssl), 0); /* another route's */
	assert_int_equal(inf_pool_take(p, 0, &fd, &ssl), 0);
	assert_int_equal(inf_pool_take(p, 7, &fd, &ssl), 1);
	assert_int_equal(fd, a);
	assert_null(ssl);
	assert_int_equal(inf_pool_take(p, 7, &fd, &ssl), 0); /* handed out once */
	/* a route change: what was idle is closed, the old generation given back
	 * afterwards (a request that was in flight) is closed too */
	inf_pool_give(p, 7, a, NULL);
	int b, pb;
	pair(&b, &pb);
	inf_pool_reset(p, 8);
	assert_true(closed(pa));
	inf_pool_give(p, 7, b, NULL);
	assert_true(closed(pb));
	assert_int_equal(inf_pool_idle(p), 0);
	assert_int_equal(inf_pool_take(p, 7, &fd, &ssl), 0);
	close(pa);
	close(pb);
	inf_pool_free(p);
}

static void unusable_entries(void **state)
{
	(void)state;
	struct inf_pool *p;
	assert_int_equal(inf_pool_new(&p, 4, 60000), 0);
	inf_pool_reset(p, 1);
	int a, pa, b, pb, c, pc, fd;
	SSL *ssl;
	pair(&a, &pa);
	pair(&b, &pb);
	pair(&c, &pc);
	inf_pool_give(p, 1, a, NULL);
	inf_pool_give(p, 1, b, NULL);
	inf_pool_give(p, 1, c, NULL);
	/* c: the provider sent a response nobody asked for; b: it hung up */
	assert_int_equal(write(pc, "HTTP/1.1 200 OK\r\n", 17), 17);
	close(pb);
	assert_int_equal(inf_pool_take(p, 1, &fd, &ssl), 1);
	assert_int_equal(fd, a); /* c and b were closed on the way */
	assert_true(closed(pc));
	assert_int_equal(inf_pool_idle(p), 0);
	close(a);
	close(pa);
	close(pc);
	inf_pool_free(p);
}

static void idle_expiry_and_bound(void **state)
{
	(void)state;
	struct inf_pool *p;
	assert_int_equal(inf_pool_new(&p, 2, 30), 0);
	inf_pool_reset(p, 3);
	int a, pa, fd;
	SSL *ssl;
	pair(&a, &pa);
	inf_pool_give(p, 3, a, NULL);
	nanosleep(&(struct timespec){ 0, 80 * 1000000L }, NULL); /* well past 30 ms idle */
	assert_int_equal(inf_pool_take(p, 3, &fd, &ssl), 0);
	assert_true(closed(pa));
	close(pa);
	inf_pool_free(p);

	/* bounded: a third connection pushes the oldest out */
	assert_int_equal(inf_pool_new(&p, 2, 60000), 0);
	inf_pool_reset(p, 3);
	int e[3], pe[3];
	for (int i = 0; i < 3; i++) {
		pair(&e[i], &pe[i]);
		inf_pool_give(p, 3, e[i], NULL);
	}
	assert_int_equal(inf_pool_idle(p), 2);
	assert_true(closed(pe[0]));
	assert_false(closed(pe[1]));
	inf_pool_free(p); /* closes what it holds */
	assert_true(closed(pe[1]));
	assert_true(closed(pe[2]));
	for (int i = 0; i < 3; i++)
		close(pe[i]);
}

/* The table resets its pool on every change (gb_inference_set). */
static void table_change_drops(void **state)
{
	(void)state;
	struct gb_inference *inf;
	assert_int_equal(gb_inference_new(&inf), 0);
	struct gb_inf_route *r = calloc(1, sizeof *r);
	assert_non_null(r);
	snprintf(r->provider, sizeof r->provider, "p");
	assert_int_equal(gb_inference_set(inf, r, false), 1);
	const struct gb_inf_route *cur = gb_inference_get(inf);
	int a, pa;
	pair(&a, &pa);
	inf_pool_give(gb_inference_pool(inf), cur->generation, a, NULL);
	assert_int_equal(inf_pool_idle(gb_inference_pool(inf)), 1);
	struct gb_inf_route *r2 = calloc(1, sizeof *r2);
	assert_non_null(r2);
	*r2 = *r;
	r2->refs_ = 0;
	assert_int_equal(gb_inference_set(inf, r2, false), 1);
	assert_int_equal(inf_pool_idle(gb_inference_pool(inf)), 0);
	assert_true(closed(pa));
	gb_inference_put(inf, cur);
	close(pa);
	gb_inference_free(inf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generations),
		cmocka_unit_test(unusable_entries),
		cmocka_unit_test(idle_expiry_and_bound),
		cmocka_unit_test(table_change_drops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
