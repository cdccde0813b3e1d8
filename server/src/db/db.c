/*
 * db.c — connection handling, lazy prepared statements, the transaction
 * runner. Passwords come from files and are never kept after connecting.
 */
#include "db.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"

#define DB_MAX_PREPARED 128

struct db {
	char *dsn;
	char *password_file;
	char *label;
	PGconn *conn;
	const struct db_stmt *prepared[DB_MAX_PREPARED];
	size_t nprepared;
	unsigned long reconnects;
	bool ever_connected;
	char last_error[256];
	char last_sqlstate[6];
};

static void set_error(struct db *db, const char *msg)
{
	snprintf(db->last_error, sizeof db->last_error, "%s", msg ? msg : "");
	size_t l = strlen(db->last_error);
	while (l && (db->last_error[l - 1] == '\n' || db->last_error[l - 1] == ' '))
		db->last_error[--l] = '\0';
}

static bool connect_now(struct db *db)
{
	char err[256];
	char *password = NULL;
	if (db->password_file && db->password_file[0]) {
		password = config_read_secret(db->password_file, err, sizeof err);
		if (!password) {
			set_error(db, err);
			log_error("db %s: %s", db->label, err);
			return false;
		}
	}
	const char *keys[] = {"dbname", "password", "application_name", "connect_timeout", NULL};
	const char *vals[] = {db->dsn, password, "kprd", "10", NULL};
	if (!password) {
		keys[1] = "application_name";
		vals[1] = "kprd";
		keys[2] = "connect_timeout";
		vals[2] = "10";
		keys[3] = NULL;
	}
	if (db->conn)
		PQfinish(db->conn);
	db->conn = PQconnectdbParams(keys, vals, 1 /* expand dbname as a connection string */);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	db->nprepared = 0;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		set_error(db, PQerrorMessage(db->conn));
		return false;
	}
	if (db->ever_connected) {
		db->reconnects++;
		metrics_db_reconnect(db->label);
	}
	db->ever_connected = true;
	PGresult *r = PQexec(
	    db->conn,
	    "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'; SET client_min_messages = warning");
	PQclear(r);
	return true;
}

struct db *db_new(const char *dsn, const char *password_file, const char *label)
{
	struct db *db = calloc(1, sizeof *db);
	if (!db)
		return NULL;
	db->dsn = strdup(dsn);
	db->password_file = strdup(password_file ? password_file : "");
	db->label = strdup(label ? label : "db");
	if (!db->dsn || !db->password_file || !db->label) {
		db_free(db);
		return NULL;
	}
	(void)connect_now(db);
	return db;
}

void db_free(struct db *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	free(db->dsn);
	free(db->password_file);
	free(db->label);
	free(db);
}

bool db_ensure(struct db *db)
{
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return true;
	if (!connect_now(db)) {
		log_warn("db %s: cannot connect: %s", db->label, db->last_error);
		return false;
	}
	log_info("db %s: connected", db->label);
	return true;
}

PGconn *db_conn(struct db *db)
{
	return db->conn;
}

const char *db_last_error(const struct db *db)
{
	return db->last_error;
}

const char *db_last_sqlstate(const struct db *db)
{
	return db->last_sqlstate;
}

unsigned long db_reconnects(const struct db *db)
{
	return db->reconnects;
}

bool db_sqlstate_retryable(const char *s)
{
	return s && (!strcmp(s, "40001") || !strcmp(s, "40P01") || s[0] == '\0' ||
		     !strncmp(s, "08", 2) || !strcmp(s, "57P01"));
}

static void note_failure(struct db *db, PGresult *r, char sqlstate[6])
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (PQstatus(db->conn) != CONNECTION_OK)
		st = "";
	if (sqlstate)
		snprintf(sqlstate, 6, "%s", st ? st : "");
	snprintf(db->last_sqlstate, sizeof db->last_sqlstate, "%s", st ? st : "");
	set_error(db, r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn));
}

static bool is_prepared(struct db *db, const struct db_stmt *stmt)
{
	for (size_t i = 0; i < db->nprepared; i++)
		if (db->prepared[i] == stmt)
			return true;
	return false;
}

static bool prepare(struct db *db, const struct db_stmt *stmt, char sqlstate[6])
{
	if (is_prepared(db, stmt))
		return true;
	PGresult *r = PQprepare(db->conn, stmt->name, stmt->sql, stmt->nparams, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		note_failure(db, r, sqlstate);
		log_error("db %s: prepare %s failed: %s", db->label, stmt->name, db->last_error);
		PQclear(r);
		return false;
	}
	PQclear(r);
	assert(db->nprepared < DB_MAX_PREPARED);
	db->prepared[db->nprepared++] = stmt;
	return true;
}

