/* common/log.c — see log.h. */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static _Atomic int level = GB_LOG_INFO;

void gb_log_set_level(enum gb_log_level l)
{
	atomic_store_explicit(&level, (int)l, memory_order_relaxed);
}

enum gb_log_level gb_log_get_level(void)
{
	return (enum gb_log_level)atomic_load_explicit(&level, memory_order_relaxed);
}

int gb_log_enabled(enum gb_log_level l)
{
	return (int)l <= atomic_load_explicit(&level, memory_order_relaxed);
}

void gb_log(enum gb_log_level l, const char *component, const char *fmt, ...)
{
	if (!gb_log_enabled(l))
		return;
	int saved = errno; /* a log call never changes what the caller reports next */
	char line[2048];
	int n = snprintf(line, sizeof line, "glassbox%s%s: %s", component && *component ? " " : "",
	                 component ? component : "", l == GB_LOG_WARN ? "warning: " : "");
	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof line) {
		va_list ap;
		va_start(ap, fmt);
		int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
		va_end(ap);
		if (m > 0)
			n += m;
	}
	/* A long line is cut, never dropped: keep room for "...\n". */
	if ((size_t)n >= sizeof line - 1) {
		n = (int)sizeof line - 5;
		memcpy(line + n, "...", 3);
		n += 3;
	}
	line[n++] = '\n';
	for (size_t off = 0; off < (size_t)n;) {
		ssize_t w = write(STDERR_FILENO, line + off, (size_t)n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	errno = saved;
}
