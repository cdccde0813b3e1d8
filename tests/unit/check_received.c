/*
 * check_received.c — what was received (received.h): the figures of
 * delivered persons per unit and for the whole file, exact medians of the
 * stored hours, retraction, the unit cap and the histogram budget, and the
 * rows beside the previous årgang with the change and the flag. The
 * expectations are worked out by hand here, not with the code under test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "received.h"
#include "report.h"
#include "validate.h"

#define MAX_TJ 8

struct person {
	struct v_person p;
	struct v_tjeneste tj[MAX_TJ];
	struct v_diagnose dg[MAX_TJ];
	struct v_vurdering vu;
};

static void person(struct person *x, const char *enhet)
{
	memset(x, 0, sizeof *x);
	x->p.ref = "J-1";
	x->p.enhet = enhet;
	x->p.tjenester = x->tj;
	x->p.diagnoser = x->dg;
	x->p.vurderinger = &x->vu;
}

/* a service of type with hours (< 0: none) in unit (NULL: the person's) */
static void tjeneste(struct person *x, int type, double hours, const char *unit)
{
	struct v_tjeneste *t = &x->tj[x->p.n_tjenester++];
	t->type = type;
	t->has_timer_per_uke = hours >= 0;
	t->timer_per_uke = hours;
	snprintf(t->enhet, sizeof t->enhet, "%s", unit ? unit : x->p.enhet);
}

static void diagnose(struct person *x, const char *kodeverk)
{
	snprintf(x->dg[x->p.n_diagnoser++].kodeverk, sizeof x->dg[0].kodeverk, "%s", kodeverk);
}

/* the person told as the validator tells it (validate_person.c) */
static uint64_t add(struct received *rc, struct person *x)
{
	uint64_t h = 0;
	const struct v_person *p = &x->p;
	ck_assert(received_person_begin(rc, p->enhet, p->enhet_unknown, p->n_vurderinger > 0));
	for (size_t i = 0; i < p->n_tjenester; i++)
		ck_assert(received_person_service(
		    rc, p->tjenester[i].type, p->tjenester[i].has_timer_per_uke,
		    p->tjenester[i].timer_per_uke, p->tjenester[i].enhet,
		    p->tjenester[i].enhet_unknown));
	for (size_t i = 0; i < p->n_diagnoser; i++)
		ck_assert(received_person_diagnosis(rc, p->diagnoser[i].kodeverk));
	ck_assert(received_person_end(rc, NULL, 2025, &h));
	return h;
}

static const struct received_service *svc(const struct received_unit *u, int type)
{
	for (size_t i = 0; u && i < u->n_svc; i++)
		if (u->svc[i].type == type)
			return &u->svc[i];
	return NULL;
}

START_TEST(test_hours_as_stored)
{
	/* the loader writes "%.1f": the figures use the same tenths */
	ck_assert_int_eq(received_hours_tenths(7.0), 70);
	ck_assert_int_eq(received_hours_tenths(168.0), 1680);
	ck_assert_int_eq(received_hours_tenths(0.04), 0);
	ck_assert_int_eq(received_hours_tenths(2.36), 24);
	/* against printf itself: every value of up to three decimals in
	 * 0..168, halves and near-halves included */
	char buf[32];
	for (long m = 0; m <= 168000; m++) {
		double v =
		    strtod((snprintf(buf, sizeof buf, "%ld.%03ld", m / 1000, m % 1000), buf), NULL);
		snprintf(buf, sizeof buf, "%.1f", v);
		long want = strtol(buf, NULL, 10) * 10 + (buf[strlen(buf) - 1] - '0');
		ck_assert_msg(received_hours_tenths(v) == want, "%.17g: %ld, printf %s", v,
			      received_hours_tenths(v), buf);
	}
}
END_TEST

START_TEST(test_medians_exact)
{
	struct received *rc = received_new(NULL);
	ck_assert_ptr_nonnull(rc);
	struct person x;
	double hours[] = {4.0, 1.0, 2.0};
	for (int i = 0; i < 3; i++) {
		person(&x, "A");
		tjeneste(&x, 15, hours[i], NULL);
		add(rc, &x);
	}
	const struct received_figures *f = received_figures(rc);
	ck_assert_int_eq(svc(&f->whole, 15)->median_centi, 200); /* 1 2 4 */
	ck_assert_uint_eq(svc(&f->whole, 15)->hours_tenths, 70);
	person(&x, "A");
	tjeneste(&x, 15, 5.5, NULL);
	tjeneste(&x, 15, -1, NULL); /* no hours: counted, not in the median */
	add(rc, &x);
	f = received_figures(rc);
	const struct received_service *s = svc(&f->whole, 15);
	ck_assert_int_eq(s->median_centi, 300); /* 1 2 4 5.5: (2 + 4) / 2 */
	ck_assert_uint_eq(s->count, 5);
	ck_assert_uint_eq(s->with_hours, 4);
	ck_assert_uint_eq(s->persons, 4);
	ck_assert_uint_eq(s->hours_tenths, 125);
	/* an even count with odd middle values: (1.0 + 1.5) / 2 = 1.25 */
	struct received *r2 = received_new(NULL);
	person(&x, "");
	tjeneste(&x, 1, 1.0, NULL);
	tjeneste(&x, 1, 1.5, NULL);
	add(r2, &x);
	ck_assert_int_eq(svc(&received_figures(r2)->whole, 1)->median_centi, 125);
	received_free(r2);
	received_free(rc);
}
END_TEST

