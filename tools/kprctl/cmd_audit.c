/*
 * cmd_audit.c — `kprctl audit verify|list`: the append-only audit tables
 * and their hash chains (docs/reidentification.md).
 *
 * Chains: kpr.audit in the register database; vault.reid_audit and
 * vault.key_event in the vault database. Each row carries chain_seq,
 * prev_hash and row_hash = SHA-256(prev_hash || payload), set by a BEFORE
 * INSERT trigger (the 0002 migrations of both databases). verify recomputes
 * every hash here, in C, from the plain columns — it trusts no function stored
 * in the database — checks that positions run 1, 2, 3, ... and that the chain's
 * head row (last position and hash) matches the last row, and names the first
 * row that breaks the chain.
 *
 * payload: each field as text, written as a netstring "<octets>:<text>,"
 * (SQL NULL as "N,"); timestamps in UTC as YYYY-MM-DDTHH:MM:SS.ffffffZ,
 * booleans t/f, bytea as lowercase hex. Genesis prev_hash:
 * SHA-256("KPR-audit-chain-v1 <schema>.<table>").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_reid.h"
#include "kprctl.h"
#include "hex.h"

#define TS_SQL(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* (ORDER BY a.chain_seq, qualified: a bare chain_seq would name the text
 * output column and sort 1, 10, 11, 2, ...) */

/* One chain: its table, the head row's key, and the SELECT giving
 * chain_seq, id, the payload fields in order, prev_hash and row_hash (hex). */
struct chain {
	const char *name; /* "<schema>.<table>", also the head row's key */
	bool vault;
	struct db_stmt rows;
	struct db_stmt head;
	int nfields; /* payload fields, chain_seq and id included */
	/* the last `optional` fields are columns added later: they are in the
	 * payload only up to the last of them that is not NULL (NULLs before
	 * it as "N,"), so rows written before them keep their hash */
	int optional;
};

static const struct chain chains[] = {
    {"kpr.audit",
     false,
     {"audit_rows_kpr",
      "SELECT chain_seq::text, id::text, " TS_SQL(
	  "at") ", actor, os_user, role, action, case_no,"
		" reason, encode(pseudonym, 'hex'), key_version::text, "
		"result_count::text, detail, submission_id::text, enhet,"
		" encode(prev_hash, 'hex'), encode(row_hash, 'hex') FROM "
		"kpr.audit a ORDER BY a.chain_seq",
      0},
     {"audit_head_kpr",
      "SELECT last_seq::text, encode(last_hash, 'hex') FROM kpr.audit_chain "
      "WHERE chain = $1",
      1},
     15,
     2}, /* submission_id (migration 0005), enhet (0013) */
    {"vault.reid_audit",
     true,
     {"audit_rows_reid",
      "SELECT chain_seq::text, id::text, " TS_SQL(
	  "at") ", actor, os_user, role, case_no, reason,"
		" encode(pseudonym, 'hex'), key_version::text, CASE WHEN found "
		"THEN 't' ELSE 'f' END,"
		" encode(prev_hash, 'hex'), encode(row_hash, 'hex') FROM "
		"vault.reid_audit a"
		" ORDER BY a.chain_seq",
      0},
     {"audit_head_reid",
      "SELECT last_seq::text, encode(last_hash, 'hex') FROM vault.audit_chain "
      "WHERE chain = $1",
      1},
     11,
     0},
    {"vault.key_event",
     true,
     {"audit_rows_keys",
      "SELECT chain_seq::text, id::text, " TS_SQL(
	  "at") ", actor, event, detail,"
		" encode(prev_hash, 'hex'), encode(row_hash, 'hex') FROM "
		"vault.key_event a"
		" ORDER BY a.chain_seq",
      0},
     {"audit_head_keys",
      "SELECT last_seq::text, encode(last_hash, 'hex') FROM vault.audit_chain "
      "WHERE chain = $1",
      1},
     6,
     0},
};

struct buf {
	unsigned char *p;
	size_t n, cap;
};

static bool buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->n + len > b->cap) {
		size_t cap = (b->n + len) * 2 + 256;
		unsigned char *np = realloc(b->p, cap);
		if (!np)
			return false;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	return true;
}

static bool hex_to_bytes(const char *hex, struct buf *b)
{
	size_t n = strlen(hex);
	if (n % 2)
		return false;
	for (size_t i = 0; i < n; i += 2) {
		unsigned int v;
		if (sscanf(hex + i, "%2x", &v) != 1)
			return false;
		unsigned char c = (unsigned char)v;
		if (!buf_add(b, &c, 1))
			return false;
	}
	return true;
}

