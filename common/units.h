/* common/units.h — sizes and durations as people write them in config
 * files and on the command line: "64MiB", "10GB", "100ms", "30d".
 *
 * Sizes: a decimal number with B, KiB, MiB, GiB, TiB (powers of 1024) or KB,
 * MB, GB, TB (powers of 1000), or no unit (bytes).  Durations: a decimal
 * number with ms, s, m, h or d.  Spaces may separate number and unit.
 * Overflow, a sign, leading spaces, a fraction or an unknown unit is an
 * error.
 *
 * Ownership: borrows the string for the call; thread-safe.
 */
#ifndef GB_COMMON_UNITS_H
#define GB_COMMON_UNITS_H

#include <stdint.h>

/* Returns 0 with *out set, or -EINVAL (*out untouched). */
int gb_parse_size(const char *s, uint64_t *out);
int gb_parse_duration_ms(const char *s, uint64_t *out);

#endif
