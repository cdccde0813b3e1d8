/*
 * check_report.c — the message store (report.h): merging identical messages
 * of a person with their line numbers, spilling to the temporary file,
 * counts per severity and per rule, iteration in file order (also for
 * messages about an earlier person added later, as R105/R106 do).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "report.h"

struct collect {
	size_t n;
	unsigned long first_lines[64];
	size_t nlines[64];
	char rules[64][8];
	char refs[64][32];
	bool value_null[64];
	char enhet[64][32]; /* "NULL" for a message about the whole file */
	unsigned long last_line;
	bool ordered;
	unsigned long total_lines;
	size_t stop_after;
};

static bool collect_fn(void *ctx, const struct vmsg *m)
{
	struct collect *c = ctx;
	if (c->n < 64) {
		c->first_lines[c->n] = m->lines[0];
		c->nlines[c->n] = m->nlines;
		snprintf(c->rules[c->n], sizeof c->rules[0], "%s", m->rule);
		snprintf(c->refs[c->n], sizeof c->refs[0], "%s", m->ref);
		c->value_null[c->n] = m->value == NULL;
		snprintf(c->enhet[c->n], sizeof c->enhet[0], "%s", m->enhet ? m->enhet : "NULL");
	}
	for (size_t i = 1; i < m->nlines; i++)
		ck_assert_uint_lt(m->lines[i - 1], m->lines[i] + 1);
	if (m->lines[0] < c->last_line)
		c->ordered = false;
	c->last_line = m->lines[0];
	c->total_lines += m->nlines;
	c->n++;
	return !(c->stop_after && c->n >= c->stop_after);
}

static void collect_init(struct collect *c)
{
	memset(c, 0, sizeof *c);
	c->ordered = true;
}

START_TEST(test_merge_within_person)
{
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert(report_add(r, "R405", "P1", 12, "/Innsending/Person/Heldogn",
			     "svar må være 1 eller 2", "3"));
	ck_assert(report_add(r, "R405", "P1", 10, "/Innsending/Person/Heldogn",
			     "svar må være 1 eller 2", "3"));
	ck_assert(report_add(r, "R405", "P1", 14, "/Innsending/Person/Heldogn",
			     "svar må være 1 eller 2", "3"));
	/* different text, value or rule: not merged */
	ck_assert(
	    report_add(r, "R405", "P1", 15, "/Innsending/Person/Heldogn", "annen tekst", "3"));
	ck_assert(report_add(r, "R405", "P1", 16, "/Innsending/Person/Heldogn",
			     "svar må være 1 eller 2", "4"));
	ck_assert(report_add(r, "R309", "P1", 11, "/Innsending/Person/Tjeneste", "tekst", NULL));
	ck_assert(report_flush(r));
	/* the next person: identical text, other ref, not merged */
	ck_assert(report_add(r, "R405", "P2", 20, "/Innsending/Person/Heldogn",
			     "svar må være 1 eller 2", "3"));
	ck_assert(report_flush(r));

	struct collect c;
	collect_init(&c);
	ck_assert(report_foreach(r, collect_fn, &c));
	ck_assert_uint_eq(c.n, 5);
	ck_assert(c.ordered);
	ck_assert_uint_eq(c.first_lines[0], 10);
	ck_assert_uint_eq(c.nlines[0], 3); /* 10, 12, 14 */
	ck_assert_str_eq(c.rules[1], "R309");
	ck_assert(c.value_null[1]);
	ck_assert_str_eq(c.refs[4], "P2");
	ck_assert_uint_eq(c.total_lines, 7);

	const struct report_summary *s = report_summary_const(r);
	ck_assert_uint_eq(s->by_severity[SEV_ERROR], 6); /* one per line */
	ck_assert_uint_eq(s->by_severity[SEV_WARNING], 1);
	ck_assert(!s->fatal);
	ck_assert_uint_eq(report_rule_count(r, "R405"), 4); /* merged messages */
	ck_assert_uint_eq(report_rule_count(r, "R309"), 1);
	ck_assert_uint_eq(report_rule_count(r, "R101"), 0);

	/* iterating twice gives the same; stopping early returns false */
	collect_init(&c);
	ck_assert(report_foreach(r, collect_fn, &c));
	ck_assert_uint_eq(c.n, 5);
	collect_init(&c);
	c.stop_after = 2;
	ck_assert(!report_foreach(r, collect_fn, &c));
	ck_assert_uint_eq(c.n, 2);
	report_free(r);
}
END_TEST

START_TEST(test_fatal_and_unknown_rule)
{
	struct report *r = report_new(NULL);
	ck_assert(report_add(r, "F002", "", 3, "/Innsending", "feil", NULL));
	ck_assert(report_summary(r)->fatal);
	ck_assert_uint_eq(report_summary(r)->by_severity[SEV_FATAL], 1);
	ck_assert(!report_add(r, "X999", "", 3, "/", "ukjent regel", NULL));
	report_free(r);
	report_free(NULL);
}
END_TEST

