/*
 * worker.h — the pool of worker threads that take submissions from the job
 * queue in PostgreSQL (FOR UPDATE SKIP LOCKED, with a lease and heartbeat)
 * and run them through the intake pipeline (ingest.h).
 */
#ifndef WORKER_H
#define WORKER_H

#include "kpr.h"

struct app;
struct worker_pool;

struct worker_pool *worker_pool_start(struct app *app, char *err, size_t errlen) KPR_WUR;
/* Wakes idle workers: a job was just queued. Accepts NULL. */
void worker_pool_notify(struct worker_pool *p);
/* Asks every worker to stop after its current job (or to release it) and joins them. */
void worker_pool_stop(struct worker_pool *p);

#endif
