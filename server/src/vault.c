/*
 * vault.c — batched, write-only additions to the ID vault database.
 * One HPKE encapsulation per batch: every ID of a batch is sealed with the
 * batch's context at its own sequence number (RFC 9180 §5.2 nonces), and
 * each row stores the batch's encapsulated key and its sequence number, so
 * any single row can be opened on its own by the private key holder.
 * The associated data binds the pseudonym and its key version, so a
 * ciphertext moved to another row does not open.
 */
#include "vault.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "hpke.h"
#include "keystore.h"
#include "log.h"

#define VAULT_BATCH 1000
#define VAULT_CT_LEN (11 + HPKE_NT)

struct vault_row {
	struct pseudonym p;
	uint64_t seq;
	unsigned char ct[VAULT_CT_LEN];
};

struct vault {
	struct db *db;
	unsigned char pk[HPKE_NPK];
	char reid_id[KEYSTORE_ID_LEN + 1];
	char key_version[16];
	char key_fp[KEYSTORE_ID_LEN + 1];
	struct hpke_ctx *ctx; /* the open batch's sender context */
	unsigned char enc[HPKE_NENC];
	struct vault_row rows[VAULT_BATCH];
	size_t n;
	char *sql_buf;
};

static const struct db_stmt st_put = {
	"vault_put_batch",
	"SELECT vault.put_batch($1::int, $2, $3, $4::bytea, $5::bytea[], $6::bigint[], $7::bytea[])",
	7};

struct vault *vault_new(const struct kpr_config *cfg, int key_version, const char *key_fp,
			char *err, size_t errlen)
{
	struct vault *v = calloc(1, sizeof *v);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(v->key_version, sizeof v->key_version, "%d", key_version);
	snprintf(v->key_fp, sizeof v->key_fp, "%s", key_fp);
	if (!keystore_load_reid_public(cfg->keys_dir, v->pk, v->reid_id)) {
		snprintf(err, errlen, "re-identification public key in %s: %s", cfg->keys_dir,
			 keystore_error());
		free(v);
		return NULL;
	}
	v->db = db_new(cfg->vault_dsn, cfg->vault_password_file, "vault");
	if (!v->db) {
		snprintf(err, errlen, "out of memory");
		free(v);
		return NULL;
	}
	return v;
}

void vault_free(struct vault *v)
{
	if (!v)
		return;
	vault_discard(v);
	db_free(v->db);
	free(v);
}

void vault_discard(struct vault *v)
{
	hpke_free(v->ctx);
	v->ctx = NULL;
	OPENSSL_cleanse(v->rows, sizeof v->rows);
	v->n = 0;
}

bool vault_add(struct vault *v, const struct pseudonym *p, const char id11[11])
{
	if (!v->ctx) {
		v->ctx = hpke_setup_base_s(HPKE_AEAD_AES256GCM, v->pk,
					   (const unsigned char *)PSEUDO_VAULT_HPKE_INFO,
					   strlen(PSEUDO_VAULT_HPKE_INFO), v->enc);
		if (!v->ctx)
			return false;
	}
	struct vault_row *r = &v->rows[v->n];
	unsigned char aad[PSEUDO_VAULT_AAD_LEN];
	pseudo_vault_aad(p, aad);
	r->p = *p;
	if (!hpke_seal(v->ctx, aad, sizeof aad, (const unsigned char *)id11, 11, r->ct, &r->seq))
		return false;
	v->n++;
	if (v->n == VAULT_BATCH)
		return vault_flush(v);
	return true;
}

/* Appends "\\x<hex>" as a bytea array element. */
static char *put_hex(char *o, const unsigned char *b, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	*o++ = '"';
	*o++ = '\\';
	*o++ = '\\';
	*o++ = 'x';
	for (size_t i = 0; i < n; i++) {
		*o++ = hx[b[i] >> 4];
		*o++ = hx[b[i] & 15];
	}
	*o++ = '"';
	return o;
}

bool vault_flush(struct vault *v)
{
	if (v->n == 0)
		return true;
	if (!db_ensure(v->db))
		return false;
	/* array literals: {"\\x..",...}; sized for the largest batch */
	size_t per = 2 * VAULT_CT_LEN + 16;
	char *pseudos = malloc(v->n * (2 * PSEUDO_LEN + 16) + 3);
	char *seqs = malloc(v->n * 22 + 3);
	char *cts = malloc(v->n * per + 3);
	char enc_hex[2 + 2 * HPKE_NENC + 1];
	bool ok = false;
	if (!pseudos || !seqs || !cts)
		goto out;
	char *a = pseudos, *c = seqs, *d = cts;
	*a++ = *c++ = *d++ = '{';
	for (size_t i = 0; i < v->n; i++) {
		if (i) {
			*a++ = ',';
			*c++ = ',';
			*d++ = ',';
		}
		a = put_hex(a, v->rows[i].p.bytes, PSEUDO_LEN);
		c += sprintf(c, "%llu", (unsigned long long)v->rows[i].seq);
		d = put_hex(d, v->rows[i].ct, VAULT_CT_LEN);
	}
	*a++ = *c++ = *d++ = '}';
	*a = *c = *d = '\0';
	snprintf(enc_hex, sizeof enc_hex, "\\x");
	for (int i = 0; i < HPKE_NENC; i++)
		snprintf(enc_hex + 2 + 2 * i, 3, "%02x", v->enc[i]);
	const char *params[] = {v->key_version, v->key_fp, v->reid_id, enc_hex, pseudos, seqs, cts};
	char sqlstate[6];
	PGresult *r = db_exec(v->db, &st_put, params, sqlstate);
	ok = r != NULL;
	PQclear(r);
	if (!ok)
		log_warn("vault: batch of %zu not stored: %s", v->n, db_last_error(v->db));
out:
	free(pseudos);
	free(seqs);
	free(cts);
	if (ok)
		vault_discard(v); /* the next batch gets a fresh encapsulation */
	return ok;
}
