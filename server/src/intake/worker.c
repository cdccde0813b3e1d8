/*
 * worker.c — job claiming, leases and the worker threads.
 * A job is claimed with FOR UPDATE SKIP LOCKED and a lease; a heartbeat
 * thread extends the leases of this process's running jobs, so when a
 * process dies its jobs become claimable again once the lease runs out.
 * The job is finished inside the pipeline's load transaction (exactly once);
 * here we only claim, retry later, and give up on jobs that keep failing.
 */
#include "worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "app.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "store_job.h"
#include "hex.h"
#include "waits.h"

struct worker {
	struct worker_pool *pool;
	pthread_t thread;
	int index;
	char id[128];
	struct ingest *in;
};

struct worker_pool {
	struct app *app;
	struct worker *w;
	int n;
	char process_id[100];
	pthread_t heartbeat;
	bool heartbeat_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	volatile bool stopping;
};

static void sleep_or_stop(struct worker_pool *p, int ms)
{
	pthread_mutex_lock(&p->mu);
	if (!p->stopping)
		waits_cond_ms(&p->cv, &p->mu, ms);
	pthread_mutex_unlock(&p->mu);
}

struct job_limits {
	int max_attempts;
	int backoff; /* seconds before the second attempt; doubles, at most 15 minutes */
	int time_limit;
};

static struct job_limits job_limits(const struct kpr_config *cfg)
{
	const struct kpr_config *snap = config_acquire(), *c = snap ? snap : cfg;
	struct job_limits l = {c->job_max_attempts, c->job_retry_backoff_seconds,
			       c->job_time_limit_seconds};
	config_release(snap);
	return l;
}

static int backoff_seconds(const struct job_limits *l, int attempts)
{
	long long d = l->backoff;
	for (int i = 1; i < attempts && d < 900; i++)
		d *= 2;
	return d > 900 ? 900 : (int)d;
}

/* The job used up its attempts: the submission ends `failed` (SPEC §5),
 * which staff see and `kprctl reprocess` can queue again. */
static void give_up(struct worker *w, struct db *db, const char *sub, int attempts,
		    const char *fault)
{
	bool ours = false, marked = false;
	if (!store_job_give_up(db, sub, w->id, attempts, fault, &ours, &marked) || !ours) {
		rlog_warn(sub, "not giving up: the job is no longer this worker's");
		return;
	}
	rlog_error(sub, "giving up after %d attempts%s", attempts,
		   marked ? "; submission marked failed (needs staff attention)"
			  : "; the submission keeps its earlier status");
	if (marked)
		metrics_count_submission("failed");
}

static void run_job(struct worker *w, struct db *db, const char *sub, int attempts)
{
	struct worker_pool *p = w->pool;
	struct job_limits l = job_limits(p->app->cfg);
	if (attempts > l.max_attempts) {
		/* the process running the last attempt died (a lease ran out) */
		give_up(w, db, sub, attempts - 1, "");
		return;
	}
	rlog_info(sub, "claimed by %s (attempt %d)", w->id, attempts);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double deadline = (double)now.tv_sec + (double)now.tv_nsec / 1e9 + l.time_limit;
	enum ingest_fault fault = FAULT_NONE;
	enum ingest_outcome o = ingest_process(w->in, db, sub, w->id, attempts, deadline, &fault);
	if (o == INGEST_DONE || o == INGEST_LEASE_LOST) /* done, or its new owner's */
		return;
	/* a database that is away uses up no attempt and is tried again soon;
	 * any other fault counts one and backs off, so a full disk or a
	 * broken NFS mount gets minutes to recover, not seconds */
	bool counted = o == INGEST_RETRY;
	if (counted && attempts >= l.max_attempts) {
		if (db_ensure(db))
			give_up(w, db, sub, attempts, ingest_fault_name(fault));
		return;
	}
	int delay = counted ? backoff_seconds(&l, attempts) : 2;
	if (counted) {
		char labels[48];
		snprintf(labels, sizeof labels, "fault=\"%s\"", ingest_fault_name(fault));
		metrics_add_labeled("kpr_job_retries_total", labels, 1);
		rlog_warn(sub, "attempt %d of %d failed (%s); retrying in %d s", attempts,
			  l.max_attempts, ingest_fault_name(fault), delay);
	}
	if (db_ensure(db) && !store_job_release(db, sub, w->id, !counted, delay,
						counted ? ingest_fault_name(fault) : ""))
		rlog_warn(sub, "cannot release the job; its lease runs out instead");
	sleep_or_stop(p, counted ? 200 : 2000);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct worker_pool *p = w->pool;
	const struct kpr_config *cfg = p->app->cfg;
	char err[512];
	struct db *db = db_new(cfg->register_dsn, cfg->register_password_file, "register/worker");
	struct ingest *in = ingest_new(cfg, err, sizeof err);
	if (!db || !in) {
		log_error("worker %d cannot start: %s", w->index, in ? "out of memory" : err);
		db_free(db);
		ingest_free(in);
		return NULL;
	}
	w->in = in;
	__atomic_add_fetch(&p->app->ready, 1, __ATOMIC_SEQ_CST); /* /readyz: a live worker */
	while (!p->stopping) {
		char sub[40];
		int attempts = 0;
		if (!db_ensure(db)) {
			sleep_or_stop(p, 1000);
			continue;
		}
		bool claimed = false;
		if (!store_job_claim(db, w->id, cfg->job_lease_seconds /* not reloaded */, sub,
				     &attempts, &claimed) ||
		    !claimed) {
			sleep_or_stop(p, 300);
			continue;
		}
		run_job(w, db, sub, attempts);
	}
	__atomic_sub_fetch(&p->app->ready, 1, __ATOMIC_SEQ_CST);
	w->in = NULL;
	ingest_free(in);
	db_free(db);
	return NULL;
}

