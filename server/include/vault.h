/*
 * vault.h — adds national IDs to the ID vault, encrypted to the
 * re-identification public key (HPKE, RFC 9180) with the pseudonym and key
 * version bound in as associated data. Write-only: ingest can add rows but
 * has no way to read one back (its database role may only call the vault's
 * insert function, and it holds no private key).
 */
#ifndef VAULT_H
#define VAULT_H

#include "kpr.h"
#include "pseudo.h"

struct kpr_config;
struct vault;

/* key_version and key_fp name the pseudonym key in use: the vault refuses
 * rows made with a key it does not know (test vs production keys). */
struct vault *vault_new(const struct kpr_config *cfg, int key_version, const char *key_fp,
			char *err, size_t errlen) KPR_WUR;
void vault_free(struct vault *v);

/* Encrypts id11 for pseudonym p and keeps it (in a temporary file) until
 * vault_flush or vault_discard. */
bool vault_add(struct vault *v, const struct pseudonym *p, const char id11[11]) KPR_WUR;
/* Sends everything kept, in batches. The vault insert is idempotent (one
 * row per pseudonym; a repeat only updates last_seen), so a retried job is
 * safe. Called only once the file is known to be loadable. */
bool vault_flush(struct vault *v) KPR_WUR;
/* True when the vault database answers (reconnecting if needed). */
bool vault_reachable(struct vault *v);
/* Drops what is kept (the job failed, or its file is rejected). */
void vault_discard(struct vault *v);

#endif
