/*
 * hpke.h — RFC 9180 Hybrid Public Key Encryption, base mode only, for the
 * ID vault: ingest encrypts a national ID to the re-identification public
 * key and can never decrypt it again.
 *
 * Suite: DHKEM(X25519, HKDF-SHA256) (kem_id 0x0020), HKDF-SHA256 (kdf_id
 * 0x0001), AES-256-GCM (aead_id 0x0002). AES-128-GCM (0x0001) is accepted too,
 * only because RFC 9180 publishes its X25519 test vectors (A.1) for that AEAD;
 * the vault always uses HPKE_AEAD_AES256GCM.
 *
 * Built from OpenSSL 3.0 primitives (EVP_PKEY X25519, EVP_KDF HKDF,
 * EVP_aes_*_gcm); 3.0 has no HPKE API of its own.
 *
 * A context is either a sender (seal, export) or a receiver (open, export).
 * One context per batch is allowed: a sender seals many messages under one
 * encapsulation with sequence-numbered nonces (seq 0, 1, 2, ...), and each
 * message's seq must be stored with it so the receiver can open it alone
 * (hpke_open_at). A context is not thread-safe; use one per worker.
 * Contexts hold secret keys and wipe them in hpke_free().
 */
#ifndef HPKE_H
#define HPKE_H

#include <stdint.h>

#include "kpr.h"

#define HPKE_KEM_X25519_HKDF_SHA256 0x0020
#define HPKE_KDF_HKDF_SHA256        0x0001
#define HPKE_AEAD_AES128GCM         0x0001
#define HPKE_AEAD_AES256GCM         0x0002

#define HPKE_NPK     32 /* serialized public key */
#define HPKE_NSK     32 /* serialized private key */
#define HPKE_NENC    32 /* encapsulated key (the ephemeral public key) */
#define HPKE_NSECRET 32
#define HPKE_NH      32 /* HKDF-SHA256 output */
#define HPKE_NN      12 /* AEAD nonce */
#define HPKE_NT      16 /* AEAD tag; ciphertext = plaintext + HPKE_NT bytes */
#define HPKE_NK_MAX  32 /* largest AEAD key (AES-256) */

struct hpke_ctx;

/* Fresh random X25519 key pair. */
bool hpke_keypair_generate(unsigned char sk[HPKE_NSK], unsigned char pk[HPKE_NPK]) KPR_WUR;

/* RFC 9180 §7.1.3 DeriveKeyPair(ikm) for DHKEM(X25519, HKDF-SHA256). */
bool hpke_derive_keypair(const unsigned char *ikm, size_t ikm_len, unsigned char sk[HPKE_NSK],
			 unsigned char pk[HPKE_NPK]) KPR_WUR;

/* The public key belonging to a private key. */
bool hpke_public_from_private(const unsigned char sk[HPKE_NSK], unsigned char pk[HPKE_NPK]) KPR_WUR;

/* SetupBaseS: a fresh ephemeral key; enc goes to the receiver with the data. */
struct hpke_ctx *hpke_setup_base_s(uint16_t aead_id, const unsigned char pk_r[HPKE_NPK],
				   const unsigned char *info, size_t info_len,
				   unsigned char enc[HPKE_NENC]) KPR_WUR;

/* Intermediate values of the key schedule, for known-answer tests only. */
struct hpke_kat {
	unsigned char shared_secret[HPKE_NSECRET];
	unsigned char key_schedule_context[1 + 2 * HPKE_NH];
	unsigned char secret[HPKE_NH];
	unsigned char key[HPKE_NK_MAX];
	size_t key_len;
	unsigned char base_nonce[HPKE_NN];
	unsigned char exporter_secret[HPKE_NH];
};

/* Deterministic SetupBaseS with a given ephemeral private key (test vectors
 * only: reusing sk_e across batches would reuse key and nonces). When kat is
 * not NULL it receives the key schedule's intermediate values. */
struct hpke_ctx *hpke_setup_base_s_derand(uint16_t aead_id, const unsigned char pk_r[HPKE_NPK],
					  const unsigned char *info, size_t info_len,
					  const unsigned char sk_e[HPKE_NSK],
					  unsigned char enc[HPKE_NENC],
					  struct hpke_kat *kat) KPR_WUR;

/* SetupBaseR: the holder of the private key. */
struct hpke_ctx *hpke_setup_base_r(uint16_t aead_id, const unsigned char sk_r[HPKE_NSK],
				   const unsigned char enc[HPKE_NENC], const unsigned char *info,
				   size_t info_len) KPR_WUR;

/* Seals pt under the context's next sequence number, written to *seq_out
 * (may be NULL); ct receives pt_len + HPKE_NT bytes. Sender contexts only.
 * Fails (and never reuses a nonce) once the sequence number space is spent. */
bool hpke_seal(struct hpke_ctx *ctx, const unsigned char *aad, size_t aad_len,
	       const unsigned char *pt, size_t pt_len, unsigned char *ct,
	       uint64_t *seq_out) KPR_WUR;

/* Opens ct (ct_len >= HPKE_NT) sealed with the given sequence number; pt
 * receives ct_len - HPKE_NT bytes. Receiver contexts only. False when the
 * tag does not verify (wrong key, enc, info, aad, seq or tampered data). */
bool hpke_open_at(struct hpke_ctx *ctx, uint64_t seq, const unsigned char *aad, size_t aad_len,
		  const unsigned char *ct, size_t ct_len, unsigned char *pt) KPR_WUR;

/* RFC 9180 Context.Open: the context's own counter, advanced on success. */
bool hpke_open(struct hpke_ctx *ctx, const unsigned char *aad, size_t aad_len,
	       const unsigned char *ct, size_t ct_len, unsigned char *pt) KPR_WUR;

/* Secret export (RFC 9180 §5.3), both roles; out_len <= 255 * HPKE_NH. */
bool hpke_export(const struct hpke_ctx *ctx, const unsigned char *exporter_context,
		 size_t exporter_context_len, unsigned char *out, size_t out_len) KPR_WUR;

/* Sequence number the next hpke_seal()/hpke_open() will use. */
uint64_t hpke_next_seq(const struct hpke_ctx *ctx);

/* Wipes and frees; NULL is fine. */
void hpke_free(struct hpke_ctx *ctx);

#endif
