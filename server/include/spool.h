/*
 * spool.h — durable storage of received files. An upload is written to
 * <spool>/incoming/<random>.part while its SHA-256 is computed; on success
 * it is fsync'd, renamed to its final name and the directory fsync'd, so
 * once the caller records it in the database the file survives a crash of
 * the process or the machine. Partial files never get a final name.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <stdint.h>

#include "kpr.h"

struct spool_file;

/* Free bytes for unprivileged writers on the spool file system, or -1. */
long long spool_free_bytes(const char *dir);

struct spool_file *spool_create(const char *dir, char *err, size_t errlen) KPR_WUR;
bool spool_write(struct spool_file *f, const void *data, size_t len) KPR_WUR;
uint64_t spool_bytes(const struct spool_file *f);
/* Finishes the hash and makes the file durable under dir/final_name;
 * sha256_hex receives the digest of everything written. */
bool spool_commit(struct spool_file *f, const char *final_name, char sha256_hex[65]) KPR_WUR;
/* The committed file is recorded in the database: spool_free keeps it.
 * Without this, spool_free removes even a committed file (a duplicate). */
void spool_keep(struct spool_file *f);
/* Path of the file (the temporary one before commit). */
const char *spool_path(const struct spool_file *f);
/* Removes the file unless kept, and frees. Accepts NULL. */
void spool_free(struct spool_file *f);

/* True while this process writes or holds NAME (a base name: a .part file
 * or a final one) between spool_create and spool_free. */
bool spool_in_flight(const char *name);

/* Removes incoming/<name>.part files at least max_age_seconds old that this
 * process is not writing (uploads cut off by a crash). Returns the number
 * removed. */
int spool_sweep_incoming(const char *dir, int max_age_seconds);

#endif
