/*
 * codelist.h — code lists with validity periods (service types, ...), loaded
 * from config/codelists.csv: the one machine-readable source that both the
 * validator and the database (kprctl codes load) read.
 * File format (UTF-8, ';'-separated, header row, LF or CRLF, no quoting):
 *   liste;kode;navn;gyldig_fra;gyldig_til;institusjon;forelder
 * gyldig_fra/gyldig_til are ISO dates; an empty gyldig_til means open-ended.
 * institusjon is 1, 0 or empty (= 0). forelder (optional 7th column) is the
 * code of the parent entry, e.g. the fylkesnummer of a kommune; empty = none.
 * Lists: tjenestetype, kommune, fylke, funksjon, skaar, diagnosekodeverk.
 */
#ifndef CODELIST_H
#define CODELIST_H

#include "kpr.h"

struct codelist; /* opaque */

struct codelist_entry {
	const char *list;   /* "tjenestetype" */
	const char *code;   /* "15" */
	const char *name;   /* "Helsetjenester i hjemmet" */
	int valid_from;     /* yyyymmdd */
	int valid_to;       /* yyyymmdd, 99991231 when open-ended */
	bool institution;   /* for tjenestetype: an institution service (needs orgnr, R307) */
	const char *parent; /* code of the parent entry ("03" for kommune "0301"), or NULL */
};

/* Loads path; on failure returns NULL and writes "file:line: what" to err. */
struct codelist *codelist_load(const char *path, char *err, size_t errlen) KPR_WUR;
void codelist_free(struct codelist *cl);

/* The entry of `list` with `code` valid at any time during årgang `year`
 * (1 Jan – 31 Dec), or NULL. */
const struct codelist_entry *codelist_find(const struct codelist *cl, const char *list,
					   const char *code, int year);

size_t codelist_count(const struct codelist *cl);
const struct codelist_entry *codelist_at(const struct codelist *cl, size_t i);

#endif
