/*
 * config.c — the INI parser and the key table. Relative paths in the file
 * are taken relative to the file's own directory, so a config works
 * whatever the current directory of the process that reads it.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"
#include "proxy_proto.h"

#define OFF(f) offsetof(struct kpr_config, f)
#define GiB    "1073741824"

const struct config_key config_keys[] = {
    {"server", "listen_address", CFG_STR, OFF(listen_address), "0.0.0.0", false, 0, 0,
     "Address to listen on (IPv4 literal)."},
    {"server", "port", CFG_INT, OFF(port), "8443", false, 1, 65535, "HTTPS port."},
    {"server", "tls_cert_file", CFG_STR, OFF(tls_cert_file), NULL, false, 0, 0,
     "PEM certificate chain served to clients."},
    {"server", "tls_key_file", CFG_STR, OFF(tls_key_file), NULL, false, 0, 0,
     "PEM private key of the certificate (a secret: mode 0600)."},
    {"server", "tls_priorities", CFG_STR, OFF(tls_priorities),
     "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"
     "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SAFE_RENEGOTIATION",
     false, 0, 0, "GnuTLS priority string: TLS 1.2+ with AEAD suites and forward secrecy only."},
    {"server", "http_threads", CFG_INT, OFF(http_threads), "4", false, 1, 256,
     "libmicrohttpd thread pool size (network I/O only; no database work runs there)."},
    {"server", "connection_timeout", CFG_INT, OFF(connection_timeout), "60", false, 1, 3600,
     "Seconds a connection may be idle before it is closed (slow clients)."},
    {"server", "connection_memory_limit", CFG_SIZE, OFF(connection_memory_limit), "131072", false,
     16384, 16777216, "Memory pool per connection, bytes."},
    {"server", "connection_limit", CFG_INT, OFF(connection_limit), "4000", false, 16, 1000000,
     "Maximum simultaneous connections."},
    {"server", "per_ip_connection_limit", CFG_INT, OFF(per_ip_connection_limit), "64", false, 0,
     100000, "Maximum simultaneous connections from one address (0: no limit)."},
    {"server", "max_upload_bytes", CFG_SIZE, OFF(max_upload_bytes), "2147483648", true, 1024,
     1099511627776LL, "Largest accepted request body as sent (413 above)."},
    {"server", "max_xml_bytes", CFG_SIZE, OFF(max_xml_bytes), "4294967296", true, 1024,
     1099511627776LL, "Largest XML after decompression (F006; bounds gzip bombs)."},
    {"server", "min_upload_rate", CFG_SIZE, OFF(min_upload_rate), "1024", true, 0, 1073741824,
     "Bytes per second an upload must average over each min_upload_rate_window; a slower one "
     "is ended with 408 upload_too_slow and its partial file removed (0: no minimum)."},
    {"server", "min_upload_rate_window", CFG_INT, OFF(min_upload_rate_window), "60", true, 1, 3600,
     "Seconds over which min_upload_rate is averaged. A client that sends nothing at all is "
     "closed after connection_timeout instead."},
    {"server", "hsts_max_age", CFG_INT, OFF(hsts_max_age), "31536000", true, 0, 100000000,
     "Strict-Transport-Security max-age in seconds (0: header not sent)."},
    {"server", "auth_failure_limit", CFG_INT, OFF(auth_failure_limit), "20", true, 0, 1000000,
     "Failed bearer tokens one client address may present per auth_failure_window before "
     "every request from it needing a token gets 429 too_many_auth_failures (0: no limit)."},
    {"server", "auth_failure_window", CFG_INT, OFF(auth_failure_window), "300", true, 1, 86400,
     "Seconds over which auth_failure_limit counts (in-memory, per kprd process)."},
    {"server", "proxy_trusted_addresses", CFG_STR, OFF(proxy_trusted_addresses), "", false, 0, 0,
     "Load balancers whose PROXY protocol v2 header is believed: addresses or address/prefix "
     "blocks, separated by commas or spaces (at most 32). A connection from one of them must "
     "begin with the header (it is closed if none is complete within 5 s), and the client "
     "address it names is the one the per-address limits and the log use; any other peer "
     "connects directly and stands for itself. Empty: no PROXY protocol."},

    {"database", "register_dsn", CFG_STR, OFF(register_dsn), NULL, false, 0, 0,
     "libpq connection string of the register database (no password here)."},
    {"database", "register_password_file", CFG_STR, OFF(register_password_file), "", false, 0, 0,
     "File holding the register role's password (mode 0600); empty: none."},
    {"database", "vault_dsn", CFG_STR, OFF(vault_dsn), NULL, false, 0, 0,
     "libpq connection string of the ID vault database (a separate cluster in production)."},
    {"database", "vault_password_file", CFG_STR, OFF(vault_password_file), "", false, 0, 0,
     "File holding the vault ingest role's password (mode 0600); empty: none."},
    {"database", "retry_limit", CFG_INT, OFF(db_retry_limit), "5", true, 0, 100,
     "Times a transaction is retried after a serialization failure or deadlock."},

    {"paths", "spool_dir", CFG_STR, OFF(spool_dir), NULL, false, 0, 0,
     "Durable spool of received files (shared by every kprd using the same database)."},
    {"paths", "feedback_dir", CFG_STR, OFF(feedback_dir), NULL, false, 0, 0,
     "Where feedback files are written."},
    {"paths", "codelists_file", CFG_STR, OFF(codelists_file), "codelists.csv", false, 0, 0,
     "Code lists with validity periods (tjenestetype, kommune, ...)."},
    {"paths", "keys_dir", CFG_STR, OFF(keys_dir), NULL, false, 0, 0,
     "Key directory: KEK file, wrapped pseudonym key, re-identification public key."},
    {"paths", "static_dir", CFG_STR, OFF(static_dir), "static", false, 0, 0,
     "Dashboard files served at /."},

    {"intake", "workers", CFG_INT, OFF(workers), "2", false, 1, 256,
     "Worker threads that validate and load submissions (each has its own connections)."},
    {"intake", "queue_limit", CFG_INT, OFF(queue_limit), "2000", true, 1, 1000000,
     "Queued submissions above which uploads get 503 + Retry-After."},
    {"intake", "aargang_open_min", CFG_INT, OFF(aargang_open_min), "2025", true, 2000, 2100,
     "Oldest årgang open for submission (F005)."},
    {"intake", "aargang_open_max", CFG_INT, OFF(aargang_open_max), "2025", true, 2000, 2100,
     "Newest årgang open for submission (F005)."},
    {"intake", "test_mode", CFG_BOOL, OFF(test_mode), "false", false, 0, 0,
     "Accept synthetic national IDs (month + 80). Never in production."},
    {"intake", "allow_2032_rule", CFG_BOOL, OFF(allow_2032_rule), "true", true, 0, 0,
     "Accept national IDs issued under the 2032 control-digit rule (R103)."},
    {"intake", "job_lease_seconds", CFG_INT, OFF(job_lease_seconds), "120", false, 10, 86400,
     "A job whose heartbeat is older than this is taken over by another worker."},
    {"intake", "spool_min_free_bytes", CFG_SIZE, OFF(spool_min_free_bytes), GiB, true, 0,
     1099511627776LL, "Uploads get 507 when the spool file system has less free space."},
    {"intake", "keep_processed_files", CFG_BOOL, OFF(keep_processed_files), "false", true, 0, 0,
     "Keep spooled files after processing (they hold national IDs in clear; only for "
     "reprocessing, with the spool on encrypted storage)."},
    {"intake", "upload_retry_after", CFG_INT, OFF(upload_retry_after), "120", true, 1, 86400,
     "Retry-After seconds sent with 503 when the queue is full."},
    {"intake", "upload_rate_limit", CFG_INT, OFF(upload_rate_limit), "30", true, 0, 1000000,
     "Uploads (dry runs included) one municipality may start per upload_rate_window before "
     "429 rate_limited + Retry-After (0: no limit)."},
    {"intake", "upload_rate_window", CFG_INT, OFF(upload_rate_window), "3600", true, 1, 86400,
     "Seconds over which upload_rate_limit counts (in-memory, per kprd process)."},
    {"intake", "job_max_attempts", CFG_INT, OFF(job_max_attempts), "5", true, 1, 100,
     "Attempts a job gets (a crash, a full disk, a job past its time limit each count one) "
     "before its submission ends `failed` for staff to look at."},
    {"intake", "job_retry_backoff_seconds", CFG_INT, OFF(job_retry_backoff_seconds), "30", true, 0,
     900, "Wait before a failed attempt is tried again; doubled after each attempt, at most 900."},
    {"intake", "job_time_limit_seconds", CFG_INT, OFF(job_time_limit_seconds), "3600", true, 1,
     604800, "Wall-clock limit of one attempt; an attempt past it stops and counts as failed."},
    {"intake", "reconcile_interval_seconds", CFG_INT, OFF(reconcile_interval_seconds), "300", true,
     10, 86400,
     "How often the reconciler tidies the spool and feedback directories (also at start)."},
    {"intake", "reconcile_safe_age_minutes", CFG_INT, OFF(reconcile_safe_age_minutes), "60", true,
     0, 10080,
     "The reconciler removes a file without a database row only when it is older than this: on "
     "a shared spool another node may be between its rename and its INSERT."},
    {"intake", "failed_file_retention_days", CFG_INT, OFF(failed_file_retention_days), "14", true,
     0, 3650, "Days the spooled file of a `failed` submission is kept so staff can reprocess it."},

    {"feedback", "received_change_threshold_percent", CFG_INT,
     OFF(received_change_threshold_percent), "20", true, 1, 1000,
     "The feedback's \"what was received\" flags a figure that changed by more than this many "
     "per cent from the municipality's current submission for the previous årgang."},

    {"log", "level", CFG_STR, OFF(log_level), "info", true, 0, 0, "error | warn | info | debug"},
};
const size_t config_keys_len = KPR_ARRAY_LEN(config_keys);

/* Keys that once existed: a file still setting one loads, with a warning
 * naming the key, so an upgrade never stops a server over a dead setting. */
