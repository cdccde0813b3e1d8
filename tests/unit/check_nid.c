/*
 * check_nid.c — national ID and organisation number checks (SPEC R101–R104,
 * R307). Every ID used here is constructed in the test from a date and an
 * individual number, with its control digits computed, so no real person's
 * number appears in the source. Failure messages print only masked values.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "nid.h"

static const struct nid_options opt_plain = {.test_mode = false, .allow_2032 = false};
static const struct nid_options opt_2032 = {.test_mode = false, .allow_2032 = true};
static const struct nid_options opt_test = {.test_mode = true, .allow_2032 = true};

/* Independent control-digit arithmetic (SPEC R103), written out again so the
 * tests do not only check nid.c against itself. Returns -1 for "10". */
static int ref_k1(const char *d)
{
	int s = 3 * (d[0] - '0') + 7 * (d[1] - '0') + 6 * (d[2] - '0') + 1 * (d[3] - '0') +
		8 * (d[4] - '0') + 9 * (d[5] - '0') + 4 * (d[6] - '0') + 5 * (d[7] - '0') +
		2 * (d[8] - '0');
	int k = (11 - s % 11) % 11;
	return k == 10 ? -1 : k;
}

static int ref_k2(const char *d)
{
	int s = 5 * (d[0] - '0') + 4 * (d[1] - '0') + 3 * (d[2] - '0') + 2 * (d[3] - '0') +
		7 * (d[4] - '0') + 6 * (d[5] - '0') + 5 * (d[6] - '0') + 4 * (d[7] - '0') +
		3 * (d[8] - '0') + 2 * (d[9] - '0');
	int k = (11 - s % 11) % 11;
	return k == 10 ? -1 : k;
}

static int ref_2032_remainder(const char *d)
{
	int s = 3 * (d[0] - '0') + 7 * (d[1] - '0') + 6 * (d[2] - '0') + 1 * (d[3] - '0') +
		8 * (d[4] - '0') + 9 * (d[5] - '0') + 4 * (d[6] - '0') + 5 * (d[7] - '0') +
		2 * (d[8] - '0') + 1 * (d[9] - '0');
	return s % 11;
}

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

static void put_prefix(char out[12], int dd, int mm, int yy, int individual)
{
	put2(out, dd);
	put2(out + 2, mm);
	put2(out + 4, yy);
	out[6] = (char)('0' + individual / 100);
	put2(out + 7, individual % 100);
	out[11] = '\0';
}

/* Builds a classic ID from the raw (already encoded) day and month fields.
 * Returns false when no control digits exist for this individual number. */
static bool make_id(char out[12], int dd, int mm, int yy, int individual)
{
	put_prefix(out, dd, mm, yy, individual);
	return nid_control_digits(out, out + 9);
}

/* The first individual number in [lo, hi] that yields valid control digits. */
static void make_id_in(char out[12], int dd, int mm, int yy, int lo, int hi)
{
	for (int i = lo; i <= hi; i++)
		if (make_id(out, dd, mm, yy, i))
			return;
	ck_abort_msg("no valid individual number in %d..%d", lo, hi);
}

/* Builds a number valid only under the 2032 rule (k1 remainder `rem`, 1..3,
 * or 4..10 for one that is invalid under either rule). */
static bool make_2032_id(char out[12], int dd, int mm, int yy, int individual, int rem)
{
	put_prefix(out, dd, mm, yy, individual);
	for (int k1 = 0; k1 <= 9; k1++) {
		out[9] = (char)('0' + k1);
		if (ref_2032_remainder(out) != rem)
			continue;
		int k2 = ref_k2(out);
		if (k2 < 0)
			return false;
		out[10] = (char)('0' + k2);
		return true;
	}
	return false;
}

static enum nid_status check(const char *id, const struct nid_options *o, struct nid_info *info)
{
	return nid_check(id, strlen(id), o, info);
}

#define ASSERT_STATUS(id, o, want)                                                     \
	do {                                                                           \
		char m_[12];                                                           \
		nid_mask((id), strlen(id), m_);                                        \
		enum nid_status got_ = check((id), (o), NULL);                         \
		ck_assert_msg(got_ == (want), "%s: status %d, want %d", m_, (int)got_, \
			      (int)(want));                                            \
	} while (0)

/* ---- R101 / R102 ---------------------------------------------------- */

START_TEST(missing)
{
	ck_assert_int_eq(nid_check("", 0, &opt_plain, NULL), NID_MISSING);
	ck_assert_int_eq(nid_check(NULL, 0, &opt_plain, NULL), NID_MISSING);
	ck_assert_int_eq(nid_check("01017012345", 0, &opt_plain, NULL), NID_MISSING);
}
END_TEST

