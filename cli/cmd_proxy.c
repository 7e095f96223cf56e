/* cli/cmd_proxy.c — `glassbox proxy`: the egress proxy on its own, for tests
 * and for host use.  Same code path as inside `glassbox run`: policy store,
 * identity, resolver, records into a ring. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/policy.h"
#include "common/ring.h"
#include "enforcer/proxy/cred.h"
#include "enforcer/proxy/inference.h"
#include "enforcer/proxy/proxy.h"
#include "common/log.h"
#include "enforcer/proxy/tls.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: glassbox proxy --policy FILE [--listen ADDR:PORT] [--ring PATH]\n"
	        "                      [--hosts FILE] [--workers N] [--fail-closed]\n"
	        "                      [--tls-dir DIR [--upstream-ca FILE]]\n"
	        "                      [--internal-needs-allowed-ips] [--inference ROUTE.json]\n"
	        "                      [--credential NAME[:VAR]=FILE@HOST[,HOST...]]...\n"
	        "  Run the egress proxy until SIGINT or SIGTERM.\n"
	        "  --listen   address to listen on (default 127.0.0.1:3128; [::1]:3128 for IPv6)\n"
	        "  --ring     write decision records into this ring (created if missing)\n"
	        "  --hosts    hosts file consulted before DNS (default /etc/hosts)\n"
	        "  --workers  event-loop threads (default: one per CPU)\n"
	        "  --fail-closed  deny connections whose records cannot be written\n"
	        "  --tls-dir  inspect HTTPS to endpoints with a protocol: a new CA is written there\n"
	        "             (ca.pem, ca-bundle.pem for clients; ca.key 0600)\n"
	        "  --upstream-ca  CA file trusted for upstream servers besides the system store\n"
	        "  --internal-needs-allowed-ips  use an internal address only when the endpoint's\n"
	        "                 allowed_ips covers it, also for an exactly named host\n"
	        "  --inference  the inference.local route (JSON, docs/inference.md)\n"
	        "  --credential  a provider credential for inspected tunnels (docs/credentials.md)\n");
}

/* --inference FILE: the route, its credential read now. */
static int proxy_inference(const char *file, struct gb_inference **out)
{
	json_error_t je;
	json_t *o = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		gb_log_error("proxy", "--inference %s:%d:%d: %s", file, je.line, je.column, je.text);
		return -EINVAL;
	}
	char err[700];
	struct gb_inf_route *r = NULL;
	int rc = gb_inf_route_parse(o, true, &r, err, sizeof err);
	json_decref(o);
	if (rc == 0 && (rc = gb_inference_new(out)) == 0)
		gb_inference_set(*out, r, false);
	else if (rc == -ENOMEM)
		gb_inf_route_free(r);
	if (rc < 0)
		gb_log_error("proxy", "--inference %s: %s", file, rc == -ENOMEM ? "out of memory" : err);
	return rc;
}

