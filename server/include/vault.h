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

/* Encrypts id11 for pseudonym p and queues it; flushes a full batch. */
bool vault_add(struct vault *v, const struct pseudonym *p, const char id11[11]) KPR_WUR;
/* Sends what is queued. The vault insert is idempotent (one row per
 * pseudonym; a repeat only updates last_seen), so a retried job is safe. */
bool vault_flush(struct vault *v) KPR_WUR;
/* Drops what is queued (the job failed before its load). */
void vault_discard(struct vault *v);

#endif
