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

static bool visit(void *ctx, const struct vmsg *m)
{
	(void)ctx;
	if (!m->rule || !m->text || !m->ref || !m->path || m->nlines == 0)
		abort();
	/* at most 10 digits in clear in a value: never a whole national ID */
	size_t digits = 0;
	for (const char *v = m->value ? m->value : ""; *v; v++)
		if (*v >= '0' && *v <= '9')
			digits++;
	if (digits >= 11)
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
