/*
 * app.h — the process-wide objects main.c creates and the subsystems share:
 * the configuration, the HTTP database pool, the token cache, the workers,
 * and two figures the workers keep for the HTTP side. A core header: it
 * names the other subsystems' types only, so whoever includes it depends
 * on none of them.
 */
#ifndef APP_H
#define APP_H

struct kpr_config;
struct dbpool;
struct auth;
struct worker_pool;

struct app {
	struct kpr_config *cfg;
	struct dbpool *dbpool;
	struct auth *auth;
	struct worker_pool *workers;
	int ready;                 /* live worker threads (atomic) */
	volatile long queue_depth; /* unfinished jobs, refreshed every second off the MHD threads */
};

#endif
