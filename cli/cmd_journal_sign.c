/* cli/cmd_journal_sign.c — the signed half of `glassbox journal`:
 * `journal key` prints the host's public key; `journal verify` calls
 * journal_verify_signed() after the chain check to say which events the
 * signed checkpoints prove (exporter/checkpoint.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "common/log.h"
#include "common/paths.h"
#include "exporter/checkpoint.h"

static void when(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int cmd_journal_key(int argc, char **argv)
{
	const char *keys = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--keys") && i + 1 < argc)
			keys = argv[++i];
		else {
			gb_log_error("journal key", "unexpected '%s' (usage: glassbox journal key [--keys DIR])",
			             argv[i]);
			return 2;
		}
	}
	char dir[GB_PATH_MAX], pub[GB_PATH_MAX], err[512];
	if (keys)
		snprintf(dir, sizeof dir, "%s", keys);
	else
		gb_path_keys(dir, sizeof dir, gb_globals.root);
	if (gb_path_join(pub, sizeof pub, dir, GB_CKPT_PUB_FILE) < 0)
		return 2;
	EVP_PKEY *k;
	if (gb_ckpt_pub_load(pub, &k, err, sizeof err) < 0) {
		gb_log_error("journal key", "%s (glassbox serve creates the key at its first start)", err);
		return 1;
	}
	struct gb_buf b = GB_BUF_INIT;
	char id[17];
	gb_ckpt_key_id(k, id);
	int rc = gb_ckpt_pub_pem(k, &b);
	if (rc == 0) {
		fwrite(b.data, 1, b.len, stdout);
		fprintf(stderr, "key id %s (ed25519), from %s\n", id, pub);
	}
	gb_buf_free(&b);
	EVP_PKEY_free(k);
	return rc < 0 ? 1 : 0;
}

static void report(void *arg, const char *text)
{
	(void)arg;
	printf("problem: %s\n", text);
}

int journal_verify_signed(const char *journal, const char *keyfile, int64_t since_ms)
{
	char pub[GB_PATH_MAX], err[512];
	bool explicit_key = keyfile != NULL;
	if (!keyfile) {
		char dir[GB_PATH_MAX];
		gb_path_keys(dir, sizeof dir, gb_globals.root);
		gb_path_join(pub, sizeof pub, dir, GB_CKPT_PUB_FILE);
		keyfile = pub;
	}
	EVP_PKEY *k = NULL;
	if (gb_ckpt_pub_load(keyfile, &k, err, sizeof err) < 0) {
		if (explicit_key) {
			gb_log_error("journal verify", "%s", err);
			return 2;
		}
		printf("signatures: not checked (%s); nothing is proven\n", err);
	}
	struct gb_ckpt_result res;
	int rc = gb_ckpt_verify(journal, k, since_ms, report, NULL, &res);
	EVP_PKEY_free(k);
	if (rc < 0) {
		gb_log_error("journal verify", "%s: %s", journal, strerror(-rc));
		return 2;
	}
	if (k || explicit_key)
		journal_print_proof(&res, rc);
	gb_ckpt_result_free(&res);
	return rc > 0 ? 1 : 0;
}

void journal_print_proof(const struct gb_ckpt_result *r, int problems)
{
	const struct gb_ckpt_result res = *r;
	printf("checkpoints: %" PRIu64 " found, %" PRIu64 " valid (key %s), %" PRIu64
	       " invalid, %" PRIu64 " by other keys\n",
	       res.checkpoints, res.valid, res.key_id, res.invalid, res.other_key);
	/* One line per run of segments in the same state. */
	uint64_t unproven = 0;
	for (size_t i = 0; i < res.n_segs; i++) {
		const struct gb_ckpt_seg *g = &res.segs[i];
		char a[32], t[32];
		when(g->proven_at_ms, t);
		if (g->broken) {
			printf("broken: segment %" PRIu64 " (%" PRIu64 " events read): %s\n", g->segment, g->events,
			       g->why);
			continue;
		}
		if (g->seal_proven) {
			size_t j = i;
			while (j + 1 < res.n_segs && res.segs[j + 1].seal_proven && !res.segs[j + 1].broken)
				j++;
			uint64_t ev = 0;
			for (size_t x = i; x <= j; x++)
				ev += res.segs[x].events;
			when(res.segs[j].last_ms ? res.segs[j].last_ms : res.segs[j].proven_at_ms, a);
			printf("proven: segments %" PRIu64 "-%" PRIu64 " (%" PRIu64 " events, to %s), sealed and signed\n",
			       g->segment, res.segs[j].segment, ev, a);
			i = j;
			continue;
		}
		if (g->proven_events) {
			printf("proven: segment %" PRIu64 " events 1-%" PRIu64 " (checkpoint of %s)\n", g->segment,
			       g->proven_events, t);
			if (g->events > g->proven_events + g->tail_ckpts) {
				printf("unproven: segment %" PRIu64 " events %" PRIu64 "-%" PRIu64
				       " (written after the last checkpoint)\n",
				       g->segment, g->proven_events + 1, g->events - g->tail_ckpts);
				unproven += g->events - g->tail_ckpts - g->proven_events;
			}
			continue;
		}
		if (g->events > g->tail_ckpts) {
			printf("unproven: segment %" PRIu64 " events 1-%" PRIu64 " (no checkpoint covers it)\n",
			       g->segment, g->events);
			unproven += g->events;
		}
	}
	if (!unproven && problems == 0 && res.n_segs)
		printf("unproven: none\n");
}
