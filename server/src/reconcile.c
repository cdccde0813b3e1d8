/*
 * reconcile.c — see reconcile.h. Every decision to remove a file is taken
 * from the database's answer for that file's submission id, asked after
 * checking that this process is not holding the file (the order matters:
 * a file released by this process has its row committed before the
 * release).
 */
#include "reconcile.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "failpoint.h"
#include "feedback.h"
#include "log.h"
#include "spool.h"

struct reconciler {
	const struct kpr_config *cfg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
};

static const struct db_stmt st_requeue = {
    "reconcile_requeue",
    "WITH missing AS ("
    "  INSERT INTO kpr.job (submission_id) SELECT s.id FROM kpr.submission s"
    "  WHERE s.status IN ('received', 'processing')"
    "    AND NOT EXISTS (SELECT 1 FROM kpr.job j WHERE j.submission_id = s.id)"
    "  ON CONFLICT DO NOTHING RETURNING 1),"
    " stale AS ("
    "  UPDATE kpr.job j SET state = 'queued', worker = NULL, lease_until = NULL,"
    "   not_before = NULL, updated_at = now()"
    "  FROM kpr.submission s WHERE s.id = j.submission_id AND j.state = 'done'"
    "   AND s.status IN ('received', 'processing') RETURNING 1)"
    " SELECT (SELECT count(*) FROM missing) + (SELECT count(*) FROM stale)",
    0};
/* What may happen to the spool file of one submission: 'keep', 'processed'
 * (final, its job done), 'failed_expired'. No row: the file has none. */
static const struct db_stmt st_spool_fate = {
    "reconcile_spool_fate",
    "SELECT CASE"
    "  WHEN j.state IS DISTINCT FROM 'done' THEN 'keep'"
    "  WHEN s.status = 'failed' AND s.processed_at < now() - make_interval(days => $2::int)"
    "   THEN 'failed_expired'"
    "  WHEN s.status IN ('accepted', 'accepted_with_errors', 'rejected', 'superseded',"
    "   'validated') THEN 'processed'"
    "  ELSE 'keep' END"
    " FROM kpr.submission s LEFT JOIN kpr.job j ON j.submission_id = s.id"
    " WHERE s.id = $1::uuid",
    2};
static const struct db_stmt st_failed = {
    "reconcile_failed",
    "SELECT id::text FROM kpr.submission WHERE status = 'failed' AND NOT feedback_ready", 0};

/* The reloadable settings one pass uses, read once under the config lock. */
struct pass {
	const struct kpr_config *cfg; /* its paths, which are not reloadable */
	long safe_age;                /* seconds */
	int retention_days;
	bool keep_processed;
};

struct fileinfo {
	char name[256];
	char id[37];
	long age; /* seconds since the last modification */
};

/* Does name start with a lower-case UUID (as kprd writes them)? */
static bool uuid_prefix(const char *name)
{
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (!name[i] || (dash ? name[i] != '-' : !strchr("0123456789abcdef", name[i])))
			return false;
	}
	return true;
}

/* "<uuid>.xml", "<uuid>.xml.gz": a final spool name; the id goes to id. */
static bool spool_name(const char *name, char id[37])
{
	if (!uuid_prefix(name) || (strcmp(name + 36, ".xml") && strcmp(name + 36, ".xml.gz")))
		return false;
	memcpy(id, name, 36);
	id[36] = '\0';
	return true;
}

static bool remove_at(int dfd, const char *name)
{
	if (unlinkat(dfd, name, 0) != 0)
		return errno == ENOENT;
	failpoint("reconcile.after_unlink");
	return true;
}

/* Asks the fate of one spool file; false on a database failure. */
static bool spool_one(const struct pass *ps, struct db *db, int dfd, const struct fileinfo *f,
		      struct reconcile_counts *c)
{
	char days[16];
	snprintf(days, sizeof days, "%d", ps->retention_days);
	const char *p[] = {f->id, days};
	PGresult *r = db_exec(db, &st_spool_fate, p, NULL);
	if (!r)
		return false;
	const char *fate = PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : NULL;
	if (!fate) {
		if (f->age >= ps->safe_age && remove_at(dfd, f->name))
			c->spool_orphans++;
	} else if (!strcmp(fate, "processed")) {
		if (!ps->keep_processed && remove_at(dfd, f->name))
			c->spool_processed++;
	} else if (!strcmp(fate, "failed_expired")) {
		if (remove_at(dfd, f->name))
			c->spool_failed++;
	}
	PQclear(r);
	return true;
}

static bool reconcile_spool(const struct pass *ps, struct db *db, struct reconcile_counts *c)
{
	DIR *d = opendir(ps->cfg->spool_dir);
	if (!d)
		return true;
	bool ok = true;
	time_t now = time(NULL);
	struct dirent *e;
	while (ok && (e = readdir(d))) {
		struct fileinfo f;
		struct stat st;
		if (!spool_name(e->d_name, f.id) || spool_in_flight(e->d_name) ||
		    fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
			continue;
		snprintf(f.name, sizeof f.name, "%s", e->d_name);
		f.age = (long)(now - st.st_mtime);
		ok = spool_one(ps, db, dirfd(d), &f, c);
	}
	closedir(d);
	return ok;
}

/* "<id>.<ext>.XXXXXX": write_feedback's temporary names (mkstemp). */
static bool feedback_tmp_name(const char *name)
{
	if (!uuid_prefix(name) || name[36] != '.')
		return false;
	for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++) {
		const char *ext = feedback_extension((enum feedback_format)f);
		size_t l = strlen(ext);
		if (!strncmp(name + 37, ext, l) && name[37 + l] == '.' &&
		    strlen(name + 38 + l) == 6)
			return true;
	}
	return false;
}

