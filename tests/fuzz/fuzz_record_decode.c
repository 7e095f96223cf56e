/* tests/fuzz/fuzz_record_decode.c — libFuzzer harness for the ring record
 * decoder (common/record.c), and for what the daemon does next with a record
 * that decodes: the OCSF mapper (exporter/ocsf_*.c), the journal's index
 * scan of the line (gb_jmeta_parse) and the shorthand renderer.  A record
 * in a ring is written by a sandboxed process's supervisor, but the ring is
 * a shared file: its bytes are untrusted to the daemon.
 * Input: one byte record type, then the payload.  Built with -DGB_FUZZ=ON
 * (tests/fuzz/CMakeLists.txt). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "common/record.h"
#include "exporter/journal.h"
#include "exporter/ocsf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int type = data[0] % (GB_REC_TYPE_MAX + 2);
	struct gb_record rec;
	memset(&rec, 0, sizeof rec);
	if (gb_rec_decode(type, data + 1, size - 1, &rec) < 0)
		return 0;
	rec.type = (uint16_t)type;
	rec.seq = size;
	rec.ts_ns = 1700000000000000000ull;
	struct gb_ocsf_ctx ctx = { .sandbox_name = "fuzz", .sandbox_id = "0123456789abcdef",
		                   .hostname = "host", .product_version = "0" };
	struct gb_buf b = GB_BUF_INIT, s = GB_BUF_INIT;
	struct gb_ocsf_meta om;
	if (gb_ocsf_format(&ctx, &rec, &b, &om) == 0 && b.data) {
		/* one event is one line: the journal depends on it */
		if (memchr(b.data, '\n', b.len))
			__builtin_trap();
		struct gb_jmeta m;
		char sb[64];
		gb_jmeta_parse(b.data, b.len, &m, sb, sizeof sb);
		gb_ocsf_shorthand(b.data, b.len, (int)(size & 1), &s);
		if (s.data && memchr(s.data, '\n', s.len))
			__builtin_trap();
	}
	gb_buf_free(&b);
	gb_buf_free(&s);
	return 0;
}
