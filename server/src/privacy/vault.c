/*
 * vault.c — batched, write-only additions to the ID vault database.
 * One HPKE encapsulation per batch: every ID of a batch is sealed with the
 * batch's context at its own sequence number (RFC 9180 §5.2 nonces), and
 * each row stores the batch's encapsulated key and its sequence number, so
 * any single row can be opened on its own by the private key holder.
 * The associated data binds the pseudonym and its key version, so a
 * ciphertext moved to another row does not open.
 * Sealed rows wait in an unlinked temporary file until the job's file is
 * known to be loadable: a file rejected late (a FATAL near its end) adds
 * nothing to the vault, and memory stays bounded whatever the file size.
 */
#include "vault.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "failpoint.h"
#include "hpke.h"
#include "keystore.h"
#include "log.h"
#include "hex.h"

#define VAULT_BATCH  1000
#define VAULT_CT_LEN (11 + HPKE_NT)

struct vault_row {
	struct pseudonym p;
	uint64_t seq;
	unsigned char ct[VAULT_CT_LEN];
};

/* One record in the pending file: a batch header carries the batch's
 * encapsulated key; rows follow it. */
struct pending {
	unsigned char enc[HPKE_NENC];
	uint32_t n;
	struct vault_row rows[VAULT_BATCH];
};

struct vault {
	struct db *db;
	unsigned char pk[HPKE_NPK];
	char reid_id[KEYSTORE_ID_LEN + 1];
	char key_version[16];
	char key_fp[KEYSTORE_ID_LEN + 1];
	struct hpke_ctx *ctx; /* the open batch's sender context */
	struct pending batch; /* the open batch */
	FILE *spill;          /* sealed batches waiting for vault_flush */
	size_t spilled;       /* batches in the spill file */
	bool failed;
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

bool vault_reachable(struct vault *v)
{
	static const struct db_stmt ping = {"vault_ping", "SELECT 1", 0};
	if (!db_ensure(v->db))
		return false;
	PGresult *r = db_exec(v->db, &ping, NULL, NULL);
	PQclear(r);
	return r != NULL;
}

void vault_discard(struct vault *v)
{
	hpke_free(v->ctx);
	v->ctx = NULL;
	v->batch.n = 0;
	if (v->spill)
		fclose(v->spill);
	v->spill = NULL;
	v->spilled = 0;
	v->failed = false;
}

/* Closes the open batch into the spill file. */
static bool spill_batch(struct vault *v)
{
	if (v->batch.n == 0)
		return true;
	if (!v->spill && !(v->spill = tmpfile()))
		return false;
	size_t len = offsetof(struct pending, rows) + v->batch.n * sizeof v->batch.rows[0];
	if (fwrite(&v->batch, len, 1, v->spill) != 1)
		return false;
	v->spilled++;
	hpke_free(v->ctx); /* the next batch gets a fresh encapsulation */
	v->ctx = NULL;
	v->batch.n = 0;
	return true;
}

bool vault_add(struct vault *v, const struct pseudonym *p, const char id11[11])
{
	if (v->failed)
		return false;
	if (!v->ctx) {
		v->ctx = hpke_setup_base_s(HPKE_AEAD_AES256GCM, v->pk,
					   (const unsigned char *)PSEUDO_VAULT_HPKE_INFO,
					   strlen(PSEUDO_VAULT_HPKE_INFO), v->batch.enc);
		if (!v->ctx)
			return false;
	}
	struct vault_row *r = &v->batch.rows[v->batch.n];
	unsigned char aad[PSEUDO_VAULT_AAD_LEN];
	pseudo_vault_aad(p, aad);
	r->p = *p;
	if (!hpke_seal(v->ctx, aad, sizeof aad, (const unsigned char *)id11, 11, r->ct, &r->seq))
		return false;
	v->batch.n++;
	if (v->batch.n == VAULT_BATCH && !spill_batch(v)) {
		v->failed = true;
		return false;
	}
	return true;
}

/* Appends "\\x<hex>" as a bytea array element. */
static char *put_hex(char *o, const unsigned char *b, size_t n)
{
	*o++ = '"';
	*o++ = '\\';
	*o++ = '\\';
	*o++ = 'x';
	hex_encode(b, n, o);
	o += 2 * n;
	*o++ = '"';
	return o;
}

static bool send_batch(struct vault *v, const struct pending *b)
{
	/* array literals: {"\\x..",...} */
	size_t per = 2 * VAULT_CT_LEN + 16;
	char *pseudos = malloc(b->n * (2 * PSEUDO_LEN + 16) + 3);
	char *seqs = malloc(b->n * 22 + 3);
	char *cts = malloc(b->n * per + 3);
	char enc_hex[2 + 2 * HPKE_NENC + 1];
	bool ok = false;
	if (!pseudos || !seqs || !cts)
		goto out;
	char *a = pseudos, *c = seqs, *d = cts;
	*a++ = *c++ = *d++ = '{';
	for (size_t i = 0; i < b->n; i++) {
		if (i) {
			*a++ = ',';
			*c++ = ',';
			*d++ = ',';
		}
		a = put_hex(a, b->rows[i].p.bytes, PSEUDO_LEN);
		c += sprintf(c, "%llu", (unsigned long long)b->rows[i].seq);
		d = put_hex(d, b->rows[i].ct, VAULT_CT_LEN);
	}
	*a++ = *c++ = *d++ = '}';
	*a = *c = *d = '\0';
	snprintf(enc_hex, sizeof enc_hex, "\\x");
	hex_encode(b->enc, HPKE_NENC, enc_hex + 2);
	const char *params[] = {v->key_version, v->key_fp, v->reid_id, enc_hex, pseudos, seqs, cts};
	char sqlstate[6];
	PGresult *r = db_exec(v->db, &st_put, params, sqlstate);
	ok = r != NULL;
	PQclear(r);
	if (!ok)
		log_warn("vault: batch of %u not stored: %s", b->n, db_last_error(v->db));
out:
	free(pseudos);
	free(seqs);
	free(cts);
	return ok;
}

bool vault_flush(struct vault *v)
{
	if (v->failed || !spill_batch(v))
		return false;
	if (v->spilled == 0)
		return true;
	if (!db_ensure(v->db))
		return false;
	if (fflush(v->spill) != 0 || fseek(v->spill, 0, SEEK_SET) != 0)
		return false;
	struct pending *b = malloc(sizeof *b);
	if (!b)
		return false;
	bool ok = true;
	for (size_t i = 0; i < v->spilled && ok; i++) {
		ok = fread(b, offsetof(struct pending, rows), 1, v->spill) == 1 &&
		     b->n <= VAULT_BATCH &&
		     fread(b->rows, sizeof b->rows[0], b->n, v->spill) == b->n && send_batch(v, b);
		failpoint("job.vault_batch"); /* one batch stored, the next not yet */
	}
	free(b);
	if (ok)
		vault_discard(v);
	else
		fseek(v->spill, 0, SEEK_END); /* kept for the retry of the whole job */
	return ok;
}
