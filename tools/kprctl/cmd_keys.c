/*
 * cmd_keys.c — `kprctl keys init|status|rotate-kek`.
 *
 * Owns: the operator's view of the key directory. Prints ids, versions and
 * fingerprints only, never key material. Key events (init, KEK rotation)
 * are recorded in the vault database's vault.key_event table when a vault
 * admin connection is configured (--vault-dsn / $KPR_VAULT_ADMIN_DSN);
 * otherwise the command says so and prints the event for the operator's
 * own log.
 */
#include "cmd_keys.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "kprctl.h"

static const struct db_stmt st_key_event = {
    "keys_event", "INSERT INTO vault.key_event (actor, event, detail) VALUES ($1, $2, $3)", 3};

struct audit_state {
	int recorded, failed;
};

/* keystore's audit hook: one row per key event, in the vault database. */
static void audit_to_vault(void *arg, const char *event, const char *detail)
{
	struct audit_state *as = arg;
	printf("key event: %s %s\n", event, detail);
	if (kprctl.vault_dsn == NULL || kprctl.vault_dsn[0] == '\0') {
		fprintf(stderr, "kprctl: note: no vault admin connection (--vault-dsn or "
				"$KPR_VAULT_ADMIN_DSN); the event above is not in vault.key_event: "
				"keep it in your change log\n");
		as->failed++;
		return;
	}
	struct db *db = kprctl_connect_vault();
	const char *params[] = {kprctl.actor, event, detail};
	PGresult *r = db != NULL ? db_exec(db, &st_key_event, params, NULL) : NULL;
	if (r != NULL) {
		as->recorded++;
	} else {
		fprintf(stderr, "kprctl: warning: key event not recorded in vault.key_event%s%s\n",
			db != NULL ? ": " : "", db != NULL ? db_last_error(db) : "");
		as->failed++;
	}
	PQclear(r);
	db_free(db);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: kprctl keys init --dir DIR --private-key-out FILE\n"
		     "       kprctl keys status --dir DIR\n"
		     "       kprctl keys rotate-kek --dir DIR\n"
		     "\n"
		     "  init        create the key directory: a KEK (kek-<id>.key), pseudonym key\n"
		     "              version 1 wrapped by it (pseudonym-1.wrapped) and a\n"
		     "              re-identification key pair; the public half stays in DIR\n"
		     "              (reid-<id>.pub), the private half goes to FILE (mode 0600),\n"
		     "              which must not exist and belongs off this server.\n"
		     "  status      list keys with ids, versions and fingerprints; checks\n"
		     "              permissions and that every wrapped key unwraps. Exit 1 on a\n"
		     "              problem.\n"
		     "  rotate-kek  new KEK, re-wrap every pseudonym key with it, delete the old\n"
		     "              KEK. Data and the pseudonym key itself are not touched.\n"
		     "\n"
		     "DIR defaults to $KPR_KEYS_DIR. See docs/keys.md.\n");
}

static int parse(int argc, char **argv, const char **dir, const char **priv)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
					     {"private-key-out", required_argument, NULL, 'p'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	*dir = getenv("KPR_KEYS_DIR");
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			*dir = optarg;
			break;
		case 'p':
			if (priv == NULL) {
				fprintf(stderr,
					"kprctl keys: --private-key-out is for init only\n");
				return 2;
			}
			*priv = optarg;
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
		fprintf(stderr, "kprctl keys: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (*dir == NULL || **dir == '\0') {
		fprintf(stderr, "kprctl keys: --dir DIR is required\n");
		return 2;
	}
	return -1;
}

