/*
 * check_wipe.c — memory that held national IDs is wiped before it is freed
 * (explicit_bzero: a memset right before free may be optimised away): the
 * spool's coalescing buffer, the validator's input chunk and state (the
 * current Fnr, the text buffer, the keys of the fnr table) and the
 * duplicate tables (the fnr table, and the ref table of hashes of refs as
 * written, which may be IDs).
 * malloc, calloc, realloc and free are interposed in this binary. While
 * armed, blocks that kprd's own code allocates (the caller lies in this
 * executable, not in libxml2, zlib or libcrypto) are filled with a pattern
 * so no stale bytes are mistaken for an ID, and every such block is
 * searched for the national ID in clear when it is freed. Under
 * AddressSanitizer, which owns the allocator, the checks are skipped.
 * The ID is made up: the SPEC example's (tests/fixtures/spec-example.xml)
 * date and individual number, with control digits computed so it is valid.
 */
#include <check.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "codelist.h"
#include "nid.h"
#include "report.h"
#include "spool.h"
#include "validate.h"

#if defined(__SANITIZE_ADDRESS__)
#define WIPE_CHECKS 0
#else
#define WIPE_CHECKS 1
#endif

#if WIPE_CHECKS
static char ID[12] = "01017012345"; /* control digits made valid by valid_id() */

static void valid_id(void)
{
	for (int ind = 123;; ind++) {
		char d9[10], k[2];
		snprintf(d9, sizeof d9, "010170%03d", ind % 1000);
		if (nid_control_digits(d9, k)) {
			memcpy(ID, d9, 9);
			ID[9] = k[0];
			ID[10] = k[1];
			return;
		}
	}
}

/* tests/fixtures/spec-example.xml with its Fnr made valid, so the person is
 * read to the end and the fnr table used */
static void write_example(const char *path)
{
	FILE *in = fopen("tests/fixtures/spec-example.xml", "r");
	ck_assert_msg(in != NULL, "run from the repository root");
	static char doc[1 << 16];
	size_t n = fread(doc, 1, sizeof doc - 1, in);
	fclose(in);
	doc[n] = '\0';
	char *fnr = strstr(doc, "<Fnr>01017012345</Fnr>");
	ck_assert_ptr_nonnull(fnr);
	memcpy(fnr + 5, ID, 11);
	FILE *out = fopen(path, "w");
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(fwrite(doc, 1, n, out), n);
	ck_assert_int_eq(fclose(out), 0);
}

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern char __executable_start[], etext[];

static int armed;
static unsigned id_blocks;  /* own blocks freed with the ID in them */
static unsigned tab_blocks; /* duplicate tables (calloc(4096+, 8): fnr, ref) freed not all zero */
static unsigned tab_seen;
static void *first_own; /* the first own block of an armed run */
static unsigned first_dirty;

#define TRACK_MAX 4096
static struct {
	void *p;
	bool fnr_tab;
} own[TRACK_MAX];

static bool from_here(const void *ret)
{
	return (const char *)ret >= __executable_start && (const char *)ret < etext;
}

static void track(void *p, bool fnr_tab)
{
	if (!first_own)
		first_own = p;
	for (size_t i = 0; i < TRACK_MAX; i++)
		if (!own[i].p) {
			own[i].p = p;
			own[i].fnr_tab = fnr_tab;
			return;
		}
}

void *malloc(size_t n)
{
	void *p = __libc_malloc(n);
	if (p && armed && from_here(__builtin_return_address(0))) {
		memset(p, 0xA5, malloc_usable_size(p));
		track(p, false);
	}
	return p;
}

void *calloc(size_t k, size_t n)
{
	void *p = __libc_calloc(k, n);
	if (p && armed && from_here(__builtin_return_address(0)))
		track(p, k >= 4096 && n == sizeof(uint64_t));
	return p;
}

void *realloc(void *old, size_t n)
{
	size_t before = old ? malloc_usable_size(old) : 0;
	bool mine = armed && from_here(__builtin_return_address(0));
	if (mine && old) /* the old block is freed inside: search it too */
		for (size_t i = 0; i < TRACK_MAX; i++)
			if (own[i].p == old) {
				own[i].p = NULL;
				if (memmem(old, before, ID, 11))
					id_blocks++;
			}
	void *p = __libc_realloc(old, n);
	if (p && mine) {
		size_t after = malloc_usable_size(p);
		if (after > before)
			memset((char *)p + before, 0xA5, after - before);
		track(p, false);
	}
	return p;
}

