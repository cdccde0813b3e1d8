/*
 * check_keystore.c — the key directory in a throwaway temp dir: init, load,
 * permissions, wrong or relabelled KEKs, tampering, rotation, status.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include "check_main.h"
#include "hpke.h"
#include "keystore.h"

static char base[256], dir[300], priv[300];

static void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char p[600];
			snprintf(p, sizeof p, "%s/%s", path, e->d_name);
			rm_rf(p);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static void setup(void)
{
	snprintf(base, sizeof base, "/tmp/kpr-keystore-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(dir, sizeof dir, "%s/keys", base);
	snprintf(priv, sizeof priv, "%s/reid-private.pem", base);
}

static void teardown(void)
{
	rm_rf(base);
}

static void init_ok(struct keystore_init_result *res)
{
	ck_assert_msg(keystore_init(dir, priv, res), "init: %s", keystore_error());
}

static mode_t mode_of(const char *name)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_mode & 07777;
}

static void kek_path(const char *id, char *out, size_t cap)
{
	snprintf(out, cap, "%s/kek-%s.key", dir, id);
}

static int audit_calls;
static char audit_last[256];
static void audit_cb(void *arg, const char *event, const char *detail)
{
	(void)arg;
	audit_calls++;
	snprintf(audit_last, sizeof audit_last, "%s %s", event, detail);
}

START_TEST(test_fingerprint_known_answer)
{
	/* (printf 'KPR-key-fingerprint-v1\0'; head -c 32 /dev/zero) | sha256sum */
	unsigned char zero[32] = {0};
	char fp[KEYSTORE_ID_LEN + 1];
	keystore_fingerprint(zero, sizeof zero, fp);
	ck_assert_str_eq(fp, "b3e3a4628bdc309e");
}
END_TEST