static const struct {
	const char *section, *name, *why;
} obsolete_keys[] = {
    {"paths", "xsd_file",
     "kprd checks the submission structure in code, equal to config/xsd/innsending.xsd; "
     "no schema file is read"},
};

static void fail(char *err, size_t errlen, const char *fmt, ...) KPR_PRINTF(3, 4);
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static bool parse_size(const char *v, long long *out)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || end == v || n < 0)
		return false;
	long long mul = 1;
	if (*end) {
		if (!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib"))
			mul = 1024;
		else if (!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib"))
			mul = 1024 * 1024;
		else if (!strcasecmp(end, "g") || !strcasecmp(end, "gb") || !strcasecmp(end, "gib"))
			mul = 1024LL * 1024 * 1024;
		else
			return false;
	}
	if (n > LLONG_MAX / mul)
		return false;
	*out = n * mul;
	return true;
}

static bool parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
	    !strcmp(v, "1")) {
		*out = true;
		return true;
	}
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
	    !strcmp(v, "0")) {
		*out = false;
		return true;
	}
	return false;
}

/* Relative paths are taken relative to the config file's directory. */
static char *resolve_path(const char *base_dir, const char *v)
{
	char *out;
	if (v[0] == '/' || v[0] == '\0' || !base_dir)
		return strdup(v);
	if (asprintf(&out, "%s/%s", base_dir, v) < 0)
		return NULL;
	return out;
}

