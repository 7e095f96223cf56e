/* tests/fuzz/fuzz_policy_load.c — libFuzzer harness for the policy loader
 * (YAML tree, schema walk, validation, hash).  Built with the others by
 * -DGB_FUZZ=ON (tests/fuzz/CMakeLists.txt); seeds in corpus/policy_load. */
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
