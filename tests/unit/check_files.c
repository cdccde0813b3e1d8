/*
 * check_files.c — the shared helpers for hex, UUIDs and files (core/hex.c,
 * core/uuid.c, core/files.c): known answers for hex and SHA-256, random
 * tokens and UUIDs of the right shape and not repeated, durable writes that replace or refuse to,
 * leave no temporary file and keep the mode, and whole-file reads bounded
 * by their limit.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "files.h"
#include "hex.h"
#include "uuid.h"

START_TEST(test_hex_encode)
{
	char out[9];
	hex_encode((const unsigned char[]){0x00, 0x0f, 0xa5, 0xff}, 4, out);
	ck_assert_str_eq(out, "000fa5ff");
	hex_encode("", 0, out);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_sha256_known_answer)
{
	char out[65];
	ck_assert(sha256_hex("abc", 3, out));
	ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert(sha256_hex("", 0, out));
	ck_assert_str_eq(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(test_hex_random)
{
	char a[33], b[33];
	ck_assert(hex_random(a, 16));
	ck_assert(hex_random(b, 16));
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
	ck_assert_str_ne(a, b);
	char big[200];
	ck_assert(!hex_random(big, 65)); /* more than it serves at once */
}
END_TEST

START_TEST(test_uuid)
{
	char a[UUID_LEN + 1], b[UUID_LEN + 1];
	ck_assert(uuid_new(a));
	ck_assert(uuid_new(b));
	ck_assert_str_ne(a, b);
	ck_assert(uuid_valid(a));
	ck_assert_int_eq(a[14], '4');                 /* version 4 */
	ck_assert_ptr_nonnull(strchr("89ab", a[19])); /* RFC 9562 variant */
	ck_assert(uuid_valid("0b7e4c2a-9d1f-4e33-8a55-1c2d3e4f5a6b"));
	ck_assert(!uuid_valid("0B7E4C2A-9D1F-4E33-8A55-1C2D3E4F5A6B")); /* kprd writes lower case */
	ck_assert(!uuid_valid("0b7e4c2a-9d1f-4e33-8a55-1c2d3e4f5a6"));
	ck_assert(!uuid_valid("0b7e4c2a-9d1f-4e33-8a55-1c2d3e4f5a6bb"));
	ck_assert(!uuid_valid("0b7e4c2a+9d1f-4e33-8a55-1c2d3e4f5a6b"));
	ck_assert(!uuid_valid(NULL));
	ck_assert(uuid_prefix_valid("0b7e4c2a-9d1f-4e33-8a55-1c2d3e4f5a6b.xml.gz"));
	ck_assert(!uuid_prefix_valid("0b7e4c2a-9d1f-4e33-8a55"));
}
END_TEST

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/check-files-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int entries(void)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

START_TEST(test_write_durable)
{
	make_dir();
	char err[256], path[128], *got;
	size_t len;
	ck_assert(files_write_durable(dir, "k", "one", 3, 0640, false, err, sizeof err));
	snprintf(path, sizeof path, "%s/k", dir);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	/* link(): an existing name is never replaced */
	ck_assert(!files_write_durable(dir, "k", "two", 3, 0640, false, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "/k"));
	got = files_read_all(path, 100, &len, err, sizeof err);
	ck_assert_str_eq(got, "one");
	free(got);
	/* rename(): replaced */
	ck_assert(files_write_durable(dir, "k", "three", 5, 0600, true, err, sizeof err));
	got = files_read_all(path, 100, &len, err, sizeof err);
	ck_assert_str_eq(got, "three");
	ck_assert_uint_eq(len, 5);
	free(got);
	ck_assert_int_eq(entries(), 1); /* no temporary file left */
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_read_all_bounded)
{
	make_dir();
	char err[256], path[128];
	size_t len = 99;
	snprintf(path, sizeof path, "%s/big", dir);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 100000; i++)
		fputc('a' + i % 26, f);
	fclose(f);
	char *got = files_read_all(path, 100000, &len, err, sizeof err);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, 100000);
	ck_assert_int_eq(got[99999], 'a' + 99999 % 26);
	ck_assert_int_eq(got[100000], '\0');
	free(got);
	ck_assert_ptr_null(files_read_all(path, 99999, &len, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "larger than 99999"));
	snprintf(path, sizeof path, "%s/none", dir);
	ck_assert_ptr_null(files_read_all(path, 10, &len, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
	snprintf(path, sizeof path, "%s/big", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *files_suite(void)
{
	Suite *s = suite_create("files");
	TCase *tc = tcase_create("hex and files");
	tcase_add_test(tc, test_hex_encode);
	tcase_add_test(tc, test_sha256_known_answer);
	tcase_add_test(tc, test_hex_random);
	tcase_add_test(tc, test_uuid);
	tcase_add_test(tc, test_write_durable);
	tcase_add_test(tc, test_read_all_bounded);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(files_suite)
