/*
 * ingest_feedback.c — one attempt's feedback files (SPEC §6): the five
 * formats of the whole file and of each named unit, rendered under the
 * attempt's own random token, each file's writeback started as it is
 * written and all of them fsync'd together, with the directory, before the
 * final transaction points at them; and the removal of a token's files and
 * the sweep of other attempts' after the commit.
 * Must not: write over a file that may be served (a new token per attempt).
 */
#include "ingest_job.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "failpoint.h"
#include "files.h"
#include "hex.h"
#include "log.h"
#include "received.h"
#include "store_kommune.h"
#include "store_received.h"
#include "store_submission.h"

/* Removes the feedback files of one token of this submission: the five
 * formats of the whole file and every unit's (<id>.<token>.*); an empty
 * token: the whole file's written before tokens. Files of a format not
 * written are simply absent. */
void ingest_feedback_remove(const struct job *j, const char *token)
{
	const char *dir = j->in->cfg->feedback_dir;
	for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++) {
		char path[4200];
		if (feedback_path(path, sizeof path, dir, j->sub_id, token, 0,
				  (enum feedback_format)f) &&
		    unlink(path) != 0 && errno != ENOENT)
			rlog_warn(j->sub_id, "cannot remove feedback file: %s", strerror(errno));
	}
	if (!token[0])
		return;
	DIR *d = opendir(dir);
	if (!d) {
		rlog_warn(j->sub_id, "cannot list the feedback directory: %s", strerror(errno));
		return;
	}
	size_t tl = strlen(token);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (strncmp(n, j->sub_id, 36) != 0 || n[36] != '.' ||
		    strncmp(n + 37, token, tl) != 0 || n[37 + tl] != '.')
			continue;
		if (unlinkat(dirfd(d), n, 0) != 0 && errno != ENOENT)
			rlog_warn(j->sub_id, "cannot remove feedback file: %s", strerror(errno));
	}
	closedir(d);
}

/* After the commit: removes this submission's feedback files of other
 * tokens written before `before` less a margin (clock steps and another
 * host's clock on a shared directory): a half-written file of a crashed
 * attempt, one of an attempt that lost its lease. A file written later may
 * be a new reprocessing's, and is left to the reconciler. */
void ingest_feedback_sweep(const struct job *j, time_t before)
{
	DIR *d = opendir(j->in->cfg->feedback_dir);
	if (!d)
		return;
	size_t tl = strlen(j->fb_token);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		struct stat st;
		if (strncmp(n, j->sub_id, 36) != 0 || n[36] != '.' ||
		    (!strncmp(n + 37, j->fb_token, tl) && n[37 + tl] == '.') ||
		    fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_mtime >= before - 60)
			continue;
		if (unlinkat(dirfd(d), n, 0) != 0 && errno != ENOENT)
			rlog_warn(j->sub_id, "cannot remove a stale feedback file: %s",
				  strerror(errno));
	}
	closedir(d);
}

/* Writes and closes one feedback file, its writeback started but not
 * waited for (sync_feedback makes them all durable at once); false with
 * errno. */
static bool write_one(const char *path, enum feedback_format f, const struct feedback_meta *m,
		      struct report *report)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
		return false;
	}
	bool ok = feedback_write(out, f, m, report);
	failpoint("job.feedback_write"); /* a file half written */
	int e = ok ? 0 : errno;
	if (ok && fflush(out) != 0)
		ok = false, e = errno;
	/* the disk starts on it while the next file is rendered */
	if (ok && sync_file_range(fileno(out), 0, 0, SYNC_FILE_RANGE_WRITE) != 0 &&
	    errno != ENOSYS && errno != EINVAL && errno != ESPIPE)
		ok = false, e = errno;
	if (fclose(out) != 0 && ok)
		ok = false, e = errno;
	errno = e;
	return ok;
}

/* One file of this attempt: the whole file's (unit 0) or a unit's. */
static bool write_file(struct job *j, const struct feedback_meta *m, unsigned unit,
		       enum feedback_format f)
{
	char path[4200];
	if (!feedback_path(path, sizeof path, j->in->cfg->feedback_dir, j->sub_id, j->fb_token,
			   unit, f)) {
		j->fault = FAULT_LOCAL_IO;
		return false;
	}
	if (!write_one(path, f, m, j->report)) {
		/* a renderer fails only when a write does: the errno is an I/O
		 * one (or ENOENT for a unit the report does not know: a bug) */
		j->fault = io_fault(errno);
		log_error("job %s: writing feedback %s failed: %s", j->sub_id, path,
			  strerror(errno));
		return false;
	}
	return true;
}

/* The units that get feedback of their own: every named unit of the report
 * (not the file without a unit, not R110's unknown one, not the "other
 * units" row), in the report's order; the first FEEDBACK_UNIT_FILES_MAX get
 * files, the others are recorded without (too_many_units). */