static bool key_is_path(const struct config_key *k)
{
	const char *n = k->name;
	size_t l = strlen(n);
	return !strcmp(k->section, "paths") || (l > 5 && !strcmp(n + l - 5, "_file"));
}

static bool set_value(struct kpr_config *c, const struct config_key *k, const char *v,
		      const char *base_dir, const char *where, char *err, size_t errlen)
{
	void *p = (char *)c + k->offset;
	switch (k->type) {
	case CFG_STR: {
		char *s = key_is_path(k) ? resolve_path(base_dir, v) : strdup(v);
		if (!s) {
			fail(err, errlen, "%s: %s.%s: out of memory", where, k->section, k->name);
			return false;
		}
		free(*(char **)p);
		*(char **)p = s;
		return true;
	}
	case CFG_BOOL:
		if (!parse_bool(v, (bool *)p)) {
			fail(err, errlen, "%s: %s.%s: expected true or false, got \"%s\"", where,
			     k->section, k->name, v);
			return false;
		}
		return true;
	case CFG_INT:
	case CFG_SIZE: {
		long long n;
		char *end;
		bool ok;
		if (k->type == CFG_SIZE) {
			ok = parse_size(v, &n);
		} else {
			errno = 0;
			n = strtoll(v, &end, 10);
			ok = !errno && end != v && *end == '\0';
		}
		if (!ok || n < k->min || n > k->max) {
			fail(err, errlen, "%s: %s.%s: expected a %s from %lld to %lld, got \"%s\"",
			     where, k->section, k->name,
			     k->type == CFG_SIZE ? "size" : "whole number", k->min, k->max, v);
			return false;
		}
		if (k->type == CFG_SIZE)
			*(long long *)p = n;
		else
			*(int *)p = (int)n;
		return true;
	}
	}
	return false;
}