START_TEST(not_11_digits)
{
	char id[12];
	make_id_in(id, 1, 1, 70, 100, 499);
	ASSERT_STATUS(id, &opt_plain, NID_OK);

	/* wrong lengths: every length 1..20 except 11 */
	char buf[32];
	for (size_t len = 1; len <= 20; len++) {
		if (len == 11)
			continue;
		memset(buf, '1', sizeof(buf));
		memcpy(buf, id, len < 11 ? len : 11);
		ck_assert_int_eq(nid_check(buf, len, &opt_plain, NULL), NID_NOT_11_DIGITS);
	}

	/* one non-digit anywhere */
	const char bad[] = {'a', ' ', '-', '.', '/', '+', '\0', '\t', (char)0xc3};
	for (size_t pos = 0; pos < 11; pos++) {
		for (size_t b = 0; b < sizeof(bad); b++) {
			memcpy(buf, id, 11);
			buf[pos] = bad[b];
			ck_assert_int_eq(nid_check(buf, 11, &opt_test, NULL), NID_NOT_11_DIGITS);
		}
	}

	/* formatted and padded variants users type */
	ck_assert_int_eq(nid_check("010170 12345", 12, &opt_plain, NULL), NID_NOT_11_DIGITS);
	ck_assert_int_eq(nid_check("010170-12345", 12, &opt_plain, NULL), NID_NOT_11_DIGITS);
	ck_assert_int_eq(nid_check("１２３４５６７８９０１", 33, &opt_plain, NULL),
			 NID_NOT_11_DIGITS);
}
END_TEST

/* ---- R103 ----------------------------------------------------------- */

START_TEST(placeholders)
{
	char id[12];
	for (char d = '0'; d <= '9'; d++) {
		memset(id, d, 11);
		id[11] = '\0';
		ASSERT_STATUS(id, &opt_plain, NID_BAD_CHECKSUM);
		ASSERT_STATUS(id, &opt_test, NID_BAD_CHECKSUM);
		ck_assert(!nid_has_candidate(id, 11, &opt_test));
		ck_assert(!nid_has_candidate(id, 11, &opt_plain));
	}
}
END_TEST

START_TEST(control_digits_match_reference)
{
	/* Every individual number for a sample of dates: nid_control_digits agrees
	 * with the independent arithmetic, including the "10 -> no number" case. */
	static const int dates[][3] = {{1, 1, 70},  {29, 2, 0},   {31, 12, 99},
				       {41, 5, 85}, {15, 45, 60}, {12, 88, 22}};
	int valid = 0, invalid = 0;
	for (size_t t = 0; t < KPR_ARRAY_LEN(dates); t++) {
		for (int ind = 0; ind <= 999; ind++) {
			char d[12];
			put_prefix(d, dates[t][0], dates[t][1], dates[t][2], ind);
			char k[2];
			bool ok = nid_control_digits(d, k);
			int k1 = ref_k1(d);
			if (k1 < 0) {
				ck_assert(!ok);
				invalid++;
				continue;
			}
			d[9] = (char)('0' + k1);
			int k2 = ref_k2(d);
			if (k2 < 0) {
				ck_assert(!ok);
				invalid++;
				continue;
			}
			ck_assert(ok);
			ck_assert_int_eq(k[0], '0' + k1);
			ck_assert_int_eq(k[1], '0' + k2);
			valid++;
		}
	}
	/* roughly 9/11 * 10/11 of all prefixes have a number */
	ck_assert_int_gt(valid, 4000);
	ck_assert_int_gt(invalid, 500);

	char k[2];
	ck_assert(!nid_control_digits("01017012a", k));
	ck_assert(!nid_control_digits("0101701 3", k));
}
END_TEST

START_TEST(every_single_digit_error_detected)
{
	/* Mod-11 with non-zero weights catches every single substituted digit,
	 * and k2 covers d1..d10, so this holds under the 2032 rule too. */
	static const int dates[][4] = {
	    {1, 1, 70, 123}, {24, 12, 5, 612}, {47, 3, 88, 400}, {9, 51, 35, 950}};
	for (size_t t = 0; t < KPR_ARRAY_LEN(dates); t++) {
		char id[12];
		make_id_in(id, dates[t][0], dates[t][1], dates[t][2], dates[t][3], 999);
		ASSERT_STATUS(id, &opt_plain, NID_OK);
		for (int pos = 0; pos < 11; pos++) {
			for (char c = '0'; c <= '9'; c++) {
				char bad[12];
				memcpy(bad, id, 12);
				if (bad[pos] == c)
					continue;
				bad[pos] = c;
				ASSERT_STATUS(bad, &opt_plain, NID_BAD_CHECKSUM);
				ASSERT_STATUS(bad, &opt_test, NID_BAD_CHECKSUM);
				ck_assert(!nid_has_candidate(bad, 11, &opt_test));
			}
		}
	}
}
END_TEST

