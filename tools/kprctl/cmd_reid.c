/*
 * cmd_reid.c — `kprctl reidentify` (innsyn, SPEC §4).
 *
 *   --pseudonym P   fetch the vault row through vault.reid_fetch (which
 *                   writes the audit row in the same statement), decrypt it
 *                   here with the re-identification private key and print
 *                   the national ID. This is the one place in the project
 *                   that prints an ID, deliberately, on the operator's
 *                   terminal; it never goes to a log.
 *   --fnr F         compute the pseudonym with the pseudonym key and print
 *                   every record the current register holds about the
 *                   person, through kpr.innsyn (audited in the register).
 *
 * Both refuse to run without a case number and a reason of at least ten
 * characters, before anything is looked up. The database checks the same
 * again, so a hand-written query cannot skip the audit either.
 *
 * Also owns the helpers the reservation and audit commands share (cmd_reid.h).
 */
#include "cmd_reid.h"

#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpke.h"
#include "keystore.h"
#include "kprctl.h"
#include "nid.h"

const char *reid_os_user(void)
{
	const char *u = getenv("SUDO_USER");
	if (u && *u)
		return u;
	u = getenv("USER");
	if (u && *u)
		return u;
	struct passwd *pw = getpwuid(geteuid());
	return pw && pw->pw_name ? pw->pw_name : "unknown";
}

static bool has_11_digits(const char *s)
{
	int run = 0;
	for (; s && *s; s++) {
		run = (*s >= '0' && *s <= '9') ? run + 1 : 0;
		if (run >= 11)
			return true;
	}
	return false;
}

static size_t trimmed_len(const char *s)
{
	if (!s)
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
		n--;
	return n;
}

bool reid_check_case(const char *cmd, const char *case_no, const char *reason, int min_reason)
{
	if (trimmed_len(case_no) == 0) {
		fprintf(stderr,
			"kprctl %s: --case CASE is required (the case number of the request)\n",
			cmd);
		return false;
	}
	if (min_reason > 0 && trimmed_len(reason) < (size_t)min_reason) {
		fprintf(stderr, "kprctl %s: --reason TEXT of at least %d characters is required\n",
			cmd, min_reason);
		return false;
	}
	if (has_11_digits(case_no) || has_11_digits(reason)) {
		fprintf(stderr,
			"kprctl %s: the case number and reason go to the audit log and must "
			"not contain a national ID\n",
			cmd);
		return false;
	}
	return true;
}

