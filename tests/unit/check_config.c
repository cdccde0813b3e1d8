/*
 * check_config.c — the INI parser and key table: defaults, every kind of
 * error names file, line and key, relative paths, reload rules, secrets'
 * permissions, and config/kprd.conf.example matching the table.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "config.h"
#include "log.h"

static char dir[] = "/tmp/kpr-check-config-XXXXXX";
static char path[512];

static const char *minimal =
    "[server]\ntls_cert_file = cert.pem\ntls_key_file = /abs/key.pem\n"
    "[database]\nregister_dsn = host=/tmp dbname=r\nvault_dsn = host=/tmp dbname=v\n"
    "[paths]\nspool_dir = spool\nfeedback_dir = fb\nkeys_dir = keys\n";

static void write_conf(const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/kprd.conf", dir);
}

static void teardown(void)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/kpr-check-config-XXXXXX");
}

START_TEST(defaults_and_relative_paths)
{
	char err[512];
	write_conf(minimal);
	struct kpr_config *c = config_load(path, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->port, 8443);
	ck_assert_int_eq(c->workers, 2);
	ck_assert(!c->test_mode);
	ck_assert(c->allow_2032_rule);
	ck_assert_int_eq(c->connection_timeout, 60);
	ck_assert_str_eq(c->tls_key_file, "/abs/key.pem");
	char want[600];
	char *real = realpath(dir, NULL);
	snprintf(want, sizeof want, "%s/cert.pem", real);
	ck_assert_str_eq(c->tls_cert_file, want);
	snprintf(want, sizeof want, "%s/spool", real);
	ck_assert_str_eq(c->spool_dir, want);
	/* DSNs are not paths */
	ck_assert_str_eq(c->register_dsn, "host=/tmp dbname=r");
	free(real);
	config_free(c);
}
END_TEST

struct bad_case {
	const char *append;
	const char *expect; /* substring of the error */
};

static const struct bad_case bad_cases[] = {
    {"[server]\nport = 70000\n",
     "kprd.conf:12: server.port: expected a whole number from 1 to 65535"},
    {"[server]\nport = eighty\n", "kprd.conf:12: server.port"},
    {"[intake]\ntest_mode = maybe\n", "kprd.conf:12: intake.test_mode: expected true or false"},
    {"[intake]\nwrokers = 3\n", "kprd.conf:12: unknown key \"wrokers\" in section [intake]"},
    {"[nosuch]\nport = 1\n", "unknown key \"port\" in section [nosuch]"},
    {"[server\n", "kprd.conf:11: malformed section header"},
    {"just words\n", "kprd.conf:11: expected key = value"},
    {"[server]\nmax_upload_bytes = 12 parsecs\n", "server.max_upload_bytes: expected a size"},
    {"[log]\nlevel = chatty\n", "log.level: expected error, warn, info or debug"},
    {"[intake]\naargang_open_min = 2026\naargang_open_max = 2025\n", "aargang_open_min"},
    {"[server]\nport = 1\nport = 2\n", "kprd.conf:13: server.port given twice"},
};

START_TEST(errors_name_file_line_key)
{
	char err[512], text[2048];
	snprintf(text, sizeof text, "%s%s", minimal, bad_cases[_i].append);
	write_conf(text);
	struct kpr_config *c = config_load(path, err, sizeof err);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, bad_cases[_i].expect) != NULL, "case %d: got \"%s\", want \"%s\"",
		      _i, err, bad_cases[_i].expect);
}
END_TEST

/* A key that was removed (paths.xsd_file) still loads, with a warning that
 * names file, line and key, so an upgraded server starts on its old file. */
