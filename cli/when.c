/* cli/when.c — the time arguments of --since/--until: a duration ago
 * (30s, 10m, 2h, 30d), epoch milliseconds, or an ISO 8601 UTC time. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "common/clock.h"
#include "common/units.h"

int gb_cli_parse_when(const char *s, int64_t *out)
{
	uint64_t ms;
	if (gb_parse_duration_ms(s, &ms) == 0) {
		*out = gb_now_ms(CLOCK_REALTIME) - (int64_t)ms;
		return 0;
	}
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*s && !*end && v > 0) {
		*out = v;
		return 0;
	}
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end && (!strcmp(end, "Z") || !*end)) {
		*out = (int64_t)timegm(&tm) * 1000;
		return 0;
	}
	return -EINVAL;
}
