/*
 * db.h — one libpq connection, its lazily prepared statements, and the
 * transaction runner. A struct db belongs to exactly one thread; never share
 * one. Statements are static descriptions (name + SQL) prepared on first use
 * on each connection, and again after a reconnect.
 */
#ifndef DB_H
#define DB_H

#include <libpq-fe.h>

#include "kpr.h"

struct db_stmt {
	const char *name; /* unique per process */
	const char *sql;
	int nparams;
};

struct db;

/* dsn: libpq connection string; password_file: NULL/"" for none. The
 * connection is attempted at once; failure is not fatal (db_ensure retries). */
struct db *db_new(const char *dsn, const char *password_file, const char *label) KPR_WUR;
void db_free(struct db *db);

/* Connects or reconnects when the connection is bad. */
bool db_ensure(struct db *db) KPR_WUR;
PGconn *db_conn(struct db *db);
const char *db_last_error(const struct db *db);
/* SQLSTATE of the last failure ("" for a lost connection or none). */
const char *db_last_sqlstate(const struct db *db);
unsigned long db_reconnects(const struct db *db);

/* Executes a prepared statement (text parameters; NULL = SQL NULL).
 * Returns the result (caller PQclear()s) or NULL after logging the error;
 * on failure *sqlstate (if given) receives the SQLSTATE ("" for connection loss). */
PGresult *db_exec(struct db *db, const struct db_stmt *stmt, const char *const *params,
		  char sqlstate[6]) KPR_WUR;
/* For a statement that is not idempotent (an INSERT of a new row, a
 * counter): never sent again after a lost connection, since the first may
 * have committed. On a lost connection it returns NULL with sqlstate "":
 * the outcome is unknown and the caller resolves it. */
PGresult *db_exec_once(struct db *db, const struct db_stmt *stmt, const char *const *params,
		       char sqlstate[6]) KPR_WUR;
/* Same with explicit lengths and formats (binary parameters such as bytea). */
PGresult *db_exec_bin(struct db *db, const struct db_stmt *stmt, const char *const *params,
		      const int *lengths, const int *formats, char sqlstate[6]) KPR_WUR;
/* Runs plain SQL (no parameters); for BEGIN/COMMIT/SET and migrations. */
bool db_exec_simple(struct db *db, const char *sql, char sqlstate[6]) KPR_WUR;

enum db_tx_status {
	DB_TX_OK = 0, /* commit */
	DB_TX_RETRY,  /* serialization failure / deadlock / lost connection: run again */
	DB_TX_FAIL,   /* roll back and give up */
};

typedef enum db_tx_status (*db_tx_fn)(struct db *db, void *ctx);

/* BEGIN ISOLATION LEVEL isolation; fn; COMMIT — retried up to retry_limit
 * times on SQLSTATE 40001/40P01 or a lost connection (reconnecting first).
 * fn must be safe to run again. Asserts no transaction is left open. */
bool db_transaction(struct db *db, const char *isolation, db_tx_fn fn, void *ctx, int retry_limit,
		    const char *log_ctx) KPR_WUR;

/* Classifies a SQLSTATE from db_exec as one the runner retries. */
bool db_sqlstate_retryable(const char *sqlstate);

#endif
