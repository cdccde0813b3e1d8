/*
 * fuzz_config.c — libFuzzer target for the INI parser and key table: any
 * bytes are written to a config file and loaded with config_load(), the
 * same entry point kprd and kprctl use. Checks besides memory safety: a
 * loaded config honours every key's type and range, path keys come back
 * absolute (or empty), and config_apply_reload() of the result onto a live
 * config keeps those invariants.
 *
 * Build: make fuzz (build-fuzz/fuzz_config); run from the repository root:
 *   build-fuzz/fuzz_config -max_total_time=60 tests/fuzz/corpus/config
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char path[64];
static struct kpr_config *live;

static bool is_path_key(const struct config_key *k)
{
	size_t l = strlen(k->name);
	return !strcmp(k->section, "paths") || (l > 5 && !strcmp(k->name + l - 5, "_file"));
}

static void check_invariants(const struct kpr_config *c)
{
	for (size_t i = 0; i < config_keys_len; i++) {
		const struct config_key *k = &config_keys[i];
		const void *p = (const char *)c + k->offset;
		switch (k->type) {
		case CFG_STR: {
			const char *s = *(char *const *)p;
			if (!s || strchr(s, '\n'))
				abort();
			if (is_path_key(k) && s[0] != '\0' && s[0] != '/')
				abort(); /* relative paths are resolved against the file's directory */
			break;
		}
		case CFG_INT: {
			int v = *(const int *)p;
			if (v < k->min || v > k->max)
				abort();
			break;
		}
		case CFG_SIZE: {
			long long v = *(const long long *)p;
			if (v < k->min || v > k->max)
				abort();
			break;
		}
		case CFG_BOOL:
			break;
		}
	}
}

static void write_file(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "w");
	if (!f || (size && fwrite(data, 1, size, f) != size))
		abort();
	fclose(f);
}

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void init(void)
{
	static const char minimal[] =
	    "[server]\ntls_cert_file = cert.pem\ntls_key_file = key.pem\n"
	    "[database]\nregister_dsn = host=/tmp dbname=r\nvault_dsn = host=/tmp dbname=v\n"
	    "[paths]\nspool_dir = spool\nfeedback_dir = fb\nkeys_dir = keys\n";
	/* tmpfs when there is one: a file is written for every input */
	snprintf(dir, sizeof dir, "%s/fuzz_config-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof path, "%s/kprd.conf", dir);
	atexit(cleanup);
	log_set_level(LOG_LVL_ERROR); /* reloads log every changed key at info */
	write_file((const uint8_t *)minimal, sizeof minimal - 1);
	char err[512];
	live = config_load(path, err, sizeof err);
	if (!live) {
		fprintf(stderr, "fuzz_config: the minimal config does not load: %s\n", err);
		abort();
	}
	check_invariants(live);
	if (!config_publish(live))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!live)
		init();
	write_file(data, size);
	char err[512];
	err[0] = '\0';
	struct kpr_config *c = config_load(path, err, sizeof err);
	if (!c) {
		/* every refusal says why, naming the file */
		if (!err[0] || !strstr(err, "kprd.conf"))
			abort();
		return 0;
	}
	check_invariants(c);
	if (!config_apply_reload(c))
		abort();
	const struct kpr_config *now = config_acquire();
	check_invariants(now);
	config_release(now);
	config_free(c);
	return 0;
}
