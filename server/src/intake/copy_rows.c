/*
 * copy_rows.c — COPY text encoding of the register rows (copy_rows.h).
 * The column order of each table is store_rows.h's; keep the two together.
 */
#include "copy_rows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "received.h"

/* The validator already refuses or drops values carrying a national-ID
 * candidate; this is the loader's own guarantee, so no column outside the
 * vault can ever hold an ID. */
const char *copy_rows_storable(const struct nid_options *nid, const char *s)
{
	return s && nid_has_candidate(s, strlen(s), nid) ? NULL : s;
}

bool copy_rows_open(struct copy_rows *c, const char *sub_id, const struct nid_options *nid)
{
	memset(c, 0, sizeof *c);
	c->sub_id = sub_id;
	c->nid = nid;
	for (int t = 0; t < STORE_ROWS_TABLE_COUNT; t++)
		if (!(c->f[t] = tmpfile()))
			return false;
	return true;
}

void copy_rows_close(struct copy_rows *c)
{
	for (int t = 0; t < STORE_ROWS_TABLE_COUNT; t++) {
		if (c->f[t])
			fclose(c->f[t]);
		c->f[t] = NULL;
	}
}

/* COPY text format: backslash, tab, newline and carriage return escaped;
 * the runs between them written whole (a locked fputc per character was
 * 3 % of the national bench's CPU). */
static void put_text(FILE *f, const char *s)
{
	for (;;) {
		size_t n = strcspn(s, "\\\t\n\r");
		if (n)
			fwrite(s, 1, n, f);
		s += n;
		switch (*s) {
		case '\0':
			return;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		default: /* '\r' */
			fputs("\\r", f);
		}
		s++;
	}
}

static void put_opt(FILE *f, const char *s)
{
	if (s && *s)
		put_text(f, s);
	else
		fputs("\\N", f);
}

static void put_key(FILE *f, const struct copy_rows *c, const char *ref)
{
	fputs(c->sub_id, f);
	fputc('\t', f);
	put_text(f, ref);
	fputc('\t', f);
}

/* Hours as numeric(5,1): the tenths of received_hours_tenths, the one
 * rounding the figures of what was received use too ("%.1f"'s). */
static void put_hours(FILE *f, bool has, double v)
{
	if (!has) {
		fputs("\\N", f);
		return;
	}
	long t = received_hours_tenths(v);
	fprintf(f, "%s%ld.%ld", t < 0 ? "-" : "", labs(t) / 10, labs(t) % 10);
}

static void put_registrering(FILE *f, const struct copy_rows *c, const char *ref,
			     const char *element, int kode, const char *dato, unsigned long line)
{
	put_key(f, c, ref);
	fprintf(f, "%s\t", element);
	if (kode > 0)
		fprintf(f, "%d\t", kode);
	else
		fputs("\\N\t", f);
	put_opt(f, dato);
	fprintf(f, "\t%lu\n", line);
}

/* The last two columns of a person or service row, and its end: the unit as
 * written (NULL when none) and whether R110 recorded it as unknown. The
 * validator never hands over a refused unit; copy_rows_storable is the
 * loader's own second check that no candidate reaches the register. */
static void put_unit(FILE *f, const struct copy_rows *c, const char *enhet, bool unknown)
{
	const char *stored = unknown ? NULL : copy_rows_storable(c->nid, enhet);
	put_opt(f, stored);
	fprintf(f, "\t%s\n", unknown || (enhet && *enhet && !stored) ? "t" : "f");
}

static void put_person(const struct copy_rows *c, const struct v_person *p, const char *hex,
		       int key_version)
{
	FILE *f = c->f[STORE_ROWS_PERSON];
	put_key(f, c, p->ref);
	fprintf(f, "\\\\x%s\t%d\t%d\t%d\t%s\t", hex, key_version, p->kjonn, p->fodselsaar,
		p->fodselsaar_given ? "t" : "f");
	put_opt(f, p->dodsdato);
	fprintf(f, "\t%lu\t", p->line);
	put_unit(f, c, p->enhet, p->enhet_unknown);
}

