/*
 * dbpool.h — the threads that do database work for HTTP handlers, so no
 * libmicrohttpd thread ever waits on PostgreSQL. Each thread owns its own
 * register connection. A handler suspends its connection, submits a task,
 * and the task resumes the connection when the response is ready.
 */
#ifndef DBPOOL_H
#define DBPOOL_H

#include "db.h"
#include "kpr.h"

struct kpr_config;
struct dbpool;

typedef void (*dbpool_task_fn)(struct db *db, void *arg);

struct dbpool *dbpool_new(const struct kpr_config *cfg, int threads) KPR_WUR;
/* Queues fn(db, arg). False when the pool is stopping or its queue is full:
 * the caller answers 503 itself. */
bool dbpool_submit(struct dbpool *p, dbpool_task_fn fn, void *arg) KPR_WUR;
/* Runs what is queued, then joins the threads; later submits are refused
 * (so every suspended connection is resumed before the HTTP daemon stops). */
void dbpool_stop(struct dbpool *p);
/* Stops (if not yet) and frees. */
void dbpool_free(struct dbpool *p);

#endif
