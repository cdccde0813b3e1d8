/*
 * check_db.c — the database layer against a real PostgreSQL (the test
 * stack's register database, via $KPR_REGISTER_ADMIN_DSN): prepared
 * statements, the transaction runner's retry on serialization failure,
 * rollback on failure, and reconnecting after the server drops the session.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "db.h"

static const char *dsn(void)
{
	const char *d = getenv("KPR_REGISTER_ADMIN_DSN");
	ck_assert_msg(d && *d, "KPR_REGISTER_ADMIN_DSN not set: run through tests/run-all");
	return d;
}

static struct db *connect_db(void)
{
	struct db *db = db_new(dsn(), NULL, "check");
	ck_assert_ptr_nonnull(db);
	ck_assert_msg(db_ensure(db), "%s", db_last_error(db));
	return db;
}

static void setup(void)
{
	struct db *db = connect_db();
	char st[6];
	ck_assert(db_exec_simple(db,
				 "DROP TABLE IF EXISTS public.check_db_t;"
				 "CREATE TABLE public.check_db_t (k int PRIMARY KEY, v int);"
				 "INSERT INTO public.check_db_t VALUES (1, 0)",
				 st));
	db_free(db);
}

static void teardown(void)
{
	struct db *db = connect_db();
	char st[6];
	ck_assert(db_exec_simple(db, "DROP TABLE IF EXISTS public.check_db_t", st));
	db_free(db);
}

static const struct db_stmt st_get = {"check_get",
				      "SELECT v FROM public.check_db_t WHERE k = $1::int", 1};
static const struct db_stmt st_add = {
    "check_add", "UPDATE public.check_db_t SET v = v + $1::int WHERE k = 1", 1};

static int get_v(struct db *db)
{
	const char *p[] = {"1"};
	PGresult *r = db_exec(db, &st_get, p, NULL);
	ck_assert_ptr_nonnull(r);
	int v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

struct conflict_ctx {
	struct db *other;
	int attempts;
};

/* First attempt: another session commits an update to the row this
 * transaction has already read, so our update fails with 40001. */
static enum db_tx_status conflicting(struct db *db, void *arg)
{
	struct conflict_ctx *c = arg;
	c->attempts++;
	(void)get_v(db);
	if (c->attempts == 1) {
		const char *p[] = {"100"};
		PGresult *r = db_exec(c->other, &st_add, p, NULL);
		ck_assert_ptr_nonnull(r);
		PQclear(r);
	}
	char st[6];
	const char *p[] = {"1"};
	PGresult *r = db_exec(db, &st_add, p, st);
	if (!r)
		return db_sqlstate_retryable(st) ? DB_TX_RETRY : DB_TX_FAIL;
	PQclear(r);
	return DB_TX_OK;
}

START_TEST(retries_serialization_failure)
{
	struct db *db = connect_db(), *other = connect_db();
	struct conflict_ctx c = {other, 0};
	ck_assert(db_transaction(db, "REPEATABLE READ", conflicting, &c, 3, "test"));
	ck_assert_int_eq(c.attempts, 2);
	ck_assert_int_eq(get_v(db), 101);
	ck_assert_int_eq(PQtransactionStatus(db_conn(db)), PQTRANS_IDLE);
	db_free(other);
	db_free(db);
}
END_TEST

static enum db_tx_status always_conflicting(struct db *db, void *arg)
{
	(void)db;
	(*(int *)arg)++;
	return DB_TX_RETRY;
}

START_TEST(retry_is_bounded)
{
	struct db *db = connect_db();
	int attempts = 0;
	ck_assert(!db_transaction(db, NULL, always_conflicting, &attempts, 2, "test"));
	ck_assert_int_eq(attempts, 3);
	db_free(db);
}
END_TEST

static enum db_tx_status write_then_fail(struct db *db, void *arg)
{
	(void)arg;
	const char *p[] = {"5"};
	PGresult *r = db_exec(db, &st_add, p, NULL);
	PQclear(r);
	return DB_TX_FAIL;
}

START_TEST(failure_rolls_back)
{
	struct db *db = connect_db();
	ck_assert(!db_transaction(db, NULL, write_then_fail, NULL, 3, "test"));
	ck_assert_int_eq(get_v(db), 0);
	db_free(db);
}
END_TEST

