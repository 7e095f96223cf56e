/* tests/helpers/ring_dump.c — print every record waiting in a ring as one
 * JSON object per line (decoded fields, not OCSF), for integration tests to
 * assert on.  Consumes what it prints.
 * usage: ring_dump RING [WAIT_MS [OCSF_FILE]]   (waits up to WAIT_MS for the
 * first record; with OCSF_FILE, each record's OCSF event is written there too,
 * one per line, for tests/ocsf_validate.py) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonw.h"
#include "common/record.h"
#include "common/ring.h"
#include "exporter/ocsf.h"

static void ident(struct gb_jsonw *w, const struct gb_identity *id)
{
	gb_jw_kint(w, "pid", id->pid);
	gb_jw_kuint(w, "uid", id->uid);
	gb_jw_kuint(w, "id_flags", id->flags);
	gb_jw_kstr(w, "exe", id->exe);
	gb_jw_kstr(w, "sha256", id->sha256);
	gb_jw_kstr(w, "script", id->script);
	gb_jw_key(w, "ancestors");
	gb_jw_arr_begin(w);
	for (uint32_t i = 0; i < id->n_ancestors; i++)
		gb_jw_str(w, id->ancestors[i]);
	gb_jw_arr_end(w);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: ring_dump RING [WAIT_MS]\n");
		return 2;
	}
	int wait_ms = argc > 2 ? atoi(argv[2]) : 0;
	FILE *ocsf = argc > 3 ? fopen(argv[3], "w") : NULL;
	struct gb_ocsf_ctx octx = { "ring_dump", "ring-dump", "localhost", NULL };
	struct gb_buf ob = GB_BUF_INIT;
	struct gb_ring *r;
	int rc = gb_ring_open_consumer(argv[1], &r);
	if (rc < 0) {
		fprintf(stderr, "ring_dump: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	struct gb_ring_entry e;
	struct gb_buf b = GB_BUF_INIT;
	while (gb_ring_next(r, &e, wait_ms) == 1) {
		wait_ms = 200;
		struct gb_jsonw w;
		gb_buf_reset(&b);
		gb_jw_init(&w, &b);
		gb_jw_obj_begin(&w);
		gb_jw_kuint(&w, "seq", e.seq);
		if (e.is_loss) {
			gb_jw_kstr(&w, "type", "LOSS");
			gb_jw_kuint(&w, "count", e.count);
		} else {
			struct gb_record rec;
			memset(&rec, 0, sizeof rec);
			if (gb_rec_decode(e.type, e.data, e.len, &rec) < 0) {
				gb_jw_kstr(&w, "type", "UNDECODABLE");
			} else {
				if (ocsf) {
					rec.seq = e.seq;
					rec.ts_ns = e.ts_ns;
					rec.flags = e.flags;
					gb_buf_reset(&ob);
					if (gb_ocsf_format(&octx, &rec, &ob, NULL) == 0)
						fprintf(ocsf, "%.*s\n", (int)ob.len, ob.data);
					else
						fprintf(ocsf, "{\"error\": \"format failed\"}\n");
				}
				gb_jw_kstr(&w, "type", gb_rec_type_name(e.type));
				if (e.type == GB_REC_NET_DECISION) {
					const struct gb_net_decision *n = &rec.u.net;
					gb_jw_kstr(&w, "phase", n->phase == GB_NET_OPEN ? "open" : "close");
					gb_jw_kstr(&w, "kind", n->kind == GB_NET_CONNECT ? "connect" : "forward");
					gb_jw_kstr(&w, "verdict", n->verdict == GB_VERDICT_ALLOW ? "allow" : "deny");
					gb_jw_kstr(&w, "reason", gb_reason_name(n->reason));
					gb_jw_kstr(&w, "reason_text", n->reason_text);
					gb_jw_kstr(&w, "ssrf_tier", gb_ssrf_tier_name(n->ssrf_tier));
					gb_jw_kuint(&w, "conn_id", n->conn_id);
					gb_jw_kstr(&w, "host", n->dst.host);
					gb_jw_kstr(&w, "ip", n->dst.ip);
					gb_jw_kuint(&w, "port", n->dst.port);
					gb_jw_kstr(&w, "entry", n->policy_entry);
					gb_jw_kuint(&w, "bytes_up", n->bytes_up);
					gb_jw_kuint(&w, "bytes_down", n->bytes_down);
					gb_jw_kuint(&w, "inspected", n->inspected);
					ident(&w, &n->id);
				} else if (e.type == GB_REC_HTTP_DECISION) {
					const struct gb_http_decision *h = &rec.u.http;
					gb_jw_kstr(&w, "verdict", h->verdict == GB_VERDICT_ALLOW ? "allow" : "deny");
					gb_jw_kstr(&w, "reason", gb_reason_name(h->reason));
					gb_jw_kstr(&w, "method", h->method);
					gb_jw_kstr(&w, "path", h->path);
					gb_jw_kstr(&w, "query", h->query);
					gb_jw_kuint(&w, "conn_id", h->conn_id);
					gb_jw_kstr(&w, "host", h->dst.host);
					gb_jw_kstr(&w, "mode", h->mode == GB_MODE_AUDIT ? "audit" : "enforce");
					gb_jw_kuint(&w, "status", h->status);
					gb_jw_kstr(&w, "scheme", h->scheme);
					gb_jw_kstr(&w, "rule", h->rule);
					gb_jw_kstr(&w, "reason_text", h->reason_text);
					gb_jw_kuint(&w, "bytes_req", h->bytes_req);
					gb_jw_kuint(&w, "bytes_resp", h->bytes_resp);
					gb_jw_kuint(&w, "latency_ns", h->latency_ns);
					gb_jw_kuint(&w, "tls", h->tls);
					gb_jw_kstr(&w, "sni", h->sni);
					gb_jw_kstr(&w, "tls_version", h->tls_version);
					ident(&w, &h->id);
				} else if (e.type == GB_REC_FINDING) {
					gb_jw_kuint(&w, "kind", rec.u.finding.kind);
					gb_jw_kstr(&w, "title", rec.u.finding.title);
					gb_jw_kstr(&w, "subject", rec.u.finding.subject);
				}
			}
		}
		gb_jw_obj_end(&w);
		puts(gb_buf_cstr(&b));
		gb_ring_consume(r);
	}
	gb_buf_free(&b);
	gb_buf_free(&ob);
	if (ocsf)
		fclose(ocsf);
	gb_ring_close(r);
	return 0;
}
