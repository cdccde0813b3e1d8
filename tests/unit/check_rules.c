/*
 * check_rules.c — the rule catalogue against SPEC §3 (the table below is
 * copied from the SPEC as the independent source), its lookups and texts,
 * and docs/rules.md against what the generator renders now (tests run from
 * the repo root).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "rules.h"

#include "../../tools/kpr-rules/rules_md.h"

#define RULES_DOC "docs/rules.md"

/* SPEC §3, rule and level columns, in SPEC order. */
static const struct {
	const char *id;
	enum severity severity;
} spec_rules[] = {
    {"F001", SEV_FATAL},   {"F002", SEV_FATAL},   {"F003", SEV_FATAL},   {"F004", SEV_FATAL},
    {"F005", SEV_FATAL},   {"F006", SEV_FATAL},   {"F007", SEV_WARNING}, {"R101", SEV_ERROR},
    {"R102", SEV_ERROR},   {"R103", SEV_ERROR},   {"R104", SEV_ERROR},   {"R105", SEV_ERROR},
    {"R106", SEV_ERROR},   {"R107", SEV_WARNING}, {"R108", SEV_ERROR},   {"R109", SEV_WARNING},
    {"R110", SEV_WARNING}, {"R201", SEV_ERROR},   {"R202", SEV_ERROR},   {"R203", SEV_ERROR},
    {"R204", SEV_WARNING}, {"R301", SEV_ERROR},   {"R302", SEV_ERROR},   {"R303", SEV_ERROR},
    {"R304", SEV_ERROR},   {"R305", SEV_ERROR},   {"R306", SEV_ERROR},   {"R307", SEV_WARNING},
    {"R308", SEV_WARNING}, {"R309", SEV_WARNING}, {"R310", SEV_WARNING}, {"R401", SEV_ERROR},
    {"R402", SEV_WARNING}, {"R403", SEV_WARNING}, {"R404", SEV_WARNING}, {"R405", SEV_ERROR},
};

START_TEST(every_spec_rule_once_with_spec_severity)
{
	for (size_t i = 0; i < KPR_ARRAY_LEN(spec_rules); i++) {
		size_t found = 0;
		for (size_t j = 0; j < rules_catalogue_len; j++) {
			if (strcmp(rules_catalogue[j].id, spec_rules[i].id) != 0)
				continue;
			found++;
			ck_assert_msg(rules_catalogue[j].severity == spec_rules[i].severity,
				      "%s: severity %s, SPEC says %s", spec_rules[i].id,
				      severity_name(rules_catalogue[j].severity),
				      severity_name(spec_rules[i].severity));
		}
		ck_assert_msg(found == 1, "%s occurs %zu times", spec_rules[i].id, found);
	}
	/* and nothing the SPEC does not have */
	ck_assert_uint_eq(rules_catalogue_len, KPR_ARRAY_LEN(spec_rules));
}
END_TEST

START_TEST(sorted_for_binary_search)
{
	for (size_t i = 1; i < rules_catalogue_len; i++)
		ck_assert_msg(strcmp(rules_catalogue[i - 1].id, rules_catalogue[i].id) < 0,
			      "%s before %s", rules_catalogue[i - 1].id, rules_catalogue[i].id);
}
END_TEST

START_TEST(find)
{
	for (size_t i = 0; i < KPR_ARRAY_LEN(spec_rules); i++) {
		const struct rule_def *r = rules_find(spec_rules[i].id);
		ck_assert_msg(r != NULL, "%s not found", spec_rules[i].id);
		ck_assert_str_eq(r->id, spec_rules[i].id);
		ck_assert_int_eq(r->severity, spec_rules[i].severity);
	}
	for (size_t i = 0; i < rules_catalogue_len; i++)
		ck_assert_ptr_eq(rules_find(rules_catalogue[i].id), &rules_catalogue[i]);

	static const char *const unknown[] = {"",     "R999", "r101", "F00",  "F0011", "R1010",
					      "A000", "Z999", "R100", "F008", "R311",  " R101"};
	for (size_t i = 0; i < KPR_ARRAY_LEN(unknown); i++)
		ck_assert_ptr_null(rules_find(unknown[i]));
	ck_assert_ptr_null(rules_find(NULL));
}
END_TEST

