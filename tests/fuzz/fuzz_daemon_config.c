/* tests/fuzz/fuzz_daemon_config.c — libFuzzer harness for the daemon config
 * loader (exporter/config.c: YAML tree, keys, sizes, durations, sinks).
 * The loader reads a file, so the input goes into a memfd and is loaded
 * through /proc/self/fd/N. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "exporter/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gb_daemon_config cfg; /* large: not on the stack */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-config", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	gb_daemon_config_defaults(&cfg, "/fuzzroot");
	struct gb_diags d = { 0 };
	gb_daemon_config_load(&cfg, path, 1, &d);
	gb_diags_free(&d);
	close(fd);
	return 0;
}