int cmd_proxy(int argc, char **argv)
{
	const char *policy = NULL, *listen = "127.0.0.1:3128", *ring_path = NULL, *hosts = NULL;
	const char *tls_dir = NULL, *upstream_ca = NULL, *inference = NULL;
	int workers = 0;
	static struct gb_cred_spec cspec[GB_CRED_MAX]; /* one proxy per process */
	size_t n_cspec = 0;
	bool fail_closed = false, internal_strict = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--fail-closed")) {
			fail_closed = true;
		} else if (!strcmp(a, "--internal-needs-allowed-ips")) {
			internal_strict = true;
			continue;
		}
		if (!v || a[0] != '-') {
			gb_log_error("proxy", "%s: %s", a, v ? "unexpected argument" : "needs a value");
			usage(stderr);
			return 2;
		}
		i++;
		if (!strcmp(a, "--policy"))
			policy = v;
		else if (!strcmp(a, "--listen"))
			listen = v;
		else if (!strcmp(a, "--ring"))
			ring_path = v;
		else if (!strcmp(a, "--hosts"))
			hosts = v;
		else if (!strcmp(a, "--tls-dir"))
			tls_dir = v;
		else if (!strcmp(a, "--upstream-ca"))
			upstream_ca = v;
		else if (!strcmp(a, "--inference"))
			inference = v;
		else if (!strcmp(a, "--credential")) {
			char cerr[600];
			if (n_cspec == GB_CRED_MAX) {
				gb_log_error("proxy", "--credential: at most %d", GB_CRED_MAX);
				return 2;
			}
			if (gb_cred_spec_parse_arg(v, &cspec[n_cspec], cerr, sizeof cerr) < 0) {
				gb_log_error("proxy", "%s", cerr);
				return 2;
			}
			n_cspec++;
		}
		else if (!strcmp(a, "--workers")) {
			workers = atoi(v);
			if (workers < 1 || workers > 256) {
				gb_log_error("proxy", "--workers: expected 1-256, got '%s'", v);
				return 2;
			}
		} else {
			gb_log_error("proxy", "unknown option '%s'", a);
			usage(stderr);
			return 2;
		}
	}
	if (!policy) {
		gb_log_error("proxy", "--policy FILE is required");
		usage(stderr);
		return 2;
	}
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	int rc = gb_policy_load_file(policy, &p, &d);
	gb_diags_print(&d, stderr);
	gb_diags_free(&d);
	if (rc < 0) {
		if (rc != -EINVAL)
			gb_log_error("proxy", "%s: %s", policy, strerror(-rc));
		return 1;
	}
	struct gb_policy_store *store = NULL;
	rc = gb_policy_store_new(p, &store);
	gb_policy_free(p);
	if (rc < 0) {
		gb_log_error("proxy", "policy: %s", strerror(-rc));
		return 1;
	}
	struct gb_ring *ring = NULL;
	if (ring_path) {
		rc = gb_ring_open_producer(ring_path, &ring);
		if (rc == -ENOENT) {
			struct gb_ring_opts ro = { .size = 0, .sandbox_id = "proxy" };
			rc = gb_ring_create(ring_path, &ro, &ring);
		}
		if (rc < 0) {
			gb_log_error("proxy", "ring %s: %s", ring_path, strerror(-rc));
			gb_policy_store_free(store);
			return 1;
		}
	}
	/* Each connection holds up to 6 descriptors (two sockets, two pipes):
	 * take the whole hard limit the operator granted.  Running out is still
	 * handled (the proxy pauses accepting), never fatal. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* Signals are taken synchronously by this thread; workers never see them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct gb_tls *tls = NULL;
	if (tls_dir) {
		char key[4200], err[512];
		snprintf(key, sizeof key, "%s/ca.key", tls_dir);
		struct gb_tls_opts to = { .dir = tls_dir, .key_path = key, .upstream_ca = upstream_ca };
		rc = gb_tls_new(&to, &tls, err, sizeof err);
		if (rc < 0) {
			gb_log_error("proxy", "--tls-dir: %s", err);
			gb_ring_close(ring);
			gb_policy_store_free(store);
			return 1;
		}
	}
	struct gb_inference *inf = NULL;
	if (inference && (rc = proxy_inference(inference, &inf)) < 0) {
		gb_tls_free(tls);
		gb_ring_close(ring);
		gb_policy_store_free(store);
		return 1;
	}
	struct gb_creds *creds = NULL;
	if (n_cspec) {
		char cerr[600];
		if (gb_creds_load(cspec, n_cspec, &creds, cerr, sizeof cerr) < 0) {
			gb_log_error("proxy", "%s", cerr);
			gb_inference_free(inf);
			gb_tls_free(tls);
			gb_ring_close(ring);
			gb_policy_store_free(store);
			return 1;
		}
	}
	struct gb_proxy_opts o = { .creds = creds, .inference = inf, .listen = listen, .listen_fd = -1, .netns_fd = -1, .workers = workers,
		                   .store = store, .ring = ring, .fail_closed = fail_closed,
		                   .internal_needs_allowed_ips = internal_strict,
		                   .hosts_file = hosts, .tls = tls };
	struct gb_proxy *px = NULL;
	rc = gb_proxy_new(&o, &px);
	if (rc == 0)
		rc = gb_proxy_start(px);
	if (rc < 0) {
		gb_log_error("proxy", "listen %s: %s", listen, strerror(-rc));
		gb_proxy_free(px);
		gb_creds_free(creds);
		gb_inference_free(inf);
		gb_tls_free(tls);
		gb_ring_close(ring);
		gb_policy_store_free(store);
		return 1;
	}
	gb_log_info("proxy", "listening on %s", listen);
	int sig = 0;
	sigwait(&set, &sig);
	gb_proxy_stop(px);
	struct gb_proxy_stats st;
	gb_proxy_stats(px, &st);
	gb_log_info("proxy", "%s: %llu accepted, %llu allowed, %llu denied, %llu records dropped",
	            strsignal(sig), (unsigned long long)st.accepted, (unsigned long long)st.allowed,
	            (unsigned long long)st.denied, (unsigned long long)st.records_dropped);
	if (tls) {
		struct gb_tls_stats ts;
		gb_tls_stats(tls, &ts);
		gb_log_info("proxy", "tls: %llu leaves minted, %llu reused from the cache",
		            (unsigned long long)ts.leaves_minted, (unsigned long long)ts.leaf_hits);
	}
	gb_proxy_free(px);
	gb_creds_free(creds); /* after the proxy: it borrowed them */
	gb_inference_free(inf);
	gb_tls_free(tls); /* after the proxy: it borrowed the CA */
	gb_ring_close(ring);
	gb_policy_store_free(store);
	return 0;
}