bool reid_pseudonym_from_fnr(const char *cmd, const char *keys_dir, char *fnr_arg,
			     struct pseudonym *out)
{
	char buf[64] = {0};
	bool ok = false;
	if (!strcmp(fnr_arg, "-")) {
		if (isatty(STDIN_FILENO))
			fprintf(stderr, "national ID: ");
		if (!fgets(buf, sizeof buf, stdin)) {
			fprintf(stderr, "kprctl %s: no national ID on stdin\n", cmd);
			return false;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
	} else {
		snprintf(buf, sizeof buf, "%s", fnr_arg);
		OPENSSL_cleanse(fnr_arg, strlen(fnr_arg));
	}
	struct nid_options opt = {.test_mode = true, .allow_2032 = true};
	struct nid_info info;
	struct keystore_pseudonym_key k;
	struct pseudo_ctx *ctx = NULL;
	enum nid_status st = nid_check(buf, strlen(buf), &opt, &info);
	if (st != NID_OK) {
		char masked[12];
		nid_mask(buf, strlen(buf), masked);
		fprintf(stderr, "kprctl %s: %s is not a valid national ID (%s)\n", cmd, masked,
			st == NID_NOT_11_DIGITS || st == NID_MISSING ? "not 11 digits"
			: st == NID_BAD_CHECKSUM                     ? "control digits"
								     : "date part");
		goto out;
	}
	if (!keys_dir || !*keys_dir) {
		fprintf(stderr,
			"kprctl %s: the pseudonym key is needed: --keys-dir DIR or "
			"$KPR_KEYS_DIR\n",
			cmd);
		goto out;
	}
	if (!keystore_load_pseudonym_key(keys_dir, &k)) {
		fprintf(stderr, "kprctl %s: %s\n", cmd, keystore_error());
		goto out;
	}
	ctx = pseudo_new(k.key, sizeof k.key, k.version);
	keystore_pseudonym_key_wipe(&k);
	if (!ctx || !pseudo_compute(ctx, buf, out)) {
		fprintf(stderr, "kprctl %s: cannot compute the pseudonym\n", cmd);
		goto out;
	}
	ok = true;
out:
	pseudo_free(ctx);
	OPENSSL_cleanse(buf, sizeof buf);
	return ok;
}

/* --- pseudonym → national ID ------------------------------------------ */

static const struct db_stmt st_reid_fetch = {
    "reid_fetch",
    "SELECT reid_key_id, encode(enc, 'hex'), seq, encode(ct, 'hex'),"
    " to_char(first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"'),"
    " to_char(last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"'), "
    "audit_id"
    " FROM vault.reid_fetch(decode($1, 'hex'), $2::int, $3, $4, $5)",
    5};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool from_hex(const char *hex, unsigned char *out, size_t len)
{
	if (strlen(hex) != 2 * len)
		return false;
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/* "<version>:<hex>" or bare hex (key version 1). */
static bool parse_pseudonym(const char *s, struct pseudonym *p)
{
	if (pseudo_parse(s, p))
		return true;
	return strlen(s) == PSEUDO_HEX_LEN && pseudo_from_hex(s, 1, p);
}

static int reid_by_pseudonym(const struct pseudonym *p, const char *priv_path, const char *case_no,
			     const char *reason)
{
	unsigned char sk[HPKE_NSK];
	char sk_id[KEYSTORE_ID_LEN + 1];
	/* the private key first: a missing key file should not cost an audit row */
	if (!keystore_load_reid_private(priv_path, sk, sk_id)) {
		fprintf(stderr, "kprctl reidentify: %s\n", keystore_error());
		return 1;
	}
	struct db *db = kprctl_connect_vault();
	if (!db) {
		OPENSSL_cleanse(sk, sizeof sk);
		return 1;
	}
	char hex[PSEUDO_HEX_LEN + 1], ver[16], text[PSEUDO_TEXT_MAX];
	pseudo_to_hex(p, hex);
	pseudo_format(p, text);
	snprintf(ver, sizeof ver, "%d", p->key_version);
	const char *params[] = {hex, ver, case_no, reason, reid_os_user()};
	/* one statement in autocommit: it returns only once the audit row is
   * committed, so nothing is decrypted without its audit row */
	PGresult *r = db_exec(db, &st_reid_fetch, params, NULL);
	int rc = 1;
	struct hpke_ctx *ctx = NULL;
	unsigned char pt[11 + 1] = {0};
	if (!r) {
		fprintf(stderr, "kprctl reidentify: the vault refused the lookup: %s\n",
			db_last_error(db));
		goto out;
	}
	if (PQntuples(r) != 1) {
		fprintf(stderr, "kprctl reidentify: unexpected answer from vault.reid_fetch\n");
		goto out;
	}
	const char *audit_id = PQgetvalue(r, 0, 6);
	if (PQgetisnull(r, 0, 1)) {
		printf("pseudonym    %s\nnot in the vault (lookup audited: "
		       "vault.reid_audit id %s)\n",
		       text, audit_id);
		goto out;
	}
	const char *row_key = PQgetvalue(r, 0, 0);
	if (strcmp(row_key, sk_id) != 0) {
		fprintf(stderr,
			"kprctl reidentify: the vault row was sealed to re-identification "
			"key %s, "
			"the private key given is %s (lookup audited: vault.reid_audit id "
			"%s)\n",
			row_key, sk_id, audit_id);
		goto out;
	}
	unsigned char enc[HPKE_NENC], ct[11 + HPKE_NT], aad[PSEUDO_VAULT_AAD_LEN];
	char *end;
	unsigned long long seq = strtoull(PQgetvalue(r, 0, 2), &end, 10);
	if (!from_hex(PQgetvalue(r, 0, 1), enc, sizeof enc) ||
	    !from_hex(PQgetvalue(r, 0, 3), ct, sizeof ct) || *end != '\0') {
		fprintf(stderr, "kprctl reidentify: malformed vault row (audit id %s)\n", audit_id);
		goto out;
	}
	pseudo_vault_aad(p, aad);
	ctx = hpke_setup_base_r(HPKE_AEAD_AES256GCM, sk, enc,
				(const unsigned char *)PSEUDO_VAULT_HPKE_INFO,
				strlen(PSEUDO_VAULT_HPKE_INFO));
	if (!ctx || !hpke_open_at(ctx, seq, aad, sizeof aad, ct, sizeof ct, pt)) {
		fprintf(stderr,
			"kprctl reidentify: the vault row for %s does not decrypt: wrong key, "
			"or the "
			"ciphertext does not belong to this row (tampering?) — audit id %s\n",
			text, audit_id);
		goto out;
	}
	for (int i = 0; i < 11; i++) {
		if (pt[i] < '0' || pt[i] > '9') {
			fprintf(stderr, "kprctl reidentify: decrypted value is not 11 digits\n");
			goto out;
		}
	}
	printf("pseudonym    %s\n"
	       "national ID  %.11s\n"
	       "vault row    first seen %s, last seen %s, reid key %s\n"
	       "audit        vault.reid_audit id %s (case %s)\n",
	       text, (const char *)pt, PQgetvalue(r, 0, 4), PQgetvalue(r, 0, 5), row_key, audit_id,
	       case_no);
	fflush(stdout);
	rc = 0;
out:
	OPENSSL_cleanse(pt, sizeof pt);
	OPENSSL_cleanse(sk, sizeof sk);
	hpke_free(ctx);
	PQclear(r);
	db_free(db);
	return rc;
}

/* --- national ID → register records ------------------------------------- */

static const struct db_stmt st_innsyn = {
    "reid_innsyn", "SELECT kpr.innsyn(decode($1, 'hex'), $2::int, $3, $4, $5)::text", 5};

static const char *js(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_string(v))
		return json_string_value(v);
	static char buf[4][64];
	static int which;
	char *b = buf[which++ % 4];
	if (json_is_integer(v))
		snprintf(b, 64, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(b, 64, "%.1f", json_real_value(v));
	else if (json_is_true(v))
		snprintf(b, 64, "ja");
	else if (json_is_false(v))
		snprintf(b, 64, "nei");
	else
		snprintf(b, 64, "-");
	return b;
}

static void print_records(json_t *doc)
{
	json_t *persons = json_object_get(doc, "persons");
	size_t n = json_array_size(persons);
	printf("pseudonym    %s:%s\n", js(doc, "key_version"), js(doc, "pseudonym"));
	printf("reserved     %s\n", json_is_true(json_object_get(doc, "reserved"))
					? "yes (left out of every disclosure)"
					: "no");
	printf("records      %zu in the current register\n", n);
	printf("audit        kpr.audit id %s\n", js(doc, "audit_id"));
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(persons, i);
		printf("\n[%zu] %s %s, årgang %s, submission %s (%s, received %s)\n", i + 1,
		       js(p, "kommunenummer"), js(p, "kommunenavn"), js(p, "aargang"),
		       js(p, "submission_id"), js(p, "status"), js(p, "received_at"));
		printf("    ref %s (line %s), kjønn %s, fødselsår %s, dødsdato %s\n", js(p, "ref"),
		       js(p, "line"), js(p, "kjonn"), js(p, "fodselsaar"), js(p, "dodsdato"));
		size_t j;
		json_t *e;
		json_array_foreach(json_object_get(p, "vurderinger"), j, e)
		{
			printf("    vurdering %s:", js(e, "dato"));
			size_t k;
			json_t *s;
			json_array_foreach(json_object_get(e, "skaar"), k, s)
			    printf(" %lld", (long long)json_integer_value(s));
			printf("\n");
		}
		json_array_foreach(json_object_get(p, "tjenester"), j, e)
		{
			printf("    tjeneste %s %s: søknad %s, vedtak %s, start %s, slutt %s%s",
			       js(e, "type"), js(e, "navn"), js(e, "soknad"), js(e, "vedtak"),
			       js(e, "start"), js(e, "slutt"),
			       json_is_true(json_object_get(e, "avslag")) ? ", avslag" : "");
			if (!json_is_null(json_object_get(e, "timer_per_uke")))
				printf(", timer/uke %s (med flere %s)", js(e, "timer_per_uke"),
				       js(e, "timer_med_flere"));
			if (!json_is_null(json_object_get(e, "orgnr")))
				printf(", orgnr %s", js(e, "orgnr"));
			printf("\n");
		}
		json_array_foreach(json_object_get(p, "diagnoser"), j, e)
		    printf("    diagnose %s %s\n", js(e, "kodeverk"), js(e, "kode"));
		json_array_foreach(json_object_get(p, "registreringer"), j, e) printf(
		    "    %s kode %s, dato %s\n", js(e, "element"), js(e, "kode"), js(e, "dato"));
	}
}

static int reid_by_fnr(const struct pseudonym *p, const char *case_no, const char *reason,
		       bool as_json)
{
	struct db *db = kprctl_connect_register();
	if (!db)
		return 1;
	char hex[PSEUDO_HEX_LEN + 1], ver[16];
	pseudo_to_hex(p, hex);
	snprintf(ver, sizeof ver, "%d", p->key_version);
	const char *params[] = {hex, ver, case_no, reason, reid_os_user()};
	PGresult *r = db_exec(db, &st_innsyn, params, NULL);
	int rc = 1;
	if (!r || PQntuples(r) != 1) {
		fprintf(stderr, "kprctl reidentify: the register refused the lookup: %s\n",
			db_last_error(db));
		goto out;
	}
	if (as_json) {
		printf("%s\n", PQgetvalue(r, 0, 0));
		rc = 0;
		goto out;
	}
	json_error_t jerr;
	json_t *doc = json_loads(PQgetvalue(r, 0, 0), 0, &jerr);
	if (!doc) {
		fprintf(stderr, "kprctl reidentify: unreadable answer: %s\n", jerr.text);
		goto out;
	}
	print_records(doc);
	rc = json_array_size(json_object_get(doc, "persons")) > 0 ? 0 : 1;
	json_decref(doc);
out:
	PQclear(r);
	db_free(db);
	return rc;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kprctl reidentify --case CASE --reason TEXT\n"
		"                         (--pseudonym P --private-key FILE | --fnr F "
		"[--keys-dir DIR])\n"
		"\n"
		"Innsyn under audit (docs/reidentification.md). Every lookup writes an\n"
		"append-only audit row (who, when, case, reason, pseudonym) before any\n"
		"result is shown; without --case and a --reason of %d+ characters "
		"nothing\n"
		"is looked up.\n"
		"\n"
		"  --pseudonym P     \"<version>:<32 hex>\" (or 32 hex, version 1): "
		"prints the\n"
		"                    national ID, decrypted here with the private key\n"
		"  --private-key F   the re-identification private key (PEM, mode "
		"0600);\n"
		"                    default $KPR_REID_PRIVATE_KEY\n"
		"  --fnr F           a national ID (\"-\" reads it from stdin): prints "
		"every\n"
		"                    record the current register holds about the person\n"
		"  --keys-dir DIR    key directory with the pseudonym key (default\n"
		"                    $KPR_KEYS_DIR)\n"
		"  --json            with --fnr: the records as JSON\n",
		REID_REASON_MIN);
}

