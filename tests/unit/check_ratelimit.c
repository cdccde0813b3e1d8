/*
 * check_ratelimit.c — the in-memory rate limiter: burst then steady rate,
 * Retry-After seconds, take vs. hit, "no limit" settings, bounded memory
 * with eviction under many keys, key truncation, and concurrent use.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "ratelimit.h"

#define T0 1000000u /* an arbitrary monotonic start, ms */

START_TEST(burst_then_lockout)
{
	struct ratelimit *rl = ratelimit_new(64);
	ck_assert_ptr_nonnull(rl);
	/* 20 failures per 300 s: the 20 are allowed, the 21st attempt waits 15 s */
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(ratelimit_wait_at(rl, "10.0.0.1", 20, 300, T0), 0);
		ratelimit_hit_at(rl, "10.0.0.1", 20, 300, T0);
	}
	ck_assert_int_eq(ratelimit_wait_at(rl, "10.0.0.1", 20, 300, T0), 15);
	ck_assert_int_eq(ratelimit_wait_at(rl, "10.0.0.1", 20, 300, T0 + 5000), 10);
	ck_assert_int_eq(ratelimit_wait_at(rl, "10.0.0.1", 20, 300, T0 + 15000), 0);
	/* another address is not affected */
	ck_assert_int_eq(ratelimit_wait_at(rl, "10.0.0.2", 20, 300, T0), 0);
	/* more failures while locked out never push the end beyond one window */
	for (int i = 0; i < 1000; i++)
		ratelimit_hit_at(rl, "10.0.0.1", 20, 300, T0);
	ck_assert_int_eq(ratelimit_wait_at(rl, "10.0.0.1", 20, 300, T0), 15);
	/* a full window later the address has its whole burst back */
	ck_assert_int_eq(ratelimit_active(rl, T0 + 300000), 0);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(ratelimit_take_at(rl, "10.0.0.1", 20, 300, T0 + 300000), 0);
	ck_assert_int_gt(ratelimit_take_at(rl, "10.0.0.1", 20, 300, T0 + 300000), 0);
	ratelimit_free(rl);
}
END_TEST

START_TEST(take_counts_only_allowed)
{
	struct ratelimit *rl = ratelimit_new(64);
	/* 30 uploads per hour: 30 at once, then one every 120 s */
	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(ratelimit_take_at(rl, "0301", 30, 3600, T0), 0);
	ck_assert_int_eq(ratelimit_take_at(rl, "0301", 30, 3600, T0), 120);
	/* refused attempts are not recorded: the wait does not grow */
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(ratelimit_take_at(rl, "0301", 30, 3600, T0), 120);
	ck_assert_int_eq(ratelimit_take_at(rl, "0301", 30, 3600, T0 + 119500), 1);
	ck_assert_int_eq(ratelimit_take_at(rl, "0301", 30, 3600, T0 + 120000), 0);
	ck_assert_int_eq(ratelimit_take_at(rl, "0301", 30, 3600, T0 + 120000), 120);
	ck_assert_int_eq(ratelimit_take_at(rl, "4601", 30, 3600, T0), 0);
	ratelimit_free(rl);
}
END_TEST

START_TEST(no_limit_settings)
{
	struct ratelimit *rl = ratelimit_new(8);
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(ratelimit_take_at(rl, "k", 0, 60, T0), 0);
		ck_assert_int_eq(ratelimit_take_at(rl, "k", 5, 0, T0), 0);
		ck_assert_int_eq(ratelimit_take_at(rl, "", 1, 60, T0), 0);
		ck_assert_int_eq(ratelimit_take_at(NULL, "k", 1, 60, T0), 0);
		ratelimit_hit_at(NULL, "k", 1, 60, T0);
	}
	ck_assert_int_eq(ratelimit_active(rl, T0), 0);
	ratelimit_free(rl);
	ratelimit_free(NULL);
	/* a limit above the window in ms still works (interval of 1 ms) */
	rl = ratelimit_new(8);
	ck_assert_int_eq(ratelimit_take_at(rl, "k", 1000000, 1, T0), 0);
	ratelimit_free(rl);
}
END_TEST

START_TEST(bounded_with_eviction)
{
	struct ratelimit *rl = ratelimit_new(256);
	char key[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof key, "198.51.%d.%d", i / 256, i % 256);
		ratelimit_hit_at(rl, key, 5, 60, T0);
	}
	size_t active = ratelimit_active(rl, T0);
	ck_assert_uint_le(active, 256);
	ck_assert_uint_ge(active, 200); /* the table is used, not thrashed to a few sets */
	ck_assert_uint_ge(ratelimit_evictions(rl), 100000 - 256);
	/* an expired entry is reused without counting as an eviction */
	unsigned long long ev = ratelimit_evictions(rl);
	ratelimit_hit_at(rl, "203.0.113.9", 5, 60, T0 + 61000);
	ck_assert_uint_eq(ratelimit_evictions(rl), ev);
	ratelimit_free(rl);
}
END_TEST

START_TEST(long_keys_truncated)
{
	struct ratelimit *rl = ratelimit_new(8);
	char a[200], b[200];
	memset(a, 'a', sizeof a - 1);
	a[sizeof a - 1] = '\0';
	memcpy(b, a, sizeof b);
	b[150] = 'b'; /* differs only past the stored prefix: the same key */
	ratelimit_hit_at(rl, a, 1, 60, T0);
	ck_assert_int_gt(ratelimit_wait_at(rl, b, 1, 60, T0), 0);
	ck_assert_int_eq(ratelimit_wait_at(rl, "a", 1, 60, T0), 0);
	ratelimit_free(rl);
}
END_TEST

static struct ratelimit *shared_rl;
static int allowed_total;
static pthread_mutex_t total_mu = PTHREAD_MUTEX_INITIALIZER;

static void *taker(void *arg)
{
	(void)arg;
	int n = 0;
	for (int i = 0; i < 10000; i++)
		n += ratelimit_take_at(shared_rl, "0301", 100, 3600, T0) == 0;
	pthread_mutex_lock(&total_mu);
	allowed_total += n;
	pthread_mutex_unlock(&total_mu);
	return NULL;
}

START_TEST(concurrent_takes_exact)
{
	shared_rl = ratelimit_new(64);
	pthread_t th[8];
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, taker, NULL), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(allowed_total, 100);
	ratelimit_free(shared_rl);
}
END_TEST

START_TEST(shared_instances)
{
	ck_assert_ptr_nonnull(ratelimit_shared(RATELIMIT_AUTH_FAILURES));
	ck_assert_ptr_nonnull(ratelimit_shared(RATELIMIT_UPLOADS));
	ck_assert_ptr_ne(ratelimit_shared(RATELIMIT_AUTH_FAILURES),
			 ratelimit_shared(RATELIMIT_UPLOADS));
	ck_assert_ptr_null(ratelimit_shared(RATELIMIT_KINDS));
	ck_assert_uint_gt(ratelimit_now_ms(), 0);
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, burst_then_lockout);
	tcase_add_test(tc, take_counts_only_allowed);
	tcase_add_test(tc, no_limit_settings);
	tcase_add_test(tc, bounded_with_eviction);
	tcase_add_test(tc, long_keys_truncated);
	tcase_add_test(tc, concurrent_takes_exact);
	tcase_add_test(tc, shared_instances);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(ratelimit_suite)
