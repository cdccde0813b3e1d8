/*
 * failpoint.c — see failpoint.h. A failpoint costs one pointer comparison
 * when none is armed.
 */
#include "failpoint.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Every place the crash suite kills kprd, in pipeline order. */
static const char *const known[] = {
    "upload.after_fsync",    /* the spooled file is fsync'd, not yet renamed */
    "upload.after_rename",   /* it has its final name, no row yet */
    "upload.after_insert",   /* the submission and job are recorded, no 202 sent */
    "job.vault_batch",       /* inside a vault batch, before its commit */
    "job.after_validate",    /* validation done, nothing loaded */
    "job.feedback_write",    /* part of this attempt's feedback file written */
    "job.before_commit",     /* the final load transaction is complete, not committed */
    "job.after_commit",      /* committed; the spool file not yet removed */
    "reconcile.after_unlink" /* the reconciler removed one file and goes on */
};

static const char *armed;
static long armed_at = 1;
static bool stop_instead; /* ":stop": SIGSTOP instead of SIGKILL */
static long hits;

bool failpoint_init(char *err, size_t errlen)
{
	const char *v = getenv("KPR_FAILPOINT");
	if (!v || !*v)
		return true;
	size_t n = strcspn(v, "@:");
	const char *action = strchr(v, ':');
	if (v[n] == '@') {
		char *end;
		armed_at = strtol(v + n + 1, &end, 10);
		if ((*end && *end != ':') || armed_at < 1) {
			snprintf(err, errlen, "KPR_FAILPOINT: bad count in '%s'", v);
			return false;
		}
	}
	if (action && strcmp(action, ":stop") != 0 && strcmp(action, ":kill") != 0) {
		snprintf(err, errlen, "KPR_FAILPOINT: the action must be kill or stop, not '%s'",
			 action + 1);
		return false;
	}
	stop_instead = action && !strcmp(action, ":stop");
	for (size_t i = 0; i < KPR_ARRAY_LEN(known); i++)
		if (strlen(known[i]) == n && !strncmp(known[i], v, n)) {
			armed = known[i];
			log_warn("failpoint %s armed (hit %ld %s kprd): test stacks only", armed,
				 armed_at, stop_instead ? "stops" : "kills");
			return true;
		}
	snprintf(err, errlen, "KPR_FAILPOINT: no failpoint named '%.*s'", (int)n, v);
	return false;
}

void failpoint(const char *name)
{
	if (!armed || strcmp(name, armed) != 0)
		return;
	if (__atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST) != armed_at)
		return;
	if (stop_instead) {
		/* every thread stops, heartbeat included, as when the host is
		 * paused or the process swapped out; SIGCONT resumes it here */
		log_warn("failpoint %s reached: stopping kprd (SIGSTOP)", name);
		/* directed at this thread, so that it stops here and now; a
		 * process-directed SIGSTOP may be taken by another thread while
		 * this one runs on for a moment */
		raise(SIGSTOP);
		log_warn("failpoint %s: kprd resumed", name);
		return;
	}
	log_warn("failpoint %s reached: killing kprd", name);
	kill(getpid(), SIGKILL);
	_exit(137); /* not reached */
}