static void reconcile_feedback_tmp(const struct pass *ps, struct reconcile_counts *c)
{
	DIR *d = opendir(ps->cfg->feedback_dir);
	if (!d)
		return;
	time_t now = time(NULL);
	long safe = ps->safe_age;
	struct dirent *e;
	while ((e = readdir(d))) {
		struct stat st;
		if (!feedback_tmp_name(e->d_name) || fstatat(dirfd(d), e->d_name, &st, 0) != 0 ||
		    !S_ISREG(st.st_mode) || now - st.st_mtime < safe)
			continue;
		if (remove_at(dirfd(d), e->d_name))
			c->feedback_tmp++;
	}
	closedir(d);
}

/* A failed submission's feedback (from an attempt before the failure) is
 * never served; it goes. */
static bool reconcile_feedback_failed(const struct kpr_config *cfg, struct db *db,
				      struct reconcile_counts *c)
{
	PGresult *r = db_exec(db, &st_failed, NULL, NULL);
	if (!r)
		return false;
	for (int i = 0; i < PQntuples(r); i++)
		for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++) {
			char path[4200];
			snprintf(path, sizeof path, "%s/%s.%s", cfg->feedback_dir,
				 PQgetvalue(r, i, 0), feedback_extension((enum feedback_format)f));
			if (unlink(path) == 0)
				c->feedback_failed++;
		}
	PQclear(r);
	return true;
}

bool reconcile_once(const struct kpr_config *cfg, struct db *db, struct reconcile_counts *c)
{
	memset(c, 0, sizeof *c);
	config_read_lock();
	struct pass ps = {cfg, (long)cfg->reconcile_safe_age_minutes * 60,
			  cfg->failed_file_retention_days, cfg->keep_processed_files};
	config_read_unlock();
	c->partial = spool_sweep_incoming(cfg->spool_dir, (int)ps.safe_age);
	reconcile_feedback_tmp(&ps, c);
	if (!db_ensure(db))
		return false;
	PGresult *r = db_exec(db, &st_requeue, NULL, NULL);
	if (!r)
		return false;
	c->requeued = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return reconcile_spool(&ps, db, c) && reconcile_feedback_failed(cfg, db, c);
}

static void log_counts(const struct reconcile_counts *c)
{
	if (!(c->spool_orphans | c->spool_processed | c->spool_failed | c->partial |
	      c->feedback_tmp | c->feedback_failed | c->requeued))
		return;
	log_info("reconcile: removed %d spool files without a submission, %d of processed "
		 "submissions, %d of failed submissions past retention, %d partial uploads, "
		 "%d feedback temporary files, %d feedback files of failed submissions; "
		 "re-queued %d submissions",
		 c->spool_orphans, c->spool_processed, c->spool_failed, c->partial, c->feedback_tmp,
		 c->feedback_failed, c->requeued);
}

static void *reconciler_main(void *arg)
{
	struct reconciler *rc = arg;
	struct db *db =
	    db_new(rc->cfg->register_dsn, rc->cfg->register_password_file, "register/reconcile");
	pthread_mutex_lock(&rc->mu);
	while (!rc->stopping) {
		pthread_mutex_unlock(&rc->mu);
		config_read_lock();
		int interval = rc->cfg->reconcile_interval_seconds;
		config_read_unlock();
		struct reconcile_counts c;
		if (db && reconcile_once(rc->cfg, db, &c))
			log_counts(&c);
		else
			log_warn("reconcile: pass incomplete (database unavailable); next in %d s",
				 interval);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += interval;
		pthread_mutex_lock(&rc->mu);
		if (!rc->stopping)
			pthread_cond_timedwait(&rc->cv, &rc->mu, &ts);
	}
	pthread_mutex_unlock(&rc->mu);
	db_free(db);
	return NULL;
}

struct reconciler *reconciler_start(const struct kpr_config *cfg, char *err, size_t errlen)
{
	struct reconciler *rc = calloc(1, sizeof *rc);
	if (!rc) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc->cfg = cfg;
	pthread_mutex_init(&rc->mu, NULL);
	pthread_cond_init(&rc->cv, NULL);
	if (pthread_create(&rc->thread, NULL, reconciler_main, rc) != 0) {
		snprintf(err, errlen, "cannot start the reconciler thread");
		pthread_mutex_destroy(&rc->mu);
		pthread_cond_destroy(&rc->cv);
		free(rc);
		return NULL;
	}
	return rc;
}

void reconciler_stop(struct reconciler *rc)
{
	if (!rc)
		return;
	pthread_mutex_lock(&rc->mu);
	rc->stopping = true;
	pthread_cond_broadcast(&rc->cv);
	pthread_mutex_unlock(&rc->mu);
	pthread_join(rc->thread, NULL);
	pthread_mutex_destroy(&rc->mu);
	pthread_cond_destroy(&rc->cv);
	free(rc);
}
