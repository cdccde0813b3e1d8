/*
 * failpoint.h — named crash points for the crash suite (tests/integration/
 * test_failpoints.sh). Inert unless the environment variable KPR_FAILPOINT
 * names one when kprd starts: `KPR_FAILPOINT=NAME` kills the process with
 * SIGKILL (as `kill -9` would) the first time NAME is reached,
 * `KPR_FAILPOINT=NAME@N` the N-th time. A suffix `:stop` (NAME:stop,
 * NAME@N:stop) stops the whole process with SIGSTOP there instead, to be
 * resumed with SIGCONT: a worker paused past its lease (test_lease.sh).
 * Production never sets it; the test
 * stacks do, one failpoint per start. The names are listed in failpoint.c
 * and the runbook; an unknown name stops kprd at start-up, so a typo in a
 * test cannot pass as "survived".
 */
#ifndef FAILPOINT_H
#define FAILPOINT_H

#include "kpr.h"

/* Reads KPR_FAILPOINT. False (with a message) when it names no failpoint. */
bool failpoint_init(char *err, size_t errlen) KPR_WUR;
/* Kills (or stops) the process when NAME is the armed failpoint and its
 * count is reached. */
void failpoint(const char *name);

#endif