static const struct config_key *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < config_keys_len; i++)
		if (!strcmp(config_keys[i].section, section) && !strcmp(config_keys[i].name, name))
			return &config_keys[i];
	return NULL;
}

static const char *obsolete_key(const char *section, const char *name)
{
	for (size_t i = 0; i < KPR_ARRAY_LEN(obsolete_keys); i++)
		if (!strcmp(obsolete_keys[i].section, section) &&
		    !strcmp(obsolete_keys[i].name, name))
			return obsolete_keys[i].why;
	return NULL;
}

static bool validate_cross(const struct kpr_config *c, const char *path, char *err, size_t errlen)
{
	enum log_level l;
	if (!log_level_parse(c->log_level, &l)) {
		fail(err, errlen, "%s: log.level: expected error, warn, info or debug, got \"%s\"",
		     path, c->log_level);
		return false;
	}
	struct proxy_trust trust;
	char why[160];
	if (!proxy_trust_parse(c->proxy_trusted_addresses, &trust, why, sizeof why)) {
		fail(err, errlen, "%s: server.proxy_trusted_addresses: %s", path, why);
		return false;
	}
	if (c->aargang_open_min > c->aargang_open_max) {
		fail(err, errlen, "%s: intake.aargang_open_min: %d is after aargang_open_max %d",
		     path, c->aargang_open_min, c->aargang_open_max);
		return false;
	}
	return true;
}