void free(void *p)
{
	if (p && armed)
		for (size_t i = 0; i < TRACK_MAX; i++) {
			if (own[i].p != p)
				continue;
			own[i].p = NULL;
			size_t n = malloc_usable_size(p);
			if (memmem(p, n, ID, 11))
				id_blocks++;
			bool zero = true;
			for (size_t j = 0; j < n && zero; j++)
				zero = ((unsigned char *)p)[j] == 0;
			if (own[i].fnr_tab) {
				tab_seen++;
				if (!zero)
					tab_blocks++;
			}
			if (p == first_own && !zero)
				first_dirty++;
			break;
		}
	__libc_free(p);
}

static void arm(void)
{
	memset(own, 0, sizeof own);
	id_blocks = tab_blocks = tab_seen = first_dirty = 0;
	first_own = NULL;
	armed = 1;
}
#endif

/* spool_free: the 64 KiB coalescing buffer held the last bytes received */
START_TEST(spool_buffer_wiped)
{
#if WIPE_CHECKS
	char dir[] = "/tmp/kpr-check-wipe-XXXXXX", err[256];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	valid_id();
	arm();
	struct spool_file *f = spool_create(dir, err, sizeof err);
	ck_assert_ptr_nonnull(f);
	char chunk[1500];
	memset(chunk, ' ', sizeof chunk);
	memcpy(chunk + 700, ID, 11);
	ck_assert(spool_write(f, chunk, sizeof chunk));
	spool_free(f); /* never committed: the .part goes, the buffer is wiped */
	armed = 0;
	ck_assert_msg(id_blocks == 0, "%u freed block(s) still held the ID", id_blocks);
	char incoming[300];
	snprintf(incoming, sizeof incoming, "%s/incoming", dir);
	ck_assert_int_eq(rmdir(incoming), 0); /* empty: the .part was removed */
	ck_assert_int_eq(rmdir(dir), 0);
#endif
}
END_TEST

/* validate_file: the input chunk, the state and the fnr table */
START_TEST(validator_memory_wiped)
{
#if WIPE_CHECKS
	valid_id();
	char xml[] = "/tmp/kpr-check-wipe-XXXXXX.xml";
	int fd = mkstemps(xml, 4);
	ck_assert_int_ge(fd, 0);
	close(fd);
	write_example(xml);
	char err[256], path[512];
	const char *dir = getenv("KPR_CONFIG_DIR");
	snprintf(path, sizeof path, "%s/codelists.csv", dir && *dir ? dir : "config");
	struct codelist *codes = codelist_load(path, err, sizeof err);
	ck_assert_msg(codes != NULL, "%s (run from the repository root)", err);
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	struct validate_params p;
	memset(&p, 0, sizeof p);
	p.codes = codes;
	p.test_mode = true;
	p.allow_2032 = true;
	struct validate_result res;
	arm();
	bool ok = validate_file(xml, &p, NULL, r, &res);
	armed = 0;
	unlink(xml);
	ck_assert(ok);
	ck_assert_uint_eq(report_rule_count(r, "R103"), 0); /* the ID is valid */
	ck_assert_msg(id_blocks == 0, "%u freed block(s) of kprd's still held the ID", id_blocks);
	ck_assert_msg(tab_seen >= 2, "the fnr and ref tables were not seen (allocation changed?)");
	ck_assert_msg(tab_blocks == 0, "%u duplicate table(s) freed without being wiped",
		      tab_blocks);
	/* validate_file's first allocation is its state: the fnr keys live there */
	ck_assert_msg(first_dirty == 0, "the validator's state was freed without being wiped");
	report_free(r);
	codelist_free(codes);
#endif
}
END_TEST

static Suite *wipe_suite(void)
{
	Suite *s = suite_create("wipe");
	TCase *tc = tcase_create("wipe");
	tcase_add_test(tc, spool_buffer_wiped);
	tcase_add_test(tc, validator_memory_wiped);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(wipe_suite)