int kprctl_cmd_reidentify(int argc, char **argv)
{
	static const struct option opts[] = {{"case", required_argument, NULL, 'c'},
					     {"reason", required_argument, NULL, 'r'},
					     {"pseudonym", required_argument, NULL, 'p'},
					     {"fnr", required_argument, NULL, 'f'},
					     {"private-key", required_argument, NULL, 'k'},
					     {"keys-dir", required_argument, NULL, 'd'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *case_no = NULL, *reason = NULL, *pseudonym = NULL;
	char *fnr = NULL;
	const char *priv = getenv("KPR_REID_PRIVATE_KEY"), *keys_dir = getenv("KPR_KEYS_DIR");
	bool as_json = false;
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
		case 'k':
			priv = optarg;
			break;
		case 'd':
			keys_dir = optarg;
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "kprctl reidentify: unexpected argument\n");
		return 2;
	}
	if ((pseudonym == NULL) == (fnr == NULL)) {
		fprintf(stderr, "kprctl reidentify: give exactly one of --pseudonym and --fnr\n");
		usage(stderr);
		return 2;
	}
	if (!reid_check_case("reidentify", case_no, reason, REID_REASON_MIN))
		return 2;
	if (pseudonym) {
		struct pseudonym p;
		if (!parse_pseudonym(pseudonym, &p)) {
			fprintf(stderr,
				"kprctl reidentify: --pseudonym wants \"<version>:<32 hex>\"\n");
			return 2;
		}
		if (!priv || !*priv) {
			fprintf(stderr, "kprctl reidentify: --private-key FILE is required with "
					"--pseudonym\n");
			return 2;
		}
		return reid_by_pseudonym(&p, priv, case_no, reason);
	}
	struct pseudonym p;
	if (!reid_pseudonym_from_fnr("reidentify", keys_dir, fnr, &p))
		return 2;
	return reid_by_fnr(&p, case_no, reason, as_json);
}