struct kpr_config *config_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	struct kpr_config *c = calloc(1, sizeof *c);
	bool *seen = calloc(config_keys_len, sizeof *seen);
	char *pathcopy = strdup(path);
	char *base_dir = NULL;
	char real[PATH_MAX];
	if (pathcopy && realpath(path, real)) {
		char dircopy[PATH_MAX];
		memcpy(dircopy, real, sizeof dircopy);
		base_dir = strdup(dirname(dircopy)); /* dirname writes into its argument */
	}
	if (!c || !seen || !pathcopy || !base_dir) {
		fail(err, errlen, "%s: out of memory", path);
		goto bad;
	}
	c->path = strdup(real);

	char line[4096], section[64] = "", where[PATH_MAX + 32];
	unsigned lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		snprintf(where, sizeof where, "%s:%u", path, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			fail(err, errlen, "%s: line too long", where);
			goto bad;
		}
		char *s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (!e || e[1] != '\0' || e - s - 1 >= (long)sizeof section || e == s + 1) {
				fail(err, errlen, "%s: malformed section header", where);
				goto bad;
			}
			*e = '\0';
			snprintf(section, sizeof section, "%s", trim(s + 1));
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			fail(err, errlen, "%s: expected key = value", where);
			goto bad;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		size_t vl = strlen(val);
		if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
			val[vl - 1] = '\0';
			val++;
		}
		const struct config_key *k = find_key(section, key);
		if (!k && obsolete_key(section, key)) {
			log_warn("%s: %s.%s is obsolete and ignored (%s); remove it", where,
				 section, key, obsolete_key(section, key));
			continue;
		}
		if (!k) {
			fail(err, errlen, "%s: unknown key \"%s\" in section [%s]", where, key,
			     section);
			goto bad;
		}
		size_t idx = (size_t)(k - config_keys);
		if (seen[idx]) {
			fail(err, errlen, "%s: %s.%s given twice", where, section, key);
			goto bad;
		}
		seen[idx] = true;
		if (!set_value(c, k, val, base_dir, where, err, errlen))
			goto bad;
	}
	for (size_t i = 0; i < config_keys_len; i++) {
		if (seen[i])
			continue;
		const struct config_key *k = &config_keys[i];
		if (!k->def) {
			fail(err, errlen, "%s: required key %s.%s is missing", path, k->section,
			     k->name);
			goto bad;
		}
		snprintf(where, sizeof where, "%s (default)", path);
		if (!set_value(c, k, k->def, base_dir, where, err, errlen))
			goto bad;
	}
	if (!validate_cross(c, path, err, errlen))
		goto bad;
	fclose(f);
	free(seen);
	free(pathcopy);
	free(base_dir);
	return c;
bad:
	fclose(f);
	free(seen);
	free(pathcopy);
	free(base_dir);
	config_free(c);
	return NULL;
}

void config_free(struct kpr_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < config_keys_len; i++)
		if (config_keys[i].type == CFG_STR)
			free(*(char **)((char *)c + config_keys[i].offset));
	free(c->path);
	free(c);
}

static bool value_equal(const struct config_key *k, const void *a, const void *b)
{
	switch (k->type) {
	case CFG_STR:
		return !strcmp(*(char *const *)a, *(char *const *)b);
	case CFG_BOOL:
		return *(const bool *)a == *(const bool *)b;
	case CFG_INT:
		return *(const int *)a == *(const int *)b;
	case CFG_SIZE:
		return *(const long long *)a == *(const long long *)b;
	}
	return true;
}

/* The published configuration: an immutable copy, counted by its users. A
 * reload publishes a new one; the old one is freed when its last user
 * releases it. Nothing is ever written to a published copy. */
struct snapshot {
	struct kpr_config c; /* first: a snapshot is handed out as its config */
	unsigned long users;
};

static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *snap;

static void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < config_keys_len; i++)
		if (config_keys[i].type == CFG_STR)
			free(*(char **)((char *)&s->c + config_keys[i].offset));
	free(s->c.path);
	free(s);
}

/* A deep copy of c. */
static struct snapshot *snapshot_copy(const struct kpr_config *c)
{
	struct snapshot *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->c = *c;
	bool ok = true;
	for (size_t i = 0; i < config_keys_len; i++) {
		if (config_keys[i].type != CFG_STR)
			continue;
		char **f = (char **)((char *)&s->c + config_keys[i].offset);
		*f = *f ? strdup(*f) : NULL;
		ok = ok && (*f || !*(char *const *)((const char *)c + config_keys[i].offset));
	}
	s->c.path = c->path ? strdup(c->path) : NULL;
	if (!ok || (c->path && !s->c.path)) {
		snapshot_free(s);
		return NULL;
	}
	return s;
}

bool config_publish(const struct kpr_config *c)
{
	struct snapshot *n = snapshot_copy(c);
	if (!n)
		return false;
	pthread_mutex_lock(&snap_mu);
	struct snapshot *old = snap;
	snap = n;
	bool drop = old && old->users == 0;
	pthread_mutex_unlock(&snap_mu);
	if (drop)
		snapshot_free(old);
	return true;
}

const struct kpr_config *config_acquire(void)
{
	pthread_mutex_lock(&snap_mu);
	struct snapshot *s = snap;
	if (s)
		s->users++;
	pthread_mutex_unlock(&snap_mu);
	return s ? &s->c : NULL;
}

