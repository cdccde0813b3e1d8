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

/* True when s is 11 digits whose control digits pass (classic or 2032 rule);
 * used by R106 to see whether a ref "looks like a national ID". */
bool nid_looks_like_id(const char *s, size_t len, bool allow_2032) KPR_WUR;

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
