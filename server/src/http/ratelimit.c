/*
 * ratelimit.c — bounded, thread-safe, in-memory GCRA rate limits (see
 * ratelimit.h). Owns only its tables; must not touch the database, log per
 * request, or allocate after creation.
 *
 * Table: 2^k slots in sets of RL_WAYS. A key lives in the set its keyed
 * hash (SipHash-2-4, random key per table) names, so an attacker cannot aim
 * many addresses at one set to evict a locked-out address; when a set is
 * full the entry closest to being back to fresh makes room. An entry whose
 * theoretical arrival time (tat) has passed is indistinguishable from no
 * entry, so it is simply reused.
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"

#define RL_WAYS 8

struct rl_entry {
	uint64_t tat; /* ms; 0: free */
	char key[RATELIMIT_KEY_MAX];
};

struct ratelimit {
	pthread_mutex_t mu;
	size_t nsets; /* power of two */
	uint64_t k0, k1;
	unsigned long long evictions;
	struct rl_entry *slots; /* nsets * RL_WAYS */
};

/* --- SipHash-2-4 (Aumasson & Bernstein), 64-bit output */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                   \
	do {                       \
		v0 += v1;          \
		v1 = ROTL(v1, 13); \
		v1 ^= v0;          \
		v0 = ROTL(v0, 32); \
		v2 += v3;          \
		v3 = ROTL(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = ROTL(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = ROTL(v1, 17); \
		v1 ^= v2;          \
		v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t siphash(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1,
		 v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t m = 0;
		for (int j = 0; j < 8; j++)
			m |= (uint64_t)in[i + (size_t)j] << (8 * j);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (int j = 0; i + (size_t)j < len; j++)
		b |= (uint64_t)in[i + (size_t)j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t ratelimit_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* +1: a tat of 0 marks a free slot, so "now" is never 0 */
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + 1;
}

struct ratelimit *ratelimit_new(size_t slots)
{
	struct ratelimit *rl = calloc(1, sizeof *rl);
	if (!rl)
		return NULL;
	size_t nsets = 1;
	while (nsets * RL_WAYS < slots && nsets < ((size_t)1 << 24))
		nsets <<= 1;
	rl->nsets = nsets;
	rl->slots = calloc(nsets * RL_WAYS, sizeof *rl->slots);
	uint64_t k[2];
	if (!rl->slots || getrandom(k, sizeof k, 0) != (ssize_t)sizeof k) {
		free(rl->slots);
		free(rl);
		return NULL;
	}
	rl->k0 = k[0];
	rl->k1 = k[1];
	pthread_mutex_init(&rl->mu, NULL);
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl->slots);
	free(rl);
}

static bool disabled(const struct ratelimit *rl, const char *key, int limit, int window_s)
{
	return !rl || !key || !*key || limit <= 0 || window_s <= 0;
}

/* Emission interval T and burst tolerance tau, in ms (GCRA). */
static void params(int limit, int window_s, uint64_t *t, uint64_t *tau)
{
	uint64_t w = (uint64_t)window_s * 1000u;
	*t = w / (uint64_t)limit;
	if (*t == 0)
		*t = 1;
	*tau = w - *t;
}

/* Caller holds the lock. create: find a slot to record into. */
static struct rl_entry *lookup(struct ratelimit *rl, const char *key, uint64_t now, bool create)
{
	size_t klen = strnlen(key, RATELIMIT_KEY_MAX - 1);
	uint64_t h = siphash(rl->k0, rl->k1, (const unsigned char *)key, klen);
	struct rl_entry *set = &rl->slots[(h & (rl->nsets - 1)) * RL_WAYS];
	struct rl_entry *victim = NULL;
	for (size_t i = 0; i < RL_WAYS; i++) {
		struct rl_entry *e = &set[i];
		if (e->tat != 0 && strncmp(e->key, key, klen) == 0 && e->key[klen] == '\0')
			return e;
		/* free or expired slots first, then the one closest to expiring */
		uint64_t eff = e->tat <= now ? 0 : e->tat;
		uint64_t veff = victim ? (victim->tat <= now ? 0 : victim->tat) : UINT64_MAX;
		if (eff < veff)
			victim = &set[i];
	}
	if (!create)
		return NULL;
	if (victim->tat > now)
		rl->evictions++;
	memcpy(victim->key, key, klen);
	victim->key[klen] = '\0';
	victim->tat = now;
	return victim;
}

static int to_seconds(uint64_t ms)
{
	uint64_t s = (ms + 999) / 1000;
	return s < 1 ? 1 : s > 86400 * 30 ? 86400 * 30 : (int)s;
}

int ratelimit_wait_at(struct ratelimit *rl, const char *key, int limit, int window_s, uint64_t now)
{
	if (disabled(rl, key, limit, window_s))
		return 0;
	uint64_t t, tau;
	params(limit, window_s, &t, &tau);
	int wait = 0;
	pthread_mutex_lock(&rl->mu);
	const struct rl_entry *e = lookup(rl, key, now, false);
	if (e && e->tat > now && e->tat - now > tau)
		wait = to_seconds(e->tat - now - tau);
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

void ratelimit_hit_at(struct ratelimit *rl, const char *key, int limit, int window_s, uint64_t now)
{
	if (disabled(rl, key, limit, window_s))
		return;
	uint64_t t, tau;
	params(limit, window_s, &t, &tau);
	pthread_mutex_lock(&rl->mu);
	struct rl_entry *e = lookup(rl, key, now, true);
	uint64_t base = e->tat > now ? e->tat : now;
	/* the debt never exceeds one window: however many events come in, the
	 * key is back to a full burst at most one window after the last one */
	uint64_t cap = now + tau + t;
	e->tat = base + t > cap ? cap : base + t;
	pthread_mutex_unlock(&rl->mu);
}

int ratelimit_take_at(struct ratelimit *rl, const char *key, int limit, int window_s, uint64_t now)
{
	if (disabled(rl, key, limit, window_s))
		return 0;
	uint64_t t, tau;
	params(limit, window_s, &t, &tau);
	int wait = 0;
	pthread_mutex_lock(&rl->mu);
	struct rl_entry *e = lookup(rl, key, now, true);
	uint64_t base = e->tat > now ? e->tat : now;
	if (base - now > tau)
		wait = to_seconds(base - now - tau);
	else
		e->tat = base + t;
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

int ratelimit_wait(struct ratelimit *rl, const char *key, int limit, int window_s)
{
	return ratelimit_wait_at(rl, key, limit, window_s, ratelimit_now_ms());
}

void ratelimit_hit(struct ratelimit *rl, const char *key, int limit, int window_s)
{
	ratelimit_hit_at(rl, key, limit, window_s, ratelimit_now_ms());
}

int ratelimit_take(struct ratelimit *rl, const char *key, int limit, int window_s)
{
	return ratelimit_take_at(rl, key, limit, window_s, ratelimit_now_ms());
}

size_t ratelimit_active(struct ratelimit *rl, uint64_t now)
{
	if (!rl)
		return 0;
	size_t n = 0;
	pthread_mutex_lock(&rl->mu);
	for (size_t i = 0; i < rl->nsets * RL_WAYS; i++)
		n += rl->slots[i].tat > now;
	pthread_mutex_unlock(&rl->mu);
	return n;
}

unsigned long long ratelimit_evictions(struct ratelimit *rl)
{
	if (!rl)
		return 0;
	pthread_mutex_lock(&rl->mu);
	unsigned long long n = rl->evictions;
	pthread_mutex_unlock(&rl->mu);
	return n;
}

static struct ratelimit *shared[RATELIMIT_KINDS];
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;

static void shared_init(void)
{
	for (int i = 0; i < RATELIMIT_KINDS; i++) {
		shared[i] = ratelimit_new(RATELIMIT_SHARED_SLOTS);
		if (!shared[i])
			log_warn("ratelimit: out of memory; limiter %d disabled", i);
	}
}

struct ratelimit *ratelimit_shared(enum ratelimit_kind kind)
{
	if ((unsigned)kind >= RATELIMIT_KINDS)
		return NULL;
	pthread_once(&shared_once, shared_init);
	return shared[kind];
}