static int cmd_init(int argc, char **argv)
{
	const char *dir, *priv = NULL;
	int rc = parse(argc, argv, &dir, &priv);
	if (rc >= 0)
		return rc;
	if (priv == NULL) {
		fprintf(stderr, "kprctl keys init: --private-key-out FILE is required\n");
		return 2;
	}
	struct audit_state as = {0};
	struct keystore_init_result res;
	keystore_set_audit_hook(audit_to_vault, &as);
	bool ok = keystore_init(dir, priv, &res);
	keystore_set_audit_hook(NULL, NULL);
	if (!ok) {
		fprintf(stderr, "kprctl keys init: %s\n", keystore_error());
		return 1;
	}
	printf("key directory %s created:\n"
	       "  KEK                        %s   kek-%s.key (mode 0600)\n"
	       "  pseudonym key version %d    fingerprint %s   pseudonym-%d.wrapped\n"
	       "  re-identification key      %s   reid-%s.pub\n"
	       "private key written to %s (mode 0600).\n"
	       "Move it off this server now (offline storage or an HSM) and keep a\n"
	       "second copy: without it no national ID in the vault can be recovered.\n",
	       dir, res.kek_id, res.kek_id, res.pseudonym_version, res.pseudonym_fingerprint,
	       res.pseudonym_version, res.reid_id, res.reid_id, priv);
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	const char *dir;
	int rc = parse(argc, argv, &dir, NULL);
	if (rc >= 0)
		return rc;
	struct keystore_item *items;
	size_t n;
	if (!keystore_status(dir, &items, &n)) {
		fprintf(stderr, "kprctl keys status: %s\n", keystore_error());
		return 1;
	}
	static const char *const kind[] = {"kek", "pseudonym", "reid-public"};
	printf("%-12s %-7s %-16s %-16s %-20s %-4s %s\n", "KIND", "VERSION", "ID/FINGERPRINT",
	       "WRAPPED BY", "WRAPPED AT", "OK", "FILE / PROBLEM");
	bool all_ok = n > 0;
	int keks = 0, pseudos = 0, reids = 0;
	for (size_t i = 0; i < n; i++) {
		const struct keystore_item *it = &items[i];
		char version[16] = "-";
		if (it->kind == KEYSTORE_ITEM_PSEUDONYM_KEY)
			snprintf(version, sizeof version, "%d", it->version);
		printf("%-12s %-7s %-16s %-16s %-20s %-4s %s%s%s\n", kind[it->kind], version,
		       it->id[0] ? it->id : "-", it->kek_id[0] ? it->kek_id : "-",
		       it->created[0] ? it->created : "-", it->ok ? "yes" : "NO", it->file,
		       it->problem[0] ? "  " : "", it->problem);
		all_ok = all_ok && it->ok;
		keks += it->kind == KEYSTORE_ITEM_KEK;
		pseudos += it->kind == KEYSTORE_ITEM_PSEUDONYM_KEY;
		reids += it->kind == KEYSTORE_ITEM_REID_PUBLIC;
	}
	keystore_status_free(items);
	if (pseudos == 0 || reids != 1 || keks == 0) {
		printf("incomplete: need a KEK, at least one pseudonym key and exactly one "
		       "reid-<id>.pub (found %d, %d, %d)\n",
		       keks, pseudos, reids);
		all_ok = false;
	}
	return all_ok ? 0 : 1;
}

static int cmd_rotate(int argc, char **argv)
{
	const char *dir;
	int rc = parse(argc, argv, &dir, NULL);
	if (rc >= 0)
		return rc;
	char old_id[KEYSTORE_ID_LEN + 1], new_id[KEYSTORE_ID_LEN + 1];
	struct audit_state as = {0};
	keystore_set_audit_hook(audit_to_vault, &as);
	bool ok = keystore_rotate_kek(dir, old_id, new_id);
	keystore_set_audit_hook(NULL, NULL);
	if (!ok) {
		fprintf(stderr, "kprctl keys rotate-kek: %s\n", keystore_error());
		return 1;
	}
	printf("KEK rotated: %s -> %s; pseudonym keys re-wrapped and verified, old KEK "
	       "deleted.\nkprd needs no restart: the pseudonym key itself is unchanged.\n",
	       old_id, new_id);
	return 0;
}

int kprctl_cmd_keys(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "init"))
		return cmd_init(argc - 1, argv + 1);
	if (!strcmp(sub, "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(sub, "rotate-kek"))
		return cmd_rotate(argc - 1, argv + 1);
	fprintf(stderr, "kprctl keys: unknown subcommand \"%s\"\n", sub);
	usage(stderr);
	return 2;
}