START_TEST(checksum_before_date)
{
	/* R103 is checked before R104: a bad date with bad control digits is a
	 * checksum error, and so is a synthetic number outside test mode. */
	char id[12];
	make_id_in(id, 31, 2, 70, 100, 499); /* 31 February */
	ASSERT_STATUS(id, &opt_plain, NID_BAD_DATE);
	id[10] = id[10] == '9' ? '0' : (char)(id[10] + 1);
	ASSERT_STATUS(id, &opt_plain, NID_BAD_CHECKSUM);

	make_id_in(id, 1, 81, 90, 100, 499);
	ASSERT_STATUS(id, &opt_plain, NID_BAD_DATE);
	id[10] = id[10] == '9' ? '0' : (char)(id[10] + 1);
	ASSERT_STATUS(id, &opt_plain, NID_BAD_CHECKSUM);
	ASSERT_STATUS(id, &opt_test, NID_BAD_CHECKSUM);
}
END_TEST

START_TEST(rule_2032)
{
	int accepted = 0;
	for (int rem = 1; rem <= 3; rem++) {
		for (int ind = 100; ind <= 499; ind++) {
			char id[12];
			if (!make_2032_id(id, 17, 5, 32, ind, rem))
				continue;
			/* not classic: k1 differs from the classic digit */
			ck_assert(ref_k1(id) < 0 || id[9] != '0' + ref_k1(id));
			ASSERT_STATUS(id, &opt_plain, NID_BAD_CHECKSUM);
			ASSERT_STATUS(id, &opt_2032, NID_OK);
			struct nid_info info;
			ck_assert_int_eq(check(id, &opt_2032, &info), NID_OK);
			ck_assert(info.rule_2032);
			ck_assert_int_eq(info.kind, NID_KIND_FNR);
			ck_assert_int_eq(info.birth_year, 1932);
			ck_assert(nid_has_candidate(id, 11, &opt_2032));
			ck_assert(!nid_has_candidate(id, 11, &opt_plain));
			accepted++;
		}
	}
	ck_assert_int_gt(accepted, 500);

	/* remainders 4..10 are invalid under either rule */
	int rejected = 0;
	for (int rem = 4; rem <= 10; rem++) {
		for (int ind = 100; ind <= 199; ind++) {
			char id[12];
			if (!make_2032_id(id, 17, 5, 32, ind, rem))
				continue;
			ASSERT_STATUS(id, &opt_2032, NID_BAD_CHECKSUM);
			ck_assert(!nid_has_candidate(id, 11, &opt_test));
			rejected++;
		}
	}
	ck_assert_int_gt(rejected, 300);

	/* a classic number is classic under either setting */
	char id[12];
	make_id_in(id, 17, 5, 32, 100, 499);
	struct nid_info info;
	ck_assert_int_eq(check(id, &opt_2032, &info), NID_OK);
	ck_assert(!info.rule_2032);
	ck_assert_int_eq(check(id, &opt_plain, &info), NID_OK);
	ck_assert(!info.rule_2032);

	/* 2032-rule D-, H- and synthetic numbers decode like classic ones */
	ck_assert(make_2032_id(id, 41, 1, 30, 555, 1) || make_2032_id(id, 41, 1, 30, 556, 1));
	ck_assert_int_eq(check(id, &opt_2032, &info), NID_OK);
	ck_assert_int_eq(info.kind, NID_KIND_DNR);
	ck_assert_int_eq(info.birth_year, 2030);
}
END_TEST

/* ---- R104: kinds ---------------------------------------------------- */

START_TEST(kind_fnr)
{
	char id[12];
	struct nid_info info;
	make_id_in(id, 1, 1, 70, 100, 499);
	ck_assert_int_eq(check(id, &opt_plain, &info), NID_OK);
	ck_assert_int_eq(info.kind, NID_KIND_FNR);
	ck_assert_int_eq(info.birth_year, 1970);
	ck_assert_int_eq(info.birth_month, 1);
	ck_assert_int_eq(info.birth_day, 1);
	ck_assert(!info.rule_2032);
	ck_assert(nid_has_candidate(id, 11, &opt_plain));

	make_id_in(id, 31, 12, 99, 0, 499);
	ck_assert_int_eq(check(id, &opt_plain, &info), NID_OK);
	ck_assert_int_eq(info.birth_day, 31);
	ck_assert_int_eq(info.birth_month, 12);
	ck_assert_int_eq(info.birth_year, 1999);

	/* a NULL options pointer means: no test mode, no 2032 rule */
	ck_assert_int_eq(check(id, NULL, NULL), NID_OK);
}
END_TEST

