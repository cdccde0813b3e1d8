/*
 * check_codelist.c — the code-list loader and lookups, against the real
 * config/codelists.csv (tests run from the repo root) and against small
 * files written here to exercise validity boundaries and parse errors.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "codelist.h"

#define REAL_FILE "config/codelists.csv"

static struct codelist *real;

static void load_real(void)
{
	char err[512];
	real = codelist_load(REAL_FILE, err, sizeof(err));
	ck_assert_msg(real != NULL, "%s", err);
}

static void free_real(void)
{
	codelist_free(real);
	real = NULL;
}

/* Writes content to a fresh temp file; returns its path (caller unlinks). */
static char *temp_file(const char *content, size_t len)
{
	char *path = strdup("/tmp/check_codelist_XXXXXX");
	ck_assert_ptr_nonnull(path);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static struct codelist *load_string(const char *content, char *err, size_t errlen, char **path)
{
	*path = temp_file(content, strlen(content));
	return codelist_load(*path, err, errlen);
}

#define HDR "liste;kode;navn;gyldig_fra;gyldig_til;institusjon;forelder\n"

/* ---- the real file -------------------------------------------------- */

/* SPEC §2, Tjeneste/@type: the independent source for this test. */
static const struct {
	const char *code;
	const char *name;
	bool institution;
} spec_services[] = {
    {"1", "Praktisk bistand – daglige gjøremål", false},
    {"2", "Praktisk bistand – opplæring – daglige gjøremål", false},
    {"3", "Praktisk bistand – brukerstyrt personlig assistanse", false},
    {"4", "Dagaktivitetstilbud", false},
    {"5", "Matombringing", false},
    {"6", "Trygghetsalarm", false},
    {"7", "Avlastning utenfor institusjon", false},
    {"8", "Avlastning i institusjon", true},
    {"9", "Støttekontakt", false},
    {"11", "Omsorgsstønad", false},
    {"14", "Bruk av tvang psykisk utviklingshemning – planlagte tiltak", false},
    {"15", "Helsetjenester i hjemmet", false},
    {"17", "Dagopphold i institusjon", true},
    {"18", "Tidsbegrenset opphold – utredning/behandling", true},
    {"19", "Tidsbegrenset opphold – habilitering/rehabilitering", true},
    {"20", "Tidsbegrenset opphold – annet", true},
    {"21", "Langtidsopphold i institusjon", true},
    {"22", "Nattopphold i institusjon", true},
    {"23", "Bruk av tvang psykisk utviklingshemning – nødsituasjoner", false},
    {"24", "Helsehjelp med tvang", false},
    {"25", "Kommunal øyeblikkelig hjelp – døgnopphold", true},
    {"26", "Lokaliseringsteknologi (GPS)", false},
    {"27", "Elektronisk medisineringsstøtte", false},
    {"28", "Digitalt tilsyn", false},
    {"29", "Bolig som kommunen disponerer for helse- og omsorgsformål", false},
};

START_TEST(real_service_types)
{
	for (size_t i = 0; i < KPR_ARRAY_LEN(spec_services); i++) {
		const struct codelist_entry *e =
		    codelist_find(real, "tjenestetype", spec_services[i].code, 2025);
		ck_assert_msg(e != NULL, "tjenestetype %s missing for 2025", spec_services[i].code);
		ck_assert_str_eq(e->name, spec_services[i].name);
		ck_assert_msg(e->institution == spec_services[i].institution,
			      "tjenestetype %s institution flag", spec_services[i].code);
		ck_assert_str_eq(e->list, "tjenestetype");
		ck_assert_str_eq(e->code, spec_services[i].code);
	}
	/* nothing else is valid in 2025 */
	size_t valid_2025 = 0;
	for (size_t i = 0; i < codelist_count(real); i++) {
		const struct codelist_entry *e = codelist_at(real, i);
		if (strcmp(e->list, "tjenestetype") == 0 &&
		    codelist_find(real, "tjenestetype", e->code, 2025) == e)
			valid_2025++;
	}
	ck_assert_uint_eq(valid_2025, KPR_ARRAY_LEN(spec_services));

	static const char *const never[] = {"0", "12", "13", "16", "30", "01", "15 ", "", "99"};
	for (size_t i = 0; i < KPR_ARRAY_LEN(never); i++)
		ck_assert_ptr_null(codelist_find(real, "tjenestetype", never[i], 2025));
}
END_TEST

START_TEST(real_validity_periods)
{
	/* later additions */
	ck_assert_ptr_null(codelist_find(real, "tjenestetype", "26", 2020));
	ck_assert_ptr_nonnull(codelist_find(real, "tjenestetype", "26", 2021));
	ck_assert_ptr_null(codelist_find(real, "tjenestetype", "28", 2020));
	ck_assert_ptr_nonnull(codelist_find(real, "tjenestetype", "28", 2021));
	ck_assert_ptr_null(codelist_find(real, "tjenestetype", "29", 2022));
	ck_assert_ptr_nonnull(codelist_find(real, "tjenestetype", "29", 2023));
	ck_assert_ptr_null(codelist_find(real, "tjenestetype", "25", 2015));
	ck_assert_ptr_nonnull(codelist_find(real, "tjenestetype", "25", 2016));
	/* the retired code: valid until 30 June 2017, so in årgang 2017 but not 2018 */
	const struct codelist_entry *e = codelist_find(real, "tjenestetype", "10", 2017);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_lt(e->valid_to, 99991231);
	ck_assert_ptr_null(codelist_find(real, "tjenestetype", "10", 2018));
	ck_assert_ptr_null(codelist_find(real, "tjenestetype", "10", 2025));
	ck_assert_ptr_nonnull(codelist_find(real, "tjenestetype", "10", 2007));
	ck_assert_ptr_null(codelist_find(real, "tjenestetype", "1", 2006));
}
END_TEST

START_TEST(real_municipalities)
{
	size_t kommuner = 0, fylker = 0, new_numbers = 0;
	for (size_t i = 0; i < codelist_count(real); i++) {
		const struct codelist_entry *e = codelist_at(real, i);
		if (strcmp(e->list, "fylke") == 0) {
			fylker++;
			ck_assert_ptr_null(e->parent);
			ck_assert_uint_eq(strlen(e->code), 2);
		}
		if (strcmp(e->list, "kommune") != 0)
			continue;
		kommuner++;
		ck_assert_uint_eq(strlen(e->code), 4);
		/* every kommune names a fylke that exists, and its own first two
		 * digits are that fylke */
		ck_assert_ptr_nonnull(e->parent);
		ck_assert_ptr_nonnull(codelist_find(real, "fylke", e->parent, 2024));
		ck_assert_int_eq(strncmp(e->code, e->parent, 2), 0);
		ck_assert_ptr_eq(codelist_find(real, "kommune", e->code, 2024), e);
		ck_assert_ptr_eq(codelist_find(real, "kommune", e->code, 2025), e);
		/* the numbers of the 2024 splits begin in 2024, the others were
		 * there (at least) since the 2020 reform */
		static const char *const new_2024[] = {"31", "32", "33", "39", "40", "55", "56"};
		bool is_new = !strcmp(e->code, "1508") || !strcmp(e->code, "1580");
		for (size_t k = 0; k < KPR_ARRAY_LEN(new_2024); k++)
			is_new = is_new || !strncmp(e->code, new_2024[k], 2);
		if (is_new)
			ck_assert_ptr_null(codelist_find(real, "kommune", e->code, 2023));
		else
			ck_assert_ptr_eq(codelist_find(real, "kommune", e->code, 2023), e);
		ck_assert_ptr_null(codelist_find(real, "kommune", e->code, 2019));
		ck_assert_ptr_nonnull(
		    codelist_find(real, "fylke", e->parent, is_new ? 2024 : 2020));
		new_numbers += is_new;
	}
	ck_assert_uint_eq(new_numbers, 115);
	ck_assert_uint_eq(kommuner, 357);
	ck_assert_uint_eq(fylker, 15);

	const struct codelist_entry *oslo = codelist_find(real, "kommune", "0301", 2025);
	ck_assert_ptr_nonnull(oslo);
	ck_assert_str_eq(oslo->name, "Oslo");
	ck_assert_str_eq(oslo->parent, "03");
	const struct codelist_entry *baerum = codelist_find(real, "kommune", "3201", 2025);
	ck_assert_ptr_nonnull(baerum);
	ck_assert_str_eq(baerum->name, "Bærum");
	ck_assert_str_eq(codelist_find(real, "kommune", "5622", 2025)->name,
			 "Porsanger - Porsáŋgu - Porsanki");
	ck_assert_str_eq(codelist_find(real, "fylke", "46", 2025)->name, "Vestland");
	/* numbers that were valid before the 2024 county reform are gone */
	ck_assert_ptr_null(codelist_find(real, "kommune", "3024", 2025)); /* Bærum in Viken */
	ck_assert_ptr_null(codelist_find(real, "fylke", "30", 2025));
	ck_assert_ptr_null(codelist_find(real, "kommune", "301", 2025));
}
END_TEST

START_TEST(real_other_lists)
{
	for (int k = 1; k <= 17; k++) {
		char code[4];
		snprintf(code, sizeof(code), "%d", k);
		ck_assert_msg(codelist_find(real, "funksjon", code, 2025) != NULL, "funksjon %d",
			      k);
	}
	ck_assert_ptr_null(codelist_find(real, "funksjon", "0", 2025));
	ck_assert_ptr_null(codelist_find(real, "funksjon", "18", 2025));
	ck_assert_str_eq(codelist_find(real, "funksjon", "11", 2025)->name, "Toalett");
	ck_assert_str_eq(codelist_find(real, "funksjon", "8", 2025)->name, "På- og avkledning");

	static const char *const scores[] = {"1", "2", "3", "4", "5", "9"};
	for (size_t i = 0; i < KPR_ARRAY_LEN(scores); i++)
		ck_assert_ptr_nonnull(codelist_find(real, "skaar", scores[i], 2025));
	ck_assert_ptr_null(codelist_find(real, "skaar", "6", 2025));
	ck_assert_ptr_null(codelist_find(real, "skaar", "0", 2025));

	ck_assert_ptr_nonnull(codelist_find(real, "diagnosekodeverk", "ICD-10", 2025));
	ck_assert_ptr_nonnull(codelist_find(real, "diagnosekodeverk", "ICPC-2", 2025));
	ck_assert_ptr_null(codelist_find(real, "diagnosekodeverk", "ICD-11", 2025));
	ck_assert_ptr_null(codelist_find(real, "diagnosekodeverk", "icd-10", 2025));
}
END_TEST

START_TEST(unknown_and_null)
{
	ck_assert_ptr_null(codelist_find(real, "nosuchlist", "1", 2025));
	ck_assert_ptr_null(codelist_find(real, "tjenestetyp", "1", 2025));
	ck_assert_ptr_null(codelist_find(real, "tjenestetypex", "1", 2025));
	ck_assert_ptr_null(codelist_find(real, "", "", 2025));
	ck_assert_ptr_null(codelist_find(real, NULL, "1", 2025));
	ck_assert_ptr_null(codelist_find(real, "tjenestetype", NULL, 2025));
	ck_assert_ptr_null(codelist_find(NULL, "tjenestetype", "1", 2025));
	ck_assert_ptr_null(codelist_find(real, "tjenestetype", "1", 0));
	ck_assert_ptr_null(codelist_at(real, codelist_count(real)));
	ck_assert_ptr_null(codelist_at(NULL, 0));
	ck_assert_uint_eq(codelist_count(NULL), 0);
	codelist_free(NULL);
}
END_TEST

START_TEST(every_entry_findable)
{
	/* every entry is found by its own code in the years it covers, and the
	 * lookup agrees with a linear scan; also exercises ~1M lookups */
	size_t lookups = 0;
	for (int rep = 0; rep < 50; rep++) {
		for (size_t i = 0; i < codelist_count(real); i++) {
			const struct codelist_entry *e = codelist_at(real, i);
			for (int y = 2005; y <= 2030; y += 5) {
				bool covers = e->valid_from <= y * 10000 + 1231 &&
					      e->valid_to >= y * 10000 + 101;
				const struct codelist_entry *f =
				    codelist_find(real, e->list, e->code, y);
				if (covers)
					ck_assert_ptr_eq(f, e);
				lookups++;
			}
		}
	}
	ck_assert_uint_gt(lookups, 100000);
}
END_TEST

/* ---- validity boundaries -------------------------------------------- */

START_TEST(year_boundaries)
{
	char err[512], *path;
	struct codelist *cl = load_string(HDR "t;a;Siste dag i 2020;2020-12-31;;;\n"
					      "t;b;Fra nyttår 2021;2021-01-01;;;\n"
					      "t;c;Bare 1. januar 2021;2020-06-01;2021-01-01;;\n"
					      "t;d;Slutter 31.12.2020;2010-01-01;2020-12-31;;\n"
					      "t;e;Midt i 2022;2022-07-01;2022-07-31;;\n"
					      "t;f;Gammelt navn;2010-01-01;2022-06-30;1;\n"
					      "t;f;Nytt navn;2022-07-01;;0;\n",
					  err, sizeof(err), &path);
	ck_assert_msg(cl != NULL, "%s", err);
	ck_assert_uint_eq(codelist_count(cl), 7);

	ck_assert_ptr_null(codelist_find(cl, "t", "a", 2019));
	ck_assert_ptr_nonnull(codelist_find(cl, "t", "a", 2020));
	ck_assert_ptr_nonnull(codelist_find(cl, "t", "a", 2099));

	ck_assert_ptr_null(codelist_find(cl, "t", "b", 2020));
	ck_assert_ptr_nonnull(codelist_find(cl, "t", "b", 2021));

	ck_assert_ptr_null(codelist_find(cl, "t", "c", 2019));
	ck_assert_ptr_nonnull(codelist_find(cl, "t", "c", 2020));
	ck_assert_ptr_nonnull(codelist_find(cl, "t", "c", 2021));
	ck_assert_ptr_null(codelist_find(cl, "t", "c", 2022));

	ck_assert_ptr_nonnull(codelist_find(cl, "t", "d", 2010));
	ck_assert_ptr_nonnull(codelist_find(cl, "t", "d", 2020));
	ck_assert_ptr_null(codelist_find(cl, "t", "d", 2021));
	ck_assert_ptr_null(codelist_find(cl, "t", "d", 2009));

	ck_assert_ptr_null(codelist_find(cl, "t", "e", 2021));
	ck_assert_ptr_nonnull(codelist_find(cl, "t", "e", 2022));
	ck_assert_ptr_null(codelist_find(cl, "t", "e", 2023));

	/* a code renamed mid-year: both periods cover 2022; the later one wins */
	ck_assert_str_eq(codelist_find(cl, "t", "f", 2021)->name, "Gammelt navn");
	ck_assert(codelist_find(cl, "t", "f", 2021)->institution);
	ck_assert_str_eq(codelist_find(cl, "t", "f", 2022)->name, "Nytt navn");
	ck_assert_str_eq(codelist_find(cl, "t", "f", 2023)->name, "Nytt navn");
	ck_assert(!codelist_find(cl, "t", "f", 2023)->institution);
	ck_assert_ptr_null(codelist_find(cl, "t", "f", 2009));

	/* codelist_at keeps file order */
	ck_assert_str_eq(codelist_at(cl, 0)->code, "a");
	ck_assert_str_eq(codelist_at(cl, 6)->name, "Nytt navn");
	ck_assert_int_eq(codelist_at(cl, 3)->valid_to, 20201231);
	ck_assert_int_eq(codelist_at(cl, 0)->valid_to, 99991231);
	ck_assert_int_eq(codelist_at(cl, 0)->valid_from, 20201231);
	ck_assert_ptr_null(codelist_at(cl, 0)->parent);

	codelist_free(cl);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(line_endings_bom_six_columns)
{
	char err[512], *path;
	/* CRLF, a BOM, a blank line and no final newline */
	struct codelist *cl =
	    load_string("\xef\xbb\xbf"
			"liste;kode;navn;gyldig_fra;gyldig_til;institusjon\r\n"
			"tjenestetype;8;Avlastning i institusjon;2007-01-01;;1\r\n"
			"\r\n"
			"tjenestetype;9;Støttekontakt;2007-01-01;;0",
			err, sizeof(err), &path);
	ck_assert_msg(cl != NULL, "%s", err);
	ck_assert_uint_eq(codelist_count(cl), 2);
	const struct codelist_entry *e = codelist_find(cl, "tjenestetype", "8", 2025);
	ck_assert_ptr_nonnull(e);
	ck_assert(e->institution);
	ck_assert_ptr_null(e->parent);
	e = codelist_find(cl, "tjenestetype", "9", 2025);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->name, "Støttekontakt"); /* no trailing \r */
	codelist_free(cl);
	unlink(path);
	free(path);
}
END_TEST

/* ---- malformed files ------------------------------------------------ */

static const struct {
	const char *content;
	int line;         /* expected line in "file:line:" */
	const char *what; /* expected substring of the message */
} bad_files[] = {
    {"", 1, "empty"},
    {HDR, 1, "no entries"},
    {"liste;kode;navn\n", 1, "header"},
    {"liste,kode,navn,gyldig_fra,gyldig_til,institusjon\nt,1,x,2020-01-01,,\n", 1, "header"},
    {HDR "t;1;Navn;2020-01-01;;\n", 2, "expected 7"},
    {HDR "t;1;Navn;2020-01-01;;;;\n", 2, "found 8"},
    {HDR "t;1;A;2020-01-01;;;\nt;2;B;2020-13-01;;;\n", 3, "gyldig_fra"},
    {HDR "t;1;A;2021-02-29;;;\n", 2, "gyldig_fra"},
    {HDR "t;1;A;2020-1-01;;;\n", 2, "gyldig_fra"},
    {HDR "t;1;A;;;;\n", 2, "gyldig_fra"},
    {HDR "t;1;A;01.01.2020;;;\n", 2, "gyldig_fra"},
    {HDR "t;1;A;2020-01-01;2019-12-31;;\n", 2, "before"},
    {HDR "t;1;A;2020-01-01;2020-02-30;;\n", 2, "gyldig_til"},
    {HDR "t;1;A;2020-01-01;;2;\n", 2, "institusjon"},
    {HDR "t;1;A;2020-01-01;;ja;\n", 2, "institusjon"},
    {HDR "t;;A;2020-01-01;;;\n", 2, "kode"},
    {HDR "t;1 2;A;2020-01-01;;;\n", 2, "kode"},
    {HDR ";1;A;2020-01-01;;;\n", 2, "liste"},
    {HDR "Tjenestetype;1;A;2020-01-01;;;\n", 2, "liste"},
    {HDR "t;1;;2020-01-01;;;\n", 2, "navn"},
    {HDR "t;1;\"A\";2020-01-01;;;\n", 2, "quot"},
    {HDR "t;1;A ;2020-01-01;;;\n", 2, "blank"},
    {HDR "t; 1;A;2020-01-01;;;\n", 2, "blank"},
    {HDR "t;1;A\tB;2020-01-01;;;\n", 2, "control"},
    {HDR "t;1;A;2020-01-01;;;x y\n", 2, "forelder"},
    {HDR "t;1;A\rB;2020-01-01;;;\n", 2, "carriage"},
    {HDR "t;1;\xe6rlig;2020-01-01;;;\n", 2, "UTF-8"},     /* ISO-8859-1 æ */
    {HDR "t;1;\xc3\x28;2020-01-01;;;\n", 2, "UTF-8"},     /* broken sequence */
    {HDR "t;1;\xc0\xaf;2020-01-01;;;\n", 2, "UTF-8"},     /* overlong '/' */
    {HDR "t;1;\xed\xa0\x80;2020-01-01;;;\n", 2, "UTF-8"}, /* surrogate */
    {HDR "t;1;A;2020-01-01;;;\nt;1;B;2020-06-01;;;\n", 3, "line 2"},
    {HDR "t;1;A;2020-01-01;2020-12-31;;\nx;9;X;2020-01-01;;;\nt;1;B;2020-12-31;;;\n", 4,
     "overlapping"},
};

START_TEST(malformed)
{
	for (size_t i = 0; i < KPR_ARRAY_LEN(bad_files); i++) {
		char err[512], *path;
		memset(err, 0, sizeof(err));
		struct codelist *cl = load_string(bad_files[i].content, err, sizeof(err), &path);
		ck_assert_msg(cl == NULL, "case %zu loaded", i);
		char want[128];
		snprintf(want, sizeof(want), "%s:%d: ", path, bad_files[i].line);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
			      "case %zu: '%s' does not start with '%s'", i, err, want);
		ck_assert_msg(strstr(err, bad_files[i].what) != NULL, "case %zu: '%s' lacks '%s'",
			      i, err, bad_files[i].what);
		unlink(path);
		free(path);
	}
}
END_TEST