static void put_vurderinger(const struct copy_rows *c, const struct v_person *p)
{
	FILE *f = c->f[STORE_ROWS_VURDERING];
	for (size_t i = 0; i < p->n_vurderinger; i++) {
		const struct v_vurdering *v = &p->vurderinger[i];
		put_key(f, c, p->ref);
		fprintf(f, "%s\t{", v->dato);
		for (int k = 0; k < V_FUNKSJON_COUNT; k++)
			fprintf(f, k ? ",%u" : "%u", v->skaar[k]);
		fprintf(f, "}\t%lu\n", v->line);
	}
}

static void put_tjenester(const struct copy_rows *c, const struct v_person *p)
{
	FILE *f = c->f[STORE_ROWS_TJENESTE];
	for (size_t i = 0; i < p->n_tjenester; i++) {
		const struct v_tjeneste *t = &p->tjenester[i];
		put_key(f, c, p->ref);
		fprintf(f, "%d\t", t->type);
		put_opt(f, t->soknad);
		fputc('\t', f);
		put_opt(f, t->vedtak);
		fputc('\t', f);
		put_opt(f, t->start);
		fputc('\t', f);
		put_opt(f, t->slutt);
		fprintf(f, "\t%s\t", t->avslag ? "t" : "f");
		put_hours(f, t->has_timer_per_uke, t->timer_per_uke);
		fputc('\t', f);
		put_hours(f, t->has_timer_med_flere, t->timer_med_flere);
		fputc('\t', f);
		put_opt(f, copy_rows_storable(c->nid, t->orgnr));
		fprintf(f, "\t%lu\t", t->line);
		put_unit(f, c, t->enhet, t->enhet_unknown);
	}
}

static void put_diagnoser(const struct copy_rows *c, const struct v_person *p)
{
	FILE *f = c->f[STORE_ROWS_DIAGNOSE];
	for (size_t i = 0; i < p->n_diagnoser; i++) {
		put_key(f, c, p->ref);
		put_text(f, p->diagnoser[i].kodeverk);
		fputc('\t', f);
		put_text(f, p->diagnoser[i].kode);
		fprintf(f, "\t%lu\n", p->diagnoser[i].line);
	}
}

static void put_registreringer(const struct copy_rows *c, const struct v_person *p)
{
	FILE *f = c->f[STORE_ROWS_REGISTRERING];
	for (size_t i = 0; i < p->n_heldogn; i++)
		put_registrering(f, c, p->ref, "Heldogn", p->heldogn[i].kode, p->heldogn[i].dato,
				 p->heldogn[i].line);
	for (size_t i = 0; i < p->n_legemiddel; i++)
		put_registrering(f, c, p->ref, "Legemiddelgjennomgang", p->legemiddel[i].kode,
				 p->legemiddel[i].dato, p->legemiddel[i].line);
	for (size_t i = 0; i < p->n_ernaering; i++)
		put_registrering(f, c, p->ref, "Ernaering", p->ernaering[i].kode,
				 p->ernaering[i].dato, p->ernaering[i].line);
	for (size_t i = 0; i < p->n_individuell_plan; i++)
		put_registrering(f, c, p->ref, "IndividuellPlan", p->individuell_plan[i].kode, NULL,
				 p->individuell_plan[i].line);
	for (size_t i = 0; i < p->n_koordinator; i++)
		put_registrering(f, c, p->ref, "Koordinator", p->koordinator[i].kode, NULL,
				 p->koordinator[i].line);
	for (size_t i = 0; i < p->n_venteliste; i++)
		put_registrering(f, c, p->ref, "Venteliste", 0, p->venteliste[i].vedtak,
				 p->venteliste[i].line);
}

bool copy_rows_person(struct copy_rows *c, const struct v_person *p, const char *pseudonym_hex,
		      int key_version)
{
	put_person(c, p, pseudonym_hex, key_version);
	put_vurderinger(c, p);
	put_tjenester(c, p);
	put_diagnoser(c, p);
	put_registreringer(c, p);
	for (int t = 0; t < STORE_ROWS_TABLE_COUNT; t++)
		if (ferror(c->f[t]))
			return false; /* errno: the failed write's */
	return true;
}

bool copy_rows_flush(struct copy_rows *c)
{
	for (int t = 0; t < STORE_ROWS_TABLE_COUNT; t++)
		if (fflush(c->f[t]) != 0)
			return false;
	return true;
}
