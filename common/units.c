/* common/units.c — sizes and durations (contract: units.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/units.h"

static int scaled(const char *s, uint64_t *out, const char *const *units, const uint64_t *mult,
                  size_t n)
{
	/* a digit first: strtoull would skip spaces and take a sign, and
	 * " -5" would become a huge number */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(end, units[i])) {
			if (mult[i] && v > UINT64_MAX / mult[i])
				return -EINVAL;
			*out = v * mult[i];
			return 0;
		}
	return -EINVAL;
}

int gb_parse_size(const char *s, uint64_t *out)
{
	static const char *const u[] = { "", "B", "KiB", "MiB", "GiB", "TiB", "KB", "MB", "GB", "TB" };
	static const uint64_t m[] = { 1, 1, 1ull << 10, 1ull << 20, 1ull << 30, 1ull << 40,
		                      1000, 1000000, 1000000000, 1000000000000ull };
	return scaled(s, out, u, m, GB_ARRAY_LEN(m));
}

int gb_parse_duration_ms(const char *s, uint64_t *out)
{
	static const char *const u[] = { "ms", "s", "m", "h", "d" };
	static const uint64_t m[] = { 1, 1000, 60000, 3600000, 86400000 };
	return scaled(s, out, u, m, GB_ARRAY_LEN(m));
}