START_TEST(nul_byte_and_missing_file)
{
	char err[512];
	static const char content[] = HDR "t;1;A\0B;2020-01-01;;;\n";
	char *path = temp_file(content, sizeof(content) - 1);
	ck_assert_ptr_null(codelist_load(path, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, ":2: NUL"));
	unlink(path);
	free(path);

	ck_assert_ptr_null(codelist_load("/nonexistent/codelists.csv", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/codelists.csv:"));

	/* a tiny error buffer is truncated, never overrun */
	char tiny[8];
	ck_assert_ptr_null(codelist_load("/nonexistent/codelists.csv", tiny, sizeof(tiny)));
	ck_assert_uint_lt(strlen(tiny), sizeof(tiny));
	ck_assert_ptr_null(codelist_load("/nonexistent/codelists.csv", NULL, 0));
}
END_TEST

static Suite *codelist_suite(void)
{
	Suite *s = suite_create("codelist");
	TCase *tc = tcase_create("real");
	tcase_add_checked_fixture(tc, load_real, free_real);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, real_service_types);
	tcase_add_test(tc, real_validity_periods);
	tcase_add_test(tc, real_municipalities);
	tcase_add_test(tc, real_other_lists);
	tcase_add_test(tc, unknown_and_null);
	tcase_add_test(tc, every_entry_findable);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, year_boundaries);
	tcase_add_test(tc, line_endings_bom_six_columns);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, nul_byte_and_missing_file);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(codelist_suite)
