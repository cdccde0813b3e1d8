/*
 * cmd_reserve.c — `kprctl reserve|unreserve`: a person's reservation
 * (reservasjon) against disclosure, recorded per pseudonym in the register
 * (kpr.reservation) through kpr.reserve()/kpr.unreserve(), which write the
 * audit row (kpr.audit) in the same statement. Reserved persons drop out of
 * the kpr.disclosure_* views that every disclosure extract reads.
 *
 * The national ID is turned into a pseudonym here, with the pseudonym key;
 * it never reaches the database, a log or the output.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_reid.h"
#include "kprctl.h"

static const struct db_stmt st_reserve = {
    "reserve",
    "SELECT reservation_id, created, audit_id"
    " FROM kpr.reserve(decode($1, 'hex'), $2::int, $3, $4, $5)",
    5};
static const struct db_stmt st_unreserve = {
    "unreserve",
    "SELECT reservation_id, audit_id FROM kpr.unreserve(decode($1, 'hex'), "
    "$2::int, $3, $4, $5)",
    5};
static const struct db_stmt st_last_audit = {
    "reserve_last_audit",
    "SELECT max(id) FROM kpr.audit WHERE action = 'unreserve' AND pseudonym = "
    "decode($1, 'hex')"
    " AND key_version = $2::int",
    2};

static void usage(FILE *out, const char *cmd)
{
	fprintf(out,
		"usage: kprctl %s (--fnr F | --pseudonym P) --case CASE [--reason TEXT]\n"
		"                 [--keys-dir DIR]\n"
		"\n"
		"%s\n"
		"  --fnr F          the person's national ID (\"-\" reads it from "
		"stdin); turned\n"
		"                   into a pseudonym with the pseudonym key in "
		"--keys-dir\n"
		"                   (default $KPR_KEYS_DIR)\n"
		"  --pseudonym P    the person's pseudonym, \"<version>:<32 hex>\"\n"
		"  --case CASE      the case number of the request (required)\n"
		"  --reason TEXT    free text for the audit log (never a national ID)\n",
		cmd,
		!strcmp(cmd, "reserve")
		    ? "Records the person's reservation against disclosure: from now on "
		      "the person\n"
		      "is left out of every kpr.disclosure_* view. Audited in "
		      "kpr.audit.\n"
		      "Reserving an already reserved person changes nothing (and says "
		      "so).\n"
		    : "Revokes the person's active reservation (kept as history). "
		      "Audited in\n"
		      "kpr.audit. Exit 1 when there is no active reservation.\n");
}

static int run(int argc, char **argv, bool reserve)
{
	const char *cmd = reserve ? "reserve" : "unreserve";
	static const struct option opts[] = {{"case", required_argument, NULL, 'c'},
					     {"reason", required_argument, NULL, 'r'},
					     {"pseudonym", required_argument, NULL, 'p'},
					     {"fnr", required_argument, NULL, 'f'},
					     {"keys-dir", required_argument, NULL, 'd'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *case_no = NULL, *reason = NULL, *pseudonym = NULL;
	const char *keys_dir = getenv("KPR_KEYS_DIR");
	char *fnr = NULL;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			case_no = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'p':
			pseudonym = optarg;
			break;
		case 'f':
			fnr = optarg;
			break;
		case 'd':
			keys_dir = optarg;
			break;
		case 'h':
			usage(stdout, cmd);
			return 0;
		default:
			usage(stderr, cmd);
			return 2;
		}
	}
	if (optind != argc || (pseudonym == NULL) == (fnr == NULL)) {
		fprintf(stderr, "kprctl %s: give exactly one of --fnr and --pseudonym\n", cmd);
		usage(stderr, cmd);
		return 2;
	}
	if (!reid_check_case(cmd, case_no, reason, 0))
		return 2;
	struct pseudonym p;
	if (pseudonym) {
		if (!pseudo_parse(pseudonym, &p)) {
			fprintf(stderr, "kprctl %s: --pseudonym wants \"<version>:<32 hex>\"\n",
				cmd);
			return 2;
		}
	} else if (!reid_pseudonym_from_fnr(cmd, keys_dir, fnr, &p)) {
		return 2;
	}
	char hex[PSEUDO_HEX_LEN + 1], ver[16], text[PSEUDO_TEXT_MAX];
	pseudo_to_hex(&p, hex);
	pseudo_format(&p, text);
	snprintf(ver, sizeof ver, "%d", p.key_version);
	struct db *db = kprctl_connect_register();
	if (!db)
		return 1;
	const char *params[] = {hex, ver, case_no, reason && *reason ? reason : NULL,
				reid_os_user()};
	PGresult *r = db_exec(db, reserve ? &st_reserve : &st_unreserve, params, NULL);
	int rc = 1;
	if (!r) {
		fprintf(stderr, "kprctl %s: the register refused: %s\n", cmd, db_last_error(db));
		goto out;
	}
	if (reserve) {
		if (PQntuples(r) != 1)
			goto out;
		bool created = !strcmp(PQgetvalue(r, 0, 1), "t");
		printf("%s %s: reservation %s (case %s); audit kpr.audit id %s\n", text,
		       created ? "reserved" : "was already reserved", PQgetvalue(r, 0, 0), case_no,
		       PQgetvalue(r, 0, 2));
		rc = 0;
	} else if (PQntuples(r) == 1) {
		printf("%s: reservation %s revoked (case %s); audit kpr.audit id %s\n", text,
		       PQgetvalue(r, 0, 0), case_no, PQgetvalue(r, 0, 1));
		rc = 0;
	} else {
		PQclear(r);
		const char *aparams[] = {hex, ver};
		r = db_exec(db, &st_last_audit, aparams, NULL);
		fprintf(stderr,
			"kprctl unreserve: %s has no active reservation (audited: "
			"kpr.audit id %s)\n",
			text, r && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "?");
	}
out:
	PQclear(r);
	db_free(db);
	return rc;
}

int kprctl_cmd_reserve(int argc, char **argv)
{
	return run(argc, argv, true);
}

int kprctl_cmd_unreserve(int argc, char **argv)
{
	return run(argc, argv, false);
}
