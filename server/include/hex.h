/*
 * hex.h — lower-case hex: encoding bytes, random tokens and SHA-256 digests,
 * written once for every module (request ids, spool names, worker ids,
 * feedback tokens, ETags, token hashes, migration checksums).
 */
#ifndef HEX_H
#define HEX_H

#include "kpr.h"

/* out receives 2 * n hex digits and a NUL (2 * n + 1 bytes). */
void hex_encode(const void *in, size_t n, char *out);
/* nbytes random bytes from the kernel (getrandom), as 2 * nbytes hex digits
 * and a NUL. False when no randomness could be had. */
bool hex_random(char *out, size_t nbytes) KPR_WUR;
/* The SHA-256 of data as 64 hex digits and a NUL. */
bool sha256_hex(const void *data, size_t len, char out[65]) KPR_WUR;

#endif
