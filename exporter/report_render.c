/* exporter/report_render.c — the report model as JSON, Markdown or one
 * self-contained HTML page (contract: report.h).
 *
 * HTML: every string escaped; charts are inline SVG drawn here (decisions
 * over time by verdict, top denied destinations); no script, font, image
 * or stylesheet from anywhere else, so it renders offline and prints to
 * PDF the same way (@media print: no backgrounds, tables not split). */
#include "exporter/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *S(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static long long N(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void when(long long ms, char out[32])
{
	if (!ms) {
		snprintf(out, 32, "-");
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* Escaped for HTML text and attribute values, or for a Markdown table cell. */
static void esc(struct gb_buf *b, const char *s, bool html)
{
	for (; *s; s++) {
		if (html && *s == '<')
			gb_buf_puts(b, "&lt;");
		else if (html && *s == '>')
			gb_buf_puts(b, "&gt;");
		else if (html && *s == '&')
			gb_buf_puts(b, "&amp;");
		else if (html && *s == '"')
			gb_buf_puts(b, "&quot;");
		else if (!html && (*s == '|' || *s == '\\' || *s == '`' || *s == '*' || *s == '_' || *s == '<')) {
			gb_buf_putc(b, '\\');
			gb_buf_putc(b, *s);
		} else if ((unsigned char)*s < 0x20)
			gb_buf_putc(b, ' ');
		else
			gb_buf_putc(b, *s);
	}
}

struct out {
	struct gb_buf *b;
	bool html;
};

static void h2(struct out *o, const char *id, const char *title)
{
	if (o->html)
		gb_buf_printf(o->b, "<section id=\"%s\"><h2>%s</h2>\n", id, title);
	else
		gb_buf_printf(o->b, "\n## %s\n\n", title);
}

static void end_section(struct out *o)
{
	if (o->html)
		gb_buf_puts(o->b, "</section>\n");
}

static void para(struct out *o, const char *text)
{
	if (o->html) {
		gb_buf_puts(o->b, "<p>");
		esc(o->b, text, true);
		gb_buf_puts(o->b, "</p>\n");
	} else {
		esc(o->b, text, false);
		gb_buf_puts(o->b, "\n\n");
	}
}

static void thead(struct out *o, const char *const *cols, size_t n)
{
	if (o->html) {
		gb_buf_puts(o->b, "<table><thead><tr>");
		for (size_t i = 0; i < n; i++)
			gb_buf_printf(o->b, "<th>%s</th>", cols[i]);
		gb_buf_puts(o->b, "</tr></thead><tbody>\n");
	} else {
		for (size_t i = 0; i < n; i++)
			gb_buf_printf(o->b, "| %s ", cols[i]);
		gb_buf_puts(o->b, "|\n");
		for (size_t i = 0; i < n; i++)
			gb_buf_puts(o->b, "|---");
		gb_buf_puts(o->b, "|\n");
	}
}

static void row(struct out *o, const char *const *cells, size_t n)
{
	gb_buf_puts(o->b, o->html ? "<tr>" : "");
	for (size_t i = 0; i < n; i++) {
		gb_buf_puts(o->b, o->html ? "<td>" : "| ");
		esc(o->b, cells[i], o->html);
		gb_buf_puts(o->b, o->html ? "</td>" : " ");
	}
	gb_buf_puts(o->b, o->html ? "</tr>\n" : "|\n");
}

static void tend(struct out *o)
{
	gb_buf_puts(o->b, o->html ? "</tbody></table>\n" : "\n");
}

#define ROW(o, ...)                                                   \
	do {                                                          \
		const char *c_[] = { __VA_ARGS__ };                   \
		row((o), c_, sizeof c_ / sizeof c_[0]);               \
	} while (0)
#define THEAD(o, ...)                                                 \
	do {                                                          \
		const char *c_[] = { __VA_ARGS__ };                   \
		thead((o), c_, sizeof c_ / sizeof c_[0]);             \
	} while (0)

static void chart_timeline(struct out *o, json_t *tl)
{
	json_t *al = json_object_get(tl, "allowed"), *de = json_object_get(tl, "denied");
	size_t n = json_array_size(al);
	long long max = 1;
	for (size_t i = 0; i < n; i++) {
		long long t = json_integer_value(json_array_get(al, i)) + json_integer_value(json_array_get(de, i));
		if (t > max)
			max = t;
	}
	const int W = 720, H = 180, L = 40, B = 20;
	double bw = (double)(W - L) / (double)(n ? n : 1);
	gb_buf_printf(o->b, "<figure><svg role=\"img\" aria-label=\"decisions over time by verdict\" "
	                    "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">\n",
	              W, H + B, W, H + B);
	gb_buf_printf(o->b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/>\n", L, H, W, H);
	gb_buf_printf(o->b, "<text x=\"0\" y=\"12\" font-size=\"11\">%lld</text><text x=\"0\" y=\"%d\" "
	                    "font-size=\"11\">0</text>\n", max, H);
	for (size_t i = 0; i < n; i++) {
		long long a = json_integer_value(json_array_get(al, i)), d = json_integer_value(json_array_get(de, i));
		double ha = (double)a * (H - 10) / (double)max, hd = (double)d * (H - 10) / (double)max;
		double x = L + (double)i * bw + 1;
		if (a)
			gb_buf_printf(o->b, "<rect class=\"allow\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%lld allowed</title></rect>\n",
			              x, H - ha, bw - 2, ha, a);
		if (d)
			gb_buf_printf(o->b, "<rect class=\"deny\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%lld denied</title></rect>\n",
			              x, H - ha - hd, bw - 2, hd, d);
	}
	char a[32], b[32];
	when(N(tl, "start_ms"), a);
	when(N(tl, "start_ms") + N(tl, "bucket_ms") * (long long)n, b);
	gb_buf_printf(o->b, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>"
	                    "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%s</text>\n",
	              L, H + 15, a, W, H + 15, b);
	gb_buf_puts(o->b, "</svg><figcaption>Decisions over time: <span class=\"k allow\">allowed</span> "
	                  "<span class=\"k deny\">denied</span></figcaption></figure>\n");
}

static void chart_top(struct out *o, json_t *top)
{
	size_t n = json_array_size(top);
	if (!n)
		return;
	long long max = N(json_array_get(top, 0), "count");
	const int W = 720, RH = 22, L = 260;
	gb_buf_printf(o->b, "<figure><svg role=\"img\" aria-label=\"top denied destinations\" viewBox=\"0 0 %d %zu\" "
	                    "width=\"%d\" height=\"%zu\" xmlns=\"http://www.w3.org/2000/svg\">\n",
	              W, n * RH + 4, W, n * RH + 4);
	for (size_t i = 0; i < n; i++) {
		json_t *t = json_array_get(top, i);
		double w = (double)N(t, "count") * (W - L - 60) / (double)(max ? max : 1);
		gb_buf_printf(o->b, "<text x=\"0\" y=\"%zu\" font-size=\"12\">", i * RH + 15);
		esc(o->b, S(t, "destination"), true);
		gb_buf_printf(o->b, "</text><rect class=\"deny\" x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"16\"/>"
		                    "<text x=\"%.1f\" y=\"%zu\" font-size=\"12\">%lld</text>\n",
		              L, i * RH + 3, w, L + w + 6, i * RH + 15, N(t, "count"));
	}
	gb_buf_puts(o->b, "</svg><figcaption>Top denied destinations</figcaption></figure>\n");
}

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#111}"
	"h1{font-size:1.6em}h2{border-bottom:1px solid #999;margin-top:1.6em}"
	"table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #bbb;padding:2px 6px;"
	"text-align:left;vertical-align:top;word-break:break-word}th{background:#eee}"
	".allow{fill:#2a7d2a;background:#2a7d2a}.deny{fill:#b22;background:#b22}"
	".k{color:#fff;padding:0 4px}.ok{color:#2a7d2a}.bad{color:#b22;font-weight:bold}"
	"figure{margin:1em 0}svg{max-width:100%;height:auto}"
	"@media print{body{margin:0;max-width:none}section,table,figure{page-break-inside:avoid}"
	"th{background:none}a{color:inherit;text-decoration:none}}";

int gb_report_render(json_t *m, enum gb_report_format f, struct gb_buf *b)
{
	if (f == GB_REPORT_JSON) {
		char *t = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (!t)
			return -ENOMEM;
		gb_buf_puts(b, t);
		gb_buf_putc(b, '\n');
		free(t);
		return b->err;
	}
	struct out o = { b, f == GB_REPORT_HTML };
	char a[32], z[32], tmp[512], n1[32], n2[32];
	when(N(m, "since_ms"), a);
	when(N(m, "until_ms"), z);
	const char *filter = json_string_value(json_object_get(m, "sandbox_filter"));
	snprintf(tmp, sizeof tmp, "Host %s, %s to %s%s%s.", S(m, "host"), a, z, filter ? ", sandbox " : "",
	         filter ? filter : "");
	if (o.html) {
		gb_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		               "<title>glassbox audit report</title><style>");
		gb_buf_puts(b, css);
		gb_buf_puts(b, "</style></head><body>\n<h1>glassbox audit report</h1>\n");
	} else
		gb_buf_puts(b, "# glassbox audit report\n\n");
	para(&o, tmp);

	json_t *in = json_object_get(m, "integrity");
	h2(&o, "integrity", "Journal integrity");
	snprintf(tmp, sizeof tmp, "Result: %s.", S(in, "result"));
	if (o.html)
		gb_buf_printf(b, "<p class=\"%s\">", strstr(S(in, "result"), "PROBLEMS") ? "bad" : "ok");
	if (o.html) {
		esc(b, tmp, true);
		gb_buf_puts(b, "</p>\n");
	} else
		para(&o, tmp);
	THEAD(&o, "check", "value");
	snprintf(n1, sizeof n1, "%lld", N(in, "sealed_segments"));
	ROW(&o, "sealed segments checked (hash chain)", n1);
	snprintf(n1, sizeof n1, "%lld", N(in, "chain_problems"));
	ROW(&o, "chain problems", n1);
	ROW(&o, "checkpoint key", json_is_string(json_object_get(in, "key_id")) ? S(in, "key_id") : "none");
	snprintf(n1, sizeof n1, "%lld", N(in, "checkpoints_valid"));
	ROW(&o, "valid signed checkpoints", n1);
	snprintf(n1, sizeof n1, "%lld", N(in, "proven_events"));
	ROW(&o, "events proven by a checkpoint", n1);
	snprintf(n1, sizeof n1, "%lld", N(in, "unproven_events"));
	ROW(&o, "events after the last checkpoint (unproven)", n1);
	snprintf(n1, sizeof n1, "%lld", N(in, "broken_segments"));
	ROW(&o, "segments contradicting a checkpoint", n1);
	tend(&o);
	end_section(&o);

	json_t *tot = json_object_get(m, "totals");
	h2(&o, "sandboxes", "Sandboxes and enforcement posture");
	size_t i;
	json_t *s;
	if (!json_array_size(json_object_get(m, "sandboxes")))
		para(&o, "No sandbox ran in this period.");
	else {
		THEAD(&o, "sandbox", "id", "started", "stopped", "layers", "Landlock ABI", "seccomp", "uid");
		json_array_foreach(json_object_get(m, "sandboxes"), i, s) {
			char st[32], sp[32], layers[256] = "", abi[16] = "-", uid[16] = "-";
			when(N(s, "started_ms") ? N(s, "started_ms") : N(s, "created_ms"), st);
			when(N(s, "stopped_ms"), sp);
			size_t k;
			json_t *l;
			json_array_foreach(json_object_get(s, "layers"), k, l) {
				size_t used = strlen(layers);
				snprintf(layers + used, sizeof layers - used, "%s%s", k ? ", " : "", json_string_value(l) ? json_string_value(l) : "");
			}
			if (json_is_integer(json_object_get(s, "landlock_abi")))
				snprintf(abi, sizeof abi, "%lld", N(s, "landlock_abi"));
			if (json_is_integer(json_object_get(s, "uid_in_sandbox")))
				snprintf(uid, sizeof uid, "%lld", N(s, "uid_in_sandbox"));
			ROW(&o, S(s, "name"), S(s, "uid"), st, sp, *layers ? layers : "-", abi, S(s, "seccomp"), uid);
		}
		tend(&o);
	}
	end_section(&o);

	h2(&o, "policies", "Policies in force: every revision");
	if (!json_array_size(json_object_get(m, "policies")))
		para(&o, "No policy event in this period.");
	else {
		THEAD(&o, "time", "sandbox", "action", "revision", "SHA-256", "author / approval", "source");
		json_array_foreach(json_object_get(m, "policies"), i, s) {
			when(N(s, "time_ms"), a);
			ROW(&o, a, S(s, "sandbox"), S(s, "action"), S(s, "revision"), S(s, "sha256"), S(s, "author"),
			    S(s, "source"));
		}
		tend(&o);
	}
	end_section(&o);

	h2(&o, "destinations", "Destinations per binary");
	snprintf(tmp, sizeof tmp, "%lld connections allowed and %lld denied; %lld HTTP requests allowed and "
	         "%lld denied.", N(tot, "allowed"), N(tot, "denied"), N(tot, "http_allowed"), N(tot, "http_denied"));
	para(&o, tmp);
	if (o.html) {
		chart_timeline(&o, json_object_get(m, "timeline"));
		chart_top(&o, json_object_get(m, "top_denied"));
	}
	if (json_array_size(json_object_get(m, "destinations"))) {
		THEAD(&o, "sandbox", "binary", "destination", "allowed", "denied");
		json_array_foreach(json_object_get(m, "destinations"), i, s) {
			snprintf(n1, sizeof n1, "%lld", N(s, "allowed"));
			snprintf(n2, sizeof n2, "%lld", N(s, "denied"));
			ROW(&o, S(s, "sandbox"), S(s, "binary"), S(s, "destination"), n1, n2);
		}
		tend(&o);
	}
	if (!o.html && json_array_size(json_object_get(m, "top_denied"))) {
		gb_buf_puts(b, "Top denied destinations:\n\n");
		THEAD(&o, "destination", "denied");
		json_array_foreach(json_object_get(m, "top_denied"), i, s) {
			snprintf(n1, sizeof n1, "%lld", N(s, "count"));
			ROW(&o, S(s, "destination"), n1);
		}
		tend(&o);
	}
	end_section(&o);

	json_t *fi = json_object_get(m, "findings");
	h2(&o, "findings", "Findings");
	if (!json_object_size(json_object_get(fi, "by_type")))
		para(&o, "No findings in this period.");
	else {
		THEAD(&o, "type", "count");
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(fi, "by_type"), k, v) {
			snprintf(n1, sizeof n1, "%lld", (long long)json_integer_value(v));
			ROW(&o, k, n1);
		}
		tend(&o);
		THEAD(&o, "time", "sandbox", "type", "message");
		json_array_foreach(json_object_get(fi, "items"), i, s) {
			when(N(s, "time_ms"), a);
			ROW(&o, a, S(s, "sandbox"), S(s, "type"), S(s, "message"));
		}
		tend(&o);
	}
	end_section(&o);

	json_t *lo = json_object_get(m, "loss");
	h2(&o, "loss", "Loss accounting");
	if (!json_array_size(json_object_get(lo, "events")))
		para(&o, "No events were lost in this period: no LOSS event was journaled.");
	else {
		snprintf(tmp, sizeof tmp, "%lld events lost in %zu LOSS events.", N(lo, "lost"),
		         json_array_size(json_object_get(lo, "events")));
		para(&o, tmp);
		THEAD(&o, "time", "log", "count", "message");
		json_array_foreach(json_object_get(lo, "events"), i, s) {
			when(N(s, "time_ms"), a);
			snprintf(n1, sizeof n1, "%lld", N(s, "count"));
			ROW(&o, a, S(s, "log_name"), n1, S(s, "message"));
		}
		tend(&o);
	}
	end_section(&o);
	when(N(m, "generated_ms"), a);
	snprintf(tmp, sizeof tmp, "Generated %s by glassbox %s from %lld journal events.", a, GB_VERSION,
	         N(tot, "events"));
	para(&o, tmp);
	if (o.html)
		gb_buf_puts(b, "</body></html>\n");
	return b->err;
}