static enum db_tx_status add_one(struct db *db, void *arg)
{
	(*(int *)arg)++;
	char st[6];
	const char *p[] = {"1"};
	PGresult *r = db_exec(db, &st_add, p, st);
	if (!r)
		return db_sqlstate_retryable(st) ? DB_TX_RETRY : DB_TX_FAIL;
	PQclear(r);
	return DB_TX_OK;
}

/* A callback that ignores a failed statement and says OK: the transaction
 * is aborted, and COMMIT answers with the tag ROLLBACK. */
static enum db_tx_status ignore_failure(struct db *db, void *arg)
{
	(void)arg;
	const char *p[] = {"7"};
	PQclear(db_exec(db, &st_add, p, NULL));
	char st[6];
	if (db_exec_simple(db, "SELECT 1/0", st))
		return DB_TX_FAIL;
	return DB_TX_OK;
}

START_TEST(commit_tag_rollback_is_failure)
{
	struct db *db = connect_db();
	ck_assert(!db_transaction(db, NULL, ignore_failure, NULL, 3, "test"));
	ck_assert_ptr_nonnull(strstr(db_last_error(db), "ROLLBACK"));
	ck_assert_int_eq(get_v(db), 0);
	db_free(db);
}
END_TEST

START_TEST(reconnects_after_session_killed)
{
	struct db *db = connect_db(), *admin = connect_db();
	ck_assert_int_eq(get_v(db), 0); /* statement prepared on this session */
	char sql[128], st[6];
	snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", PQbackendPID(db_conn(db)));
	ck_assert(db_exec_simple(admin, sql, st));
	int attempts = 0;
	ck_assert(db_transaction(db, NULL, add_one, &attempts, 3, "test"));
	ck_assert_int_ge(db_reconnects(db), 1);
	ck_assert_int_eq(get_v(db), 1); /* prepared again on the new session */
	db_free(admin);
	db_free(db);
}
END_TEST

/* A statement that is not idempotent is never sent again on a new session
 * after the connection was lost: the caller learns the outcome is unknown
 * (NULL, SQLSTATE ""), and nothing ran twice. db_exec, by contrast, sends
 * an idempotent statement again. */
START_TEST(once_is_not_resent)
{
	struct db *db = connect_db(), *admin = connect_db();
	const char *zero[] = {"0"};
	PGresult *r = db_exec(db, &st_add, zero, NULL); /* prepared: the next one is sent */
	ck_assert_ptr_nonnull(r);
	PQclear(r);
	char sql[128], st[6];
	snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", PQbackendPID(db_conn(db)));
	ck_assert(db_exec_simple(admin, sql, st));
	const char *p[] = {"1"};
	char state[6] = "x";
	r = db_exec_once(db, &st_add, p, state);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(state, "");
	ck_assert_int_eq(get_v(admin), 0);  /* not re-sent */
	r = db_exec(db, &st_add, p, state); /* reconnects (db_ensure) is the caller's */
	if (!r) {
		ck_assert(db_ensure(db));
		r = db_exec(db, &st_add, p, state);
	}
	ck_assert_ptr_nonnull(r);
	PQclear(r);
	ck_assert_int_eq(get_v(admin), 1);
	db_free(admin);
	db_free(db);
}
END_TEST

START_TEST(sqlstate_classes)
{
	ck_assert(db_sqlstate_retryable("40001"));
	ck_assert(db_sqlstate_retryable("40P01"));
	ck_assert(db_sqlstate_retryable("08006"));
	ck_assert(db_sqlstate_retryable(""));
	ck_assert(!db_sqlstate_retryable("23505"));
	ck_assert(!db_sqlstate_retryable("42P01"));
}
END_TEST

static Suite *db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("postgres");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, retries_serialization_failure);
	tcase_add_test(tc, retry_is_bounded);
	tcase_add_test(tc, failure_rolls_back);
	tcase_add_test(tc, reconnects_after_session_killed);
	tcase_add_test(tc, commit_tag_rollback_is_failure);
	tcase_add_test(tc, once_is_not_resent);
	tcase_add_test(tc, sqlstate_classes);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(db_suite)
