/* tests/unit/test_api_time.c — the API's time arguments (since/until):
 * RFC 3339 with and without fractions, Z or an offset, durations ago and
 * epoch milliseconds; and everything that must be refused rather than
 * guessed (no offset, bad fields, trailing junk). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <time.h>

#include "api/api_client.h"

static int64_t t(const char *s)
{
	int64_t ms = -1;
	assert_int_equal(gb_apic_parse_time(s, &ms), 0);
	return ms;
}

static void rfc3339(void **state)
{
	(void)state;
	/* 2026-11-24T10:00:00Z = 1795514400 s */
	assert_int_equal(t("2026-11-24T10:00:00Z"), 1795514400000);
	assert_int_equal(t("2026-11-24T10:00:00.5Z"), 1795514400500);
	assert_int_equal(t("2026-11-24T10:00:00.123456789Z"), 1795514400123);
	assert_int_equal(t("2026-11-24t10:00:00.12z"), 1795514400120);
	assert_int_equal(t("2026-11-24T12:00:00.250+02:00"), 1795514400250);
	assert_int_equal(t("2026-11-24T05:30:00-04:30"), 1795514400000);
	assert_int_equal(t("2026-11-24 10:00:00Z"), 1795514400000);
	assert_int_equal(t("1795514400000"), 1795514400000);
}

static void durations(void **state)
{
	(void)state;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	int64_t v = t("10m");
	assert_true(v <= now - 600000 + 1000 && v >= now - 600000 - 1000);
	v = t("1d");
	assert_true(v <= now - 86400000 + 1000 && v >= now - 86400000 - 1000);
}

static void refused(void **state)
{
	(void)state;
	const char *bad[] = { "", "yesterday", "2026-11-24T10:00:00", "2026-11-24T10:00:00.Z",
		              "2026-13-24T10:00:00Z", "2026-11-24T10:00:00Zjunk",
		              "2026-11-24T10:00:00+2:00", "2026-11-24T10:00:00+25:00", "-5", "0",
		              "10 parsecs", "2026-11-24", "2026-11-24T10:00:00+02:00x" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ms;
		if (gb_apic_parse_time(bad[i], &ms) == 0)
			fail_msg("'%s' was accepted as %lld", bad[i], (long long)ms);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc3339),
		cmocka_unit_test(durations),
		cmocka_unit_test(refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