START_TEST(kind_dnr)
{
	char id[12];
	struct nid_info info;
	for (int day = 1; day <= 31; day++) {
		make_id_in(id, day + 40, 1, 85, 0, 499);
		ck_assert_int_eq(check(id, &opt_plain, &info), NID_OK);
		ck_assert_int_eq(info.kind, NID_KIND_DNR);
		ck_assert_int_eq(info.birth_day, day);
		ck_assert_int_eq(info.birth_month, 1);
		ck_assert_int_eq(info.birth_year, 1985);
	}
	make_id_in(id, 72, 1, 85, 0, 499); /* day 32 */
	ASSERT_STATUS(id, &opt_test, NID_BAD_DATE);
	make_id_in(id, 71, 4, 85, 0, 499); /* 31 April */
	ASSERT_STATUS(id, &opt_test, NID_BAD_DATE);
	make_id_in(id, 69, 2, 84, 0, 499); /* 29 Feb 1984 */
	ASSERT_STATUS(id, &opt_plain, NID_OK);
	make_id_in(id, 69, 2, 85, 0, 499); /* 29 Feb 1985 */
	ASSERT_STATUS(id, &opt_plain, NID_BAD_DATE);
}
END_TEST

START_TEST(kind_hnr)
{
	char id[12];
	struct nid_info info;
	for (int month = 1; month <= 12; month++) {
		make_id_in(id, 28, month + 40, 60, 0, 499);
		ck_assert_int_eq(check(id, &opt_plain, &info), NID_OK);
		ck_assert_int_eq(info.kind, NID_KIND_HNR);
		ck_assert_int_eq(info.birth_month, month);
		ck_assert_int_eq(info.birth_day, 28);
		ck_assert_int_eq(info.birth_year, 1960);
	}
	make_id_in(id, 1, 53, 60, 0, 499);
	ASSERT_STATUS(id, &opt_test, NID_BAD_DATE);
	make_id_in(id, 31, 46, 60, 0, 499); /* 31 June */
	ASSERT_STATUS(id, &opt_test, NID_BAD_DATE);
}
END_TEST

START_TEST(d_and_h_together_invalid)
{
	/* Decision (documented in nid.c): no number carries both markers. */
	char id[12];
	for (int month = 41; month <= 52; month++) {
		make_id_in(id, 45, month, 70, 0, 499);
		ASSERT_STATUS(id, &opt_plain, NID_BAD_DATE);
		ASSERT_STATUS(id, &opt_test, NID_BAD_DATE);
		/* control digits are fine, the date is not: no candidate */
		ck_assert(!nid_has_candidate(id, 11, &opt_test));
	}
}
END_TEST

START_TEST(synthetic_only_in_test_mode)
{
	char id[12];
	struct nid_info info;
	for (int month = 1; month <= 12; month++) {
		make_id_in(id, 15, month + 80, 91, 0, 499);
		ASSERT_STATUS(id, &opt_plain, NID_BAD_DATE);
		ASSERT_STATUS(id, &opt_2032, NID_BAD_DATE);
		ck_assert_int_eq(check(id, &opt_test, &info), NID_OK);
		ck_assert_int_eq(info.kind, NID_KIND_SYNTHETIC);
		ck_assert_int_eq(info.birth_month, month);
		ck_assert_int_eq(info.birth_day, 15);
		ck_assert_int_eq(info.birth_year, 1991);
	}
	/* synthetic D-number (day + 40, month + 80): synthetic, test mode only */
	make_id_in(id, 55, 83, 5, 500, 999);
	ASSERT_STATUS(id, &opt_plain, NID_BAD_DATE);
	ck_assert_int_eq(check(id, &opt_test, &info), NID_OK);
	ck_assert_int_eq(info.kind, NID_KIND_SYNTHETIC);
	ck_assert_int_eq(info.birth_day, 15);
	ck_assert_int_eq(info.birth_month, 3);
	ck_assert_int_eq(info.birth_year, 2005);

	/* synthetic dates are still real dates */
	make_id_in(id, 30, 82, 91, 0, 499);
	ASSERT_STATUS(id, &opt_test, NID_BAD_DATE);
	make_id_in(id, 1, 93, 91, 0, 499);
	ASSERT_STATUS(id, &opt_test, NID_BAD_DATE);
	make_id_in(id, 29, 82, 0, 500, 999); /* 29 Feb 2000 */
	ASSERT_STATUS(id, &opt_test, NID_OK);
}
END_TEST

