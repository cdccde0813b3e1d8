/*
 * pseudo.c — HMAC-SHA256 pseudonyms of national IDs (see pseudo.h).
 *
 * Owns: the keyed MAC state of one worker and the pseudonym text forms.
 * Must not: log, keep or return an ID, or leave ID bytes in its buffers.
 *
 * Speed: the key is set once in pseudo_new(). For each ID the context is
 * re-initialised with EVP_MAC_init(ctx, NULL, 0, NULL), which for HMAC only
 * copies the precomputed inner/outer pad states: two SHA-256 compressions
 * per ID instead of four plus algorithm fetches and allocations for a
 * one-shot HMAC() (tools/kpr-bench-pseudo measures the difference).
 */
#include "pseudo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

struct pseudo_ctx {
	EVP_MAC *mac;
	EVP_MAC_CTX *mctx;
	int key_version;
};

static const char HEX[] = "0123456789abcdef";

struct pseudo_ctx *pseudo_new(const unsigned char *key, size_t len, int key_version)
{
	if (key == NULL || len < PSEUDO_KEY_MIN || key_version < 1)
		return NULL;
	struct pseudo_ctx *ctx = OPENSSL_zalloc(sizeof *ctx);
	if (ctx == NULL)
		return NULL;
	ctx->key_version = key_version;
	ctx->mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	ctx->mctx = ctx->mac != NULL ? EVP_MAC_CTX_new(ctx->mac) : NULL;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	if (ctx->mctx == NULL || EVP_MAC_init(ctx->mctx, key, len, params) <= 0) {
		pseudo_free(ctx);
		return NULL;
	}
	return ctx;
}

bool pseudo_compute(struct pseudo_ctx *ctx, const char id11[11], struct pseudonym *out)
{
	if (ctx == NULL || id11 == NULL || out == NULL)
		return false;
	for (size_t i = 0; i < 11; i++)
		if (id11[i] < '0' || id11[i] > '9')
			return false;
	unsigned char mac[32];
	size_t mac_len = 0;
	bool ok = EVP_MAC_init(ctx->mctx, NULL, 0, NULL) > 0 &&
		  EVP_MAC_update(ctx->mctx, (const unsigned char *)PSEUDO_DOMAIN_LABEL,
				 sizeof PSEUDO_DOMAIN_LABEL) > 0 &&
		  EVP_MAC_update(ctx->mctx, (const unsigned char *)id11, 11) > 0 &&
		  EVP_MAC_final(ctx->mctx, mac, &mac_len, sizeof mac) > 0 && mac_len == sizeof mac;
	if (ok) {
		out->key_version = ctx->key_version;
		memcpy(out->bytes, mac, PSEUDO_LEN);
	}
	OPENSSL_cleanse(mac, sizeof mac);
	return ok;
}

int pseudo_key_version(const struct pseudo_ctx *ctx)
{
	return ctx->key_version;
}

void pseudo_free(struct pseudo_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_MAC_CTX_free(ctx->mctx); /* HMAC cleanses its key and pad states */
	EVP_MAC_free(ctx->mac);
	OPENSSL_clear_free(ctx, sizeof *ctx);
}

void pseudo_to_hex(const struct pseudonym *p, char out[PSEUDO_HEX_LEN + 1])
{
	for (size_t i = 0; i < PSEUDO_LEN; i++) {
		out[2 * i] = HEX[p->bytes[i] >> 4];
		out[2 * i + 1] = HEX[p->bytes[i] & 0x0f];
	}
	out[PSEUDO_HEX_LEN] = '\0';
}

void pseudo_format(const struct pseudonym *p, char out[PSEUDO_TEXT_MAX])
{
	char hex[PSEUDO_HEX_LEN + 1];
	pseudo_to_hex(p, hex);
	snprintf(out, PSEUDO_TEXT_MAX, "%d:%s", (int)p->key_version, hex);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool pseudo_from_hex(const char *hex32, int key_version, struct pseudonym *out)
{
	if (hex32 == NULL || key_version < 1)
		return false;
	struct pseudonym p = {.key_version = key_version};
	for (size_t i = 0; i < PSEUDO_LEN; i++) {
		int hi = hex_value(hex32[2 * i]);
		int lo = hi < 0 ? -1 : hex_value(hex32[2 * i + 1]);
		if (lo < 0)
			return false;
		p.bytes[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = p;
	return true;
}

bool pseudo_parse(const char *s, struct pseudonym *out)
{
	if (s == NULL || s[0] < '1' || s[0] > '9')
		return false;
	long version = 0;
	size_t i = 0;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		version = version * 10 + (s[i] - '0');
		if (version > INT32_MAX)
			return false;
	}
	if (s[i] != ':' || strlen(s + i + 1) != PSEUDO_HEX_LEN)
		return false;
	return pseudo_from_hex(s + i + 1, (int)version, out);
}

bool pseudo_equal(const struct pseudonym *a, const struct pseudonym *b)
{
	return a->key_version == b->key_version && memcmp(a->bytes, b->bytes, PSEUDO_LEN) == 0;
}

void pseudo_vault_aad(const struct pseudonym *p, unsigned char out[PSEUDO_VAULT_AAD_LEN])
{
	unsigned char *w = out;
	memcpy(w, PSEUDO_VAULT_AAD_LABEL, sizeof PSEUDO_VAULT_AAD_LABEL);
	w += sizeof PSEUDO_VAULT_AAD_LABEL;
	uint32_t v = (uint32_t)p->key_version;
	*w++ = (unsigned char)(v >> 24);
	*w++ = (unsigned char)(v >> 16);
	*w++ = (unsigned char)(v >> 8);
	*w++ = (unsigned char)v;
	memcpy(w, p->bytes, PSEUDO_LEN);
}