/* Verifies one chain; prints one line. Returns 0 intact, 1 broken, -1 error. */
static int verify_chain(struct db *db, const struct chain *c)
{
	PGresult *r = db_exec(db, &c->rows, NULL, NULL);
	if (!r) {
		fprintf(stderr, "kprctl audit: cannot read %s: %s\n", c->name, db_last_error(db));
		return -1;
	}
	const char *hp[] = {c->name};
	PGresult *h = db_exec(db, &c->head, hp, NULL);
	if (!h) {
		fprintf(stderr, "kprctl audit: cannot read the head of %s: %s\n", c->name,
			db_last_error(db));
		PQclear(r);
		return -1;
	}
	char prev[65];
	char genesis[128];
	int glen = snprintf(genesis, sizeof genesis, "KPR-audit-chain-v1 %s", c->name);
	if (!sha256_hex(genesis, (size_t)glen, prev)) {
		PQclear(r);
		PQclear(h);
		return -1;
	}
	int rows = PQntuples(r), rc = 0;
	int col_prev = c->nfields, col_hash = c->nfields + 1;
	struct buf b = {0};
	char why[200] = "";
	int bad_row = -1;
	for (int i = 0; i < rows && bad_row < 0; i++) {
		long long seq = atoll(PQgetvalue(r, i, 0));
		if (seq != i + 1) {
			snprintf(
			    why, sizeof why,
			    "chain position %d is missing (rows removed, or inserted around the "
			    "trigger)",
			    i + 1);
			bad_row = i;
			break;
		}
		if (strcmp(PQgetvalue(r, i, col_prev), prev) != 0) {
			snprintf(why, sizeof why,
				 "prev_hash does not match the row before it (a row was removed, "
				 "inserted or reordered)");
			bad_row = i;
			break;
		}
		b.n = 0;
		bool ok = hex_to_bytes(prev, &b);
		int end = c->nfields;
		while (end > c->nfields - c->optional && PQgetisnull(r, i, end - 1))
			end--;
		for (int f = 0; ok && f < end; f++) {
			char lenbuf[32];
			if (PQgetisnull(r, i, f)) {
				ok = buf_add(&b, "N,", 2);
				continue;
			}
			const char *v = PQgetvalue(r, i, f);
			size_t vl = (size_t)PQgetlength(r, i, f);
			int ll = snprintf(lenbuf, sizeof lenbuf, "%zu:", vl);
			ok = buf_add(&b, lenbuf, (size_t)ll) && buf_add(&b, v, vl) &&
			     buf_add(&b, ",", 1);
		}
		char got[65];
		if (!ok || !sha256_hex(b.p, b.n, got)) {
			rc = -1;
			break;
		}
		if (strcmp(got, PQgetvalue(r, i, col_hash)) != 0) {
			snprintf(why, sizeof why,
				 "the row's content does not match its row_hash (the row was "
				 "changed)");
			bad_row = i;
			break;
		}
		memcpy(prev, got, sizeof prev);
	}
	free(b.p);
	if (rc < 0) {
		fprintf(stderr, "kprctl audit: out of memory or digest failure\n");
	} else if (bad_row >= 0) {
		printf("%-18s BROKEN at row id %s (chain position %d of %d): %s\n", c->name,
		       PQgetvalue(r, bad_row, 1), bad_row + 1, rows, why);
		rc = 1;
	} else if (PQntuples(h) != 1) {
		printf("%-18s BROKEN: the chain's head row is missing\n", c->name);
		rc = 1;
	} else if (atoll(PQgetvalue(h, 0, 0)) != rows || strcmp(PQgetvalue(h, 0, 1), prev) != 0) {
		printf("%-18s BROKEN after row %d: the head records %s rows ending in "
		       "%.16s…, the "
		       "table ends in %.16s… (rows removed from the end?)\n",
		       c->name, rows, PQgetvalue(h, 0, 0), PQgetvalue(h, 0, 1), prev);
		rc = 1;
	} else {
		printf("%-18s intact  %6d rows  head %s\n", c->name, rows, prev);
	}
	PQclear(r);
	PQclear(h);
	return rc;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"register-only", no_argument, NULL, 'r'},
					     {"vault-only", no_argument, NULL, 'v'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	bool do_reg = true, do_vault = true;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			do_vault = false;
			break;
		case 'v':
			do_reg = false;
			break;
		case 'h':
			printf("usage: kprctl audit verify [--register-only | --vault-only]\n");
			return 0;
		default:
			return 2;
		}
	}
	int broken = 0, errors = 0;
	for (int pass = 0; pass < 2; pass++) {
		bool vault = pass == 1;
		if (vault ? !do_vault : !do_reg)
			continue;
		struct db *db = vault ? kprctl_connect_vault() : kprctl_connect_register();
		if (!db) {
			errors++;
			continue;
		}
		for (size_t i = 0; i < KPR_ARRAY_LEN(chains); i++) {
			if (chains[i].vault != vault)
				continue;
			int rc = verify_chain(db, &chains[i]);
			if (rc > 0)
				broken++;
			else if (rc < 0)
				errors++;
		}
		db_free(db);
	}
	if (broken || errors) {
		printf("audit chains: %d broken, %d could not be checked\n", broken, errors);
		return 1;
	}
	printf("audit chains: all intact\n");
	return 0;
}

