/*
 * store_rows.h — the register rows a submission loads: kpr.person and its
 * child tables (vurdering, tjeneste, diagnose, registrering). They are
 * written by COPY in the final transaction and removed there when a
 * reprocessed submission replaces its own rows or a late duplicate finding
 * retracts a person. The loader, not a foreign key, keeps them together.
 */
#ifndef STORE_ROWS_H
#define STORE_ROWS_H

#include <stdio.h>

#include "db.h"
#include "kpr.h"

/* The COPY targets, and the column order of each (copy_rows.h writes it):
 *   person        submission_id, ref, pseudonym, key_version, kjonn, fodselsaar,
 *                 fodselsaar_oppgitt, dodsdato, line, enhet, enhet_ukjent
 *   vurdering     submission_id, ref, dato, skaar, line
 *   tjeneste      submission_id, ref, type, soknad, vedtak, start, slutt, avslag,
 *                 timer_per_uke, timer_med_flere, orgnr, line, enhet,
 *                 enhet_ukjent
 *   diagnose      submission_id, ref, kodeverk, kode, line
 *   registrering  submission_id, ref, element, kode, dato, line */
enum store_rows_table {
	STORE_ROWS_PERSON = 0,
	STORE_ROWS_VURDERING,
	STORE_ROWS_TJENESTE,
	STORE_ROWS_DIAGNOSE,
	STORE_ROWS_REGISTRERING,
	STORE_ROWS_TABLE_COUNT
};

/* Transaction step: COPYs the text-format rows in f (read from its start)
 * into table t. */
enum db_tx_status store_rows_copy(struct db *db, enum store_rows_table t, FILE *f) KPR_WUR;
/* Transaction step: removes all of this submission's rows. */
enum db_tx_status store_rows_delete(struct db *db, const char *sub_id) KPR_WUR;
/* Transaction step: removes the rows of these persons (refs as written) of
 * this submission, in one statement per table. */
enum db_tx_status store_rows_delete_refs(struct db *db, const char *sub_id, const char *const *refs,
					 size_t n) KPR_WUR;

#endif