START_TEST(impossible_months_and_days)
{
	char id[12];
	/* months that decode to nothing: 0, 13..40, 53..80, 93..99 */
	for (int mm = 0; mm <= 99; mm++) {
		bool real =
		    (mm >= 1 && mm <= 12) || (mm >= 41 && mm <= 52) || (mm >= 81 && mm <= 92);
		make_id_in(id, 10, mm, 70, 0, 499);
		ASSERT_STATUS(id, &opt_test, real ? NID_OK : NID_BAD_DATE);
	}
	/* days: 0, 32..40, 72..99 never decode */
	for (int dd = 0; dd <= 99; dd++) {
		bool real = (dd >= 1 && dd <= 31) || (dd >= 41 && dd <= 71);
		make_id_in(id, dd, 1, 70, 0, 499);
		ASSERT_STATUS(id, &opt_test, real ? NID_OK : NID_BAD_DATE);
	}
}
END_TEST

START_TEST(days_per_month)
{
	static const int days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	char id[12];
	for (int mm = 1; mm <= 12; mm++) {
		make_id_in(id, days[mm], mm, 75, 0, 499); /* 1975: not a leap year */
		ASSERT_STATUS(id, &opt_plain, NID_OK);
		make_id_in(id, days[mm] + 1, mm, 75, 0, 499);
		ASSERT_STATUS(id, &opt_plain, NID_BAD_DATE);
	}
}
END_TEST

START_TEST(leap_years)
{
	char id[12];
	struct {
		int yy, lo, hi; /* individual range selecting the century */
		bool leap;
	} cases[] = {
	    {0, 0, 499, false},                          /* 1900: divisible by 100, not by 400 */
	    {0, 500, 999, true},                         /* 2000: divisible by 400 */
	    {96, 0, 499, true},                          /* 1996 */
	    {97, 0, 499, false},                         /* 1997 */
	    {24, 500, 999, true},                        /* 2024 */
	    {23, 500, 999, false}, {56, 500, 749, true}, /* 1856 */
	    {57, 500, 749, false}, {64, 900, 999, true}, /* 1964 via the 900-series */
	    {4, 0, 499, true},                           /* 1904 */
	};
	for (size_t i = 0; i < KPR_ARRAY_LEN(cases); i++) {
		make_id_in(id, 29, 2, cases[i].yy, cases[i].lo, cases[i].hi);
		ASSERT_STATUS(id, &opt_plain, cases[i].leap ? NID_OK : NID_BAD_DATE);
		make_id_in(id, 69, 2, cases[i].yy, cases[i].lo, cases[i].hi); /* D-number */
		ASSERT_STATUS(id, &opt_plain, cases[i].leap ? NID_OK : NID_BAD_DATE);
		make_id_in(id, 29, 42, cases[i].yy, cases[i].lo, cases[i].hi); /* H-number */
		ASSERT_STATUS(id, &opt_plain, cases[i].leap ? NID_OK : NID_BAD_DATE);
		make_id_in(id, 28, 2, cases[i].yy, cases[i].lo, cases[i].hi);
		ASSERT_STATUS(id, &opt_plain, NID_OK);
	}
}
END_TEST

/* ---- R104: century -------------------------------------------------- */

/* SPEC R104 as a table, the independent source for the exhaustive test. */
static int spec_century(int ind, int yy)
{
	static const struct {
		int ind_lo, ind_hi, yy_lo, yy_hi, century;
	} table[] = {
	    {0, 499, 0, 99, 1900},
	    {500, 749, 54, 99, 1800},
	    {500, 999, 0, 39, 2000},
	    {900, 999, 40, 99, 1900},
	};
	for (size_t i = 0; i < KPR_ARRAY_LEN(table); i++)
		if (ind >= table[i].ind_lo && ind <= table[i].ind_hi && yy >= table[i].yy_lo &&
		    yy <= table[i].yy_hi)
			return table[i].century;
	return 0;
}

START_TEST(century_exhaustive)
{
	int checked = 0, bad = 0;
	for (int ind = 0; ind <= 999; ind++) {
		for (int yy = 0; yy <= 99; yy++) {
			char id[12];
			if (!make_id(id, 1, 1, yy, ind))
				continue;
			struct nid_info info;
			enum nid_status st = check(id, &opt_plain, &info);
			int century = spec_century(ind, yy);
			if (century == 0) {
				ck_assert_msg(st == NID_BAD_DATE, "ind %d yy %d: %d", ind, yy, st);
				bad++;
			} else {
				ck_assert_msg(st == NID_OK, "ind %d yy %d: %d", ind, yy, st);
				ck_assert_int_eq(info.birth_year, century + yy);
			}
			checked++;
		}
	}
	ck_assert_int_gt(checked, 70000);
	ck_assert_int_gt(bad, 5000);
}
END_TEST

