/*
 * copy_rows.h — a submission's register rows in PostgreSQL's COPY text
 * format, one unlinked temporary file per table (store_rows.h names the
 * tables and their column order), so memory stays bounded whatever the
 * file size. The pipeline writes each accepted person here as the
 * validator hands it over; the final transaction COPYs the files.
 * Must not: write a national ID (the person's goes to the vault, the row
 * gets its pseudonym) or a free-text value carrying a candidate of one.
 */
#ifndef COPY_ROWS_H
#define COPY_ROWS_H

#include <stdio.h>

#include "kpr.h"
#include "nid.h"
#include "store_rows.h"
#include "validate.h"

struct copy_rows {
	FILE *f[STORE_ROWS_TABLE_COUNT];
	const char *sub_id;
	const struct nid_options *nid; /* what counts as a national-ID candidate */
};

/* Creates the temporary files; false with errno (the files made so far are
 * closed by copy_rows_close, which accepts a half-opened set). */
bool copy_rows_open(struct copy_rows *c, const char *sub_id, const struct nid_options *nid) KPR_WUR;
void copy_rows_close(struct copy_rows *c);

/* Appends one person's rows: the person with its pseudonym (hex) and key
 * version, and every accepted child element. False with errno when a
 * write failed. The ref must be storable (the caller refuses one that is
 * not: it is the person's key); an orgnr that is not is stored as NULL. */
bool copy_rows_person(struct copy_rows *c, const struct v_person *p, const char *pseudonym_hex,
		      int key_version) KPR_WUR;
/* Flushes every file: a full disk shows here, not in the middle of a COPY.
 * False with errno. */
bool copy_rows_flush(struct copy_rows *c) KPR_WUR;

/* Free text from the file as the register may hold it: as written, or not
 * at all (NULL) when it carries a national-ID candidate (SPEC §3). */
const char *copy_rows_storable(const struct nid_options *nid, const char *s);

#endif
