/*
 * register_rows.c — COPY into the register's row tables and removal of a
 * submission's rows (store_rows.h).
 */
#include "store_rows.h"

#include <stdlib.h>

#include "log.h"
#include "store_util.h"

static const char *const copy_sql[STORE_ROWS_TABLE_COUNT] = {
    "COPY kpr.person (submission_id, ref, pseudonym, key_version, kjonn, fodselsaar,"
    " fodselsaar_oppgitt, dodsdato, line, enhet, enhet_ukjent) FROM STDIN",
    "COPY kpr.vurdering (submission_id, ref, dato, skaar, line) FROM STDIN",
    "COPY kpr.tjeneste (submission_id, ref, type, soknad, vedtak, start, slutt, avslag,"
    " timer_per_uke, timer_med_flere, orgnr, line, enhet, enhet_ukjent) FROM STDIN",
    "COPY kpr.diagnose (submission_id, ref, kodeverk, kode, line) FROM STDIN",
    "COPY kpr.registrering (submission_id, ref, element, kode, dato, line) FROM STDIN",
};

/* Removes rows of this submission: one person's ($2 = its ref), or all of
 * them ($2 NULL) when a reprocessed submission replaces its earlier rows.
 * Children first: the loader, not a foreign key, keeps them together. */
static const struct db_stmt st_delete_children = {
    "ingest_delete_children",
    "WITH d1 AS (DELETE FROM kpr.vurdering WHERE submission_id = $1::uuid),"
    " d2 AS (DELETE FROM kpr.tjeneste WHERE submission_id = $1::uuid),"
    " d3 AS (DELETE FROM kpr.diagnose WHERE submission_id = $1::uuid),"
    " d4 AS (DELETE FROM kpr.registrering WHERE submission_id = $1::uuid)"
    " SELECT 1",
    1};
static const struct db_stmt st_delete_persons = {
    "ingest_delete_persons", "DELETE FROM kpr.person WHERE submission_id = $1::uuid", 1};
/* The retracted persons, all in one statement per table: a statement per
 * ref with "ref IS NULL OR ref = $2" took a generic plan that read every
 * row of the submission for each ref (3.7 ms a call in the national bench) */
static const struct db_stmt st_delete_children_refs = {
    "ingest_delete_children_refs",
    "WITH d1 AS (DELETE FROM kpr.vurdering WHERE submission_id = $1::uuid AND ref = ANY ($2::text[])),"
    " d2 AS (DELETE FROM kpr.tjeneste WHERE submission_id = $1::uuid AND ref = ANY ($2::text[])),"
    " d3 AS (DELETE FROM kpr.diagnose WHERE submission_id = $1::uuid AND ref = ANY ($2::text[])),"
    " d4 AS (DELETE FROM kpr.registrering WHERE submission_id = $1::uuid"
    "   AND ref = ANY ($2::text[]))"
    " SELECT 1",
    2};
static const struct db_stmt st_delete_persons_refs = {
    "ingest_delete_persons_refs",
    "DELETE FROM kpr.person WHERE submission_id = $1::uuid AND ref = ANY ($2::text[])", 2};

static bool copy_one(PGconn *c, enum store_rows_table t, FILE *f)
{
	if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0)
		return false;
	PGresult *r = PQexec(c, copy_sql[t]);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		log_error("COPY start failed: %s", PQerrorMessage(c));
		PQclear(r);
		return false;
	}
	PQclear(r);
	char buf[1 << 16];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		if (PQputCopyData(c, buf, (int)n) != 1)
			return false;
	}
	if (PQputCopyEnd(c, ferror(f) ? "read error" : NULL) != 1)
		return false;
	r = PQgetResult(c);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		log_error("COPY failed: %s", PQresultErrorMessage(r));
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	return ok;
}

enum db_tx_status store_rows_copy(struct db *db, enum store_rows_table t, FILE *f)
{
	if (copy_one(db_conn(db), t, f))
		return DB_TX_OK;
	/* a lost connection is retried by the runner; anything else is final */
	return PQstatus(db_conn(db)) == CONNECTION_OK ? DB_TX_FAIL : DB_TX_RETRY;
}

enum db_tx_status store_rows_delete(struct db *db, const char *sub_id)
{
	const char *p[] = {sub_id};
	enum db_tx_status rc = store_step(db, &st_delete_children, p, NULL);
	return rc == DB_TX_OK ? store_step(db, &st_delete_persons, p, NULL) : rc;
}

enum db_tx_status store_rows_delete_refs(struct db *db, const char *sub_id, const char *const *refs,
					 size_t n)
{
	if (n == 0)
		return DB_TX_OK;
	char *arr = store_text_array(refs, n);
	if (!arr)
		return DB_TX_FAIL;
	const char *p[] = {sub_id, arr};
	enum db_tx_status rc = store_step(db, &st_delete_children_refs, p, NULL);
	if (rc == DB_TX_OK)
		rc = store_step(db, &st_delete_persons_refs, p, NULL);
	free(arr);
	return rc;
}
