/*
 * hpke.c — RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 * AES-GCM, from OpenSSL 3.0 EVP primitives.
 *
 * Owns: the KEM, the key schedule, sequence-numbered nonces and the AEAD.
 * Must not: log anything (its inputs are national IDs and secret keys), keep
 * secrets after hpke_free(), or ever use a (key, nonce) pair twice.
 * Section numbers in comments refer to RFC 9180.
 */
#include "hpke.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#define MODE_BASE 0x00
/* HKDF in OpenSSL 3.0 takes at most 1024 bytes of info; the labeled info adds
 * at most 2 + 7 + 10 + 13 bytes to the caller's part. */
#define LABELED_INPUT_MAX 960

static const unsigned char HPKE_V1[7] = {'H', 'P', 'K', 'E', '-', 'v', '1'};

struct hpke_ctx {
	bool sender;
	uint16_t aead_id;
	size_t nk;
	unsigned char key[HPKE_NK_MAX];
	unsigned char base_nonce[HPKE_NN];
	unsigned char exporter_secret[HPKE_NH];
	unsigned char suite_id[10];
	uint64_t seq;
	EVP_CIPHER_CTX *aead;
};

/* "KEM" || I2OSP(kem_id, 2), §4.1 */
static const unsigned char KEM_SUITE_ID[5] = {'K', 'E', 'M', 0x00, 0x20};

static EVP_KDF *hkdf_alg;
static pthread_once_t hkdf_once = PTHREAD_ONCE_INIT;

static void hkdf_fetch(void)
{
	hkdf_alg = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
}

/* One HKDF step through EVP_KDF: EXTRACT_ONLY (salt, ikm as key) or
 * EXPAND_ONLY (prk as key, info). */
static bool hkdf_run(int mode, const unsigned char *salt, size_t salt_len, const unsigned char *key,
		     size_t key_len, const unsigned char *info, size_t info_len, unsigned char *out,
		     size_t out_len)
{
	pthread_once(&hkdf_once, hkdf_fetch);
	if (hkdf_alg == NULL)
		return false;
	EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(hkdf_alg);
	if (kctx == NULL)
		return false;
	OSSL_PARAM params[6], *p = params;
	char digest[] = "SHA256";
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
	/* An absent salt is HashLen zero bytes, which HMAC treats exactly like
	 * the empty salt RFC 9180 passes. */
	if (salt_len > 0)
		*p++ =
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	if (info_len > 0)
		*p++ =
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	*p = OSSL_PARAM_construct_end();
	bool ok = EVP_KDF_derive(kctx, out, out_len, params) > 0;
	EVP_KDF_CTX_free(kctx);
	return ok;
}

/* LabeledExtract(salt, label, ikm), §4 */
static bool labeled_extract(const unsigned char *suite_id, size_t suite_len,
			    const unsigned char *salt, size_t salt_len, const char *label,
			    const unsigned char *ikm, size_t ikm_len, unsigned char out[HPKE_NH])
{
	size_t label_len = strlen(label);
	if (ikm_len > LABELED_INPUT_MAX)
		return false;
	size_t n = sizeof HPKE_V1 + suite_len + label_len + ikm_len;
	unsigned char *buf = OPENSSL_malloc(n);
	if (buf == NULL)
		return false;
	unsigned char *w = buf;
	memcpy(w, HPKE_V1, sizeof HPKE_V1);
	w += sizeof HPKE_V1;
	memcpy(w, suite_id, suite_len);
	w += suite_len;
	memcpy(w, label, label_len);
	w += label_len;
	if (ikm_len > 0)
		memcpy(w, ikm, ikm_len);
	bool ok =
	    hkdf_run(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt, salt_len, buf, n, NULL, 0, out, HPKE_NH);
	OPENSSL_clear_free(buf, n);
	return ok;
}

