/*
 * keystore.h — keys at rest (SPEC §4): a key-encryption key (KEK) held
 * outside PostgreSQL wraps the pseudonym key; the re-identification public
 * key is stored in clear; its private key never stays on the server.
 *
 * Key directory (docs/keys.md):
 *   kek-<id>.key              32 raw bytes, mode 0600 (refused otherwise)
 *   pseudonym-<v>.wrapped     text: version, fingerprint, KEK id, wrapped key
 *   reid-<id>.pub             PEM SubjectPublicKeyInfo of an X25519 key
 * Every id is a key fingerprint (keystore_fingerprint), so a file, a log line
 * or a vault row names exactly which key it belongs to, and test and
 * production keys cannot be mixed unnoticed.
 *
 * The KEK is an interface (struct kek) so an HSM or KMS backend can replace
 * the file backend; only kek_file_* know about files.
 * Nothing here logs or prints key material; failures leave a message for
 * keystore_error() that never contains key bytes.
 */
#ifndef KEYSTORE_H
#define KEYSTORE_H

#include "kpr.h"

#define KEYSTORE_KEY_LEN 32  /* KEK and pseudonym key, bytes */
#define KEYSTORE_ID_LEN  16  /* hex characters of a key id / fingerprint */
#define KEK_WRAPPED_MAX  128 /* largest wrapped blob a backend may return */

/* A key-encryption key. wrap() seals key with aad bound in; unwrap()
 * reverses it and fails when the aad, the KEK or the blob differ. */
struct kek {
	char id[KEYSTORE_ID_LEN + 1];
	const char *alg; /* recorded in wrapped files, e.g. "AES-256-GCM" */
	bool (*wrap)(const struct kek *kek, const unsigned char *aad, size_t aad_len,
		     const unsigned char *key, size_t key_len, unsigned char *out, size_t *out_len);
	bool (*unwrap)(const struct kek *kek, const unsigned char *aad, size_t aad_len,
		       const unsigned char *in, size_t in_len, unsigned char *key, size_t *key_len);
	void (*destroy)(struct kek *kek); /* frees impl and kek, wiping secrets */
	void *impl;
};

/* NULL is fine. */
void kek_free(struct kek *kek);

/* File backend: reads a 32-byte KEK. Refuses a file that is not a regular
 * file, is a symlink, grants any group/other permission, is not 32 bytes,
 * or whose name (kek-<id>.key) does not match its fingerprint. */
struct kek *kek_file_open(const char *path) KPR_WUR;

/* File backend: creates a random KEK as dir/kek-<id>.key (mode 0600, never
 * overwriting) and returns it open. */
struct kek *kek_file_create(const char *dir) KPR_WUR;

/* Key id: the first 8 bytes of SHA-256("KPR-key-fingerprint-v1" NUL || data)
 * as 16 lowercase hex characters. Safe to show for 256-bit secret keys. */
void keystore_fingerprint(const unsigned char *data, size_t len, char out[KEYSTORE_ID_LEN + 1]);

struct keystore_init_result {
	char kek_id[KEYSTORE_ID_LEN + 1];
	int pseudonym_version;
	char pseudonym_fingerprint[KEYSTORE_ID_LEN + 1];
	char reid_id[KEYSTORE_ID_LEN + 1];
};

/* Creates dir (0700) if missing and in it a KEK, pseudonym key version 1
 * (wrapped) and a re-identification key pair: the public key goes to dir,
 * the private key (PEM PKCS#8, mode 0600) to private_key_out, which must not
 * exist yet and should be outside dir. Refuses a dir that already holds keys. */
bool keystore_init(const char *dir, const char *private_key_out,
		   struct keystore_init_result *res) KPR_WUR;

struct keystore_pseudonym_key {
	unsigned char key[KEYSTORE_KEY_LEN];
	int version;
	char fingerprint[KEYSTORE_ID_LEN + 1];
	char kek_id[KEYSTORE_ID_LEN + 1];
};

/* Unwraps the current (highest-version) pseudonym key. Wipe it with
 * keystore_pseudonym_key_wipe() once the pseudo contexts are keyed. */
bool keystore_load_pseudonym_key(const char *dir, struct keystore_pseudonym_key *out) KPR_WUR;
bool keystore_load_pseudonym_key_version(const char *dir, int version,
					 struct keystore_pseudonym_key *out) KPR_WUR;
void keystore_pseudonym_key_wipe(struct keystore_pseudonym_key *k);

/* The one reid-<id>.pub in dir (more than one is an error: retire old ones
 * by moving them out). */
bool keystore_load_reid_public(const char *dir, unsigned char pk[32],
			       char id[KEYSTORE_ID_LEN + 1]) KPR_WUR;

/* The private key written by keystore_init (for the re-identification
 * command, on the operator's machine). Refuses group/other permissions. */
bool keystore_load_reid_private(const char *path, unsigned char sk[32],
				char id[KEYSTORE_ID_LEN + 1]) KPR_WUR;

/* Creates a new KEK, re-wraps every pseudonym key with it (each file
 * replaced atomically, then verified), then deletes the old KEK files.
 * Never touches data or the pseudonym keys themselves. */
bool keystore_rotate_kek(const char *dir, char old_id[KEYSTORE_ID_LEN + 1],
			 char new_id[KEYSTORE_ID_LEN + 1]) KPR_WUR;

enum keystore_item_kind {
	KEYSTORE_ITEM_KEK,
	KEYSTORE_ITEM_PSEUDONYM_KEY,
	KEYSTORE_ITEM_REID_PUBLIC,
};

struct keystore_item {
	enum keystore_item_kind kind;
	char file[256];
	char id[KEYSTORE_ID_LEN + 1];     /* KEK id, key fingerprint, reid key id */
	int version;                      /* pseudonym key version; 0 otherwise */
	char kek_id[KEYSTORE_ID_LEN + 1]; /* pseudonym key: the KEK wrapping it */
	char created[32];                 /* pseudonym key: when wrapped, UTC */
	bool ok;                          /* present, permissions right, unwraps */
	char problem[160];                /* why not ok, or a note */
};

/* Lists the keys in dir with ids, versions and fingerprints (never key
 * material), checking each (permissions, unwrap, fingerprint). */
bool keystore_status(const char *dir, struct keystore_item **items, size_t *n) KPR_WUR;
void keystore_status_free(struct keystore_item *items);

/* Key events (init, KEK rotation) go to this hook; kprctl will connect it to
 * the audit table. event is e.g. "keys.init", "keys.rotate_kek"; detail
 * names ids and versions only. */
typedef void (*keystore_audit_fn)(void *arg, const char *event, const char *detail);
void keystore_set_audit_hook(keystore_audit_fn fn, void *arg);

/* Why the last call in this thread failed (never contains key material). */
const char *keystore_error(void);

#endif
