/* tests/fuzz/fuzz_shorthand.c — libFuzzer harness for the shorthand
 * renderer (exporter/shorthand.c), which `glassbox logs` runs on every
 * journal line: the journal is a file on disk, so its lines are untrusted
 * to the reader.  Property checked besides memory safety: a rendered line
 * never contains a newline (hostile strings are escaped). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "exporter/ocsf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gb_buf b = GB_BUF_INIT;
	if (gb_ocsf_shorthand((const char *)data, size, (int)(size & 1), &b) == 0 && b.data &&
	    memchr(b.data, '\n', b.len))
		__builtin_trap();
	gb_buf_free(&b);
	return 0;
}
