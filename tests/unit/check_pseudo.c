/*
 * check_pseudo.c — pseudonyms: known answers computed independently with
 *   printf 'KPR-pseudonym-v1\000<ID>' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key>
 * (first 32 hex digits), stability across contexts, key versions, text forms.
 * The IDs are made-up digit strings, not real people.
 */
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "pseudo.h"

static const unsigned char KEY_5A[32] = {
    0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
    0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
};

static void key_0_to_31(unsigned char key[32])
{
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)i;
}

START_TEST(test_known_answers)
{
	struct pseudonym p;
	char hex[PSEUDO_HEX_LEN + 1], text[PSEUDO_TEXT_MAX];
	struct pseudo_ctx *c = pseudo_new(KEY_5A, sizeof KEY_5A, 1);
	ck_assert_ptr_nonnull(c);
	ck_assert(pseudo_compute(c, "01017012345", &p));
	pseudo_to_hex(&p, hex);
	ck_assert_str_eq(hex, "13a6d77a4e0aeb5c0bcd568971d8310f");
	pseudo_format(&p, text);
	ck_assert_str_eq(text, "1:13a6d77a4e0aeb5c0bcd568971d8310f");
	pseudo_free(c);

	unsigned char key[32];
	key_0_to_31(key);
	c = pseudo_new(key, sizeof key, 7);
	ck_assert_ptr_nonnull(c);
	ck_assert(pseudo_compute(c, "31129912345", &p));
	pseudo_format(&p, text);
	ck_assert_str_eq(text, "7:9837ceaea0af9c55ffcf6a98442ed313");
	ck_assert_int_eq(pseudo_key_version(c), 7);
	pseudo_free(c);
}
END_TEST

START_TEST(test_stable_across_contexts_and_calls)
{
	struct pseudo_ctx *a = pseudo_new(KEY_5A, sizeof KEY_5A, 1);
	struct pseudo_ctx *b = pseudo_new(KEY_5A, sizeof KEY_5A, 1);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	struct pseudonym first, again, other, from_b;
	ck_assert(pseudo_compute(a, "01017012345", &first));
	/* Many other IDs through the same context must not disturb it. */
	char id[12];
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof id, "%011d", i * 7919);
		ck_assert(pseudo_compute(a, id, &other));
	}
	ck_assert(pseudo_compute(a, "01017012345", &again));
	ck_assert(pseudo_compute(b, "01017012345", &from_b));
	ck_assert(pseudo_equal(&first, &again));
	ck_assert(pseudo_equal(&first, &from_b));
	ck_assert(pseudo_compute(a, "01017012346", &other));
	ck_assert(!pseudo_equal(&first, &other));
	pseudo_free(a);
	pseudo_free(b);
}
END_TEST

START_TEST(test_key_versions_differ)
{
	unsigned char key2[32];
	key_0_to_31(key2);
	struct pseudo_ctx *v1 = pseudo_new(KEY_5A, sizeof KEY_5A, 1);
	struct pseudo_ctx *v2 = pseudo_new(key2, sizeof key2, 2);
	struct pseudo_ctx *v1_relabelled = pseudo_new(KEY_5A, sizeof KEY_5A, 2);
	struct pseudonym a, b, c;
	ck_assert(pseudo_compute(v1, "01017012345", &a));
	ck_assert(pseudo_compute(v2, "01017012345", &b));
	ck_assert(pseudo_compute(v1_relabelled, "01017012345", &c));
	ck_assert_int_eq(a.key_version, 1);
	ck_assert_int_eq(b.key_version, 2);
	ck_assert(memcmp(a.bytes, b.bytes, PSEUDO_LEN) != 0);
	/* Same bytes, other version: not the same pseudonym. */
	ck_assert(memcmp(a.bytes, c.bytes, PSEUDO_LEN) == 0);
	ck_assert(!pseudo_equal(&a, &c));
	pseudo_free(v1);
	pseudo_free(v2);
	pseudo_free(v1_relabelled);
}
END_TEST

START_TEST(test_rejects_bad_input)
{
	unsigned char short_key[16] = {0};
	ck_assert_ptr_null(pseudo_new(short_key, sizeof short_key, 1));
	ck_assert_ptr_null(pseudo_new(KEY_5A, sizeof KEY_5A, 0));
	ck_assert_ptr_null(pseudo_new(NULL, 32, 1));
	struct pseudo_ctx *c = pseudo_new(KEY_5A, sizeof KEY_5A, 1);
	struct pseudonym p;
	ck_assert(!pseudo_compute(c, "0101701234X", &p));
	ck_assert(!pseudo_compute(c, "01017 12345", &p));
	pseudo_free(c);
	pseudo_free(NULL);
}
END_TEST

START_TEST(test_text_round_trip)
{
	struct pseudonym p, q;
	ck_assert(pseudo_parse("12:13A6D77A4E0AEB5C0BCD568971D8310F", &p));
	ck_assert_int_eq(p.key_version, 12);
	char text[PSEUDO_TEXT_MAX];
	pseudo_format(&p, text);
	ck_assert_str_eq(text, "12:13a6d77a4e0aeb5c0bcd568971d8310f");
	ck_assert(pseudo_parse(text, &q));
	ck_assert(pseudo_equal(&p, &q));
	ck_assert(pseudo_from_hex("13a6d77a4e0aeb5c0bcd568971d8310f", 12, &q));
	ck_assert(pseudo_equal(&p, &q));

	ck_assert(!pseudo_parse("0:13a6d77a4e0aeb5c0bcd568971d8310f", &q));
	ck_assert(!pseudo_parse("1:13a6d77a4e0aeb5c0bcd568971d8310", &q));
	ck_assert(!pseudo_parse("1:13a6d77a4e0aeb5c0bcd568971d8310f0", &q));
	ck_assert(!pseudo_parse("1:13a6d77a4e0aeb5c0bcd568971d8310g", &q));
	ck_assert(!pseudo_parse("13a6d77a4e0aeb5c0bcd568971d8310f", &q));
	ck_assert(!pseudo_parse("99999999999:13a6d77a4e0aeb5c0bcd568971d8310f", &q));
	ck_assert(!pseudo_parse("", &q));
}
END_TEST

START_TEST(test_vault_aad_layout)
{
	struct pseudonym p;
	ck_assert(pseudo_from_hex("000102030405060708090a0b0c0d0e0f", 258, &p));
	unsigned char aad[PSEUDO_VAULT_AAD_LEN];
	pseudo_vault_aad(&p, aad);
	ck_assert_uint_eq(sizeof aad, 13 + 4 + 16);
	ck_assert(memcmp(aad, "KPR-vault-v1\0", 13) == 0);
	const unsigned char ver[4] = {0, 0, 1, 2};
	ck_assert(memcmp(aad + 13, ver, 4) == 0);
	ck_assert(memcmp(aad + 17, p.bytes, 16) == 0);
}
END_TEST

static Suite *pseudo_suite(void)
{
	Suite *s = suite_create("pseudo");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_known_answers);
	tcase_add_test(tc, test_stable_across_contexts_and_calls);
	tcase_add_test(tc, test_key_versions_differ);
	tcase_add_test(tc, test_rejects_bad_input);
	tcase_add_test(tc, test_text_round_trip);
	tcase_add_test(tc, test_vault_aad_layout);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(pseudo_suite)
