/*
 * ratelimit.h — in-memory rate limits for the HTTPS front: failed bearer
 * tokens per client address (brute force) and uploads per municipality.
 * No database, no allocation after creation: a fixed-size, set-associative
 * table (keyed hash, eviction of the least constrained entry) so memory is
 * bounded whatever the number of addresses an attacker uses. Thread-safe
 * (one mutex per limiter; the critical sections are a few dozen
 * instructions). State is per process: several kprd processes behind one
 * address each count on their own, and a restart forgets everything.
 *
 * The algorithm is GCRA (the "virtual scheduling" leaky bucket): `limit`
 * events per `window` seconds, a burst of up to `limit` at once, then one
 * event every window/limit seconds. One 64-bit timestamp per key.
 * A limit <= 0 or a window <= 0 means "no limit".
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stdint.h>

#include "kpr.h"

struct ratelimit;

#define RATELIMIT_KEY_MAX 64 /* longer keys are truncated (an IPv6 literal is <= 45) */

/* A table of at least `slots` entries (rounded up to a power of two, at
 * least 8). NULL on allocation failure. */
struct ratelimit *ratelimit_new(size_t slots) KPR_WUR;
void ratelimit_free(struct ratelimit *rl);

/* Seconds until one more event for key would be within the limit; 0 if it
 * is now. Records nothing. A NULL limiter or an empty key never limits. */
int ratelimit_wait(struct ratelimit *rl, const char *key, int limit, int window_s);
/* Records one event for key (a failed token, say), whether or not it was
 * within the limit. */
void ratelimit_hit(struct ratelimit *rl, const char *key, int limit, int window_s);
/* Records one event if it is within the limit and returns 0; otherwise
 * records nothing and returns the seconds to wait (>= 1). */
int ratelimit_take(struct ratelimit *rl, const char *key, int limit, int window_s);

/* The same with an explicit monotonic clock in milliseconds (tests). */
int ratelimit_wait_at(struct ratelimit *rl, const char *key, int limit, int window_s,
		      uint64_t now_ms);
void ratelimit_hit_at(struct ratelimit *rl, const char *key, int limit, int window_s,
		      uint64_t now_ms);
int ratelimit_take_at(struct ratelimit *rl, const char *key, int limit, int window_s,
		      uint64_t now_ms);

/* Keys currently holding state (not yet back to "fresh") and entries
 * evicted to make room since creation — for tests and metrics. */
size_t ratelimit_active(struct ratelimit *rl, uint64_t now_ms);
unsigned long long ratelimit_evictions(struct ratelimit *rl);
uint64_t ratelimit_now_ms(void);

/* The process-wide limiters kprd uses, created on first use and kept for
 * the life of the process. NULL only if that one allocation failed (then
 * nothing is limited, and a warning is logged once). */
enum ratelimit_kind {
	RATELIMIT_AUTH_FAILURES, /* key: client address */
	RATELIMIT_UPLOADS,       /* key: kommunenummer */
	RATELIMIT_KINDS
};
#define RATELIMIT_SHARED_SLOTS 8192
struct ratelimit *ratelimit_shared(enum ratelimit_kind kind);

#endif