START_TEST(test_units_and_persons)
{
	struct received *rc = received_new(NULL);
	struct person x;
	person(&x, "A");
	x.p.n_vurderinger = 1;
	tjeneste(&x, 1, 2.0, NULL);
	tjeneste(&x, 1, 3.0, "B"); /* a service at a site of its own */
	tjeneste(&x, 6, -1, NULL);
	diagnose(&x, "ICD-10");
	diagnose(&x, "ICD-10");
	diagnose(&x, "ICPC-2");
	add(rc, &x);
	person(&x, "");
	x.p.enhet_unknown = false;
	tjeneste(&x, 1, 1.0, NULL);
	add(rc, &x);
	const struct received_figures *f = received_figures(rc);
	ck_assert_uint_eq(f->whole.persons, 2);
	ck_assert_uint_eq(f->whole.persons_assessed, 1);
	ck_assert_uint_eq(svc(&f->whole, 1)->count, 3);
	ck_assert_uint_eq(svc(&f->whole, 1)->persons, 2);
	const struct received_unit *a = received_figures_find(f, "A");
	const struct received_unit *b = received_figures_find(f, "B");
	const struct received_unit *none = received_figures_find(f, "");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(none);
	ck_assert_uint_eq(a->persons, 1);
	ck_assert_uint_eq(b->persons, 0); /* only a service is there */
	ck_assert_uint_eq(svc(a, 1)->count, 1);
	ck_assert_uint_eq(svc(b, 1)->count, 1);
	ck_assert_uint_eq(svc(b, 1)->persons, 1);
	ck_assert_uint_eq(svc(a, 6)->count, 1);
	ck_assert_uint_eq(a->n_diag, 2);
	ck_assert_str_eq(a->diag[0].kodeverk, "ICD-10");
	ck_assert_uint_eq(a->diag[0].count, 2);
	ck_assert_uint_eq(a->diag[0].persons, 1);
	ck_assert_uint_eq(f->whole.diag[1].count, 1);
	/* order: named units, then none */
	ck_assert_str_eq(f->units[0]->enhet, "A");
	ck_assert_str_eq(f->units[1]->enhet, "B");
	ck_assert_str_eq(f->units[2]->enhet, "");
	received_free(rc);
}
END_TEST

/* Taking a person out leaves exactly what the others alone give. */
START_TEST(test_retract)
{
	struct received *rc = received_new(NULL), *only = received_new(NULL);
	struct person x, y;
	person(&x, "A");
	x.p.n_vurderinger = 1;
	tjeneste(&x, 15, 9.0, "B");
	tjeneste(&x, 15, 9.5, NULL);
	diagnose(&x, "ICD-10");
	person(&y, "A");
	tjeneste(&y, 15, 1.0, NULL);
	uint64_t hx = add(rc, &x);
	add(rc, &y);
	add(only, &y);
	ck_assert(received_retract(rc, hx));
	const struct received_figures *f = received_figures(rc), *g = received_figures(only);
	ck_assert_uint_eq(f->whole.persons, g->whole.persons);
	ck_assert_uint_eq(f->whole.persons_assessed, 0);
	ck_assert_uint_eq(svc(&f->whole, 15)->count, 1);
	ck_assert_uint_eq(svc(&f->whole, 15)->persons, 1);
	ck_assert_uint_eq(svc(&f->whole, 15)->hours_tenths, 10);
	ck_assert_int_eq(svc(&f->whole, 15)->median_centi, 100);
	ck_assert_uint_eq(f->whole.diag[0].count, 0);
	const struct received_unit *b = received_figures_find(f, "B");
	ck_assert_uint_eq(svc(b, 15)->count, 0);
	ck_assert_uint_eq(svc(b, 15)->persons, 0);
	ck_assert_int_eq(svc(b, 15)->median_centi, -1);
	received_free(only);
	received_free(rc);
}
END_TEST

START_TEST(test_unit_cap_and_budget)
{
	struct received *rc = received_new(NULL);
	received_set_hist_budget(rc, 3);
	struct person x;
	char name[32];
	for (int i = 0; i < RECEIVED_MAX_UNITS + 5; i++) {
		snprintf(name, sizeof name, "U%04d", i);
		person(&x, name);
		tjeneste(&x, 1, (double)i, NULL);
		add(rc, &x);
	}
	const struct received_figures *f = received_figures(rc);
	ck_assert_uint_eq(f->n_units, RECEIVED_MAX_UNITS);
	ck_assert_ptr_nonnull(f->other);
	ck_assert_uint_eq(f->other->persons, 5);
	ck_assert_ptr_null(received_figures_find(f, "U0502"));
	/* three unit histograms fit the budget; the fourth has no median */
	ck_assert_int_eq(svc(received_figures_find(f, "U0002"), 1)->median_centi, 200);
	ck_assert_int_eq(svc(received_figures_find(f, "U0003"), 1)->median_centi, -1);
	ck_assert(received_hist_exhausted(rc));
	/* the whole file's median is always exact: 0 .. 504, odd count */
	ck_assert_int_eq(svc(&f->whole, 1)->median_centi, 25200);
	received_free(rc);
}
END_TEST