/* The enum and the table come from one list (rules.def): every enum value
 * has its entry at its own index, the ids are unique, and the printable id
 * round-trips. */
START_TEST(enum_matches_catalogue)
{
	ck_assert_uint_eq(rules_catalogue_len, RULE_COUNT);
	for (int i = 0; i < RULE_COUNT; i++) {
		enum rule_id id = (enum rule_id)i;
		const struct rule_def *r = rules_get(id);
		ck_assert_ptr_eq(r, &rules_catalogue[i]);
		ck_assert_msg(r->id != NULL && r->title != NULL, "enum value %d has no entry", i);
		ck_assert_str_eq(rules_id_str(id), r->id);
		enum rule_id back = RULE_COUNT;
		ck_assert_msg(rules_id_parse(r->id, &back), "%s does not parse", r->id);
		ck_assert_int_eq(back, id);
		for (int j = 0; j < i; j++)
			ck_assert_msg(strcmp(rules_catalogue[j].id, r->id) != 0, "%s twice", r->id);
	}
	/* the enum names are the ids */
	ck_assert_str_eq(rules_id_str(RULE_F001), "F001");
	ck_assert_str_eq(rules_id_str(RULE_F007), "F007");
	ck_assert_str_eq(rules_id_str(RULE_R105), "R105");
	ck_assert_str_eq(rules_id_str(RULE_R405), "R405");
	ck_assert_int_eq(RULE_F001, 0);
	ck_assert_int_eq(RULE_R405, RULE_COUNT - 1);
	ck_assert_int_eq(rules_get(RULE_F007)->severity, SEV_WARNING);
	ck_assert_int_eq(rules_get(RULE_R103)->severity, SEV_ERROR);

	enum rule_id unchanged = RULE_R101;
	ck_assert(!rules_id_parse("R999", &unchanged));
	ck_assert(!rules_id_parse(NULL, &unchanged));
	ck_assert(!rules_id_parse("r101", &unchanged));
	ck_assert_int_eq(unchanged, RULE_R101);
}
END_TEST

