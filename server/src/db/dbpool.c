/*
 * dbpool.c — a bounded FIFO of tasks served by threads with one register
 * connection each. Stopping drains the queue so that every suspended HTTP
 * connection is resumed before the daemon stops.
 */
#include "dbpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

#define DBPOOL_QUEUE_MAX 4096

struct task {
	dbpool_task_fn fn;
	void *arg;
};

struct dbpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct task q[DBPOOL_QUEUE_MAX];
	size_t head, len;
	bool stopping;
	int nthreads;
	pthread_t *threads;
	char *dsn, *password_file;
};

static void *run(void *arg)
{
	struct dbpool *p = arg;
	struct db *db = db_new(p->dsn, p->password_file, "register/http");
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->len == 0 && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->len == 0 && p->stopping) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		struct task t = p->q[p->head];
		p->head = (p->head + 1) % DBPOOL_QUEUE_MAX;
		p->len--;
		pthread_mutex_unlock(&p->mu);
		if (db)
			if (!db_ensure(db))
				log_debug("dbpool: database unavailable"); /* tasks answer 503 */
		t.fn(db, t.arg);
	}
	db_free(db);
	return NULL;
}

struct dbpool *dbpool_new(const struct kpr_config *cfg, int threads)
{
	struct dbpool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->dsn = strdup(cfg->register_dsn);
	p->password_file = strdup(cfg->register_password_file);
	p->threads = calloc((size_t)threads, sizeof *p->threads);
	if (!p->dsn || !p->password_file || !p->threads) {
		dbpool_free(p);
		return NULL;
	}
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&p->threads[i], NULL, run, p) != 0) {
			log_error("dbpool: cannot start thread %d", i);
			dbpool_free(p);
			return NULL;
		}
		p->nthreads++;
	}
	return p;
}

bool dbpool_submit(struct dbpool *p, dbpool_task_fn fn, void *arg)
{
	bool ok = false;
	pthread_mutex_lock(&p->mu);
	if (!p->stopping && p->len < DBPOOL_QUEUE_MAX) {
		p->q[(p->head + p->len) % DBPOOL_QUEUE_MAX] = (struct task){fn, arg};
		p->len++;
		ok = true;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return ok;
}

void dbpool_stop(struct dbpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	p->nthreads = 0;
}

void dbpool_free(struct dbpool *p)
{
	if (!p)
		return;
	dbpool_stop(p);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->threads);
	free(p->dsn);
	free(p->password_file);
	free(p);
}
