/*
 * main.c — kprd: load the configuration, start the token cache, the
 * database pool, the workers and the HTTPS front, then wait for signals.
 * SIGTERM/SIGINT: stop accepting, let in-flight requests and jobs finish or
 * release their jobs, stop. SIGHUP: reload the configuration file.
 * Every thread is started with signals blocked; only this thread waits.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "dbpool.h"
#include "http.h"
#include "failpoint.h"
#include "log.h"
#include "reconcile.h"
#include "spool.h"
#include "worker.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: kprd -c FILE [--check-config]\n"
		     "  -c, --config FILE   configuration (see config/kprd.conf.example)\n"
		     "      --check-config  load and validate the configuration, then exit\n"
		     "  -h, --help          this text\n"
		     "  -V, --version       print the version\n");
}

/* A core dump of this process could hold national IDs in memory; never
 * leave one behind (SPEC §4). */
static void no_core_dumps(void)
{
	struct rlimit rl = {0, 0};
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	bool check_only = false;
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"check-config", no_argument, NULL, 'k'},
					     {"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'V'},
					     {NULL, 0, NULL, 0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'k':
			check_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("kprd %s (rule set %s)\n", KPR_VERSION, KPR_RULESET_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!config_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	no_core_dumps();

	char err[1024];
	struct kpr_config *cfg = config_load(config_path, err, sizeof err);
	if (!cfg) {
		fprintf(stderr, "kprd: %s\n", err);
		return 1;
	}
	enum log_level lvl;
	if (log_level_parse(cfg->log_level, &lvl))
		log_set_level(lvl);
	if (check_only) {
		printf("kprd: %s: configuration is valid\n", cfg->path);
		config_free(cfg);
		return 0;
	}
	if (!config_publish(cfg)) {
		fprintf(stderr, "kprd: out of memory\n");
		config_free(cfg);
		return 1;
	}

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	log_info("kprd %s starting (rule set %s, config %s)", KPR_VERSION, KPR_RULESET_VERSION,
		 cfg->path);
	if (cfg->test_mode)
		log_warn(
		    "TEST MODE: synthetic national IDs are accepted; never run production like this");

	int rc = 1;
	struct app app = {.cfg = cfg};
	if (access(cfg->spool_dir, W_OK) != 0 || access(cfg->feedback_dir, W_OK) != 0) {
		log_error("paths.spool_dir %s and paths.feedback_dir %s must exist and be writable",
			  cfg->spool_dir, cfg->feedback_dir);
		config_unpublish();
		config_free(cfg);
		return 1;
	}
	if (!failpoint_init(err, sizeof err)) {
		log_error("%s", err);
		config_unpublish();
		config_free(cfg);
		return 1;
	}
	struct http_server *http = NULL;
	struct worker_pool *workers = NULL;
	struct reconciler *reconciler = NULL;

	app.auth = auth_new(cfg);
	if (!app.auth) {
		log_error("cannot start the token cache");
		goto out;
	}
	/* serve only once tokens are known, so the first requests are not refused */
	if (!auth_wait_first_load(app.auth))
		log_warn("register database not reachable at start: requests with a token get 503 "
			 "tokens_not_loaded, and /readyz reports it, until the tokens are loaded");
	/* dbpool threads mostly wait on fsync and the network: twice the HTTP threads */
	app.dbpool = dbpool_new(cfg, cfg->http_threads * 2);
	if (!app.dbpool) {
		log_error("cannot start the database pool");
		goto out;
	}
	workers = worker_pool_start(&app, err, sizeof err);
	if (!workers) {
		log_error("cannot start workers: %s", err);
		goto out;
	}
	/* after the workers: files it finds held by a live job are theirs */
	reconciler = reconciler_start(cfg, err, sizeof err);
	if (!reconciler) {
		log_error("%s", err);
		goto out;
	}
	http = http_start(&app, api_routes, api_routes_len, err, sizeof err);
	if (!http) {
		log_error("%s", err);
		goto out;
	}
	log_info("serving https://%s:%d/ with %d HTTP threads and %d workers", cfg->listen_address,
		 cfg->port, cfg->http_threads, cfg->workers);

	for (;;) {
		int sig;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			struct kpr_config *fresh = config_load(cfg->path, err, sizeof err);
			if (!fresh) {
				log_warn(
				    "config reload failed, keeping the running configuration: %s",
				    err);
				continue;
			}
			bool applied = config_apply_reload(fresh);
			config_free(fresh);
			if (applied)
				log_info("configuration reloaded");
			continue;
		}
		log_info("signal %d: shutting down (no new connections; finishing work)", sig);
		break;
	}
	rc = 0;
out:
	http_quiesce(http);
	auth_quiesce(app.auth);    /* resumes requests waiting for a token reload */
	dbpool_stop(app.dbpool);   /* answers every deferred request; later ones get 503 */
	worker_pool_stop(workers); /* after the dbpool: its tasks may still wake the workers */
	reconciler_stop(reconciler);
	http_stop(http); /* no connection is suspended any more */
	dbpool_free(app.dbpool);
	auth_free(app.auth);
	config_unpublish();
	config_free(cfg);
	log_info("kprd stopped");
	return rc;
}
