/*
 * kpr-bench-pseudo — how fast one worker pseudonymises national IDs and
 * seals them for the vault, against a one-shot HMAC in the same run.
 *
 *   kpr-bench-pseudo [-n COUNT] [-b BATCH]
 *
 * IDs are synthetic 11-digit strings made from a counter; keys are random
 * and thrown away. With -c KPRD_CONF it also measures what ingest really
 * does per ID: pseudonymise, seal and insert into the vault database
 * (vault.c, batched), with the keys and vault of that configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "config.h"
#include "hpke.h"
#include "keystore.h"
#include "log.h"
#include "pseudo.h"
#include "vault.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_id(long i, char id[12])
{
	unsigned long v = ((unsigned long)i * 7919UL + 1234567UL) % 100000000000UL;
	for (int k = 10; k >= 0; k--, v /= 10)
		id[k] = (char)('0' + v % 10);
	id[11] = '\0';
}

static volatile unsigned char sink;

static void report(const char *what, long n, double secs, double base)
{
	double rate = (double)n / secs;
	printf("%-48s %10.0f /s  %8.3f us/op", what, rate, 1e6 * secs / (double)n);
	if (base > 0)
		printf("  x%.2f vs one-shot HMAC", rate / base);
	printf("\n");
}

static void die(const char *what)
{
	fprintf(stderr, "kpr-bench-pseudo: %s failed\n", what);
	exit(1);
}

int main(int argc, char **argv)
{
	long n = 1000000, batch = 1000, vault_n = 200000;
	const char *conf = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "n:b:c:v:")) != -1) {
		if (opt == 'n')
			n = atol(optarg);
		else if (opt == 'b')
			batch = atol(optarg);
		else if (opt == 'c')
			conf = optarg;
		else if (opt == 'v')
			vault_n = atol(optarg);
		else {
			fprintf(
			    stderr,
			    "usage: kpr-bench-pseudo [-n COUNT] [-b BATCH] [-c KPRD_CONF [-v VAULT_COUNT]]\n");
			return 2;
		}
	}
	if (n < 1 || batch < 1)
		return 2;

	unsigned char key[32], sk[HPKE_NSK], pk[HPKE_NPK];
	if (RAND_bytes(key, sizeof key) != 1 || !hpke_keypair_generate(sk, pk))
		die("key generation");
	char id[12];
	unsigned char md[32];
	unsigned int md_len;
	double t;

	printf("kpr-bench-pseudo: %ld IDs, vault batch %ld, OpenSSL %s\n", n, batch,
	       OpenSSL_version(OPENSSL_VERSION_STRING));

	/* 1. One-shot HMAC(): what a naive implementation pays per ID. */
	unsigned char msg[sizeof PSEUDO_DOMAIN_LABEL + 11];
	memcpy(msg, PSEUDO_DOMAIN_LABEL, sizeof PSEUDO_DOMAIN_LABEL);
	t = now();
	for (long i = 0; i < n; i++) {
		make_id(i, id);
		memcpy(msg + sizeof PSEUDO_DOMAIN_LABEL, id, 11);
		if (HMAC(EVP_sha256(), key, sizeof key, msg, sizeof msg, md, &md_len) == NULL)
			die("HMAC");
		sink ^= md[0];
	}
	double oneshot = (double)n / (now() - t);
	report("one-shot HMAC() per ID", n, (double)n / oneshot, 0);

	/* 2. Alternative reuse strategy: duplicate a pre-keyed EVP_MAC_CTX. */
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *tmpl = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
			       OSSL_PARAM_construct_end()};
	if (tmpl == NULL || EVP_MAC_init(tmpl, key, sizeof key, params) <= 0)
		die("EVP_MAC");
	t = now();
	for (long i = 0; i < n; i++) {
		make_id(i, id);
		EVP_MAC_CTX *c = EVP_MAC_CTX_dup(tmpl);
		size_t len;
		if (c == NULL ||
		    EVP_MAC_update(c, (const unsigned char *)PSEUDO_DOMAIN_LABEL,
				   sizeof PSEUDO_DOMAIN_LABEL) <= 0 ||
		    EVP_MAC_update(c, (const unsigned char *)id, 11) <= 0 ||
		    EVP_MAC_final(c, md, &len, sizeof md) <= 0)
			die("EVP_MAC dup");
		EVP_MAC_CTX_free(c);
		sink ^= md[0];
	}
	report("EVP_MAC_CTX_dup of a keyed context per ID", n, now() - t, oneshot);
	EVP_MAC_CTX_free(tmpl);
	EVP_MAC_free(mac);

	/* 3. pseudo_compute: keyed once, EVP_MAC_init(NULL key) per ID. */
	struct pseudo_ctx *pc = pseudo_new(key, sizeof key, 1);
	if (pc == NULL)
		die("pseudo_new");
	struct pseudonym p;
	t = now();
	for (long i = 0; i < n; i++) {
		make_id(i, id);
		if (!pseudo_compute(pc, id, &p))
			die("pseudo_compute");
		sink ^= p.bytes[0];
	}
	report("pseudo_compute (reused context)", n, now() - t, oneshot);

	/* 4. Pseudonym + vault ciphertext, one HPKE encapsulation per batch. */
	const unsigned char *info = (const unsigned char *)PSEUDO_VAULT_HPKE_INFO;
	size_t info_len = sizeof PSEUDO_VAULT_HPKE_INFO - 1;
	unsigned char enc[HPKE_NENC], aad[PSEUDO_VAULT_AAD_LEN], ct[11 + HPKE_NT];
	struct hpke_ctx *hc = NULL;
	t = now();
	for (long i = 0; i < n; i++) {
		if (i % batch == 0) {
			hpke_free(hc);
			hc = hpke_setup_base_s(HPKE_AEAD_AES256GCM, pk, info, info_len, enc);
			if (hc == NULL)
				die("hpke_setup_base_s");
		}
		make_id(i, id);
		uint64_t seq;
		if (!pseudo_compute(pc, id, &p))
			die("pseudo_compute");
		pseudo_vault_aad(&p, aad);
		if (!hpke_seal(hc, aad, sizeof aad, (const unsigned char *)id, 11, ct, &seq))
			die("hpke_seal");
		sink ^= ct[0];
	}
	char what[80];
	snprintf(what, sizeof what, "pseudo + HPKE seal, 1 encapsulation/%ld IDs", batch);
	report(what, n, now() - t, oneshot);
	hpke_free(hc);

	/* 5. Pseudonym + a fresh encapsulation per ID (no batching). */
	long m = n / 20 > 0 ? n / 20 : 1;
	t = now();
	for (long i = 0; i < m; i++) {
		hc = hpke_setup_base_s(HPKE_AEAD_AES256GCM, pk, info, info_len, enc);
		make_id(i, id);
		if (hc == NULL || !pseudo_compute(pc, id, &p))
			die("setup");
		pseudo_vault_aad(&p, aad);
		if (!hpke_seal(hc, aad, sizeof aad, (const unsigned char *)id, 11, ct, NULL))
			die("hpke_seal");
		hpke_free(hc);
		sink ^= ct[0];
	}
	report("pseudo + HPKE seal, 1 encapsulation per ID", m, now() - t, oneshot);

	pseudo_free(pc);

	/* 6. The real thing: pseudonymise + seal + insert into the vault database. */
	if (conf) {
		char err[1024];
		log_set_level(LOG_LVL_WARN);
		struct kpr_config *cfg = config_load(conf, err, sizeof err);
		struct keystore_pseudonym_key k;
		if (!cfg)
			die(err);
		if (!keystore_load_pseudonym_key(cfg->keys_dir, &k))
			die("pseudonym key");
		struct pseudo_ctx *vp = pseudo_new(k.key, sizeof k.key, k.version);
		struct vault *v = vault_new(cfg, k.version, k.fingerprint, err, sizeof err);
		keystore_pseudonym_key_wipe(&k);
		if (!vp || !v)
			die(err);
		/* IDs far from the synthetic ones kpr-gen makes, so this adds rows */
		t = now();
		for (long i = 0; i < vault_n; i++) {
			make_id(i * 104729L + 55555L, id);
			if (!pseudo_compute(vp, id, &p) || !vault_add(v, &p, id))
				die("vault_add");
		}
		if (!vault_flush(v))
			die("vault_flush");
		report("pseudo + seal + vault insert (PostgreSQL, batches of 1000)", vault_n,
		       now() - t, oneshot);
		vault_free(v);
		pseudo_free(vp);
		config_free(cfg);
	}
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(sk, sizeof sk);
	return 0;
}