static PGresult *exec(struct db *db, const struct db_stmt *stmt, const char *const *params,
		      const int *lengths, const int *formats, char sqlstate[6], bool resend)
{
	char local_state[6];
	if (!sqlstate)
		sqlstate = local_state;
	sqlstate[0] = '\0';
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		set_error(db, "not connected");
		return NULL;
	}
	/* outside a transaction an idempotent statement can simply be sent
	 * again on a new session when the server went away (restart,
	 * failover); one run with db_exec_once cannot: it may have committed */
	bool may_retry = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
	if (!prepare(db, stmt, sqlstate)) {
		if (!may_retry || PQstatus(db->conn) == CONNECTION_OK || !connect_now(db) ||
		    !prepare(db, stmt, sqlstate))
			return NULL;
		may_retry = false;
	}
	PGresult *r =
	    PQexecPrepared(db->conn, stmt->name, stmt->nparams, params, lengths, formats, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && may_retry && resend &&
	    PQstatus(db->conn) != CONNECTION_OK) {
		PQclear(r);
		log_info("db %s: connection lost; reconnecting", db->label);
		if (!connect_now(db) || !prepare(db, stmt, sqlstate))
			return NULL;
		r = PQexecPrepared(db->conn, stmt->name, stmt->nparams, params, lengths, formats,
				   0);
		st = PQresultStatus(r);
	}
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		note_failure(db, r, sqlstate);
		metrics_db_error(db->label, sqlstate[0] ? sqlstate : "connection");
		log_ctx(db_sqlstate_retryable(sqlstate) ? LOG_LVL_INFO : LOG_LVL_ERROR, "-",
			"db %s: %s failed: %s", db->label, stmt->name, db->last_error);
		PQclear(r);
		return NULL;
	}
	return r;
}

PGresult *db_exec_bin(struct db *db, const struct db_stmt *stmt, const char *const *params,
		      const int *lengths, const int *formats, char sqlstate[6])
{
	return exec(db, stmt, params, lengths, formats, sqlstate, true);
}

PGresult *db_exec(struct db *db, const struct db_stmt *stmt, const char *const *params,
		  char sqlstate[6])
{
	return exec(db, stmt, params, NULL, NULL, sqlstate, true);
}

PGresult *db_exec_once(struct db *db, const struct db_stmt *stmt, const char *const *params,
		       char sqlstate[6])
{
	return exec(db, stmt, params, NULL, NULL, sqlstate, false);
}

bool db_exec_simple(struct db *db, const char *sql, char sqlstate[6])
{
	if (sqlstate)
		sqlstate[0] = '\0';
	if (!db->conn)
		return false;
	PGresult *r = PQexec(db->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		note_failure(db, r, sqlstate);
	PQclear(r);
	return ok;
}

/* COMMIT of a transaction in which a statement failed "succeeds" with the
 * command tag ROLLBACK: only the tag COMMIT means the work is stored. */
static bool commit(struct db *db, char sqlstate[6])
{
	sqlstate[0] = '\0';
	if (!db->conn)
		return false;
	PGresult *r = PQexec(db->conn, "COMMIT");
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		note_failure(db, r, sqlstate);
	else if (!ok) {
		/* in_failed_sql_transaction: running the work again cannot help */
		memcpy(sqlstate, "25P02", 6);
		snprintf(db->last_error, sizeof db->last_error,
			 "COMMIT answered %s: a statement of the transaction had failed",
			 PQcmdStatus(r));
	}
	PQclear(r);
	return ok;
}

static void rollback_quietly(struct db *db)
{
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK &&
	    PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
		PGresult *r = PQexec(db->conn, "ROLLBACK");
		PQclear(r);
	}
}

bool db_transaction(struct db *db, const char *isolation, db_tx_fn fn, void *ctx, int retry_limit,
		    const char *log_ctx)
{
	char begin[96], sqlstate[6];
	snprintf(begin, sizeof begin, "BEGIN ISOLATION LEVEL %s",
		 isolation ? isolation : "READ COMMITTED");
	for (int attempt = 0; attempt <= retry_limit; attempt++) {
		if (attempt > 0) {
			/* back off a little, more each time, so competing workers spread out */
			struct timespec ts = {0, (long)(attempt * 50 + rand() % 50) * 1000000L};
			nanosleep(&ts, NULL);
		}
		if (!db_ensure(db))
			continue;
		if (!db_exec_simple(db, begin, sqlstate)) {
			rollback_quietly(db);
			continue;
		}
		enum db_tx_status s = fn(db, ctx);
		if (s == DB_TX_OK) {
			if (commit(db, sqlstate)) {
				assert(PQtransactionStatus(db->conn) == PQTRANS_IDLE);
				return true;
			}
			if (!db_sqlstate_retryable(sqlstate)) {
				rlog_error(log_ctx, "db %s: commit failed: %s", db->label,
					   db->last_error);
				rollback_quietly(db);
				return false;
			}
		} else if (s == DB_TX_FAIL) {
			rollback_quietly(db);
			return false;
		}
		rollback_quietly(db);
		rlog_info(log_ctx, "db %s: transaction retried (attempt %d): %s", db->label,
			  attempt + 1, db->last_error);
	}
	rlog_error(log_ctx, "db %s: transaction gave up after %d retries: %s", db->label,
		   retry_limit, db->last_error);
	return false;
}