static int year_of(int dd, int mm, int yy, int ind)
{
	char id[12];
	/* try neighbouring individual numbers in the same band */
	for (int i = ind; i <= 999 && i < ind + 20; i++) {
		if (make_id(id, dd, mm, yy, i)) {
			struct nid_info info;
			if (check(id, &opt_plain, &info) != NID_OK)
				return 0;
			return info.birth_year;
		}
	}
	ck_abort_msg("no number near %d", ind);
	return -1;
}

/* year_of but searching downward, for band upper edges */
static int year_of_down(int dd, int mm, int yy, int ind)
{
	char id[12];
	for (int i = ind; i >= 0 && i > ind - 20; i--) {
		if (make_id(id, dd, mm, yy, i)) {
			struct nid_info info;
			if (check(id, &opt_plain, &info) != NID_OK)
				return 0;
			return info.birth_year;
		}
	}
	ck_abort_msg("no number near %d", ind);
	return -1;
}

START_TEST(century_boundaries)
{
	/* 000-499: 1900s for every year */
	ck_assert_int_eq(year_of(1, 1, 0, 0), 1900);
	ck_assert_int_eq(year_of_down(1, 1, 99, 499), 1999);
	ck_assert_int_eq(year_of_down(1, 1, 39, 499), 1939);
	/* 500-749: 1800s from 54, 2000s up to 39, nothing 40-53 */
	ck_assert_int_eq(year_of(1, 1, 54, 500), 1854);
	ck_assert_int_eq(year_of_down(1, 1, 99, 749), 1899);
	ck_assert_int_eq(year_of(1, 1, 53, 500), 0);
	ck_assert_int_eq(year_of(1, 1, 40, 500), 0);
	ck_assert_int_eq(year_of(1, 1, 39, 500), 2039);
	ck_assert_int_eq(year_of(1, 1, 0, 500), 2000);
	/* 750-899: 2000s up to 39, nothing from 40 */
	ck_assert_int_eq(year_of(1, 1, 54, 750), 0);
	ck_assert_int_eq(year_of(1, 1, 39, 750), 2039);
	ck_assert_int_eq(year_of(1, 1, 40, 750), 0);
	ck_assert_int_eq(year_of_down(1, 1, 99, 899), 0);
	ck_assert_int_eq(year_of_down(1, 1, 39, 899), 2039);
	/* 900-999: 2000s up to 39, 1900s from 40 */
	ck_assert_int_eq(year_of(1, 1, 39, 900), 2039);
	ck_assert_int_eq(year_of(1, 1, 40, 900), 1940);
	ck_assert_int_eq(year_of_down(1, 1, 99, 999), 1999);
	ck_assert_int_eq(year_of_down(1, 1, 0, 999), 2000);
}
END_TEST

/* ---- candidates in free text (SPEC §3, the masking rule) ------------ */

/* Independent oracle for the masking rule: every 11-digit window and every
 * 6 + separator + 5 window is judged by nid_check() alone, written without
 * nid.c's scanner. Returns the masked copy in out. */
static size_t oracle_mask(const char *s, const struct nid_options *o, char *out)
{
	size_t n = strlen(s), found = 0;
	memcpy(out, s, n + 1);
	for (size_t i = 0; i + 11 <= n; i++) {
		bool all = true;
		for (size_t k = 0; k < 11; k++)
			all = all && s[i + k] >= '0' && s[i + k] <= '9';
		if (all && nid_check(s + i, 11, o, NULL) == NID_OK) {
			found++;
			memset(out + i + 6, '*', 5);
		}
	}
	for (size_t i = 0; i + 12 <= n; i++) {
		char d[11];
		bool ok = s[i + 6] == ' ' || s[i + 6] == '-' || s[i + 6] == '.';
		for (size_t k = 0; ok && k < 12; k++)
			ok = k == 6 || (s[i + k] >= '0' && s[i + k] <= '9');
		if (!ok)
			continue;
		memcpy(d, s + i, 6);
		memcpy(d + 6, s + i + 7, 5);
		if (nid_check(d, 11, o, NULL) == NID_OK) {
			found++;
			memset(out + i + 7, '*', 5);
		}
	}
	return found;
}

static void assert_masked(const char *in, const struct nid_options *o, const char *want)
{
	char out[256];
	size_t n = nid_mask_text(in, strlen(in), o, out, sizeof out);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(n > 0, nid_has_candidate(in, strlen(in), o));
	ck_assert_int_eq(n > 0, strcmp(in, want) != 0);
}