START_TEST(test_init_and_load)
{
	struct keystore_init_result res;
	keystore_set_audit_hook(audit_cb, NULL);
	audit_calls = 0;
	init_ok(&res);
	keystore_set_audit_hook(NULL, NULL);
	ck_assert_int_eq(audit_calls, 1);
	ck_assert(strncmp(audit_last, "keys.init ", 10) == 0);
	ck_assert_int_eq(res.pseudonym_version, 1);

	char name[64];
	snprintf(name, sizeof name, "kek-%s.key", res.kek_id);
	ck_assert_int_eq(mode_of(name), 0600);
	ck_assert_int_eq(mode_of("pseudonym-1.wrapped"), 0600);
	snprintf(name, sizeof name, "reid-%s.pub", res.reid_id);
	ck_assert_int_eq(mode_of(name), 0644);
	struct stat st;
	ck_assert_int_eq(stat(priv, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);

	struct keystore_pseudonym_key k;
	ck_assert_msg(keystore_load_pseudonym_key(dir, &k), "%s", keystore_error());
	ck_assert_int_eq(k.version, 1);
	ck_assert_str_eq(k.fingerprint, res.pseudonym_fingerprint);
	ck_assert_str_eq(k.kek_id, res.kek_id);
	char fp[KEYSTORE_ID_LEN + 1];
	keystore_fingerprint(k.key, sizeof k.key, fp);
	ck_assert_str_eq(fp, k.fingerprint);
	keystore_pseudonym_key_wipe(&k);

	/* The reid key pair: the server half and the operator half match. */
	unsigned char pk[32], sk[32], pk2[32];
	char id[KEYSTORE_ID_LEN + 1], id2[KEYSTORE_ID_LEN + 1];
	ck_assert_msg(keystore_load_reid_public(dir, pk, id), "%s", keystore_error());
	ck_assert_str_eq(id, res.reid_id);
	ck_assert_msg(keystore_load_reid_private(priv, sk, id2), "%s", keystore_error());
	ck_assert_str_eq(id2, res.reid_id);
	ck_assert(hpke_public_from_private(sk, pk2));
	ck_assert(memcmp(pk, pk2, 32) == 0);

	/* The wrapped file names its KEK and never holds the key in clear. */
	char path[600], text[4096];
	snprintf(path, sizeof path, "%s/pseudonym-1.wrapped", dir);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	char want[64];
	snprintf(want, sizeof want, "kek: %s\n", res.kek_id);
	ck_assert_ptr_nonnull(strstr(text, want));
}
END_TEST

START_TEST(test_init_refuses_existing)
{
	struct keystore_init_result res;
	init_ok(&res);
	char priv2[400];
	snprintf(priv2, sizeof priv2, "%s/other.pem", base);
	ck_assert(!keystore_init(dir, priv2, &res)); /* dir holds keys */
	ck_assert_ptr_nonnull(strstr(keystore_error(), "already holds keys"));
	ck_assert_int_ne(access(priv2, F_OK), 0);

	char dir2[400];
	snprintf(dir2, sizeof dir2, "%s/keys2", base);
	ck_assert(!keystore_init(dir2, priv, &res)); /* private key file exists */

	char dir3[400], inside[500];
	snprintf(dir3, sizeof dir3, "%s/keys3", base);
	snprintf(inside, sizeof inside, "%s/reid.pem", dir3);
	ck_assert(!keystore_init(dir3, inside, &res)); /* private key inside the key dir */
	ck_assert_ptr_nonnull(strstr(keystore_error(), "must not be written into"));
	ck_assert_int_ne(access(inside, F_OK), 0);
}
END_TEST

START_TEST(test_kek_0644_refused)
{
	struct keystore_init_result res;
	init_ok(&res);
	char path[600];
	kek_path(res.kek_id, path, sizeof path);
	ck_assert_int_eq(chmod(path, 0644), 0);
	struct keystore_pseudonym_key k;
	ck_assert(!keystore_load_pseudonym_key(dir, &k));
	ck_assert_ptr_nonnull(strstr(keystore_error(), "0644"));
	ck_assert_ptr_null(kek_file_open(path));
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert(!keystore_load_pseudonym_key(dir, &k));
	ck_assert_int_eq(chmod(path, 0400), 0); /* stricter than 0600 is fine */
	ck_assert(keystore_load_pseudonym_key(dir, &k));
	keystore_pseudonym_key_wipe(&k);
}
END_TEST

START_TEST(test_wrong_kek_fails)
{
	struct keystore_init_result res;
	init_ok(&res);
	struct keystore_pseudonym_key k;

	/* Another KEK copied in under the expected name: its content does not
	 * match its name. */
	char other_dir[400], path[600];
	snprintf(other_dir, sizeof other_dir, "%s/other", base);
	ck_assert_int_eq(mkdir(other_dir, 0700), 0);
	struct kek *other = kek_file_create(other_dir);
	ck_assert_ptr_nonnull(other);
	char other_src[600], other_dst[600];
	snprintf(other_src, sizeof other_src, "%s/kek-%s.key", other_dir, other->id);
	kek_path(res.kek_id, path, sizeof path);
	char saved[600];
	snprintf(saved, sizeof saved, "%s/saved.key", base);
	ck_assert_int_eq(rename(path, saved), 0);
	ck_assert_int_eq(link(other_src, path), 0);
	ck_assert(!keystore_load_pseudonym_key(dir, &k));
	ck_assert_ptr_nonnull(strstr(keystore_error(), "does not match"));
	unlink(path);
	ck_assert_int_eq(rename(saved, path), 0);

	/* The wrapped file relabelled to name the other KEK (present under its
	 * own right name): the unwrap fails. */
	snprintf(other_dst, sizeof other_dst, "%s/kek-%s.key", dir, other->id);
	ck_assert_int_eq(link(other_src, other_dst), 0);
	char wpath[600], text[4096];
	snprintf(wpath, sizeof wpath, "%s/pseudonym-1.wrapped", dir);
	FILE *f = fopen(wpath, "r");
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	char *at = strstr(text, res.kek_id);
	ck_assert_ptr_nonnull(at);
	memcpy(at, other->id, KEYSTORE_ID_LEN);
	f = fopen(wpath, "w");
	fwrite(text, 1, n, f);
	fclose(f);
	ck_assert(!keystore_load_pseudonym_key(dir, &k));
	ck_assert_ptr_nonnull(strstr(keystore_error(), "does not unwrap"));
	kek_free(other);
}
END_TEST

START_TEST(test_tampered_wrapped_fails)
{
	struct keystore_init_result res;
	init_ok(&res);
	char wpath[600], text[4096];
	snprintf(wpath, sizeof wpath, "%s/pseudonym-1.wrapped", dir);
	FILE *f = fopen(wpath, "r");
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	char *w = strstr(text, "wrapped: ");
	ck_assert_ptr_nonnull(w);
	w += 9 + 30;
	*w = *w == '0' ? '1' : '0';
	f = fopen(wpath, "w");
	fwrite(text, 1, n, f);
	fclose(f);
	struct keystore_pseudonym_key k;
	ck_assert(!keystore_load_pseudonym_key(dir, &k));
}
END_TEST

START_TEST(test_rotate_keeps_pseudonym_key)
{
	struct keystore_init_result res;
	init_ok(&res);
	struct keystore_pseudonym_key before, after;
	ck_assert(keystore_load_pseudonym_key(dir, &before));
	char old_id[KEYSTORE_ID_LEN + 1], new_id[KEYSTORE_ID_LEN + 1];
	keystore_set_audit_hook(audit_cb, NULL);
	audit_calls = 0;
	ck_assert_msg(keystore_rotate_kek(dir, old_id, new_id), "%s", keystore_error());
	keystore_set_audit_hook(NULL, NULL);
	ck_assert_int_eq(audit_calls, 1);
	ck_assert(strncmp(audit_last, "keys.rotate_kek ", 16) == 0);
	ck_assert_str_eq(old_id, res.kek_id);
	ck_assert_str_ne(new_id, old_id);

	ck_assert(keystore_load_pseudonym_key(dir, &after));
	ck_assert(memcmp(before.key, after.key, sizeof before.key) == 0);
	ck_assert_str_eq(after.fingerprint, before.fingerprint);
	ck_assert_int_eq(after.version, before.version);
	ck_assert_str_eq(after.kek_id, new_id);

	char path[600];
	kek_path(old_id, path, sizeof path);
	ck_assert_int_ne(access(path, F_OK), 0); /* old KEK gone */
	ck_assert_int_eq(mode_of("pseudonym-1.wrapped"), 0600);

	/* Twice more: still the same key. */
	ck_assert(keystore_rotate_kek(dir, old_id, new_id));
	ck_assert(keystore_rotate_kek(dir, old_id, new_id));
	ck_assert(keystore_load_pseudonym_key(dir, &after));
	ck_assert(memcmp(before.key, after.key, sizeof before.key) == 0);

	struct keystore_item *items;
	size_t n;
	ck_assert(keystore_status(dir, &items, &n));
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(items[0].kind, KEYSTORE_ITEM_KEK);
	ck_assert_str_eq(items[0].id, new_id);
	keystore_status_free(items);
	keystore_pseudonym_key_wipe(&before);
	keystore_pseudonym_key_wipe(&after);
}
END_TEST

START_TEST(test_status)
{
	struct keystore_init_result res;
	init_ok(&res);
	struct keystore_item *items;
	size_t n;
	ck_assert(keystore_status(dir, &items, &n));
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(items[0].kind, KEYSTORE_ITEM_KEK);
	ck_assert_str_eq(items[0].id, res.kek_id);
	ck_assert(items[0].ok);
	ck_assert_int_eq(items[1].kind, KEYSTORE_ITEM_PSEUDONYM_KEY);
	ck_assert_int_eq(items[1].version, 1);
	ck_assert_str_eq(items[1].id, res.pseudonym_fingerprint);
	ck_assert_str_eq(items[1].kek_id, res.kek_id);
	ck_assert(items[1].ok);
	ck_assert_int_eq(items[2].kind, KEYSTORE_ITEM_REID_PUBLIC);
	ck_assert_str_eq(items[2].id, res.reid_id);
	ck_assert(items[2].ok);
	keystore_status_free(items);

	/* A bad KEK mode shows up as a problem on both the KEK and the key. */
	char path[600];
	kek_path(res.kek_id, path, sizeof path);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert(keystore_status(dir, &items, &n));
	ck_assert(!items[0].ok);
	ck_assert(!items[1].ok);
	ck_assert_ptr_nonnull(strstr(items[0].problem, "0644"));
	keystore_status_free(items);
}
END_TEST

START_TEST(test_kek_interface_round_trip)
{
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	struct kek *kek = kek_file_create(dir);
	ck_assert_ptr_nonnull(kek);
	const unsigned char key[32] = {1, 2, 3};
	unsigned char blob[KEK_WRAPPED_MAX], out[KEK_WRAPPED_MAX];
	size_t blob_len, out_len;
	ck_assert(
	    kek->wrap(kek, (const unsigned char *)"aad", 3, key, sizeof key, blob, &blob_len));
	ck_assert(kek->unwrap(kek, (const unsigned char *)"aad", 3, blob, blob_len, out, &out_len));
	ck_assert_uint_eq(out_len, 32);
	ck_assert(memcmp(out, key, 32) == 0);
	ck_assert(
	    !kek->unwrap(kek, (const unsigned char *)"aae", 3, blob, blob_len, out, &out_len));
	char path[600];
	kek_path(kek->id, path, sizeof path);
	struct kek *again = kek_file_open(path);
	ck_assert_ptr_nonnull(again);
	ck_assert(
	    again->unwrap(again, (const unsigned char *)"aad", 3, blob, blob_len, out, &out_len));
	kek_free(again);
	kek_free(kek);
	kek_free(NULL);
}
END_TEST

static Suite *keystore_suite(void)
{
	Suite *s = suite_create("keystore");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fingerprint_known_answer);
	tcase_add_test(tc, test_init_and_load);
	tcase_add_test(tc, test_init_refuses_existing);
	tcase_add_test(tc, test_kek_0644_refused);
	tcase_add_test(tc, test_wrong_kek_fails);
	tcase_add_test(tc, test_tampered_wrapped_fails);
	tcase_add_test(tc, test_rotate_keeps_pseudonym_key);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_kek_interface_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(keystore_suite)