static void *heartbeat_main(void *arg)
{
	struct worker_pool *p = arg;
	const struct kpr_config *cfg = p->app->cfg;
	struct db *db =
	    db_new(cfg->register_dsn, cfg->register_password_file, "register/heartbeat");
	/* every second: the queue depth uploads are judged by; every third of a
	 * lease: renew this process's leases */
	int every = cfg->job_lease_seconds / 3;
	for (int tick = 1; !p->stopping; tick++) {
		sleep_or_stop(p, 1000);
		if (p->stopping || !db || !db_ensure(db))
			continue;
		long depth;
		if (store_job_depth(db, &depth))
			p->app->queue_depth = depth;
		if (tick % every == 0 &&
		    !store_job_heartbeat(db, p->process_id, cfg->job_lease_seconds,
					 job_limits(cfg).time_limit))
			log_warn("heartbeat: leases not renewed (database unavailable)");
	}
	db_free(db);
	return NULL;
}

struct worker_pool *worker_pool_start(struct app *app, char *err, size_t errlen)
{
	struct worker_pool *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->app = app;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	char host[64] = "host";
	gethostname(host, sizeof host - 1);
	/* random per process start, so a restarted process never renews a dead
	 * one's lease: two containers with the same hostname and PID 1 started
	 * in the same second must not share ids. The host part is for people. */
	char rnd[17];
	if (!hex_random(rnd, 8)) {
		snprintf(err, errlen, "no randomness for the worker id");
		free(p);
		return NULL;
	}
	snprintf(p->process_id, sizeof p->process_id, "%.60s:%s", host, rnd);
	p->w = calloc((size_t)app->cfg->workers, sizeof *p->w);
	if (!p->w) {
		snprintf(err, errlen, "out of memory");
		worker_pool_stop(p);
		return NULL;
	}
	for (int i = 0; i < app->cfg->workers; i++) {
		struct worker *w = &p->w[i];
		w->pool = p;
		w->index = i;
		snprintf(w->id, sizeof w->id, "%s:%d", p->process_id, i);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			snprintf(err, errlen, "cannot start worker thread %d", i);
			worker_pool_stop(p);
			return NULL;
		}
		p->n++;
	}
	if (pthread_create(&p->heartbeat, NULL, heartbeat_main, p) != 0) {
		snprintf(err, errlen, "cannot start the heartbeat thread");
		worker_pool_stop(p);
		return NULL;
	}
	p->heartbeat_started = true;
	app->workers = p;
	/* the id in the job table's worker column: lets an operator tell which
	 * process holds a lease */
	log_info("workers %s:0..%d started", p->process_id, p->n - 1);
	return p;
}

void worker_pool_notify(struct worker_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void worker_pool_stop(struct worker_pool *p)
{
	if (!p)
		return;
	p->app->workers = NULL;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->w[i].thread, NULL);
	if (p->heartbeat_started)
		pthread_join(p->heartbeat, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->w);
	free(p);
}
