/* exporter/config.h — the daemon config, /etc/glassbox/glassbox.yaml.
 *
 *   runtime_dir: /run/glassbox/sandboxes      # where sandboxes' rings appear;
 *                                             # only <root>/run/glassbox/sandboxes
 *                                             # is accepted (glassbox serve)
 *   journal:
 *     dir: /var/lib/glassbox/journal
 *     segment_size: 64MiB                     # rotate at this size
 *     segment_age: 1h                         # ... or this age
 *     fsync: group                            # group | always | never
 *     fsync_interval: 100ms                   # group commit period
 *     checkpoint_interval: 10m                # signed checkpoints (checkpoint.h)
 *     retention:
 *       max_size: 10GiB                       # sealed segments kept
 *       max_age: 30d
 *   cursor_dir: /var/lib/glassbox/cursors     # one durable cursor per sink
 *   sinks:
 *     - name: siem                            # [A-Za-z0-9._-], unique
 *       type: http                            # http | file
 *       url: https://siem.example/services/collector/raw
 *       format: hec                           # ndjson | hec | bulk
 *       auth_file: /etc/glassbox/siem.auth    # "Header: value"
 *       ca_file: /etc/glassbox/siem-ca.pem    # optional
 *       index: glassbox                       # bulk only
 *       timeout: 10s
 *       batch: 500
 *       backoff_max: 30s
 *     - name: shipper
 *       type: file
 *       path: /var/log/glassbox/events.jsonl
 *       rotate_size: 64MiB
 *       keep: 5
 *   credentials:                              # provider credentials (docs/credentials.md),
 *     - name: openai                          # read by `glassbox run`, not by serve
 *       file: /etc/glassbox/credentials/openai   # root-owned, 0600
 *       env: OPENAI_API_KEY                   # gets the placeholder; default from name
 *       hosts: [api.openai.com]               # HOST[:PORT] (443), "*.name" globs
 *   sandbox:                                  # defaults of every `glassbox run` on
 *                                             # this host; a flag of run overrides
 *     memory: 4GiB                            # memory.max, swap off; max = none
 *     pids: 1024                              # pids.max; max = none
 *     cpus: 1.5                               # CPU quota; 0 = none
 *     files: 4096                             # RLIMIT_NOFILE of the workload
 *     upstream_ca: /etc/glassbox/upstream-ca.pem  # trusted for inspected HTTPS
 *     internal_needs_allowed_ips: false       # proxy.h
 *
 * Sizes take B, KiB, MiB, GiB (or KB/MB/GB as powers of 1000); durations
 * ms, s, m, h, d (common/units.h).  Relative defaults are placed under --root.  Every error
 * names file, line, column and field, and an unknown key gets the nearest
 * valid one as a hint; all errors are reported, not only the first.
 *
 * Ownership: the strings in gb_config live in the struct (fixed buffers).
 */
#ifndef GB_EXPORTER_CONFIG_H
#define GB_EXPORTER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cred_spec.h"
#include "common/diag.h"
#include "common/paths.h"
#include "exporter/journal.h"
#include "exporter/sink.h" /* GB_MAX_SINKS */

/* The `sandbox:` section: what `glassbox run` uses where no flag says
 * otherwise (cli/cmd_run.c).  A value left out of the file stays "not set"
 * (-1, "") and run falls back to enforcer/sandbox/limits.h. */
struct gb_run_defaults {
	int64_t memory_max;             /* bytes; 0 = none ("max"); -1 = not set */
	int64_t pids_max;               /* 0 = none ("max"); -1 = not set */
	double cpus;                    /* 0 = none; -1 = not set */
	int64_t files;                  /* RLIMIT_NOFILE (soft = hard); -1 = not set */
	int internal_needs_allowed_ips; /* 0 or 1; -1 = not set */
	char upstream_ca[GB_PATH_MAX];  /* "" = not set */
};

struct gb_daemon_config {
	char runtime_dir[GB_PATH_MAX]; /* must be gb_path_sandboxes(root): only a check */
	char journal_dir[GB_PATH_MAX];
	char cursor_dir[GB_PATH_MAX];
	struct gb_journal_opts journal; /* .dir points at journal_dir */
	uint32_t checkpoint_interval_s; /* journal.checkpoint_interval; 0 = 10 min */
	struct gb_sink_conf sinks[GB_MAX_SINKS];
	size_t n_sinks;
	struct gb_cred_spec creds[GB_CRED_MAX]; /* credentials: */
	size_t n_creds;
	struct gb_run_defaults run;
	/* set before loading (serve --check-config): also probe whether each
	 * sink can work now (config_sink.h) */
	bool probe_sinks;
};

/* Defaults under root (NULL = "/"). */
void gb_daemon_config_defaults(struct gb_daemon_config *c, const char *root);

/* Load file over the defaults.  A missing file is an error only when
 * `required` (an explicit --config).  Returns 0, -EINVAL (diags say why),
 * or -errno. */
int gb_daemon_config_load(struct gb_daemon_config *c, const char *file, int required, struct gb_diags *d);

#endif
