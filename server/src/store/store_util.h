/*
 * store_util.h — what the store modules share, and nothing else includes.
 */
#ifndef STORE_UTIL_H
#define STORE_UTIL_H

#include <stdlib.h>
#include <string.h>

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

/* A text[] literal of names for a $n::text[] parameter: every element
 * quoted, " and \ escaped. NULL when out of memory; free it. */
static inline char *store_text_array(const char *const *names, size_t count)
{
	size_t len = 3;
	for (size_t i = 0; i < count; i++)
		len += 2 * strlen(names[i]) + 3;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	*p++ = '{';
	for (size_t i = 0; i < count; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		for (const char *c = names[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				*p++ = '\\';
			*p++ = *c;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return s;
}

#endif