static const struct db_stmt st_list_kpr = {
    "audit_list_kpr",
    "SELECT * FROM (SELECT id, to_char(at, 'YYYY-MM-DD HH24:MI:SS') AS at, "
    "actor, os_user, role,"
    " action, case_no, reason, key_version || ':' || encode(pseudonym, 'hex') "
    "AS pseudonym,"
    " result_count AS results, submission_id AS submission, enhet, detail FROM kpr.audit"
    " ORDER BY id DESC LIMIT "
    "$1::int) x"
    " ORDER BY id",
    1};
static const struct db_stmt st_list_reid = {
    "audit_list_reid",
    "SELECT * FROM (SELECT id, to_char(at, 'YYYY-MM-DD HH24:MI:SS') AS at, "
    "actor, os_user, role,"
    " case_no, reason, key_version || ':' || encode(pseudonym, 'hex') AS "
    "pseudonym, found"
    " FROM vault.reid_audit ORDER BY id DESC LIMIT $1::int) x ORDER BY id",
    1};
static const struct db_stmt st_list_keys = {
    "audit_list_keys",
    "SELECT * FROM (SELECT id, to_char(at, 'YYYY-MM-DD HH24:MI:SS') AS at, "
    "actor, event, detail"
    " FROM vault.key_event ORDER BY id DESC LIMIT $1::int) x ORDER BY id",
    1};

static void print_result(const char *title, PGresult *r)
{
	int nf = PQnfields(r), nr = PQntuples(r);
	printf("== %s (%d rows)\n", title, nr);
	for (int f = 0; f < nf; f++)
		printf("%s%s", f ? " | " : "", PQfname(r, f));
	printf("\n");
	for (int i = 0; i < nr; i++) {
		for (int f = 0; f < nf; f++)
			printf("%s%s", f ? " | " : "",
			       PQgetisnull(r, i, f) ? "" : PQgetvalue(r, i, f));
		printf("\n");
	}
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"register", no_argument, NULL, 'r'}, {"vault", no_argument, NULL, 'v'},
	    {"keys", no_argument, NULL, 'k'},     {"limit", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},     {NULL, 0, NULL, 0}};
	bool reg = false, vault = false, keys = false;
	const char *limit = "50";
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			reg = true;
			break;
		case 'v':
			vault = true;
			break;
		case 'k':
			keys = true;
			break;
		case 'n':
			limit = optarg;
			break;
		case 'h':
			printf("usage: kprctl audit list [--register] [--vault] [--keys] "
			       "[--limit N]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (atoi(limit) <= 0) {
		fprintf(stderr, "kprctl audit list: --limit wants a positive number\n");
		return 2;
	}
	if (!reg && !vault && !keys)
		reg = vault = keys = true;
	int rc = 0;
	const char *params[] = {limit};
	if (reg) {
		struct db *db = kprctl_connect_register();
		PGresult *r = db ? db_exec(db, &st_list_kpr, params, NULL) : NULL;
		if (r)
			print_result("kpr.audit (register)", r);
		else
			rc = 1;
		PQclear(r);
		db_free(db);
	}
	if (vault || keys) {
		struct db *db = kprctl_connect_vault();
		for (int k = 0; k < 2 && db; k++) {
			if (k == 0 ? !vault : !keys)
				continue;
			PGresult *r =
			    db_exec(db, k == 0 ? &st_list_reid : &st_list_keys, params, NULL);
			if (r)
				print_result(k == 0 ? "vault.reid_audit" : "vault.key_event", r);
			else
				rc = 1;
			PQclear(r);
		}
		if (!db)
			rc = 1;
		db_free(db);
	}
	return rc;
}

int kprctl_cmd_audit(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: kprctl audit verify [--register-only | --vault-only]\n"
			"       kprctl audit list [--register] [--vault] [--keys] [--limit N]\n"
			"\n"
			"  verify  recompute the hash chains of kpr.audit, vault.reid_audit "
			"and\n"
			"          vault.key_event; names the first broken row; exit 1 if any "
			"is\n"
			"          broken. Prints each chain's head hash: keep it outside the\n"
			"          database to detect a rewritten chain later.\n"
			"  list    the newest audit rows (pseudonyms only, never a national "
			"ID)\n");
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return cmd_list(argc - 1, argv + 1);
	fprintf(stderr, "kprctl audit: unknown subcommand \"%s\"\n", argv[1]);
	return 2;
}
