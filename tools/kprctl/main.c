/*
 * kprctl — administration of a KPR intake installation: database setup and
 * migrations, reference data, tokens, keys. One file per command group.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "kprctl.h"
#include "log.h"

#if __has_include("cmd_keys.h")
#include "cmd_keys.h"
#include "cmd_reid.h"
#define HAVE_KEYS 1
#endif

struct kprctl kprctl;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kprctl [--register-dsn DSN] [--vault-dsn DSN] [--sql-dir DIR] COMMAND ...\n"
		"\n"
		"  db migrate              apply the numbered SQL migrations (register and vault)\n"
		"  db status               show applied and pending migrations\n"
		"  ref load [--codes FILE] load municipalities, counties and code lists\n"
		"  token issue (--kommune NNNN | --staff) [--name N] [--expires YYYY-MM-DD]\n"
		"  token list | token revoke ID\n"
#ifdef HAVE_KEYS
		"  keys init | status | rotate-kek   (see kprctl keys --help)\n"
#endif
		"  reprocess ID            run a submission again from its spooled file\n"
		"  config example          print every kprd.conf key with its default\n"
		"  reidentify --case C --reason R (--pseudonym P --private-key F | --fnr F)\n"
		"                          innsyn under audit (see kprctl reidentify --help)\n"
		"  reserve | unreserve (--fnr F | --pseudonym P) --case C [--reason R]\n"
		"                          reservation against disclosure, audited\n"
		"  audit verify | list     check the audit hash chains; show audit rows\n"
		"  verify (ID | --all)     the register equals status and feedback, holds no\n"
		"                          national ID, and every pseudonym has its vault entry\n"
		"\n"
		"Admin connections: --register-dsn / $KPR_REGISTER_ADMIN_DSN and\n"
		"--vault-dsn / $KPR_VAULT_ADMIN_DSN (passwords via PGPASSFILE).\n");
}

static const char *default_dir(const char *env, const char *rel)
{
	static char buf[2][PATH_MAX];
	static int which;
	return files_find_data(env, rel, buf[which++ % 2], PATH_MAX);
}

static struct db *connect_owner(const char *dsn, const char *what)
{
	if (!dsn || !*dsn) {
		fprintf(stderr,
			"kprctl: no %s admin connection: pass --%s-dsn or set $KPR_%s_ADMIN_DSN\n",
			what, what, !strcmp(what, "register") ? "REGISTER" : "VAULT");
		return NULL;
	}
	struct db *db = db_new(dsn, NULL, what);
	if (!db || !db_ensure(db)) {
		fprintf(stderr, "kprctl: cannot connect to the %s database: %s\n", what,
			db ? db_last_error(db) : "out of memory");
		db_free(db);
		return NULL;
	}
	return db;
}

struct db *kprctl_connect_register(void)
{
	return connect_owner(kprctl.register_dsn, "register");
}

/* One audit row: the action, who ran kprctl, and either free text or the
 * submission's id (its own uuid column, never free text). */
static bool audit_row(struct db *db, const char *action, const char *detail,
		      const char *submission_id)
{
	static const struct db_stmt st = {"kprctl_audit",
					  "SELECT kpr.audit_admin($1, $2, $3, $4::uuid)", 4};
	const char *p[] = {action, kprctl.actor, detail, submission_id};
	PGresult *r = db_exec(db, &st, p, NULL);
	if (!r) {
		fprintf(stderr, "kprctl: cannot write the audit row: %s\n", db_last_error(db));
		return false;
	}
	PQclear(r);
	return true;
}

bool kprctl_audit_submission(struct db *db, const char *action, const char *submission_id)
{
	return audit_row(db, action, NULL, submission_id);
}

bool kprctl_audit(struct db *db, const char *action, const char *detail)
{
	return audit_row(db, action, detail, NULL);
}

struct db *kprctl_connect_vault(void)
{
	return connect_owner(kprctl.vault_dsn, "vault");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"register-dsn", required_argument, NULL, 'r'},
					     {"vault-dsn", required_argument, NULL, 'v'},
					     {"sql-dir", required_argument, NULL, 's'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	kprctl.register_dsn = getenv("KPR_REGISTER_ADMIN_DSN");
	kprctl.vault_dsn = getenv("KPR_VAULT_ADMIN_DSN");
	kprctl.sql_dir = default_dir("KPR_SQL_DIR", "sql");
	kprctl.config_dir = default_dir("KPR_CONFIG_DIR", "config");
	kprctl.actor = reid_os_user();
	int ch;
	/* options before the command only; the command parses the rest */
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			kprctl.register_dsn = optarg;
			break;
		case 'v':
			kprctl.vault_dsn = optarg;
			break;
		case 's':
			kprctl.sql_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	log_set_level(LOG_LVL_WARN);
	const char *cmd = argv[optind];
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 1;
	if (!strcmp(cmd, "db"))
		return kprctl_cmd_db(sub_argc, sub_argv);
	if (!strcmp(cmd, "token"))
		return kprctl_cmd_token(sub_argc, sub_argv);
	if (!strcmp(cmd, "ref"))
		return kprctl_cmd_ref(sub_argc, sub_argv);
	if (!strcmp(cmd, "reprocess"))
		return kprctl_cmd_reprocess(sub_argc, sub_argv);
	if (!strcmp(cmd, "config"))
		return kprctl_cmd_config(sub_argc, sub_argv);
	if (!strcmp(cmd, "reidentify"))
		return kprctl_cmd_reidentify(sub_argc, sub_argv);
	if (!strcmp(cmd, "reserve"))
		return kprctl_cmd_reserve(sub_argc, sub_argv);
	if (!strcmp(cmd, "unreserve"))
		return kprctl_cmd_unreserve(sub_argc, sub_argv);
	if (!strcmp(cmd, "audit"))
		return kprctl_cmd_audit(sub_argc, sub_argv);
	if (!strcmp(cmd, "verify"))
		return kprctl_cmd_verify(sub_argc, sub_argv);
#ifdef HAVE_KEYS
	if (!strcmp(cmd, "keys"))
		return kprctl_cmd_keys(sub_argc, sub_argv);
#endif
	fprintf(stderr, "kprctl: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