/* Many persons with messages: spilled, counted, iterated in order. */
START_TEST(test_spill_many)
{
	struct report *r = report_new(NULL);
	const unsigned long persons = 200000;
	for (unsigned long p = 0; p < persons; p++) {
		char ref[32];
		snprintf(ref, sizeof ref, "J-%06lu", p);
		unsigned long line = 10 + p * 30;
		ck_assert(report_add(r, "R309", ref, line + 5, "/Innsending/Person/Tjeneste",
				     "samme tekst", NULL));
		ck_assert(report_add(r, "R309", ref, line + 7, "/Innsending/Person/Tjeneste",
				     "samme tekst", NULL));
		ck_assert(
		    report_add(r, "R108", ref, line + 2, "/Innsending/Person/Kjonn", "kjønn", "3"));
		ck_assert(report_flush(r));
	}
	struct collect c;
	collect_init(&c);
	ck_assert(report_foreach(r, collect_fn, &c));
	ck_assert_uint_eq(c.n, persons * 2);
	ck_assert(c.ordered);
	ck_assert_uint_eq(c.total_lines, persons * 3);
	ck_assert_uint_eq(report_rule_count(r, "R309"), persons);
	ck_assert_uint_eq(report_summary(r)->by_severity[SEV_WARNING], persons * 2);
	report_free(r);
}
END_TEST

/* One person with more messages than the pending bound: flushed early,
 * still complete and in order. */
START_TEST(test_pending_bound)
{
	struct report *r = report_new(NULL);
	for (unsigned long i = 0; i < 20000; i++) {
		char text[32];
		snprintf(text, sizeof text, "tekst %lu", i % 5000);
		ck_assert(
		    report_add(r, "R401", "P", 100 + i, "/Innsending/Person/Diagnose", text, "X"));
	}
	ck_assert(report_flush(r));
	struct collect c;
	collect_init(&c);
	ck_assert(report_foreach(r, collect_fn, &c));
	ck_assert_uint_eq(c.total_lines, 20000);
	ck_assert(c.ordered);
	report_free(r);
}
END_TEST

/* A message about an earlier person (R105 found at a later duplicate) is
 * iterated at its own line, not where it was found. */
START_TEST(test_late_messages_in_file_order)
{
	struct report *r = report_new(NULL);
	ck_assert(report_add(r, "R101", "A", 10, "/p", "a", NULL));
	ck_assert(report_flush(r));
	ck_assert(report_add(r, "R101", "B", 20, "/p", "b", NULL));
	ck_assert(report_flush(r));
	ck_assert(report_add(r, "R101", "C", 30, "/p", "c", NULL));
	ck_assert(report_flush(r));
	/* person D at line 40 duplicates A (line 10) and B (line 20) */
	ck_assert(report_add(r, "R105", "D", 40, "/p", "dup", NULL));
	ck_assert(report_add(r, "R105", "B", 20, "/p", "dup of D", NULL));
	ck_assert(report_add(r, "R105", "A", 10, "/p", "dup of D", NULL));
	ck_assert(report_flush(r));
	ck_assert(report_add(r, "R101", "E", 50, "/p", "e", NULL));
	ck_assert(report_flush(r));
	struct collect c;
	collect_init(&c);
	ck_assert(report_foreach(r, collect_fn, &c));
	ck_assert_uint_eq(c.n, 7);
	ck_assert(c.ordered);
	ck_assert_str_eq(c.refs[0], "A");
	ck_assert_str_eq(c.refs[1], "A");
	ck_assert_str_eq(c.refs[6], "E");
	ck_assert_uint_eq(report_rule_count(r, "R105"), 3);
	report_free(r);
}
END_TEST

/* Messages carry the current unit; identical messages merge per ref, unit,
 * rule and text, never across units; counts follow the unit. */