/* LabeledExpand(prk, label, info, L), §4 */
static bool labeled_expand(const unsigned char *suite_id, size_t suite_len,
			   const unsigned char prk[HPKE_NH], const char *label,
			   const unsigned char *info, size_t info_len, unsigned char *out,
			   size_t out_len)
{
	size_t label_len = strlen(label);
	if (info_len > LABELED_INPUT_MAX || out_len == 0 || out_len > 255 * HPKE_NH)
		return false;
	size_t n = 2 + sizeof HPKE_V1 + suite_len + label_len + info_len;
	unsigned char *buf = OPENSSL_malloc(n);
	if (buf == NULL)
		return false;
	unsigned char *w = buf;
	*w++ = (unsigned char)(out_len >> 8);
	*w++ = (unsigned char)out_len;
	memcpy(w, HPKE_V1, sizeof HPKE_V1);
	w += sizeof HPKE_V1;
	memcpy(w, suite_id, suite_len);
	w += suite_len;
	memcpy(w, label, label_len);
	w += label_len;
	if (info_len > 0)
		memcpy(w, info, info_len);
	bool ok =
	    hkdf_run(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, prk, HPKE_NH, buf, n, out, out_len);
	OPENSSL_clear_free(buf, n);
	return ok;
}

bool hpke_public_from_private(const unsigned char sk[HPKE_NSK], unsigned char pk[HPKE_NPK])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, HPKE_NSK);
	if (key == NULL)
		return false;
	size_t len = HPKE_NPK;
	bool ok = EVP_PKEY_get_raw_public_key(key, pk, &len) > 0 && len == HPKE_NPK;
	EVP_PKEY_free(key);
	return ok;
}

bool hpke_keypair_generate(unsigned char sk[HPKE_NSK], unsigned char pk[HPKE_NPK])
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	if (key == NULL)
		return false;
	size_t sk_len = HPKE_NSK, pk_len = HPKE_NPK;
	bool ok = EVP_PKEY_get_raw_private_key(key, sk, &sk_len) > 0 && sk_len == HPKE_NSK &&
		  EVP_PKEY_get_raw_public_key(key, pk, &pk_len) > 0 && pk_len == HPKE_NPK;
	EVP_PKEY_free(key);
	if (!ok)
		OPENSSL_cleanse(sk, HPKE_NSK);
	return ok;
}

/* DeriveKeyPair(ikm) for X25519, §7.1.3: no rejection sampling, the 32
 * expanded bytes are the private key (X25519 clamps on use). */
bool hpke_derive_keypair(const unsigned char *ikm, size_t ikm_len, unsigned char sk[HPKE_NSK],
			 unsigned char pk[HPKE_NPK])
{
	unsigned char dkp_prk[HPKE_NH];
	bool ok = labeled_extract(KEM_SUITE_ID, sizeof KEM_SUITE_ID, NULL, 0, "dkp_prk", ikm,
				  ikm_len, dkp_prk) &&
		  labeled_expand(KEM_SUITE_ID, sizeof KEM_SUITE_ID, dkp_prk, "sk", NULL, 0, sk,
				 HPKE_NSK) &&
		  hpke_public_from_private(sk, pk);
	OPENSSL_cleanse(dkp_prk, sizeof dkp_prk);
	if (!ok)
		OPENSSL_cleanse(sk, HPKE_NSK);
	return ok;
}

/* DH(sk, pk) for X25519; an all-zero result (small-order peer key) fails,
 * as §7.1.4 requires. */
static bool x25519_dh(const unsigned char sk[HPKE_NSK], const unsigned char pk[HPKE_NPK],
		      unsigned char out[32])
{
	EVP_PKEY *priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, HPKE_NSK);
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pk, HPKE_NPK);
	EVP_PKEY_CTX *pctx = priv != NULL ? EVP_PKEY_CTX_new(priv, NULL) : NULL;
	size_t len = 32;
	bool ok = pctx != NULL && peer != NULL && EVP_PKEY_derive_init(pctx) > 0 &&
		  EVP_PKEY_derive_set_peer(pctx, peer) > 0 &&
		  EVP_PKEY_derive(pctx, out, &len) > 0 && len == 32;
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(priv);
	if (ok) {
		unsigned char acc = 0;
		for (size_t i = 0; i < 32; i++)
			acc |= out[i];
		ok = acc != 0;
	}
	if (!ok)
		OPENSSL_cleanse(out, 32);
	return ok;
}

