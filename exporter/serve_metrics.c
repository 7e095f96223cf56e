/* exporter/serve_metrics.c — the daemon's counters as one JSON document,
 * written atomically (contract: serve.h), so an operator or a monitoring
 * agent can read them while `glassbox serve` runs. */
#include "exporter/serve.h"

#include <time.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/jsonw.h"
#include "exporter/config.h"

int gb_serve_metrics_json(struct gb_serve *s, struct gb_buf *out)
{
	struct gb_serve_stats st;
	gb_serve_stats(s, &st);
	struct gb_sink_metrics m[GB_MAX_SINKS];
	size_t n = gb_serve_sink_metrics(s, m, GB_MAX_SINKS);
	struct gb_jsonw w;
	gb_jw_init(&w, out);
	gb_jw_obj_begin(&w);
	gb_jw_kint(&w, "time_ms", gb_now_ms(CLOCK_REALTIME));
	gb_jw_kuint(&w, "rings", st.rings);
	gb_jw_kuint(&w, "rings_active", st.active);
	gb_jw_kuint(&w, "events", st.events);
	gb_jw_kuint(&w, "lost", st.lost);
	gb_jw_kuint(&w, "errors", st.errors);
	gb_jw_kuint(&w, "duplicates_skipped", st.duplicates);
	gb_jw_kuint(&w, "journal_errors", st.journal_errors);
	gb_jw_kuint(&w, "journal_failing", (uint64_t)st.journal_failing);
	gb_jw_kstr(&w, "journal_error", st.journal_error);
	gb_jw_key(&w, "sinks");
	gb_jw_arr_begin(&w);
	for (size_t i = 0; i < n; i++) {
		gb_jw_obj_begin(&w);
		gb_jw_kstr(&w, "name", m[i].name);
		gb_jw_kuint(&w, "sent", m[i].sent);
		gb_jw_kuint(&w, "failed", m[i].failed);
		gb_jw_kuint(&w, "damaged", m[i].damaged);
		gb_jw_kuint(&w, "retried", m[i].retried);
		gb_jw_kuint(&w, "lag_segments", m[i].lag_segments);
		gb_jw_kuint(&w, "lag_bytes", m[i].lag_bytes);
		gb_jw_obj_end(&w);
	}
	gb_jw_arr_end(&w);
	gb_jw_obj_end(&w);
	gb_buf_putc(out, '\n');
	return out->err;
}

int gb_serve_metrics_write(struct gb_serve *s, const char *path)
{
	struct gb_buf b = GB_BUF_INIT;
	int rc = gb_serve_metrics_json(s, &b);
	/* no fsync: a view of counters, rewritten every few seconds; readers
	 * still see the old file or the new one, never half of one */
	if (rc == 0)
		rc = gb_write_file_atomic(path, b.data, b.len, 0644, GB_ATOMIC_NO_FSYNC);
	gb_buf_free(&b);
	return rc;
}
