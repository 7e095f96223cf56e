/* tests/fuzz/fuzz_policy_load.c — libFuzzer harness for the policy loader
 * (YAML tree, schema walk, validation, hash).  Not part of the CTest suite;
 * build and run by hand, bounded in time:
 *
 *   S=common; clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *     tests/fuzz/fuzz_policy_load.c $S/policy_*.c $S/buf.c $S/jsonw.c -lyaml -lcrypto \
 *     -o /tmp/fuzz_policy_load
 *   mkdir -p /tmp/corpus && cp policies/*.yaml policies/examples/*.yaml /tmp/corpus/
 *   /tmp/fuzz_policy_load -max_total_time=300 -max_len=4096 -rss_limit_mb=1024 /tmp/corpus
 */
#include <stddef.h>
#include <stdint.h>

#include "common/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	gb_policy_load_buf("fuzz", (const char *)data, size, &p, &d);
	gb_policy_free(p);
	gb_diags_free(&d);
	return 0;
}
