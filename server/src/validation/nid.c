/*
 * nid.c — validation of Norwegian national identity numbers (SPEC R101–R104)
 * and organisation numbers (R307).
 *
 * Owns: the control-digit arithmetic, the date/century decoding, what a
 * national-ID candidate in free text is, and the one masking function
 * (nid_mask_text, SPEC §3). Must not: allocate, do I/O, log, or leave more
 * than the first six digits of a candidate in any output (nid_mask_text
 * copies the text into the caller's buffer and masks every candidate in it
 * before returning; struct nid_info holds only the decoded birth date).
 *
 * Decisions where the SPEC is silent:
 *  - A number with both the D-number marker (day + 40) and the H-number
 *    marker (month + 40) is not issued by anyone: NID_BAD_DATE.
 *  - Synthetic test numbers (month + 80) may also carry the D-number marker
 *    (Skatteetaten's Tenor issues synthetic D-numbers); such a number is
 *    reported as NID_KIND_SYNTHETIC and, like every synthetic number, is
 *    accepted only in test mode.
 *  - Numbers made of one repeated digit ("00000000000", "11111111111", ...)
 *    are placeholders typed by users, never real numbers: NID_BAD_CHECKSUM,
 *    even where the arithmetic happens to pass (00000000000 does).
 *  - Candidates in free text follow the same placeholder rule, so a ref of
 *    "00000000000" is not treated as a national ID by R106.
 *  - Leading/trailing blanks are not stripped: " 01017012345" is R102.
 *  - Candidates in free text (nid_mask_text) are found with nid_check()
 *    itself, so "what is masked" and "what the server accepts as an ID"
 *    cannot drift apart.
 */
#include "nid.h"

#include <string.h>

static const int k1_weights[9] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
static const int k2_weights[10] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
/* The 2032 rule weighs d1..d10, i.e. k1 itself with weight 1. */
static const int k1_2032_weights[10] = {3, 7, 6, 1, 8, 9, 4, 5, 2, 1};

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int weighted_sum(const char *d, const int *weights, size_t n)
{
	int sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (d[i] - '0') * weights[i];
	return sum;
}

/* k = 11 - (sum mod 11), 11 -> 0; returns 10 for "no valid digit". */
static int mod11_digit(int sum)
{
	int k = 11 - (sum % 11);
	return k == 11 ? 0 : k;
}

static bool same_digit_everywhere(const char *s, size_t len)
{
	for (size_t i = 1; i < len; i++)
		if (s[i] != s[0])
			return false;
	return true;
}

/* Checks the control digits of an 11-digit string. *rule_2032 tells whether
 * k1 passed only under the 2032 rule. */
static bool control_digits_ok(const char *s, bool allow_2032, bool *rule_2032)
{
	*rule_2032 = false;

	int k2 = mod11_digit(weighted_sum(s, k2_weights, 10));
	if (k2 == 10 || k2 != s[10] - '0')
		return false;

	int k1 = mod11_digit(weighted_sum(s, k1_weights, 9));
	if (k1 != 10 && k1 == s[9] - '0')
		return true;

	if (!allow_2032)
		return false;
	/* Classic k1 gives remainder 0 here; the 2032 rule also allows 1..3. */
	int rem = weighted_sum(s, k1_2032_weights, 10) % 11;
	if (rem <= 3) {
		*rule_2032 = true;
		return true;
	}
	return false;
}

static int two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && is_leap(y))
		return 29;
	return days[m - 1];
}

/* SPEC R104: the century follows from the individual number (d7..d9) and
 * the two-digit year. Returns 0 when the combination is never issued. */
static int century_for(int individual, int yy)
{
	if (individual <= 499)
		return 1900;
	if (individual <= 749 && yy >= 54)
		return 1800;
	if (yy <= 39)
		return 2000; /* 500..999 */
	if (individual >= 900)
		return 1900; /* 900..999 with yy >= 40 */
	return 0;
}

static enum nid_status decode_date(const char *s, const struct nid_options *opt,
				   struct nid_info *out)
{
	int day = two_digits(s);
	int month = two_digits(s + 2);
	int yy = two_digits(s + 4);
	int individual = (s[6] - '0') * 100 + two_digits(s + 7);
	bool dnr = false;
	enum nid_kind kind = NID_KIND_FNR;

	if (day > 40) {
		dnr = true;
		day -= 40;
	}
	if (month > 80) {
		kind = NID_KIND_SYNTHETIC;
		month -= 80;
	} else if (month > 40) {
		if (dnr)
			return NID_BAD_DATE; /* D and H at once: never issued */
		kind = NID_KIND_HNR;
		month -= 40;
	} else if (dnr) {
		kind = NID_KIND_DNR;
	}

	if (kind == NID_KIND_SYNTHETIC && !(opt != NULL && opt->test_mode))
		return NID_BAD_DATE;

	int century = century_for(individual, yy);
	if (century == 0)
		return NID_BAD_DATE;
	int year = century + yy;

