/* common/clock.h — timespec to nanoseconds or milliseconds, and "now" on a
 * given clock, in one place (they were written out a dozen times).
 *
 * Which clock is the caller's decision and says what the number means:
 * CLOCK_REALTIME for timestamps that leave the process (records, events,
 * metrics), CLOCK_MONOTONIC for durations and deadlines.  The u64
 * nanosecond form covers CLOCK_REALTIME until the year 2554.
 *
 * Ownership: header-only, nothing allocated.
 */
#ifndef GB_COMMON_CLOCK_H
#define GB_COMMON_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t gb_ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

static inline int64_t gb_ts_ms(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

static inline uint64_t gb_now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return gb_ts_ns(&ts);
}

static inline int64_t gb_now_ms(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return gb_ts_ms(&ts);
}

/* Milliseconds from a to b (negative when b is earlier). */
static inline int64_t gb_ts_diff_ms(const struct timespec *a, const struct timespec *b)
{
	return (int64_t)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* A relative timespec of ms milliseconds (nanosleep, futex, ppoll). */
static inline struct timespec gb_ms_ts(int64_t ms)
{
	return (struct timespec){ .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
}

/* A condition variable whose timed waits run on CLOCK_MONOTONIC, so a
 * wall-clock jump neither stretches nor cuts them; wait with a deadline
 * from gb_deadline_ms.  0 or a positive pthread error. */
static inline int gb_cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	int rc = pthread_condattr_init(&ca);
	if (rc)
		return rc;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
	return rc;
}

/* The CLOCK_MONOTONIC deadline ms milliseconds from now (for a
 * gb_cond_init_monotonic condition variable's pthread_cond_timedwait). */
static inline struct timespec gb_deadline_ms(int64_t ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += (time_t)(ms / 1000);
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

#endif
