/*
 * validate_cross.c — the rules that compare a person's elements with each
 * other, once the whole Person is read: R308 (overlapping services), R309
 * and R310 (function assessment), R402–R404. All are warnings: they never
 * exclude an element.
 *
 * Must not: change an element's status or the person's verdict.
 */
#include "validate_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* date minus 12 months ("2025-02-29" -> "2024-02-29" compares fine as text) */
static void minus_year(const char *d, char out[V_DATE_LEN])
{
	unsigned y = (unsigned)atoi(d) % 10000u;
	snprintf(out, V_DATE_LEN, "%04u%.6s", y > 0 ? y - 1 : 0, d + 4);
}

static bool active_in_year(const struct vstate *s, const struct v_tjeneste *t)
{
	if (!date_set(t->start) || t->avslag)
		return false;
	if (s->header.y_end[0] && strcmp(t->start, s->header.y_end) > 0)
		return false;
	if (s->header.y_start[0] && date_set(t->slutt) && strcmp(t->slutt, s->header.y_start) < 0)
		return false;
	return true;
}

static bool in_year(const struct vstate *s, const char *d)
{
	return date_set(d) && (!s->header.y_start[0] || (strcmp(d, s->header.y_start) >= 0 &&
							 strcmp(d, s->header.y_end) <= 0));
}