	if (month < 1 || month > 12)
		return NID_BAD_DATE;
	if (day < 1 || day > days_in_month(year, month))
		return NID_BAD_DATE;

	out->kind = kind;
	out->birth_year = year;
	out->birth_month = month;
	out->birth_day = day;
	return NID_OK;
}

enum nid_status nid_check(const char *s, size_t len, const struct nid_options *opt,
			  struct nid_info *info)
{
	if (s == NULL || len == 0)
		return NID_MISSING;
	if (len != 11 || !all_digits(s, len))
		return NID_NOT_11_DIGITS;
	if (same_digit_everywhere(s, len))
		return NID_BAD_CHECKSUM;

	bool allow_2032 = opt != NULL && opt->allow_2032;
	bool rule_2032;
	if (!control_digits_ok(s, allow_2032, &rule_2032))
		return NID_BAD_CHECKSUM;

	struct nid_info decoded = {0};
	enum nid_status st = decode_date(s, opt, &decoded);
	if (st != NID_OK)
		return st;
	decoded.rule_2032 = rule_2032;
	if (info != NULL)
		*info = decoded;
	return NID_OK;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool candidate_digits(const char d[11], const struct nid_options *opt)
{
	return nid_check(d, 11, opt, NULL) == NID_OK;
}

/* Calls mark(ctx, pos) for each digit position to hide in s[0..len) and
 * returns the number of candidates. */
static size_t find_candidates(const char *s, size_t len, const struct nid_options *opt,
			      void (*mark)(void *ctx, size_t pos), void *ctx)
{
	size_t found = 0;
	size_t run = 0; /* digits ending at i - 1 */
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i])) {
			/* 6 digits, one separator, 5 digits: the 6 end here */
			if (run >= 6 && (s[i] == ' ' || s[i] == '-' || s[i] == '.') &&
			    i + 5 < len) {
				bool five = true;
				for (size_t k = 1; five && k <= 5; k++)
					five = is_digit(s[i + k]);
				if (five) {
					char d[11];
					memcpy(d, s + i - 6, 6);
					memcpy(d + 6, s + i + 1, 5);
					if (candidate_digits(d, opt)) {
						found++;
						if (mark)
							for (size_t k = 1; k <= 5; k++)
								mark(ctx, i + k);
					}
				}
			}
			run = 0;
			continue;
		}
		run++;
		if (run >= 11 && candidate_digits(s + i - 10, opt)) {
			found++;
			if (mark)
				for (size_t k = 0; k < 5; k++)
					mark(ctx, i - k);
		}
	}
	return found;
}

bool nid_has_candidate(const char *s, size_t len, const struct nid_options *opt)
{
	return s != NULL && find_candidates(s, len, opt, NULL, NULL) > 0;
}

struct mask_ctx {
	char *out;
	size_t n; /* bytes of out that mirror the input */
};

static void mask_at(void *ctx, size_t pos)
{
	struct mask_ctx *m = ctx;
	if (pos < m->n)
		m->out[pos] = '*';
}

size_t nid_mask_text(const char *s, size_t len, const struct nid_options *opt, char *out,
		     size_t outsz)
{
	if (outsz == 0)
		return 0;
	if (s == NULL)
		len = 0;
	size_t n = len < outsz - 1 ? len : outsz - 1;
	if (n < len) /* cut at a character boundary */
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	if (n)
		memcpy(out, s, n);
	out[n] = '\0';
	struct mask_ctx m = {out, n};
	return find_candidates(s, len, opt, mask_at, &m);
}

void nid_mask(const char *s, size_t len, char out[12])
{
	size_t shown = len < 6 ? len : 6;
	size_t total = len < 11 ? len : 11;
	size_t i = 0;

	if (s == NULL)
		shown = total = 0;
	/* Only printable ASCII is copied, so a masked value is always safe to put
	 * into CSV, XML, HTML or a log line. */
	for (; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c >= 0x21 && c <= 0x7e) ? (char)c : '?';
	}
	for (; i < total; i++)
		out[i] = '*';
	out[i] = '\0';
}

bool nid_control_digits(const char d9[9], char out_k1k2[2])
{
	if (!all_digits(d9, 9))
		return false;
	int k1 = mod11_digit(weighted_sum(d9, k1_weights, 9));
	if (k1 == 10)
		return false;
	char d10[10];
	memcpy(d10, d9, 9);
	d10[9] = (char)('0' + k1);
	int k2 = mod11_digit(weighted_sum(d10, k2_weights, 10));
	if (k2 == 10)
		return false;
	out_k1k2[0] = (char)('0' + k1);
	out_k1k2[1] = (char)('0' + k2);
	return true;
}

bool orgnr_valid(const char *s, size_t len)
{
	static const int weights[8] = {3, 2, 7, 6, 5, 4, 3, 2};
	if (s == NULL || len != 9 || !all_digits(s, len))
		return false;
	int k = mod11_digit(weighted_sum(s, weights, 8));
	return k != 10 && k == s[8] - '0';
}
