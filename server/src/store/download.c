/*
 * download.c — records of feedback downloads (store_download.h).
 */
#include "store_download.h"

#include <stdio.h>

static const struct db_stmt st_count = {
    "feedback_count",
    "INSERT INTO kpr.feedback_download (submission_id, format, role, token_id, enhet)"
    " VALUES ($1::uuid, $2, $3, nullif($4, '0')::bigint, $5)",
    5};
/* migration 0013: with the unit, NULL for the whole file */
static const struct db_stmt st_audit = {
    "feedback_audit", "SELECT kpr.audit_staff_download($1::uuid, $2, $3::bigint, $4::text)", 4};

bool store_download_count(struct db *db, const char *sub_id, const char *format, const char *enhet,
			  long long token_id)
{
	char tok[24];
	snprintf(tok, sizeof tok, "%lld", token_id);
	const char *p[] = {sub_id, format, "municipality", tok, enhet};
	PGresult *r = db_exec_once(db, &st_count, p, NULL);
	PQclear(r);
	return r != NULL;
}

bool store_download_audit(struct db *db, const char *sub_id, const char *format, const char *enhet,
			  long long token_id)
{
	char tok[24];
	snprintf(tok, sizeof tok, "%lld", token_id);
	const char *p[] = {sub_id, format, tok, enhet};
	PGresult *r = db_exec_once(db, &st_audit, p, NULL);
	PQclear(r);
	return r != NULL;
}
