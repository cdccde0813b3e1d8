/*
 * kprctl.h — what the kprctl subcommands share: how to reach the databases
 * as their owner, where the SQL and config files are, and the audit hook.
 * Admin connections come from --register-dsn/--vault-dsn or the environment
 * (KPR_REGISTER_ADMIN_DSN, KPR_VAULT_ADMIN_DSN); passwords from libpq's
 * usual sources (PGPASSFILE), never from the command line.
 */
#ifndef KPRCTL_H
#define KPRCTL_H

#include "db.h"
#include "kpr.h"

struct kprctl {
	const char *register_dsn;
	const char *vault_dsn;
	const char *sql_dir;
	const char *config_dir;
	const char *actor; /* who runs the command: $SUDO_USER, $USER */
};

extern struct kprctl kprctl;

/* Connects as the database owner; prints the reason and returns NULL on failure. */
struct db *kprctl_connect_register(void) KPR_WUR;
struct db *kprctl_connect_vault(void) KPR_WUR;

/* Appends an admin action to the hash-chained kpr.audit (actor = the OS
 * user running kprctl). False, with the reason printed, when it could not. */
bool kprctl_audit(struct db *register_db, const char *action, const char *detail) KPR_WUR;
/* The same for an action on one submission: its id goes into the audit's
 * own uuid column, never into free text (an id may hold 11 digits in a row). */
bool kprctl_audit_submission(struct db *register_db, const char *action,
			     const char *submission_id) KPR_WUR;

int kprctl_cmd_db(int argc, char **argv);
int kprctl_cmd_reprocess(int argc, char **argv);
int kprctl_cmd_verify(int argc, char **argv);
int kprctl_cmd_token(int argc, char **argv);
int kprctl_cmd_ref(int argc, char **argv);
int kprctl_cmd_config(int argc, char **argv);
/* cmd_reid.c, cmd_reserve.c, cmd_audit.c (exit codes: 0 ok, 1 failure or
 * nothing found, 2 usage error — nothing looked up, nothing audited) */
int kprctl_cmd_reidentify(int argc, char **argv);
int kprctl_cmd_reserve(int argc, char **argv);
int kprctl_cmd_unreserve(int argc, char **argv);
int kprctl_cmd_audit(int argc, char **argv);

#endif