/* ExtractAndExpand(dh, enc || pkRm), §4.1 */
static bool kem_shared_secret(const unsigned char dh[32], const unsigned char enc[HPKE_NENC],
			      const unsigned char pk_r[HPKE_NPK],
			      unsigned char shared_secret[HPKE_NSECRET])
{
	unsigned char kem_context[HPKE_NENC + HPKE_NPK];
	unsigned char eae_prk[HPKE_NH];
	memcpy(kem_context, enc, HPKE_NENC);
	memcpy(kem_context + HPKE_NENC, pk_r, HPKE_NPK);
	bool ok = labeled_extract(KEM_SUITE_ID, sizeof KEM_SUITE_ID, NULL, 0, "eae_prk", dh, 32,
				  eae_prk) &&
		  labeled_expand(KEM_SUITE_ID, sizeof KEM_SUITE_ID, eae_prk, "shared_secret",
				 kem_context, sizeof kem_context, shared_secret, HPKE_NSECRET);
	OPENSSL_cleanse(eae_prk, sizeof eae_prk);
	return ok;
}

static const EVP_CIPHER *aead_cipher(uint16_t aead_id, size_t *nk)
{
	switch (aead_id) {
	case HPKE_AEAD_AES128GCM:
		*nk = 16;
		return EVP_aes_128_gcm();
	case HPKE_AEAD_AES256GCM:
		*nk = 32;
		return EVP_aes_256_gcm();
	default:
		return NULL;
	}
}

/* KeySchedule<ROLE>(mode_base, shared_secret, info, "", ""), §5.1. */
static struct hpke_ctx *key_schedule(bool sender, uint16_t aead_id,
				     const unsigned char shared_secret[HPKE_NSECRET],
				     const unsigned char *info, size_t info_len,
				     struct hpke_kat *kat)
{
	size_t nk = 0;
	const EVP_CIPHER *cipher = aead_cipher(aead_id, &nk);
	if (cipher == NULL || (info == NULL && info_len > 0))
		return NULL;
	struct hpke_ctx *ctx = OPENSSL_zalloc(sizeof *ctx);
	if (ctx == NULL)
		return NULL;
	ctx->sender = sender;
	ctx->aead_id = aead_id;
	ctx->nk = nk;
	const unsigned char suite_id[10] = {
	    'H',
	    'P',
	    'K',
	    'E',
	    0x00,
	    0x20,
	    0x00,
	    0x01,
	    (unsigned char)(aead_id >> 8),
	    (unsigned char)aead_id,
	};
	memcpy(ctx->suite_id, suite_id, sizeof suite_id);

	unsigned char ksc[1 + 2 * HPKE_NH];
	unsigned char secret[HPKE_NH];
	ksc[0] = MODE_BASE;
	bool ok =
	    labeled_extract(suite_id, sizeof suite_id, NULL, 0, "psk_id_hash", NULL, 0, ksc + 1) &&
	    labeled_extract(suite_id, sizeof suite_id, NULL, 0, "info_hash", info, info_len,
			    ksc + 1 + HPKE_NH) &&
	    labeled_extract(suite_id, sizeof suite_id, shared_secret, HPKE_NSECRET, "secret", NULL,
			    0, secret) &&
	    labeled_expand(suite_id, sizeof suite_id, secret, "key", ksc, sizeof ksc, ctx->key,
			   nk) &&
	    labeled_expand(suite_id, sizeof suite_id, secret, "base_nonce", ksc, sizeof ksc,
			   ctx->base_nonce, HPKE_NN) &&
	    labeled_expand(suite_id, sizeof suite_id, secret, "exp", ksc, sizeof ksc,
			   ctx->exporter_secret, HPKE_NH);
	if (ok) {
		/* The AES key schedule is set once; each message only sets its IV. */
		ctx->aead = EVP_CIPHER_CTX_new();
		ok = ctx->aead != NULL &&
		     (sender ? EVP_EncryptInit_ex(ctx->aead, cipher, NULL, ctx->key, NULL)
			     : EVP_DecryptInit_ex(ctx->aead, cipher, NULL, ctx->key, NULL)) > 0 &&
		     EVP_CIPHER_CTX_ctrl(ctx->aead, EVP_CTRL_GCM_SET_IVLEN, HPKE_NN, NULL) > 0;
	}
	if (ok && kat != NULL) {
		memcpy(kat->shared_secret, shared_secret, HPKE_NSECRET);
		memcpy(kat->key_schedule_context, ksc, sizeof ksc);
		memcpy(kat->secret, secret, HPKE_NH);
		memset(kat->key, 0, sizeof kat->key);
		memcpy(kat->key, ctx->key, nk);
		kat->key_len = nk;
		memcpy(kat->base_nonce, ctx->base_nonce, HPKE_NN);
		memcpy(kat->exporter_secret, ctx->exporter_secret, HPKE_NH);
	}
	OPENSSL_cleanse(secret, sizeof secret);
	if (!ok) {
		hpke_free(ctx);
		return NULL;
	}
	return ctx;
}

