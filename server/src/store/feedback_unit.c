/*
 * feedback_unit.c — the unit numbers of feedback files
 * (store_feedback_unit.h).
 */
#include "store_feedback_unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_util.h"

static const struct db_stmt st_clear = {
    "feedback_units_clear", "DELETE FROM kpr.feedback_unit WHERE submission_id = $1::uuid", 1};
/* one statement for all units: the names as one text[] literal, numbered
 * in their order, those past $3 without a number */
static const struct db_stmt st_insert = {
    "feedback_units_insert",
    "INSERT INTO kpr.feedback_unit (submission_id, enhet, n)"
    " SELECT $1::uuid, u.e, CASE WHEN u.o <= $3::int THEN u.o END"
    " FROM unnest($2::text[]) WITH ORDINALITY AS u(e, o)",
    3};
static const struct db_stmt st_find = {
    "feedback_unit_find",
    "SELECT coalesce(n, 0) FROM kpr.feedback_unit WHERE submission_id = $1::uuid AND enhet = $2",
    2};

enum db_tx_status store_feedback_units_replace(struct db *db, const char *sub_id,
					       const char *const *names, size_t count,
					       size_t with_files)
{
	const char *p1[] = {sub_id};
	enum db_tx_status rc = store_step(db, &st_clear, p1, NULL);
	if (rc != DB_TX_OK || count == 0)
		return rc;
	char *arr = store_text_array(names, count);
	if (!arr)
		return DB_TX_FAIL;
	char nf[24];
	snprintf(nf, sizeof nf, "%zu", with_files);
	const char *p[] = {sub_id, arr, nf};
	rc = store_step(db, &st_insert, p, NULL);
	free(arr);
	return rc;
}

bool store_feedback_unit_find(struct db *db, const char *sub_id, const char *enhet, unsigned *n,
			      bool *found)
{
	const char *p[] = {sub_id, enhet};
	PGresult *r = db_exec(db, &st_find, p, NULL);
	if (!r)
		return false;
	*found = PQntuples(r) == 1;
	*n = *found ? (unsigned)strtoul(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return true;
}