static bool list_units(struct job *j)
{
	const struct report_unit **rows = NULL;
	long n = report_units(j->report, &rows);
	if (n < 0) {
		j->fault = FAULT_INTERNAL;
		return false;
	}
	j->units = calloc(n > 0 ? (size_t)n : 1, sizeof *j->units);
	if (!j->units) {
		free(rows);
		j->fault = FAULT_INTERNAL;
		return false;
	}
	for (long i = 0; i < n; i++) {
		const char *e = rows[i]->enhet;
		/* R110 let no candidate through; the register checks again */
		if (!e || !e[0] || !strcmp(e, REPORT_UNIT_UNKNOWN) ||
		    !copy_rows_storable(&j->nid, e))
			continue;
		if (!(j->units[j->nunits] = strdup(e))) {
			free(rows);
			j->fault = FAULT_INTERNAL;
			return false;
		}
		j->nunits++;
	}
	free(rows);
	j->unit_files = j->nunits < FEEDBACK_UNIT_FILES_MAX ? j->nunits : FEEDBACK_UNIT_FILES_MAX;
	if (j->nunits > j->unit_files)
		rlog_info(j->sub_id, "%zu units: files of their own for the first %zu only",
			  j->nunits, j->unit_files);
	return true;
}

/* The feedback files of this attempt, as <id>.<token>.<ext> (and
 * <id>.<token>.u<n>.<ext> per unit) under a random token of its own:
 * nothing is served from them until the final transaction records the
 * token, so a worker that lost its lease and resumes never overwrites what
 * the committed attempt wrote. */
/* fsync of every file this attempt wrote (unit 0 and 1..unit_files), then
 * of the directory: one wait for all of them, after write_one started each
 * file's writeback. */
static bool sync_feedback(struct job *j)
{
	const char *dir = j->in->cfg->feedback_dir;
	for (size_t u = 0; u <= j->unit_files; u++)
		for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++) {
			char path[4200];
			if (!feedback_path(path, sizeof path, dir, j->sub_id, j->fb_token,
					   (unsigned)u, (enum feedback_format)f)) {
				j->fault = FAULT_LOCAL_IO;
				return false;
			}
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			bool ok = fd >= 0 && fsync(fd) == 0;
			int e = errno;
			if (fd >= 0)
				close(fd);
			if (!ok) {
				j->fault = io_fault(e);
				log_error("job %s: fsync of feedback %s failed: %s", j->sub_id,
					  path, strerror(e));
				return false;
			}
		}
	/* the names are durable before the transaction that points at them */
	if (!files_fsync_dir(dir)) {
		j->fault = io_fault(errno);
		return false;
	}
	return true;
}

/* The five formats of the whole file, then of each unit with files of its
 * own; durable before the final transaction points at them. */
static bool write_files(struct job *j, struct feedback_meta *m)
{
	j->fb_written = true; /* from here on, a failure removes what was written */
	double t0 = now_s();
	for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++)
		if (!write_file(j, m, 0, (enum feedback_format)f))
			return false;
	if (!list_units(j))
		return false;
	for (size_t u = 0; u < j->unit_files; u++) {
		m->enhet = j->units[u];
		for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++)
			if (!write_file(j, m, (unsigned)u + 1, (enum feedback_format)f))
				return false;
	}
	bool ok = sync_feedback(j);
	j->feedback_seconds = now_s() - t0;
	return ok;
}

bool ingest_feedback_write(struct job *j, struct db *reg)
{
	char navn[128];
	bool named = false;
	if (!store_kommune_name(reg, j->kommune, navn, sizeof navn, &named))
		named = false; /* the feedback goes without the name */
	if (!store_submission_clock(reg, j->processed_at))
		return false;
	if (!hex_random(j->fb_token, FEEDBACK_TOKEN_LEN / 2))
		return false;
	const struct v_header *h = &j->vres.header;
	struct feedback_meta m = {
	    .submission_id = j->sub_id,
	    .innsending_id = h->id[0] ? h->id : NULL,
	    .kommunenummer = j->kommune,
	    .kommunenavn = named && navn[0] ? navn : NULL,
	    .aargang = h->aargang,
	    .status = ingest_final_status(j, report_summary(j->report)),
	    .received_at = j->received_at,
	    .processed_at = j->processed_at,
	    .sha256 = j->sha256,
	    .bytes = (unsigned long long)j->bytes,
	    .fagsystem = h->fagsystem[0] ? h->fagsystem : NULL,
	    .fagsystem_versjon = h->fagsystem_versjon[0] ? h->fagsystem_versjon : NULL,
	    .dry_run = j->dry_run,
	    .nid = &j->nid,
	};
	/* what was received, beside the previous årgang's (not for a rejected
	 * file: nothing of it is loaded) */
	struct received_compare cmp;
	received_compare_init(&cmp);
	cmp.threshold_percent = j->cfg->received_change_threshold_percent;
	if (h->aargang > 0 && !report_summary(j->report)->fatal &&
	    !store_received_previous(reg, j->kommune, h->aargang, &cmp)) {
		received_compare_clear(&cmp);
		j->fault = FAULT_DATABASE;
		return false;
	}
	m.received = &cmp;
	bool ok = write_files(j, &m);
	received_compare_clear(&cmp);
	return ok;
}