START_TEST(test_units_merge_and_count)
{
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(report_current_unit(r));
	ck_assert(report_add(r, "F007", "", 1, "/Innsending", "forrigeId", NULL));
	ck_assert(report_flush(r));
	ck_assert(report_set_unit(r, "Bydel A"));
	ck_assert(report_add(r, "R305", "P1", 10, "/p/Tjeneste", "timer", "2"));
	ck_assert(report_add(r, "R305", "P1", 12, "/p/Tjeneste", "timer", "2"));
	ck_assert(report_set_unit(r, "Sted X")); /* a service's own unit */
	ck_assert(report_add(r, "R305", "P1", 11, "/p/Tjeneste", "timer", "2"));
	ck_assert(report_set_unit(r, "Bydel A"));
	ck_assert_str_eq(report_current_unit(r), "Bydel A");
	ck_assert(report_flush(r));
	ck_assert(report_set_unit(r, ""));
	ck_assert(report_add(r, "R108", "P2", 20, "/p/Kjonn", "kjønn", "3"));
	ck_assert(report_set_unit(r, NULL));
	ck_assert(report_flush(r));

	struct collect c;
	collect_init(&c);
	ck_assert(report_foreach(r, collect_fn, &c));
	ck_assert_uint_eq(c.n, 4);
	ck_assert_str_eq(c.enhet[0], "NULL");
	ck_assert_str_eq(c.enhet[1], "Bydel A");
	ck_assert_uint_eq(c.nlines[1], 2); /* lines 10 and 12 merged */
	ck_assert_str_eq(c.enhet[2], "Sted X");
	ck_assert_uint_eq(c.first_lines[2], 11);
	ck_assert_str_eq(c.enhet[3], "");

	ck_assert_uint_eq(report_unit(r, "Bydel A")->by_severity[SEV_ERROR], 2);
	ck_assert_uint_eq(report_unit(r, "Sted X")->by_severity[SEV_ERROR], 1);
	ck_assert_uint_eq(report_unit(r, "")->by_severity[SEV_ERROR], 1);
	ck_assert(report_has_unit(r, "Sted X"));
	ck_assert(!report_has_unit(r, "Sted Y"));
	ck_assert(!report_has_unit(r, "sted x")); /* exact bytes */

	const struct report_unit **units;
	long n = report_units(r, &units);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(units[0]->enhet, "Bydel A");
	ck_assert_str_eq(units[1]->enhet, "Sted X");
	ck_assert_str_eq(units[2]->enhet, ""); /* no unit after the named ones */
	free(units);
	report_free(r);
}
END_TEST

/* A filter gives one unit's messages plus those about the whole file; an
 * unknown unit is refused; report_foreach_unit gives exactly one unit's. */
START_TEST(test_units_filter)
{
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert(report_add(r, "F007", "", 1, "/Innsending", "forrigeId", NULL));
	ck_assert(report_set_unit(r, "A"));
	ck_assert(report_add(r, "R108", "P1", 10, "/p", "kjønn", "3"));
	ck_assert(report_set_unit(r, "B"));
	ck_assert(report_add(r, "R108", "P2", 20, "/p", "kjønn", "3"));
	ck_assert(report_set_unit(r, NULL));
	ck_assert(report_flush(r));

	ck_assert(!report_set_filter(r, "C"));
	ck_assert_ptr_null(report_filter(r));
	ck_assert(report_set_filter(r, "B"));
	struct collect c;
	collect_init(&c);
	ck_assert(report_foreach(r, collect_fn, &c));
	ck_assert_uint_eq(c.n, 2);
	ck_assert_str_eq(c.rules[0], "F007");
	ck_assert_str_eq(c.refs[1], "P2");
	const struct report_unit **units;
	ck_assert_int_eq(report_units(r, &units), 1);
	ck_assert_str_eq(units[0]->enhet, "B");
	free(units);

	collect_init(&c);
	ck_assert(report_foreach_unit(r, "A", collect_fn, &c));
	ck_assert_uint_eq(c.n, 1);
	ck_assert_str_eq(c.refs[0], "P1");
	collect_init(&c);
	ck_assert(report_foreach_unit(r, NULL, collect_fn, &c));
	ck_assert_uint_eq(c.n, 1);
	ck_assert_str_eq(c.rules[0], "F007");

	ck_assert(report_set_filter(r, NULL));
	collect_init(&c);
	ck_assert(report_foreach(r, collect_fn, &c));
	ck_assert_uint_eq(c.n, 3);
	report_free(r);
}
END_TEST

/* Past REPORT_MAX_UNITS distinct units the rest share one "other" row;
 * messages keep their own unit. */
START_TEST(test_units_capped)
{
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	char name[32];
	for (int i = 0; i < REPORT_MAX_UNITS + 5; i++) {
		snprintf(name, sizeof name, "Enhet %05d", i);
		struct report_unit *u = report_unit(r, name);
		ck_assert_ptr_nonnull(u);
		u->persons++;
	}
	ck_assert(report_units_capped(r));
	ck_assert(report_set_unit(r, "Enhet 10003"));
	ck_assert(report_add(r, "R108", "P", 5, "/p", "kjønn", "3"));
	ck_assert(report_flush(r));
	const struct report_unit **units;
	long n = report_units(r, &units);
	ck_assert_int_eq(n, REPORT_MAX_UNITS + 1);
	ck_assert_ptr_null(units[n - 1]->enhet); /* the other row, last */
	ck_assert_uint_eq(units[n - 1]->persons, 5);
	ck_assert_uint_eq(units[n - 1]->by_severity[SEV_ERROR], 1);
	free(units);
	struct collect c;
	collect_init(&c);
	ck_assert(report_foreach(r, collect_fn, &c));
	ck_assert_str_eq(c.enhet[0], "Enhet 10003");
	report_free(r);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_merge_within_person);
	tcase_add_test(tc, test_fatal_and_unknown_rule);
	tcase_add_test(tc, test_spill_many);
	tcase_add_test(tc, test_pending_bound);
	tcase_add_test(tc, test_late_messages_in_file_order);
	tcase_add_test(tc, test_units_merge_and_count);
	tcase_add_test(tc, test_units_filter);
	tcase_add_test(tc, test_units_capped);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(report_suite)