/* Strict UTF-8 check, independent of the code under test. */
static bool utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80             ? 0
			: (*p & 0xe0) == 0xc0 ? 1
			: (*p & 0xf0) == 0xe0 ? 2
			: (*p & 0xf8) == 0xf0 ? 3
					      : -1;
		if (n < 0 || (n == 1 && *p < 0xc2))
			return false;
		p++;
		for (int k = 0; k < n; k++, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static bool has_11_digit_run(const char *s)
{
	int run = 0;
	for (; *s; s++) {
		run = (*s >= '0' && *s <= '9') ? run + 1 : 0;
		if (run >= 11)
			return true;
	}
	return false;
}

START_TEST(rule_texts)
{
	for (size_t i = 0; i < rules_catalogue_len; i++) {
		const struct rule_def *r = &rules_catalogue[i];
		const char *texts[] = {r->title, r->explanation, r->fix};
		for (size_t t = 0; t < 3; t++) {
			ck_assert_msg(texts[t] != NULL && texts[t][0] != '\0', "%s: empty text %zu",
				      r->id, t);
			ck_assert_msg(utf8_ok(texts[t]), "%s: text %zu not UTF-8", r->id, t);
			ck_assert_msg(strchr(texts[t], '\n') == NULL, "%s: newline", r->id);
			ck_assert_msg(strstr(texts[t], "TODO") == NULL, "%s: TODO", r->id);
			ck_assert_msg(strstr(texts[t], "  ") == NULL, "%s: double blank", r->id);
			/* an example national ID in a text would end up in every
			 * feedback file */
			ck_assert_msg(!has_11_digit_run(texts[t]), "%s: 11-digit number", r->id);
		}
		size_t tl = strlen(r->title);
		ck_assert_msg(tl <= 90, "%s: title too long", r->id);
		ck_assert_msg(r->title[tl - 1] != '.', "%s: title ends with '.'", r->id);
		ck_assert_msg(strchr(r->title, '|') == NULL, "%s: '|' in title", r->id);
		ck_assert_msg(r->explanation[strlen(r->explanation) - 1] == '.',
			      "%s: explanation must end with '.'", r->id);
		ck_assert_msg(r->fix[strlen(r->fix) - 1] == '.', "%s: fix must end with '.'",
			      r->id);
		ck_assert_msg(strlen(r->explanation) >= 80, "%s: explanation too thin", r->id);
		ck_assert_msg(strlen(r->fix) >= 60, "%s: fix too thin", r->id);
		ck_assert_int_ge(r->severity, SEV_FATAL);
		ck_assert_int_lt(r->severity, SEV_COUNT);
	}
}
END_TEST

START_TEST(severity_names)
{
	ck_assert_str_eq(severity_name(SEV_FATAL), "FATAL");
	ck_assert_str_eq(severity_name(SEV_ERROR), "ERROR");
	ck_assert_str_eq(severity_name(SEV_WARNING), "WARNING");
	ck_assert_str_eq(severity_name(SEV_INFO), "INFO");
	ck_assert_str_eq(severity_name_nb(SEV_FATAL), "Kritisk feil");
	ck_assert_str_eq(severity_name_nb(SEV_ERROR), "Feil");
	ck_assert_str_eq(severity_name_nb(SEV_WARNING), "Advarsel");
	ck_assert_str_eq(severity_name_nb(SEV_INFO), "Informasjon");
	/* out of range never crashes */
	ck_assert_ptr_nonnull(severity_name(SEV_COUNT));
	ck_assert_ptr_nonnull(severity_name_nb((enum severity)99));
	/* the enum order is the order of gravity */
	ck_assert_int_lt(SEV_FATAL, SEV_ERROR);
	ck_assert_int_lt(SEV_ERROR, SEV_WARNING);
	ck_assert_int_lt(SEV_WARNING, SEV_INFO);
}
END_TEST

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, cap);
			ck_assert_ptr_nonnull(nb);
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

START_TEST(docs_up_to_date)
{
	char *want = NULL;
	size_t want_len = 0;
	FILE *mem = open_memstream(&want, &want_len);
	ck_assert_ptr_nonnull(mem);
	rules_md_write(mem);
	ck_assert_int_eq(fclose(mem), 0);

	size_t have_len = 0;
	char *have = read_all(RULES_DOC, &have_len);
	ck_assert_msg(have != NULL, RULES_DOC " missing: run tools/gen-rules-md");

	size_t first_diff = 0;
	while (first_diff < have_len && first_diff < want_len &&
	       have[first_diff] == want[first_diff])
		first_diff++;
	size_t line = 1;
	for (size_t i = 0; i < first_diff; i++)
		line += want[i] == '\n';
	ck_assert_msg(have_len == want_len && first_diff == want_len,
		      RULES_DOC " differs from the rule catalogue from line %zu: "
				"run tools/gen-rules-md and commit the result",
		      line);

	/* the generated document names every rule with its Norwegian level */
	for (size_t i = 0; i < rules_catalogue_len; i++) {
		char heading[160];
		snprintf(heading, sizeof(heading), "### %s – %s\n", rules_catalogue[i].id,
			 rules_catalogue[i].title);
		ck_assert_msg(strstr(want, heading) != NULL, "%s heading", rules_catalogue[i].id);
	}
	free(have);
	free(want);
}
END_TEST

static Suite *rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("catalogue");
	tcase_add_test(tc, every_spec_rule_once_with_spec_severity);
	tcase_add_test(tc, sorted_for_binary_search);
	tcase_add_test(tc, find);
	tcase_add_test(tc, enum_matches_catalogue);
	tcase_add_test(tc, rule_texts);
	tcase_add_test(tc, severity_names);
	tcase_add_test(tc, docs_up_to_date);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(rules_suite)
