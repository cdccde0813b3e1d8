/*
 * cmd_reid.h — `kprctl reidentify` (innsyn), `kprctl reserve|unreserve`
 * and `kprctl audit`, plus what they share: reading a national ID from the
 * operator without it reaching a log, turning it into a pseudonym, and who
 * the operator is.
 */
#ifndef CMD_REID_H
#define CMD_REID_H

#include "kpr.h"
#include "pseudo.h"

/* Shortest reason accepted for a re-identification (SPEC §4). */
#define REID_REASON_MIN 10

/* The operator's OS user: $SUDO_USER, $USER, else the passwd entry. */
const char *reid_os_user(void);

/* Case number and reason as the database will check them: a case number,
 * a reason of at least min_reason characters (0: optional), and nothing
 * that looks like a national ID in either. Prints why on stderr. */
bool reid_check_case(const char *cmd, const char *case_no, const char *reason,
		     int min_reason) KPR_WUR;

/* The pseudonym of a national ID given on the command line, or read from
 * stdin when fnr_arg is "-" (keeps it out of the process list and shell
 * history). Checks 11 digits and control digits, loads the current
 * pseudonym key from keys_dir and wipes every copy of the ID and the key,
 * fnr_arg included (so it leaves the process's command line at once).
 * Prints why on stderr (never the ID). */
bool reid_pseudonym_from_fnr(const char *cmd, const char *keys_dir, char *fnr_arg,
			     struct pseudonym *out) KPR_WUR;

#endif