START_TEST(obsolete_key_warns_and_is_ignored)
{
	char err[512], text[2048], logpath[600], logtext[4096] = "";
	snprintf(text, sizeof text, "%s[paths]\nxsd_file = xsd/innsending.xsd\n", minimal);
	/* minimal's own [paths] section precedes: a second header is fine */
	write_conf(text);
	snprintf(logpath, sizeof logpath, "%s/stderr", dir);
	fflush(stderr);
	int saved = dup(2);
	FILE *lf = fopen(logpath, "w+");
	ck_assert_ptr_nonnull(lf);
	dup2(fileno(lf), 2);
	struct kpr_config *c = config_load(path, err, sizeof err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(lf);
	size_t n = fread(logtext, 1, sizeof logtext - 1, lf);
	logtext[n] = '\0';
	fclose(lf);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_msg(strstr(logtext, "kprd.conf:12: paths.xsd_file is obsolete and ignored"),
		      "warning: \"%s\"", logtext);
	config_free(c);
	/* an unknown key in the same place is still an error */
	snprintf(text, sizeof text, "%s[paths]\nxsd_fil = x\n", minimal);
	write_conf(text);
	ck_assert_ptr_null(config_load(path, err, sizeof err));
	ck_assert_msg(strstr(err, "unknown key \"xsd_fil\""), "%s", err);
}
END_TEST

START_TEST(missing_required_key)
{
	char err[512];
	write_conf("[server]\ntls_cert_file = c\n");
	ck_assert_ptr_null(config_load(path, err, sizeof err));
	ck_assert_msg(strstr(err, "required key server.tls_key_file is missing"), "%s", err);
}
END_TEST

START_TEST(sizes_and_quotes)
{
	char err[512], text[2048];
	snprintf(text, sizeof text,
		 "%s[server]\nmax_upload_bytes = 2G\nconnection_memory_limit = 64k\n"
		 "[log]\nlevel = \"debug\"\n",
		 minimal);
	write_conf(text);
	struct kpr_config *c = config_load(path, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->max_upload_bytes, 2LL << 30);
	ck_assert_int_eq(c->connection_memory_limit, 65536);
	ck_assert_str_eq(c->log_level, "debug");
	config_free(c);
}
END_TEST

START_TEST(reload_applies_only_reloadable_keys)
{
	char err[512], text[2048];
	write_conf(minimal);
	struct kpr_config *live = config_load(path, err, sizeof err);
	ck_assert_ptr_nonnull(live);
	snprintf(text, sizeof text, "%s[server]\nport = 9999\n[intake]\nqueue_limit = 7\n",
		 minimal);
	write_conf(text);
	struct kpr_config *fresh = config_load(path, err, sizeof err);
	ck_assert_ptr_nonnull(fresh);
	ck_assert(config_publish(live));
	const struct kpr_config *before = config_acquire(); /* a reader mid-request */
	ck_assert(config_apply_reload(fresh));
	const struct kpr_config *after = config_acquire();
	ck_assert_int_eq(after->queue_limit, 7); /* reloadable */
	ck_assert_int_eq(after->port, 8443);     /* needs a restart */
	/* the copy a reader holds never changes under it */
	ck_assert_ptr_ne(before, after);
	ck_assert_int_eq(before->queue_limit, live->queue_limit);
	ck_assert_str_eq(before->spool_dir, live->spool_dir);
	/* nor is the configuration loaded at start written to */
	ck_assert_int_ne(live->queue_limit, 7);
	config_release(before); /* its last user: freed (valgrind and ASan check) */
	config_release(after);
	config_unpublish();
	config_free(fresh);
	config_free(live);
}
END_TEST

/* Readers on other threads while reloads swap copies: each reader's copy
 * stays consistent (two keys a reload always changes together), and every
 * copy is freed once (ASan and valgrind would see a use after free). */
struct reload_race {
	int rounds;
};

static void *reader(void *arg)
{
	struct reload_race *rr = arg;
	for (int i = 0; i < rr->rounds; i++) {
		const struct kpr_config *c = config_acquire();
		ck_assert_int_eq(c->upload_rate_limit, c->upload_rate_window);
		config_release(c);
	}
	return NULL;
}

START_TEST(reload_swaps_while_readers_read)
{
	char err[512], text[2048];
	write_conf(minimal);
	struct kpr_config *live = config_load(path, err, sizeof err);
	ck_assert_ptr_nonnull(live);
	live->upload_rate_limit = live->upload_rate_window = 1;
	ck_assert(config_publish(live));
	log_set_level(LOG_LVL_ERROR); /* each reload logs its keys */
	struct reload_race rr = {20000};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, reader, &rr), 0);
	for (int n = 2; n < 60; n++) {
		snprintf(text, sizeof text,
			 "%s[intake]\nupload_rate_limit = %d\nupload_rate_window = %d\n", minimal,
			 n, n);
		write_conf(text);
		struct kpr_config *fresh = config_load(path, err, sizeof err);
		ck_assert_msg(fresh != NULL, "%s", err);
		ck_assert(config_apply_reload(fresh));
		config_free(fresh);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	const struct kpr_config *c = config_acquire();
	ck_assert_int_eq(c->upload_rate_limit, 59);
	config_release(c);
	log_set_level(LOG_LVL_INFO);
	config_unpublish();
	config_free(live);
}
END_TEST

START_TEST(secret_files_must_be_private)
{
	char sp[600], err[512];
	snprintf(sp, sizeof sp, "%s/pw", dir);
	FILE *f = fopen(sp, "w");
	fputs("s3cret\n", f);
	fclose(f);
	chmod(sp, 0644);
	ck_assert_ptr_null(config_read_secret(sp, err, sizeof err));
	ck_assert(strstr(err, "chmod 600") != NULL);
	chmod(sp, 0600);
	char *s = config_read_secret(sp, err, sizeof err);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "s3cret");
	free(s);
}
END_TEST

/* config/kprd.conf.example is what the key table generates: no key can be
 * added, renamed or re-documented without the example following. */
START_TEST(example_matches_table)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	config_write_example(m);
	fclose(m);
	FILE *f = fopen("config/kprd.conf.example", "r");
	ck_assert_msg(f != NULL, "run the tests from the repository root");
	char *file = calloc(1, len + 2);
	size_t n = fread(file, 1, len + 1, f);
	fclose(f);
	ck_assert_msg(n == len && memcmp(file, buf, len) == 0,
		      "config/kprd.conf.example is stale: build/kprctl config example > "
		      "config/kprd.conf.example");
	free(file);
	free(buf);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_and_relative_paths);
	tcase_add_loop_test(tc, errors_name_file_line_key, 0,
			    (int)(sizeof bad_cases / sizeof bad_cases[0]));
	tcase_add_test(tc, obsolete_key_warns_and_is_ignored);
	tcase_add_test(tc, missing_required_key);
	tcase_add_test(tc, sizes_and_quotes);
	tcase_add_test(tc, reload_applies_only_reloadable_keys);
	tcase_add_test(tc, reload_swaps_while_readers_read);
	tcase_add_test(tc, secret_files_must_be_private);
	tcase_add_test(tc, example_matches_table);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(config_suite)
