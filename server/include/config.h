/*
 * config.h — kprd's INI configuration: one declarative table of keys (type,
 * default, reloadable), validated at start with messages naming file, line
 * and key. Secrets are never in this file: it names files that hold them.
 * Obsolete keys (no longer in the table) are ignored with a warning naming
 * them. The first load failing is fatal; a failed reload warns and keeps the old
 * values; a reload applies only keys marked reloadable.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdio.h>

#include "kpr.h"

struct kpr_config {
	/* [server] */
	char *listen_address;
	int port;
	char *tls_cert_file;
	char *tls_key_file;
	char *tls_priorities;
	int http_threads;
	int connection_timeout;            /* seconds of inactivity */
	long long connection_memory_limit; /* bytes per connection */
	int connection_limit;
	int per_ip_connection_limit;
	long long max_upload_bytes; /* as received (compressed or not) */
	long long max_xml_bytes;    /* after gunzip: F006 and the gzip-bomb bound */
	long long min_upload_rate;  /* bytes/s averaged over the window (0: off) */
	int min_upload_rate_window; /* seconds */
	int hsts_max_age;
	int auth_failure_limit;        /* failed tokens per address per window (0: off) */
	int auth_failure_window;       /* seconds */
	char *proxy_trusted_addresses; /* "" : no PROXY protocol (proxy_proto.h) */
	/* [database] */
	char *register_dsn;
	char *register_password_file;
	char *vault_dsn;
	char *vault_password_file;
	int db_retry_limit;
	/* [paths] */
	char *spool_dir;
	char *feedback_dir;
	char *codelists_file;
	char *keys_dir;
	char *static_dir;
	/* [intake] */
	int workers;
	int queue_limit;
	int aargang_open_min;
	int aargang_open_max;
	bool test_mode;
	bool allow_2032_rule;
	int job_lease_seconds;
	long long spool_min_free_bytes;
	int upload_retry_after;
	bool keep_processed_files;
	int upload_rate_limit;  /* uploads per municipality per window (0: off) */
	int upload_rate_window; /* seconds */
	int job_max_attempts;
	int job_retry_backoff_seconds;
	int job_time_limit_seconds;
	int reconcile_interval_seconds;
	int received_change_threshold_percent;
	int reconcile_safe_age_minutes;
	int failed_file_retention_days;
	/* [log] */
	char *log_level;

	char *path; /* the file this was loaded from */
};

struct config_key {
	const char *section;
	const char *name;
	enum { CFG_STR, CFG_INT, CFG_BOOL, CFG_SIZE } type;
	size_t offset;
	const char *def; /* NULL: required */
	bool reloadable;
	long long min, max; /* for CFG_INT and CFG_SIZE */
	const char *doc;
};

extern const struct config_key config_keys[];
extern const size_t config_keys_len;

/* Loads path into a fresh config; on failure writes "file:line: key: what"
 * into err and returns NULL. */
struct kpr_config *config_load(const char *path, char *err, size_t errlen) KPR_WUR;
void config_free(struct kpr_config *c);

/* The published configuration. kprd publishes a copy of what it loaded at
 * start; a reload (SIGHUP) publishes a new copy, swapped in at once, with
 * the reloadable keys of the file as it now is. A published copy is never
 * written to, so a reader holding one sees one consistent set of values
 * (a reload may change several keys together) without any lock: an HTTP
 * request holds one from its first call to its completion, a job from its
 * claim to its end. The struct loaded at start (app->cfg) keeps the keys
 * that only a restart changes (paths, ports, pool sizes); reloadable keys
 * are read from a published copy only. */
bool config_publish(const struct kpr_config *c) KPR_WUR;
/* The current copy, held until config_release (never NULL once published). */
const struct kpr_config *config_acquire(void);
/* Accepts NULL. The last user of a superseded copy frees it. */
void config_release(const struct kpr_config *c);
/* Drops the current copy (at exit, after every user has released it). */
void config_unpublish(void);
/* Publishes the current copy with the reloadable keys of fresh; logs each
 * key that changed, and those that need a restart. False (and nothing
 * changed) when out of memory. */
bool config_apply_reload(const struct kpr_config *fresh) KPR_WUR;

/* Reads a secret file (first line, trailing newline stripped); refuses files
 * readable by group or others. Returns a malloc'd string or NULL with err. */
char *config_read_secret(const char *path, char *err, size_t errlen) KPR_WUR;

/* Writes the documented example of every key (used to check
 * config/kprd.conf.example cannot drift from the table). */
void config_write_example(FILE *out);

#endif