struct collected {
	struct received_row rows[64];
	char enhet[64][16];
	int n;
};

static bool collect(void *ctx, const struct received_row *row)
{
	struct collected *c = ctx;
	ck_assert_int_lt(c->n, 64);
	c->rows[c->n] = *row;
	snprintf(c->enhet[c->n], sizeof c->enhet[0], "%s",
		 row->unit ? (row->enhet ? row->enhet : "(other)") : "(whole)");
	c->n++;
	return true;
}

static const struct received_row *find(const struct collected *c, const char *enhet,
				       enum received_key key, int type)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->enhet[i], enhet) && c->rows[i].key == key && c->rows[i].type == type)
			return &c->rows[i];
	return NULL;
}

START_TEST(test_rows_beside_previous)
{
	struct received *rc = received_new(NULL);
	struct person x;
	for (int i = 0; i < 12; i++) {
		person(&x, "A");
		if (i < 10)
			tjeneste(&x, 1, 2.0, NULL);
		add(rc, &x);
	}
	struct received_compare cmp;
	received_compare_init(&cmp);
	cmp.state = RECEIVED_PREV_COMPARED;
	cmp.aargang = 2024;
	cmp.threshold_percent = 20;
	cmp.prev.whole.persons = 10;         /* 12: +20.0 %, not beyond */
	cmp.prev.whole.persons_assessed = 0; /* 0 → 0: no change */
	struct received_service *s = received_unit_service(&cmp.prev.whole, 1);
	s->count = 8; /* 10: +25 %, flagged */
	s->persons = 8;
	s->with_hours = 8;
	s->hours_tenths = 160;
	s->median_centi = 200;
	struct received_unit *a = received_figures_unit(&cmp.prev, "A");
	a->persons = 10;
	struct received_unit *gone = received_figures_unit(&cmp.prev, "Bydel Sagene");
	gone->persons = 7; /* not in this file: 0 now, -100 %, flagged */
	received_figures_sort(&cmp.prev);

	struct collected c = {0};
	ck_assert(received_rows(received_figures(rc), &cmp, NULL, collect, &c));
	const struct received_row *r = find(&c, "(whole)", RECEIVED_PERSONS, 0);
	ck_assert(r && r->has_prev && r->prev == 10 && r->value == 12 && r->has_change);
	ck_assert(!r->flagged);
	ck_assert_double_eq_tol(r->change_percent, 20.0, 1e-9);
	r = find(&c, "(whole)", RECEIVED_PERSONS_ASSESSED, 0);
	ck_assert(r && !r->has_change && !r->flagged);
	r = find(&c, "(whole)", RECEIVED_SERVICES, 1);
	ck_assert(r && r->value == 10 && r->prev == 8 && r->flagged);
	r = find(&c, "(whole)", RECEIVED_HOURS_MEDIAN, 1);
	ck_assert(r && r->decimals == 2 && r->value == 200 && r->prev == 200 && !r->flagged);
	r = find(&c, "Bydel Sagene", RECEIVED_PERSONS, 0);
	ck_assert(r && r->value == 0 && r->prev == 7 && r->flagged);
	ck_assert_double_eq_tol(r->change_percent, -100.0, 1e-9);
	r = find(&c, "A", RECEIVED_SERVICES, 1);
	ck_assert(r && r->value == 10 && r->has_prev && r->prev == 0 && r->flagged &&
		  !r->has_change);
	/* units in order: A before Bydel Sagene */
	int ia = -1, ib = -1;
	for (int i = 0; i < c.n; i++) {
		if (ia < 0 && !strcmp(c.enhet[i], "A"))
			ia = i;
		if (ib < 0 && !strcmp(c.enhet[i], "Bydel Sagene"))
			ib = i;
	}
	ck_assert(ia > 0 && ib > ia);

	/* one unit only, and no comparison offline */
	struct collected one = {0};
	ck_assert(received_rows(received_figures(rc), NULL, "A", collect, &one));
	ck_assert_int_gt(one.n, 0);
	for (int i = 0; i < one.n; i++) {
		ck_assert_str_eq(one.enhet[i], "A");
		ck_assert(!one.rows[i].has_prev && !one.rows[i].flagged);
	}
	received_compare_clear(&cmp);
	received_free(rc);
}
END_TEST

static Suite *received_suite(void)
{
	Suite *s = suite_create("received");
	TCase *tc = tcase_create("figures");
	tcase_add_test(tc, test_hours_as_stored);
	tcase_add_test(tc, test_medians_exact);
	tcase_add_test(tc, test_units_and_persons);
	tcase_add_test(tc, test_retract);
	tcase_add_test(tc, test_unit_cap_and_budget);
	tcase_add_test(tc, test_rows_beside_previous);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(received_suite)
