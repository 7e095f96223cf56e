/* common/log.h — the one way glassbox talks to an operator on stderr.
 *
 * A line is "glassbox[ COMPONENT]: [warning: ]TEXT\n", written with a single
 * write(2) so lines from several threads never interleave.  The level is
 * process-wide: errors always print, warnings and information unless
 * --quiet (GB_LOG_ERROR), debug only with -v (GB_LOG_DEBUG).  Records in the
 * ring and the journal are the audit trail; this is only for people.
 *
 * Thread safety: any thread may log; gb_log_set_level is meant for start-up.
 * Ownership: nothing is allocated; the component string is the caller's and
 * only read during the call.
 */
#ifndef GB_COMMON_LOG_H
#define GB_COMMON_LOG_H

enum gb_log_level {
	GB_LOG_ERROR = 0,
	GB_LOG_WARN = 1,
	GB_LOG_INFO = 2,
	GB_LOG_DEBUG = 3,
};

void gb_log_set_level(enum gb_log_level level);
enum gb_log_level gb_log_get_level(void);
/* Would a message of this level print? (Skip building costly text.) */
int gb_log_enabled(enum gb_log_level level);

/* component: NULL or "" for none ("glassbox: ..."), else e.g. "serve". */
void gb_log(enum gb_log_level level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define gb_log_error(comp, ...) gb_log(GB_LOG_ERROR, (comp), __VA_ARGS__)
#define gb_log_warn(comp, ...)  gb_log(GB_LOG_WARN, (comp), __VA_ARGS__)
#define gb_log_info(comp, ...)  gb_log(GB_LOG_INFO, (comp), __VA_ARGS__)
#define gb_log_debug(comp, ...) gb_log(GB_LOG_DEBUG, (comp), __VA_ARGS__)

#endif
