/*
 * pseudo.h — pseudonyms for national IDs (SPEC §4).
 *
 *   pseudonym = first 128 bits of
 *               HMAC-SHA256(pseudonym key, PSEUDO_DOMAIN_LABEL || 11-digit ID)
 *
 * where PSEUDO_DOMAIN_LABEL is the 17 bytes "KPR-pseudonym-v1" followed by one
 * NUL byte (the NUL ends the label so no label/ID split is ambiguous), and the
 * ID is its 11 ASCII digits. Every pseudonym carries the version of the key
 * that made it; two pseudonyms are the same person only when both the
 * version and the 16 bytes match. Textual form: "<version>:<32 lowercase
 * hex>", e.g. "1:0f3a...". The same ID gets the same pseudonym in every
 * municipality and year for as long as the key version stays.
 *
 * A pseudo_ctx holds the keyed HMAC state and is reused for every ID a
 * worker handles (one context per thread; not thread-safe). It never stores
 * an ID, and wipes its intermediate buffers.
 */
#ifndef PSEUDO_H
#define PSEUDO_H

#include <stdint.h>

#include "kpr.h"

#define PSEUDO_LEN     16 /* bytes of a pseudonym */
#define PSEUDO_HEX_LEN 32 /* hex digits of a pseudonym, without the version */
/* "2147483647:" + 32 hex + NUL */
#define PSEUDO_TEXT_MAX     44
#define PSEUDO_KEY_MIN      32                 /* shortest pseudonym key accepted, in bytes */
#define PSEUDO_DOMAIN_LABEL "KPR-pseudonym-v1" /* sizeof includes the NUL: 17 */

/* Associated data that binds a vault ciphertext to its row (SPEC §4):
 * "KPR-vault-v1" NUL || I2OSP(key_version, 4) || pseudonym (16 bytes). */
#define PSEUDO_VAULT_AAD_LABEL "KPR-vault-v1"
#define PSEUDO_VAULT_AAD_LEN   (sizeof PSEUDO_VAULT_AAD_LABEL + 4 + PSEUDO_LEN)
/* HPKE info string for vault encryption (fixed; names the purpose). */
#define PSEUDO_VAULT_HPKE_INFO "KPR-vault-v1 national-id"

struct pseudonym {
	int32_t key_version; /* >= 1 */
	unsigned char bytes[PSEUDO_LEN];
};

struct pseudo_ctx;

/* A context keyed with the pseudonym key (>= PSEUDO_KEY_MIN bytes) of the
 * given version (>= 1). The caller keeps ownership of key and should wipe
 * it; the context holds its own copy inside OpenSSL's HMAC state. */
struct pseudo_ctx *pseudo_new(const unsigned char *key, size_t len, int key_version) KPR_WUR;

/* Pseudonym of the 11 characters at id11 (not NUL-terminated). Checks only
 * that they are 11 digits: validation (R101–R105) is the caller's job. */
bool pseudo_compute(struct pseudo_ctx *ctx, const char id11[11], struct pseudonym *out) KPR_WUR;

int pseudo_key_version(const struct pseudo_ctx *ctx);

/* Wipes and frees; NULL is fine. */
void pseudo_free(struct pseudo_ctx *ctx);

/* 32 lowercase hex digits of the 16 bytes, NUL-terminated (no version). */
void pseudo_to_hex(const struct pseudonym *p, char out[PSEUDO_HEX_LEN + 1]);

/* Textual form "<version>:<32 hex>", NUL-terminated. */
void pseudo_format(const struct pseudonym *p, char out[PSEUDO_TEXT_MAX]);

/* Parses the textual form (lower- or uppercase hex); false on anything else. */
bool pseudo_parse(const char *s, struct pseudonym *out) KPR_WUR;

/* 32 hex digits to bytes, with the given key version. */
bool pseudo_from_hex(const char *hex32, int key_version, struct pseudonym *out) KPR_WUR;

bool pseudo_equal(const struct pseudonym *a, const struct pseudonym *b) KPR_WUR;

/* Fills the vault AAD for this pseudonym (see PSEUDO_VAULT_AAD_LEN). */
void pseudo_vault_aad(const struct pseudonym *p, unsigned char out[PSEUDO_VAULT_AAD_LEN]);

#endif