static int cmp_tj_type_start(const void *a, const void *b)
{
	const struct v_tjeneste *x = *(const struct v_tjeneste *const *)a;
	const struct v_tjeneste *y = *(const struct v_tjeneste *const *)b;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	int c = strcmp(x->start, y->start);
	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* What the rules below need to know about a person's accepted elements. */
struct cross_facts {
	const char *latest_vurd; /* latest Vurdering/@dato, NULL when none */
	bool vurd_in_year;       /* a Vurdering dated in the årgang */
	bool inst_18_21;         /* a stay (type 18–21) active in the årgang */
	const char *latest_vedtak;
	unsigned long latest_vedtak_line;
	const struct v_tjeneste *latest_vedtak_tj; /* its service (whose unit R310 carries) */
	size_t n_started;                          /* services with a start date */
};

static void vurd_facts(const struct vstate *s, struct cross_facts *f)
{
	const struct vec *vv = &s->person.pv[PV_VURD];
	for (size_t i = 0; i < vv->n; i++) {
		if (vv->st[i] != ELEM_ACCEPTED)
			continue;
		const struct v_vurdering *v = VEC_AT(vv, struct v_vurdering, i);
		if (!f->latest_vurd || strcmp(v->dato, f->latest_vurd) > 0)
			f->latest_vurd = v->dato;
		if (in_year(s, v->dato))
			f->vurd_in_year = true;
	}
}

/* Gathers the services' facts and checks R309 on each, in file order. */
static void tjeneste_facts_r309(struct vstate *s, struct cross_facts *f)
{
	const struct vec *tv = &s->person.pv[PV_TJ];
	for (size_t i = 0; i < tv->n; i++) {
		if (tv->st[i] != ELEM_ACCEPTED)
			continue;
		const struct v_tjeneste *t = VEC_AT(tv, struct v_tjeneste, i);
		if (date_set(t->start))
			f->n_started++;
		if (date_set(t->vedtak) &&
		    (!f->latest_vedtak || strcmp(t->vedtak, f->latest_vedtak) > 0)) {
			f->latest_vedtak = t->vedtak;
			f->latest_vedtak_line = t->line;
			f->latest_vedtak_tj = t;
		}
		if (t->type >= 18 && t->type <= 21 && active_in_year(s, t))
			f->inst_18_21 = true;
		/* R309 */
		bool needs_vurd = t->type == 1 || t->type == 2 || t->type == 3 || t->type == 15 ||
				  (t->type >= 18 && t->type <= 22);
		if (needs_vurd && date_set(t->start) && !t->avslag && !f->vurd_in_year) {
			val_set_unit(s, val_tj_unit(t));
			val_msg(
			    s, RULE_R309, t->line, val_ek_path[E_TJENESTE], NULL,
			    "Tjeneste type %d er tildelt, men personen har ingen godkjent funksjonsvurdering datert i årgang %d",
			    t->type, s->header.hdr.aargang);
			val_set_unit(s, val_person_unit(s));
		}
	}
}

/* R308: same type, overlapping periods (accepted, started services).
 * False when out of memory (the parse is stopped). */
static bool check_r308(struct vstate *s, size_t n_started)
{
	const struct vec *tv = &s->person.pv[PV_TJ];
	if (n_started <= 1)
		return true;
	const struct v_tjeneste **sorted = malloc(n_started * sizeof *sorted);
	if (!sorted) {
		s->internal_error = true;
		val_stop(s);
		return false;
	}
	size_t m = 0;
	for (size_t i = 0; i < tv->n; i++) {
		const struct v_tjeneste *t = VEC_AT(tv, struct v_tjeneste, i);
		if (tv->st[i] == ELEM_ACCEPTED && date_set(t->start))
			sorted[m++] = t;
	}
	qsort(sorted, m, sizeof *sorted, cmp_tj_type_start);
	size_t open = 0; /* the service of this type that ends last so far */
	for (size_t i = 1; i < m; i++) {
		if (sorted[i]->type != sorted[open]->type) {
			open = i;
			continue;
		}
		const struct v_tjeneste *a = sorted[open], *b = sorted[i];
		const char *a_end = date_set(a->slutt) ? a->slutt : "9999-12-31";
		const char *b_end = date_set(b->slutt) ? b->slutt : "9999-12-31";
		/* b starts on or after a; overlap when b starts before a ends (a
		 * handover on the same day is not an overlap) */
		if (strcmp(b->start, a_end) < 0 || strcmp(a->start, b->start) == 0) {
			char v[32];
			snprintf(v, sizeof v, "%s", b->start);
			val_set_unit(s, val_tj_unit(b));
			val_msg(
			    s, RULE_R308, b->line, val_ek_path[E_TJENESTE], v,
			    "Tjeneste type %d overlapper i tid med en annen tjeneste av samme type (linje %lu)",
			    b->type, a->line);
			val_set_unit(s, val_person_unit(s));
		}
		if (strcmp(b_end, a_end) > 0)
			open = i;
	}
	free(sorted);
	return true;
}

/* R310 */
static void check_r310(struct vstate *s, const struct cross_facts *f)
{
	if (!f->latest_vurd || !f->latest_vedtak)
		return;
	char limit[V_DATE_LEN];
	minus_year(f->latest_vedtak, limit);
	if (strcmp(f->latest_vurd, limit) < 0) {
		/* the message points at the service with the latest vedtak */
		val_set_unit(s, val_tj_unit(f->latest_vedtak_tj));
		val_msg(
		    s, RULE_R310, f->latest_vedtak_line, val_ek_path[E_TJENESTE], f->latest_vurd,
		    "Siste funksjonsvurdering (%s) er mer enn 12 måneder eldre enn siste vedtak (%s); bistandsbehovet er ikke oppdatert",
		    f->latest_vurd, f->latest_vedtak);
		val_set_unit(s, val_person_unit(s));
	}
}

/* R402 and R403: what a stay in an institution (type 18–21) brings. */
static void check_r402_r403(struct vstate *s, const struct cross_facts *f)
{
	const struct vec *lv = &s->person.pv[PV_LMG];
	for (size_t i = 0; i < lv->n; i++) {
		if (lv->st[i] != ELEM_ACCEPTED)
			continue;
		const struct v_svar *e = VEC_AT(lv, struct v_svar, i);
		if (!f->inst_18_21)
			val_msg(
			    s, RULE_R402, e->line, val_ek_path[E_LEGEMIDDEL], NULL,
			    "Legemiddelgjennomgang er rapportert, men personen har ingen institusjonstjeneste (type 18–21) i årgangen");
	}
	if (!f->inst_18_21)
		return;
	bool ern = false;
	const struct vec *ev = &s->person.pv[PV_ERN];
	for (size_t i = 0; i < ev->n; i++)
		if (ev->st[i] == ELEM_ACCEPTED && in_year(s, VEC_AT(ev, struct v_svar, i)->dato))
			ern = true;
	if (!ern)
		val_msg(
		    s, RULE_R403, s->person.line, val_ek_path[E_PERSON], NULL,
		    "Personen har tidsbegrenset opphold eller langtidsopphold (type 18–21), men ingen ernæringsvurdering i årgangen");
}

/* R404: on a waiting list while in long-term care (type 21). */
static void check_r404(struct vstate *s)
{
	const struct vec *tv = &s->person.pv[PV_TJ], *wv = &s->person.pv[PV_VL];
	for (size_t i = 0; i < wv->n; i++) {
		if (wv->st[i] != ELEM_ACCEPTED)
			continue;
		const struct v_venteliste *w = VEC_AT(wv, struct v_venteliste, i);
		for (size_t j = 0; j < tv->n; j++) {
			const struct v_tjeneste *t = VEC_AT(tv, struct v_tjeneste, j);
			if (tv->st[j] != ELEM_ACCEPTED || t->type != 21 || !date_set(t->start) ||
			    t->avslag)
				continue;
			if (strcmp(t->start, w->vedtak) <= 0 &&
			    (!date_set(t->slutt) || strcmp(t->slutt, w->vedtak) >= 0)) {
				val_msg(
				    s, RULE_R404, w->line, val_ek_path[E_VENTELISTE], w->vedtak,
				    "Personen står på venteliste, men har pågående langtidsopphold i institusjon (linje %lu)",
				    t->line);
				break;
			}
		}
	}
}

void val_person_cross_rules(struct vstate *s)
{
	struct cross_facts f;
	memset(&f, 0, sizeof f);
	vurd_facts(s, &f);
	tjeneste_facts_r309(s, &f);
	if (!check_r308(s, f.n_started))
		return;
	check_r310(s, &f);
	check_r402_r403(s, &f);
	check_r404(s);
}
