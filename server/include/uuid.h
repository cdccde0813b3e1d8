/*
 * uuid.h — the lower-case UUIDs kprd makes and accepts (submission ids, the
 * names of spool and feedback files), written once.
 */
#ifndef UUID_H
#define UUID_H

#include "kpr.h"

#define UUID_LEN 36 /* characters, without the NUL */

/* Do the first 36 characters of s form a lower-case UUID (8-4-4-4-12)? */
bool uuid_prefix_valid(const char *s);
/* Is s exactly one? NULL: no. */
bool uuid_valid(const char *s);
/* A random (version 4) UUID; false when no randomness could be had. */
bool uuid_new(char out[UUID_LEN + 1]) KPR_WUR;

#endif
