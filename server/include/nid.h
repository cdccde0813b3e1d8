/*
 * nid.h — Norwegian national identity numbers (fødselsnummer, D-number,
 * H-number, synthetic test numbers) and organisation numbers.
 * Pure functions: no allocation, no I/O, and nothing here ever logs or
 * formats a number except through nid_mask().
 */
#ifndef NID_H
#define NID_H

#include "kpr.h"

enum nid_status {
	NID_OK = 0,
	NID_MISSING,       /* R101: empty */
	NID_NOT_11_DIGITS, /* R102 */
	NID_BAD_CHECKSUM,  /* R103 (also: all-zero / placeholder numbers) */
	NID_BAD_DATE,      /* R104: no real date after decoding, or synthetic outside test mode */
};

enum nid_kind {
	NID_KIND_FNR = 0,   /* ordinary fødselsnummer */
	NID_KIND_DNR,       /* day + 40 */
	NID_KIND_HNR,       /* month + 40 */
	NID_KIND_SYNTHETIC, /* month + 80 (test numbers; only in test mode) */
};

struct nid_options {
	bool test_mode;  /* accept synthetic numbers (month + 80) */
	bool allow_2032; /* accept numbers issued under the 2032 rule (SPEC R103) */
};

struct nid_info {
	enum nid_kind kind;
	int birth_year;  /* decoded with the century from the individual number */
	int birth_month; /* 1..12 after decoding */
	int birth_day;   /* 1..31 after decoding */
	bool rule_2032;  /* k1 was not the classic control digit */
};

/* Checks s[0..len) in the order R101, R102, R103, R104; fills *info on NID_OK. */
enum nid_status nid_check(const char *s, size_t len, const struct nid_options *opt,
			  struct nid_info *info) KPR_WUR;

/* SPEC §3, the masking rule. A national-ID candidate in free text is 11
 * consecutive digits (also any 11 inside a longer run of digits), or 6 and 5
 * digits joined by exactly one ' ', '-' or '.', whose 11 digits pass
 * nid_check() under opt (R103's control digits and R104's date check: the
 * values the server would accept as an ID). */

/* True when s[0..len) holds at least one candidate. */
bool nid_has_candidate(const char *s, size_t len, const struct nid_options *opt) KPR_WUR;

/* The one display function for free text: copies s[0..len) to out exactly as
 * written, except that in each candidate the digits after its sixth are '*'
 * ("J 010170-*****"). Identity never uses this form: compare, key and store
 * the value as written. Writes at most outsz - 1 bytes (cut at a character
 * boundary) and always NUL-terminates when outsz > 0; masking is decided on
 * the whole input, so a cut never reveals a digit a longer output would hide.
 * Returns the number of candidates found. Idempotent: masking a masked value
 * changes nothing. */
size_t nid_mask_text(const char *s, size_t len, const struct nid_options *opt, char *out,
		     size_t outsz);

/* Writes a masked form for messages: the first 6 characters then '*' for the
 * rest ("010170*****"); input of any length; out holds at least 12 bytes and
 * is always NUL-terminated. Never prints more than 6 characters of input. */
void nid_mask(const char *s, size_t len, char out[12]);

/* Computes the two classic control digits for the first 9 digits d[0..8]
 * (ASCII). Returns false when k1 or k2 would be 10 (no valid number). */
bool nid_control_digits(const char d9[9], char out_k1k2[2]) KPR_WUR;

/* Norwegian organisation number: 9 digits, mod-11 with weights 3,2,7,6,5,4,3,2. */
bool orgnr_valid(const char *s, size_t len) KPR_WUR;

#endif