START_TEST(candidates_in_text)
{
	char id[12], in[128], want[128];
	make_id_in(id, 1, 1, 70, 100, 499);
	/* real-world refs that are not IDs are shown exactly as written */
	const char *plain[] = {"1101-0000001",
			       "2024/123456-01",
			       "2024/123457-01",
			       "J 2025/17",
			       "0301-0000123",
			       "æøå-Åse 12",
			       "123456789012",
			       "",
			       "3f1c0d2e-8a4b-4f7e-9a51-2b6c9e0f1a22"};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		char o[256];
		oracle_mask(plain[i], &opt_test, o);
		assert_masked(plain[i], &opt_test, o);
	}
	assert_masked("1101-0000001", &opt_test, "1101-0000001");
	assert_masked("2024/123456-01", &opt_test, "2024/123456-01");
	/* the ID alone, inside text, inside a longer run, and with a separator */
	snprintf(in, sizeof in, "%s", id);
	assert_masked(in, &opt_plain, "010170*****");
	snprintf(in, sizeof in, "J-%s-x", id);
	snprintf(want, sizeof want, "J-%.6s*****-x", id);
	assert_masked(in, &opt_plain, want);
	snprintf(in, sizeof in, "9%s9", id);
	snprintf(want, sizeof want, "9%.6s*****9", id);
	assert_masked(in, &opt_plain, want);
	for (const char *sep = " -."; *sep; sep++) {
		snprintf(in, sizeof in, "ref %.6s%c%s", id, *sep, id + 6);
		snprintf(want, sizeof want, "ref %.6s%c*****", id, *sep);
		assert_masked(in, &opt_plain, want);
	}
	/* two separators, or a slash, is not the 6 + 5 shape */
	snprintf(in, sizeof in, "%.6s--%s", id, id + 6);
	assert_masked(in, &opt_plain, in);
	snprintf(in, sizeof in, "%.6s/%s", id, id + 6);
	assert_masked(in, &opt_plain, in);
	/* a wrong control digit is not a candidate */
	snprintf(in, sizeof in, "%s", id);
	in[10] = in[10] == '9' ? '0' : (char)(in[10] + 1);
	assert_masked(in, &opt_test, in);
	/* synthetic numbers (month + 80) are candidates only in test mode */
	make_id_in(id, 1, 81, 90, 100, 499);
	assert_masked(id, &opt_plain, id);
	snprintf(want, sizeof want, "%.6s*****", id);
	assert_masked(id, &opt_test, want);
	/* idempotent, and a cut output never shows a digit a longer one hides */
	make_id_in(id, 1, 1, 70, 100, 499);
	snprintf(in, sizeof in, "abc %s def", id);
	char once[64], twice[64], cut[9];
	(void)nid_mask_text(in, strlen(in), &opt_plain, once, sizeof once);
	ck_assert_uint_eq(nid_mask_text(once, strlen(once), &opt_plain, twice, sizeof twice), 0);
	ck_assert_str_eq(once, twice);
	(void)nid_mask_text(in, strlen(in), &opt_plain, cut, sizeof cut);
	ck_assert_str_eq(cut, "abc 0101");
	char tiny[1];
	(void)nid_mask_text(in, strlen(in), &opt_plain, tiny, sizeof tiny);
	ck_assert_str_eq(tiny, "");
}
END_TEST

/* Random strings over digits and separators against the oracle above;
 * deterministic per seed, the seed printed on failure. */
START_TEST(candidates_random)
{
	unsigned seed = 20261201u;
	char id[12];
	static const char alphabet[] = "0123456789 -./aZ";
	for (int round = 0; round < 20000; round++) {
		char in[64], want[64], got[64];
		size_t n = (size_t)(rand_r(&seed) % 40);
		for (size_t i = 0; i < n; i++)
			in[i] = rand_r(&seed) % 3 ? (char)('0' + rand_r(&seed) % 10)
						  : alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
		in[n] = '\0';
		if (n >= 12 && rand_r(&seed) % 2) { /* plant a real candidate */
			make_id_in(id, 1 + rand_r(&seed) % 28, 1 + rand_r(&seed) % 12,
				   rand_r(&seed) % 100, 0, 499);
			size_t at = (size_t)rand_r(&seed) % (n - 11);
			memcpy(in + at, id, 11);
			if (rand_r(&seed) % 2 && at + 12 <= n) {
				memmove(in + at + 7, in + at + 6, 5);
				in[at + 6] = " -."[rand_r(&seed) % 3];
			}
		}
		const struct nid_options *o = round % 2 ? &opt_test : &opt_plain;
		size_t nw = oracle_mask(in, o, want);
		size_t ng = nid_mask_text(in, strlen(in), o, got, sizeof got);
		ck_assert_msg(strcmp(want, got) == 0 && (nw > 0) == (ng > 0),
			      "seed 20261201 round %d: masked differently from the oracle", round);
	}
}
END_TEST

/* ---- masking -------------------------------------------------------- */

