/*
 * store_util.h — what the store modules share, and nothing else includes.
 */
#ifndef STORE_UTIL_H
#define STORE_UTIL_H

#include "db.h"

/* A step of a transaction: runs stmt; on success keeps the result in *keep
 * when asked for, clears it otherwise. On failure: the runner's verdict
 * (retry on a serialization failure, deadlock or lost connection). */
static inline enum db_tx_status store_step(struct db *db, const struct db_stmt *st,
					   const char *const *p, PGresult **keep)
{
	char sqlstate[6];
	PGresult *r = db_exec(db, st, p, sqlstate);
	if (!r)
		return db_sqlstate_retryable(sqlstate) ? DB_TX_RETRY : DB_TX_FAIL;
	if (keep)
		*keep = r;
	else
		PQclear(r);
	return DB_TX_OK;
}

/* Runs stmt for its effect alone; false on a database failure. */
static inline bool store_run(struct db *db, const struct db_stmt *st, const char *const *p)
{
	PGresult *r = db_exec(db, st, p, NULL);
	PQclear(r);
	return r != NULL;
}

#endif