struct hpke_ctx *hpke_setup_base_s_derand(uint16_t aead_id, const unsigned char pk_r[HPKE_NPK],
					  const unsigned char *info, size_t info_len,
					  const unsigned char sk_e[HPKE_NSK],
					  unsigned char enc[HPKE_NENC], struct hpke_kat *kat)
{
	unsigned char dh[32], shared_secret[HPKE_NSECRET];
	struct hpke_ctx *ctx = NULL;
	if (hpke_public_from_private(sk_e, enc) && x25519_dh(sk_e, pk_r, dh) &&
	    kem_shared_secret(dh, enc, pk_r, shared_secret))
		ctx = key_schedule(true, aead_id, shared_secret, info, info_len, kat);
	OPENSSL_cleanse(dh, sizeof dh);
	OPENSSL_cleanse(shared_secret, sizeof shared_secret);
	return ctx;
}

struct hpke_ctx *hpke_setup_base_s(uint16_t aead_id, const unsigned char pk_r[HPKE_NPK],
				   const unsigned char *info, size_t info_len,
				   unsigned char enc[HPKE_NENC])
{
	unsigned char sk_e[HPKE_NSK], pk_e[HPKE_NPK];
	struct hpke_ctx *ctx = NULL;
	if (hpke_keypair_generate(sk_e, pk_e))
		ctx = hpke_setup_base_s_derand(aead_id, pk_r, info, info_len, sk_e, enc, NULL);
	OPENSSL_cleanse(sk_e, sizeof sk_e);
	return ctx;
}

struct hpke_ctx *hpke_setup_base_r(uint16_t aead_id, const unsigned char sk_r[HPKE_NSK],
				   const unsigned char enc[HPKE_NENC], const unsigned char *info,
				   size_t info_len)
{
	unsigned char pk_r[HPKE_NPK], dh[32], shared_secret[HPKE_NSECRET];
	struct hpke_ctx *ctx = NULL;
	if (hpke_public_from_private(sk_r, pk_r) && x25519_dh(sk_r, enc, dh) &&
	    kem_shared_secret(dh, enc, pk_r, shared_secret))
		ctx = key_schedule(false, aead_id, shared_secret, info, info_len, NULL);
	OPENSSL_cleanse(dh, sizeof dh);
	OPENSSL_cleanse(shared_secret, sizeof shared_secret);
	return ctx;
}

/* ComputeNonce(seq), §5.2: base_nonce XOR I2OSP(seq, Nn) */
static void compute_nonce(const struct hpke_ctx *ctx, uint64_t seq, unsigned char nonce[HPKE_NN])
{
	memcpy(nonce, ctx->base_nonce, HPKE_NN);
	for (size_t i = 0; i < 8; i++)
		nonce[HPKE_NN - 1 - i] ^= (unsigned char)(seq >> (8 * i));
}

