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
#include <fcntl.h>
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
#include "store_job.h"
#include "store_submission.h"
#include "uuid.h"
#include "waits.h"

struct reconciler {
	const struct kpr_config *cfg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
};

/* The reloadable settings one pass uses, read once under the config lock. */
struct pass {
	const struct kpr_config *cfg; /* its paths, which are not reloadable */
	long safe_age;                /* seconds */
	int retention_days;
	bool keep_processed;
};

/* One regular file of a directory the reconciler walks: its name and its
 * age (seconds since the last modification). False on a database failure,
 * which ends the walk. */
typedef bool (*file_fn)(const struct pass *ps, struct db *db, int dfd, const char *name, long age,
			struct reconcile_counts *c);

/* Calls fn for every regular file of dir; a missing dir is no failure. */
static bool walk(const char *dir, file_fn fn, const struct pass *ps, struct db *db,
		 struct reconcile_counts *c)
{
	DIR *d = opendir(dir);
	if (!d)
		return true;
	bool ok = true;
	time_t now = time(NULL);
	struct dirent *e;
	while (ok && (e = readdir(d))) {
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		ok = fn(ps, db, dirfd(d), e->d_name, (long)(now - st.st_mtime), c);
	}
	closedir(d);
	return ok;
}

/* "<uuid>.xml", "<uuid>.xml.gz": a final spool name; the id goes to id. */
static bool spool_name(const char *name, char id[37])
{
	if (!uuid_prefix_valid(name) || (strcmp(name + 36, ".xml") && strcmp(name + 36, ".xml.gz")))
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

/* Asks the fate of one spool file (other names, and files this process is
 * writing, are left alone); false on a database failure. */
static bool spool_one(const struct pass *ps, struct db *db, int dfd, const char *name, long age,
		      struct reconcile_counts *c)
{
	char id[37];
	if (!spool_name(name, id) || spool_in_flight(name))
		return true;
	enum store_spool_fate fate;
	if (!store_submission_spool_fate(db, id, ps->retention_days, &fate))
		return false;
	switch (fate) {
	case STORE_SPOOL_NO_ROW:
		if (age >= ps->safe_age && remove_at(dfd, name))
			c->spool_orphans++;
		break;
	case STORE_SPOOL_PROCESSED:
		if (!ps->keep_processed && remove_at(dfd, name))
			c->spool_processed++;
		break;
	case STORE_SPOOL_FAILED_EXPIRED:
		if (remove_at(dfd, name))
			c->spool_failed++;
		break;
	case STORE_SPOOL_KEEP:
		break;
	}
	return true;
}

/* The pieces of a feedback file's name: "<id>.<token>.<ext>" or, a unit's
 * file, "<id>.<token>.u<n>.<ext>" (written by an attempt, feedback_path),
 * "<id>.<ext>" (written before tokens), or anything else after "<id>." (a
 * temporary file of an earlier version). */
struct fb_name {
	char id[37];
	char token[FEEDBACK_TOKEN_LEN + 1]; /* "" for "<id>.<ext>" */
	bool complete;                      /* a final name, not a temporary one */
};

static bool is_extension(const char *s)
{
	for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++)
		if (!strcmp(s, feedback_extension((enum feedback_format)f)))
			return true;
	return false;
}

static bool feedback_name(const char *name, struct fb_name *n)
{
	if (!uuid_prefix_valid(name) || name[36] != '.')
		return false;
	memcpy(n->id, name, 36);
	n->id[36] = '\0';
	n->token[0] = '\0';
	const char *rest = name + 37;
	size_t hex = strspn(rest, "0123456789abcdef");
	if (hex == FEEDBACK_TOKEN_LEN && rest[hex] == '.') {
		memcpy(n->token, rest, hex);
		n->token[hex] = '\0';
		rest += hex + 1;
		/* a unit's file: u<n>, n from 1 without leading zeros */
		size_t digits = rest[0] == 'u' ? strspn(rest + 1, "0123456789") : 0;
		if (digits > 0 && digits <= 9 && rest[1] != '0' && rest[1 + digits] == '.')
			rest += digits + 2;
	}
	n->complete = is_extension(rest);
	return true;
}

/* Whether one feedback file is the one served for its submission, or may
 * become so: a file stays while an attempt of its submission is queued or
 * running, or when its token is the committed one; any other goes (an
 * attempt that crashed mid-write, lost its lease or was replaced by a
 * reprocessing, a failed submission's, one without a row past the safe
 * age). False on a database failure. */
static bool feedback_one(const struct pass *ps, struct db *db, int dfd, const char *file, long age,
			 struct reconcile_counts *c)
{
	struct fb_name n;
	if (!feedback_name(file, &n))
		return true;
	struct store_feedback_fate fate;
	if (!store_submission_feedback_fate(db, n.id, &fate))
		return false;
	bool remove = false, failed = false;
	if (!fate.row) {
		remove = age >= ps->safe_age;
	} else if (fate.failed) {
		remove = failed = true;
	} else if (fate.job_done) {
		bool current = n.complete && fate.feedback_ready && !strcmp(n.token, fate.token);
		remove = !current;
	}
	if (remove && remove_at(dfd, file))
		(*(failed ? &c->feedback_failed : &c->feedback_stale))++;
	return true;
}

bool reconcile_once(const struct kpr_config *cfg, struct db *db, struct reconcile_counts *c)
{
	memset(c, 0, sizeof *c);
	/* the published configuration's reloadable values, else (a tool or a
	 * test that publishes none) cfg's */
	const struct kpr_config *snap = config_acquire(), *r = snap ? snap : cfg;
	struct pass ps = {cfg, (long)r->reconcile_safe_age_minutes * 60,
			  r->failed_file_retention_days, r->keep_processed_files};
	config_release(snap);
	c->partial = spool_sweep_incoming(cfg->spool_dir, (int)ps.safe_age);
	if (!db_ensure(db))
		return false;
	if (!store_job_requeue_orphans(db, &c->requeued))
		return false;
	return walk(cfg->spool_dir, spool_one, &ps, db, c) &&
	       walk(cfg->feedback_dir, feedback_one, &ps, db, c);
}

static void log_counts(const struct reconcile_counts *c)
{
	if (!(c->spool_orphans | c->spool_processed | c->spool_failed | c->partial |
	      c->feedback_stale | c->feedback_failed | c->requeued))
		return;
	log_info("reconcile: removed %d spool files without a submission, %d of processed "
		 "submissions, %d of failed submissions past retention, %d partial uploads, "
		 "%d feedback files no committed attempt wrote, %d feedback files of failed "
		 "submissions; re-queued %d submissions",
		 c->spool_orphans, c->spool_processed, c->spool_failed, c->partial,
		 c->feedback_stale, c->feedback_failed, c->requeued);
}

static void *reconciler_main(void *arg)
{
	struct reconciler *rc = arg;
	struct db *db =
	    db_new(rc->cfg->register_dsn, rc->cfg->register_password_file, "register/reconcile");
	pthread_mutex_lock(&rc->mu);
	while (!rc->stopping) {
		pthread_mutex_unlock(&rc->mu);
		const struct kpr_config *snap = config_acquire();
		int interval = (snap ? snap : rc->cfg)->reconcile_interval_seconds;
		config_release(snap);
		struct reconcile_counts c;
		if (db && reconcile_once(rc->cfg, db, &c))
			log_counts(&c);
		else
			log_warn("reconcile: pass incomplete (database unavailable); next in %d s",
				 interval);
		pthread_mutex_lock(&rc->mu);
		if (!rc->stopping)
			waits_cond_ms(&rc->cv, &rc->mu, interval * 1000L);
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