void config_release(const struct kpr_config *c)
{
	if (!c)
		return;
	struct snapshot *s = (struct snapshot *)(void *)c;
	pthread_mutex_lock(&snap_mu);
	bool drop = --s->users == 0 && s != snap;
	pthread_mutex_unlock(&snap_mu);
	if (drop)
		snapshot_free(s);
}

void config_unpublish(void)
{
	pthread_mutex_lock(&snap_mu);
	struct snapshot *s = snap;
	snap = NULL;
	bool drop = s && s->users == 0;
	pthread_mutex_unlock(&snap_mu);
	if (drop)
		snapshot_free(s);
}

/* One key of fresh into next, when it may change without a restart. */
static void reload_key(const struct config_key *k, struct kpr_config *next,
		       const struct kpr_config *fresh)
{
	void *dst = (char *)next + k->offset;
	const void *src = (const char *)fresh + k->offset;
	if (value_equal(k, dst, src))
		return;
	if (!k->reloadable) {
		log_warn("config reload: %s.%s changed but takes effect only after a restart",
			 k->section, k->name);
		return;
	}
	log_info("config reload: %s.%s changed", k->section, k->name);
	switch (k->type) {
	case CFG_STR: {
		char *s = strdup(*(char *const *)src);
		if (s) { /* next is not published yet: nobody reads it */
			free(*(char **)dst);
			*(char **)dst = s;
		}
		break;
	}
	case CFG_BOOL:
		*(bool *)dst = *(const bool *)src;
		break;
	case CFG_INT:
		*(int *)dst = *(const int *)src;
		break;
	case CFG_SIZE:
		*(long long *)dst = *(const long long *)src;
		break;
	}
}

bool config_apply_reload(const struct kpr_config *fresh)
{
	const struct kpr_config *cur = config_acquire();
	struct snapshot *n = cur ? snapshot_copy(cur) : NULL;
	if (!n) {
		config_release(cur);
		log_warn("config reload: out of memory; keeping the current values");
		return false;
	}
	for (size_t i = 0; i < config_keys_len; i++)
		reload_key(&config_keys[i], &n->c, fresh);
	enum log_level l;
	if (log_level_parse(n->c.log_level, &l))
		log_set_level(l);
	pthread_mutex_lock(&snap_mu);
	snap = n;
	pthread_mutex_unlock(&snap_mu);
	config_release(cur); /* the superseded copy goes with its last user */
	return true;
}

char *config_read_secret(const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *f = fopen(path, "r");
	if (!f) {
		fail(err, errlen, "%s: cannot open secret: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077)) {
		fail(err, errlen,
		     "%s: secret file must not be readable by group or others (chmod 600)", path);
		fclose(f);
		return NULL;
	}
	char buf[1024];
	if (!fgets(buf, sizeof buf, f)) {
		fail(err, errlen, "%s: secret file is empty", path);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	char *s = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return s;
}

void config_write_example(FILE *out)
{
	const char *section = "";
	fprintf(
	    out,
	    "# kprd configuration — every key, its default and what it does.\n"
	    "# Generated from the key table in server/src/core/config.c (kprctl config example);\n"
	    "# a test checks that this file and the table agree.\n"
	    "# Relative paths are relative to this file's directory. Secrets (passwords,\n"
	    "# TLS key, KEK) live in separate files, mode 0600.\n"
	    "# Keys marked (reload) take effect on SIGHUP; others need a restart.\n");
	for (size_t i = 0; i < config_keys_len; i++) {
		const struct config_key *k = &config_keys[i];
		if (strcmp(section, k->section)) {
			section = k->section;
			fprintf(out, "\n[%s]\n", section);
		}
		fprintf(out, "# %s%s\n", k->doc, k->reloadable ? " (reload)" : "");
		if (k->def)
			fprintf(out, "#%s = %s\n", k->name, k->def);
		else
			fprintf(out, "%s = \n", k->name);
	}
}
