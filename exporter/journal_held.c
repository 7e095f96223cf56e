/* exporter/journal_held.c — the leading ring records the journal already
 * holds (contract: journal_held.h). */
#include "exporter/journal_held.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/journal.h"

/* Index of seq in recs (ascending), or -1. */
static long find_seq(const struct gb_held_rec *recs, size_t n, uint64_t seq)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (recs[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && recs[lo].seq == seq ? (long)lo : -1;
}

/* The line's sequence when its metadata.uid is "sid:SEQ", with its time. */
static bool line_of(const char *line, size_t len, const char *sid, uint64_t *seq, int64_t *time_ms)
{
	json_t *o = json_loadb(line, len, 0, NULL);
	if (!o)
		return false;
	bool ok = false;
	const char *uid = json_string_value(json_object_get(json_object_get(o, "metadata"), "uid"));
	json_t *t = json_object_get(o, "time");
	size_t sl = strlen(sid);
	if (uid && json_is_integer(t) && !strncmp(uid, sid, sl) && uid[sl] == ':' && uid[sl + 1]) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(uid + sl + 1, &end, 10);
		if (!*end && !errno) {
			*seq = v;
			*time_ms = (int64_t)json_integer_value(t);
			ok = true;
		}
	}
	json_decref(o);
	return ok;
}

int gb_journal_held(const char *dir, const char *name, const char *sid,
                    const struct gb_held_rec *recs, size_t n, uint8_t *held)
{
	memset(held, 0, n);
	if (!n)
		return 0;
	int64_t since = recs[0].time_ms;
	for (size_t i = 1; i < n; i++)
		if (recs[i].time_ms < since)
			since = recs[i].time_ms;
	/* since 0 would mean "unbounded": the same lines, read from the start */
	struct gb_jfilter f = { .since_ms = since > 0 ? since : 0, .sandbox = name };
	struct gb_jreader *r;
	int rc = gb_jreader_open(dir, &f, NULL, &r);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc; /* no journal yet: nothing is held */
	/* the uid's text, looked for before parsing a line */
	char needle[80];
	size_t nl = (size_t)snprintf(needle, sizeof needle, "\"uid\":\"%s:", sid);
	if (nl >= sizeof needle)
		nl = 0;
	const char *line;
	size_t len;
	while ((rc = gb_jreader_next(r, &line, &len, NULL)) > 0) {
		if (rc != 1 || (nl && !memmem(line, len, needle, nl)))
			continue; /* damage (counted by the readers that report it) */
		uint64_t seq;
		int64_t t;
		if (!line_of(line, len, sid, &seq, &t))
			continue;
		long i = find_seq(recs, n, seq);
		if (i >= 0 && recs[i].time_ms == t)
			held[i] = 1;
	}
	gb_jreader_close(r);
	if (rc < 0) {
		memset(held, 0, n);
		return rc;
	}
	int k = 0;
	for (size_t i = 0; i < n; i++)
		k += held[i];
	return k;
}
