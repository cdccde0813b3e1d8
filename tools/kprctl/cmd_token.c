/*
 * cmd_token.c — `kprctl token issue|list|revoke`. A token is shown once,
 * at issue; the database keeps only its SHA-256.
 */
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "kprctl.h"
#include "hex.h"

static const struct db_stmt st_issue = {
    "tok_issue",
    "INSERT INTO kpr.api_token (token_hash, role, kommunenummer, name, expires_at)"
    " VALUES ($1::bytea, $2, $3, $4, $5::date) RETURNING id",
    5};
static const struct db_stmt st_list = {
    "tok_list",
    "SELECT id, role, coalesce(kommunenummer, '-'), name, to_char(created_at, 'YYYY-MM-DD HH24:MI'),"
    " coalesce(to_char(expires_at, 'YYYY-MM-DD'), '-'),"
    " CASE WHEN revoked_at IS NOT NULL THEN 'revoked'"
    "      WHEN expires_at IS NOT NULL AND expires_at <= now() THEN 'expired' ELSE 'active' END"
    " FROM kpr.api_token ORDER BY id",
    0};
static const struct db_stmt st_revoke = {
    "tok_revoke",
    "UPDATE kpr.api_token SET revoked_at = now() WHERE id = $1::bigint AND revoked_at IS NULL"
    " RETURNING id",
    1};

static int issue(int argc, char **argv)
{
	static const struct option opts[] = {{"kommune", required_argument, NULL, 'k'},
					     {"staff", no_argument, NULL, 's'},
					     {"name", required_argument, NULL, 'n'},
					     {"expires", required_argument, NULL, 'e'},
					     {NULL, 0, NULL, 0}};
	const char *kommune = NULL, *name = "", *expires = NULL;
	bool staff = false;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			kommune = optarg;
			break;
		case 's':
			staff = true;
			break;
		case 'n':
			name = optarg;
			break;
		case 'e':
			expires = optarg;
			break;
		default:
			return 2;
		}
	}
	if (staff == (kommune != NULL) || optind != argc) {
		fprintf(stderr, "usage: kprctl token issue (--kommune NNNN | --staff) [--name N] "
				"[--expires YYYY-MM-DD]\n");
		return 2;
	}
	char token[AUTH_TOKEN_LEN + 1];
	unsigned char hash[32];
	if (!auth_token_generate(token)) {
		fprintf(stderr, "kprctl: no randomness available\n");
		return 1;
	}
	auth_token_hash(token, strlen(token), hash);
	char hex[2 + 64 + 1] = "\\x";
	hex_encode(hash, 32, hex + 2);
	struct db *db = kprctl_connect_register();
	if (!db)
		return 1;
	const char *p[] = {hex, staff ? "staff" : "municipality", kommune, name, expires};
	PGresult *r = db_exec(db, &st_issue, p, NULL);
	if (!r) {
		fprintf(stderr, "kprctl: cannot issue token: %s\n", db_last_error(db));
		db_free(db);
		OPENSSL_cleanse(token, sizeof token);
		return 1;
	}
	char detail[128];
	snprintf(detail, sizeof detail, "token %s role=%s kommune=%s expires=%s",
		 PQgetvalue(r, 0, 0), staff ? "staff" : "municipality", kommune ? kommune : "-",
		 expires ? expires : "-");
	if (!kprctl_audit(db, "token_issue", detail)) {
		/* an unaudited token must not stay usable */
		const char *rp[] = {PQgetvalue(r, 0, 0)};
		PGresult *rv = db_exec(db, &st_revoke, rp, NULL);
		PQclear(rv);
		PQclear(r);
		db_free(db);
		OPENSSL_cleanse(token, sizeof token);
		return 1;
	}
	/* the token itself on stdout alone, so scripts can capture it; the rest on stderr */
	fprintf(stderr, "token %s issued (%s%s%s); it is shown only now:\n", PQgetvalue(r, 0, 0),
		staff ? "staff" : "municipality ", staff ? "" : kommune,
		expires ? ", expires" : "");
	printf("%s\n", token);
	PQclear(r);
	db_free(db);
	OPENSSL_cleanse(token, sizeof token);
	return 0;
}

static int list(void)
{
	struct db *db = kprctl_connect_register();
	if (!db)
		return 1;
	PGresult *r = db_exec(db, &st_list, NULL, NULL);
	if (!r) {
		db_free(db);
		return 1;
	}
	printf("%-6s %-13s %-7s %-16s %-10s %-8s %s\n", "id", "role", "kommune", "created",
	       "expires", "state", "name");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%-6s %-13s %-7s %-16s %-10s %-8s %s\n", PQgetvalue(r, i, 0),
		       PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 4),
		       PQgetvalue(r, i, 5), PQgetvalue(r, i, 6), PQgetvalue(r, i, 3));
	PQclear(r);
	db_free(db);
	return 0;
}

static int revoke(const char *id)
{
	struct db *db = kprctl_connect_register();
	if (!db)
		return 1;
	const char *p[] = {id};
	PGresult *r = db_exec(db, &st_revoke, p, NULL);
	int rc = 1;
	if (r && PQntuples(r) == 1) {
		char detail[64];
		snprintf(detail, sizeof detail, "token %s", id);
		rc = kprctl_audit(db, "token_revoke", detail) ? 0 : 1;
		printf("token %s revoked\n", id);
	} else if (r) {
		fprintf(stderr, "kprctl: no active token %s\n", id);
	}
	PQclear(r);
	db_free(db);
	return rc;
}

int kprctl_cmd_token(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "issue"))
		return issue(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "list"))
		return list();
	if (argc == 3 && !strcmp(argv[1], "revoke"))
		return revoke(argv[2]);
	fprintf(stderr, "usage: kprctl token issue|list|revoke ...\n");
	return 2;
}