bool hpke_seal(struct hpke_ctx *ctx, const unsigned char *aad, size_t aad_len,
	       const unsigned char *pt, size_t pt_len, unsigned char *ct, uint64_t *seq_out)
{
	if (ctx == NULL || !ctx->sender || ctx->seq == UINT64_MAX || pt_len > INT_MAX ||
	    aad_len > INT_MAX || (pt == NULL && pt_len > 0) || (aad == NULL && aad_len > 0))
		return false;
	unsigned char nonce[HPKE_NN];
	compute_nonce(ctx, ctx->seq, nonce);
	int len = 0, fin = 0;
	bool ok =
	    EVP_EncryptInit_ex(ctx->aead, NULL, NULL, NULL, nonce) > 0 &&
	    (aad_len == 0 || EVP_EncryptUpdate(ctx->aead, NULL, &len, aad, (int)aad_len) > 0) &&
	    (pt_len == 0 || EVP_EncryptUpdate(ctx->aead, ct, &len, pt, (int)pt_len) > 0) &&
	    EVP_EncryptFinal_ex(ctx->aead, ct + (pt_len == 0 ? 0 : len), &fin) > 0 &&
	    EVP_CIPHER_CTX_ctrl(ctx->aead, EVP_CTRL_GCM_GET_TAG, HPKE_NT, ct + pt_len) > 0;
	if (!ok) {
		OPENSSL_cleanse(ct, pt_len + HPKE_NT);
		return false;
	}
	if (seq_out != NULL)
		*seq_out = ctx->seq;
	ctx->seq++;
	return true;
}

bool hpke_open_at(struct hpke_ctx *ctx, uint64_t seq, const unsigned char *aad, size_t aad_len,
		  const unsigned char *ct, size_t ct_len, unsigned char *pt)
{
	if (ctx == NULL || ctx->sender || ct == NULL || ct_len < HPKE_NT ||
	    ct_len - HPKE_NT > INT_MAX || aad_len > INT_MAX || (aad == NULL && aad_len > 0))
		return false;
	size_t pt_len = ct_len - HPKE_NT;
	unsigned char nonce[HPKE_NN], tag[HPKE_NT];
	memcpy(tag, ct + pt_len, HPKE_NT);
	compute_nonce(ctx, seq, nonce);
	int len = 0, fin = 0;
	bool ok =
	    EVP_DecryptInit_ex(ctx->aead, NULL, NULL, NULL, nonce) > 0 &&
	    (aad_len == 0 || EVP_DecryptUpdate(ctx->aead, NULL, &len, aad, (int)aad_len) > 0) &&
	    (pt_len == 0 || EVP_DecryptUpdate(ctx->aead, pt, &len, ct, (int)pt_len) > 0) &&
	    EVP_CIPHER_CTX_ctrl(ctx->aead, EVP_CTRL_GCM_SET_TAG, HPKE_NT, tag) > 0 &&
	    EVP_DecryptFinal_ex(ctx->aead, pt + (pt_len == 0 ? 0 : len), &fin) > 0;
	if (!ok && pt_len > 0)
		OPENSSL_cleanse(pt, pt_len); /* never hand out unauthenticated plaintext */
	return ok;
}

bool hpke_open(struct hpke_ctx *ctx, const unsigned char *aad, size_t aad_len,
	       const unsigned char *ct, size_t ct_len, unsigned char *pt)
{
	if (ctx == NULL || ctx->seq == UINT64_MAX)
		return false;
	if (!hpke_open_at(ctx, ctx->seq, aad, aad_len, ct, ct_len, pt))
		return false;
	ctx->seq++;
	return true;
}

bool hpke_export(const struct hpke_ctx *ctx, const unsigned char *exporter_context,
		 size_t exporter_context_len, unsigned char *out, size_t out_len)
{
	if (ctx == NULL || (exporter_context == NULL && exporter_context_len > 0))
		return false;
	return labeled_expand(ctx->suite_id, sizeof ctx->suite_id, ctx->exporter_secret, "sec",
			      exporter_context, exporter_context_len, out, out_len);
}

uint64_t hpke_next_seq(const struct hpke_ctx *ctx)
{
	return ctx->seq;
}

void hpke_free(struct hpke_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_CIPHER_CTX_free(ctx->aead); /* cleanses its own key schedule */
	OPENSSL_clear_free(ctx, sizeof *ctx);
}
