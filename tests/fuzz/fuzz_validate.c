/*
 * fuzz_validate.c — libFuzzer target for the validation engine: any bytes
 * (plain or gzip) go through validate_file() and the report is iterated.
 * Checks the engine's invariants besides memory safety: the summary adds
 * up, a fatal file loads nothing, every person handed to the sink has an
 * 11-digit national ID and a ref, no message value holds 11 digits.
 *
 * Build (see `make fuzz`):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
 *     -Iserver/include $(pkg-config --cflags libxml-2.0) tests/fuzz/fuzz_validate.c \
 *     server/src/validation/validate*.c server/src/validation/report.c \
 *     server/src/validation/nid.c server/src/validation/codelist.c server/src/validation/rules.c \
 *     $(pkg-config --libs libxml-2.0 zlib) -lpthread -o build-fuzz/fuzz_validate
 * Run from the repository root:
 *   build-fuzz/fuzz_validate -max_total_time=60 tests/fuzz/corpus/validate
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codelist.h"
#include "report.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct codelist *codes;
static char path[64];
static int fd = -1;

static bool on_person(void *ctx, const struct v_person *p)
{
	(void)ctx;
	if (strlen(p->fnr) != 11 || strspn(p->fnr, "0123456789") != 11 || !p->ref || !p->ref[0])
		abort();
	return true;
}

static bool on_retract(void *ctx, const char *ref)
{
	(void)ctx;
	if (!ref)
		abort();
	return true;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t digit_run(const char *v)
{
	size_t n = 0;
	while (is_digit(v[n]))
		n++;
	return n;
}

/* Certainly a national ID whatever the options (written here again from
 * SPEC §3 and R103/R104, not taken from nid.c): an ordinary fødselsnummer
 * of the 1900s (individual number 000-499) with day 1-28, month 1-12 and
 * both control digits right. Narrower than the masking rule, so it never
 * calls a value a candidate that the validator may rightly show. */
static bool certain_id(const char d[11])
{
	static const int w1[9] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
	static const int w2[10] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
	int n[11];
	for (int i = 0; i < 11; i++)
		n[i] = d[i] - '0';
	int day = n[0] * 10 + n[1], month = n[2] * 10 + n[3];
	if (day < 1 || day > 28 || month < 1 || month > 12 || n[6] > 4)
		return false;
	int s1 = 0, s2 = 0;
	for (int i = 0; i < 9; i++)
		s1 += w1[i] * n[i];
	int k1 = 11 - s1 % 11;
	k1 = k1 == 11 ? 0 : k1;
	for (int i = 0; i < 10; i++)
		s2 += w2[i] * (i < 9 ? n[i] : k1);
	int k2 = 11 - s2 % 11;
	k2 = k2 == 11 ? 0 : k2;
	return k1 < 10 && k2 < 10 && k1 == n[9] && k2 == n[10];
}

/* A certain ID in clear: 11 digits in a row (also inside a longer run), or
 * 6 and 5 joined by one space, '-' or '.' */
static bool has_candidate_shape(const char *v)
{
	for (size_t i = 0; v[i]; i++) {
		if (!is_digit(v[i]))
			continue;
		char d[11];
		size_t run = digit_run(v + i);
		if (run >= 11) {
			memcpy(d, v + i, 11);
			if (certain_id(d))
				return true;
		}
		if (run >= 6 && v[i + run] && strchr(" -.", v[i + run]) &&
		    digit_run(v + i + run + 1) >= 5) {
			memcpy(d, v + i + run - 6, 6);
			memcpy(d + 6, v + i + run + 1, 5);
			if (certain_id(d))
				return true;
		}
	}
	return false;
}

static bool visit(void *ctx, const struct vmsg *m)
{
	(void)ctx;
	if (!m->rule || !m->text || !m->ref || !m->path || m->nlines == 0)
		abort();
	/* never a national ID in clear in a value, checked independently of
	 * nid.c (digits apart, as in libxml2's "Bytes: 0xA0 0x65", and 11
	 * digits that fail the control digits are no ID) */
	if (m->value && has_candidate_shape(m->value))
		abort();
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		char err[256];
		codes = codelist_load("config/codelists.csv", err,
				      sizeof err); /* NULL: built-in lists */
		snprintf(path, sizeof path, "/tmp/fuzz_validate-XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		unlink(path);
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	struct validate_params p;
	memset(&p, 0, sizeof p);
	p.codes = codes;
	p.allow_2032 = true;
	p.max_bytes = 1 << 20;
	p.latest_submission_id = size & 1 ? "x" : NULL;
	p.auth_kommune = size & 2 ? "0301" : NULL;
	struct report *r = report_new(NULL);
	if (!r)
		abort();
	struct validate_sink sink = {on_person, on_retract, NULL};
	struct validate_result res;
	if (validate_file(path, &p, &sink, r, &res)) {
		const struct report_summary *s = report_summary_const(r);
		if (s->persons_loaded + s->persons_excluded != s->persons ||
		    s->registrations_loaded + s->registrations_excluded != s->registrations)
			abort();
		if (s->fatal && (s->persons_loaded || s->registrations_loaded))
			abort();
		if (!report_foreach(r, visit, NULL))
			abort();
	}
	report_free(r);
	struct v_header h;
	char err[256];
	(void)validate_peek_header(path, &h, err, sizeof err);
	return 0;
}
