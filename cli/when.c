/* cli/when.c — the time arguments of --since/--until (logs, journal verify,
 * evidence export, report): a duration ago (30s, 10m, 2h, 30d), epoch
 * milliseconds, or an RFC 3339 time with optional fraction and offset. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "common/clock.h"
#include "common/units.h"

/* RFC 3339 date-time: 2026-11-24T10:00:00[.fraction](Z|+hh:mm|-hh:mm); 't',
 * 'z' and a space for the 'T' are allowed (RFC 3339 5.6), and so is no zone
 * at all (read as UTC, as before).  Milliseconds are kept, finer digits
 * dropped. */
static int parse_rfc3339(const char *s, int64_t *out)
{
	char buf[64];
	if (strlen(s) >= sizeof buf)
		return -EINVAL;
	snprintf(buf, sizeof buf, "%s", s);
	if (strlen(buf) > 10 && (buf[10] == 't' || buf[10] == ' '))
		buf[10] = 'T';
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || strlen(buf) < 19 || end != buf + 19)
		return -EINVAL; /* strptime takes 1-digit fields: insist on the full form */
	int64_t ms = 0;
	if (*end == '.') {
		int digits = 0;
		for (end++; *end >= '0' && *end <= '9'; end++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*end - '0');
		if (!digits)
			return -EINVAL;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	int64_t off_s = 0;
	if (*end == 'Z' || *end == 'z')
		end++;
	else if (*end == '+' || *end == '-') {
		int sign = *end == '-' ? -1 : 1;
		if (!(end[1] >= '0' && end[1] <= '9' && end[2] >= '0' && end[2] <= '9' && end[3] == ':' &&
		      end[4] >= '0' && end[4] <= '9' && end[5] >= '0' && end[5] <= '9'))
			return -EINVAL;
		int hh = (end[1] - '0') * 10 + (end[2] - '0'), mm = (end[4] - '0') * 10 + (end[5] - '0');
		if (hh > 23 || mm > 59)
			return -EINVAL;
		off_s = sign * (hh * 3600 + mm * 60);
		end += 6;
	}
	if (*end)
		return -EINVAL;
	*out = ((int64_t)timegm(&tm) - off_s) * 1000 + ms;
	return 0;
}

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
	return parse_rfc3339(s, out);
}