START_TEST(mask)
{
	char out[12];
	char id[12];
	make_id_in(id, 1, 1, 70, 100, 499);
	nid_mask(id, 11, out);
	ck_assert_str_eq(out, "010170*****");

	nid_mask("", 0, out);
	ck_assert_str_eq(out, "");
	nid_mask(NULL, 5, out);
	ck_assert_str_eq(out, "");
	nid_mask("123", 3, out);
	ck_assert_str_eq(out, "123");
	nid_mask("12345678", 8, out);
	ck_assert_str_eq(out, "123456**");
	nid_mask("a\x01\xc3\xa6\"b", 6, out);
	ck_assert_str_eq(out, "a???\"b");

	/* any length: at most 6 input characters, at most 11 output characters,
	 * and the buffer is never overrun */
	char in[64];
	for (size_t len = 0; len < sizeof(in); len++) {
		memset(in, '7', sizeof(in));
		memset(out, 'X', sizeof(out));
		nid_mask(in, len, out);
		ck_assert_uint_le(strlen(out), 11);
		size_t sevens = 0;
		for (size_t i = 0; out[i]; i++) {
			if (out[i] == '7') {
				ck_assert_uint_lt(i, 6);
				sevens++;
			} else {
				ck_assert_int_eq(out[i], '*');
			}
		}
		ck_assert_uint_le(sevens, 6);
	}
}
END_TEST

/* ---- organisation numbers ------------------------------------------- */

static int ref_orgnr_k(const char *d)
{
	int s = 3 * (d[0] - '0') + 2 * (d[1] - '0') + 7 * (d[2] - '0') + 6 * (d[3] - '0') +
		5 * (d[4] - '0') + 4 * (d[5] - '0') + 3 * (d[6] - '0') + 2 * (d[7] - '0');
	int k = (11 - s % 11) % 11;
	return k == 10 ? -1 : k;
}

START_TEST(orgnr)
{
	/* the SPEC example: 3*9+2*7+7*4+6*6+5*3+4*1+3*0+2*9 = 142, 142 mod 11 = 10,
	 * k = 1 */
	ck_assert(orgnr_valid("974631091", 9));
	ck_assert(!orgnr_valid("974631092", 9));
	ck_assert(!orgnr_valid("974631090", 9));
	ck_assert(!orgnr_valid("97463109", 8));
	ck_assert(!orgnr_valid("9746310910", 10));
	ck_assert(!orgnr_valid("97463109a", 9));
	ck_assert(!orgnr_valid(" 74631091", 9));
	ck_assert(!orgnr_valid(NULL, 0));
	ck_assert(!orgnr_valid("", 0));

	/* every 8-digit prefix in a sweep: exactly one last digit is valid,
	 * or none when k would be 10 */
	int valid_prefixes = 0, no_number = 0;
	for (int p = 80000000; p < 100000000; p += 9973) {
		char s[16];
		snprintf(s, sizeof(s), "%08d0", p);
		int k = ref_orgnr_k(s);
		int hits = 0;
		for (char c = '0'; c <= '9'; c++) {
			s[8] = c;
			if (orgnr_valid(s, 9)) {
				hits++;
				ck_assert_int_eq(c - '0', k);
			}
		}
		if (k < 0) {
			ck_assert_int_eq(hits, 0);
			no_number++;
		} else {
			ck_assert_int_eq(hits, 1);
			valid_prefixes++;
		}
	}
	ck_assert_int_gt(valid_prefixes, 1500);
	ck_assert_int_gt(no_number, 100);
}
END_TEST

static Suite *nid_suite(void)
{
	Suite *s = suite_create("nid");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, missing);
	tcase_add_test(tc, not_11_digits);
	tcase_add_test(tc, placeholders);
	tcase_add_test(tc, control_digits_match_reference);
	tcase_add_test(tc, every_single_digit_error_detected);
	tcase_add_test(tc, checksum_before_date);
	tcase_add_test(tc, rule_2032);
	tcase_add_test(tc, kind_fnr);
	tcase_add_test(tc, kind_dnr);
	tcase_add_test(tc, kind_hnr);
	tcase_add_test(tc, d_and_h_together_invalid);
	tcase_add_test(tc, synthetic_only_in_test_mode);
	tcase_add_test(tc, impossible_months_and_days);
	tcase_add_test(tc, days_per_month);
	tcase_add_test(tc, leap_years);
	tcase_add_test(tc, century_exhaustive);
	tcase_add_test(tc, century_boundaries);
	tcase_add_test(tc, candidates_in_text);
	tcase_add_test(tc, candidates_random);
	tcase_add_test(tc, mask);
	tcase_add_test(tc, orgnr);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(nid_suite)
