/*
 * fuzz_router.c — libFuzzer target for the pure request-parsing pieces of
 * the HTTPS front: route matching (http_route_match() against kprd's real
 * route table and against arbitrary patterns) and the upload's Content-Type
 * check (submissions_post.c's static media_type_is_xml(), reached by
 * including that file: it is not exported, and this harness must test the
 * code that runs, not a copy). libmicrohttpd's own HTTP parser is exercised
 * over the wire by tests/integration/test_hostile.sh instead.
 *
 * Checks besides memory safety: a match's {} segment is non-empty, at most
 * 128 bytes, holds no '/', and substituted back into the pattern gives the
 * path exactly; no segment is left allocated on a miss; a recognised media
 * type is application/xml or text/xml up to ';', space or tab.
 *
 * Input: pattern NUL path NUL content-type (missing parts are empty).
 * Build: make fuzz (build-fuzz/fuzz_router); run from the repository root:
 *   build-fuzz/fuzz_router -max_total_time=60 tests/fuzz/corpus/router
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../server/src/api/submissions_post.c" /* media_type_is_xml() */
#include "api.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_match(const char *pattern, const char *path)
{
	char *seg = NULL;
	bool m = http_route_match(pattern, path, &seg);
	if (!m) {
		if (seg)
			abort(); /* a miss leaves nothing allocated */
		return;
	}
	const char *brace = strstr(pattern, "{}");
	if (!brace) {
		if (seg || strcmp(pattern, path))
			abort();
		return;
	}
	/* the matcher consumes the first {} only; compare what it saw */
	if (!seg || !*seg || strlen(seg) > 128 || strchr(seg, '/'))
		abort();
	size_t pre = (size_t)(brace - pattern);
	char *rebuilt = NULL;
	if (asprintf(&rebuilt, "%.*s%s%s", (int)pre, pattern, seg, brace + 2) < 0)
		abort();
	/* patterns with a second {} match it literally against "{}" only if
	 * the path has it; otherwise the rebuilt string equals the path */
	if (!strstr(brace + 2, "{}") && strcmp(rebuilt, path))
		abort();
	free(rebuilt);
	free(seg);
}

static void check_media_type(const char *ct)
{
	bool xml = media_type_is_xml(ct);
	size_t n = strcspn(ct, "; \t");
	bool want = (n == 15 && !strncasecmp(ct, "application/xml", 15)) ||
		    (n == 8 && !strncasecmp(ct, "text/xml", 8));
	if (xml != want)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 3);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = buf[size + 2] = '\0';
	const char *pattern = buf;
	const char *path = pattern + strlen(pattern) + 1;
	if (path > buf + size)
		path = buf + size; /* empty */
	const char *ctype = path + strlen(path) + 1;
	if (ctype > buf + size)
		ctype = buf + size;

	check_match(pattern, path);
	check_match(pattern, pattern);
	/* the real table, with the path as a request would carry it */
	for (size_t i = 0; i < api_routes_len; i++) {
		check_match(api_routes[i].pattern, path);
		check_match(api_routes[i].pattern, pattern);
	}
	check_media_type(ctype);
	check_media_type(pattern);
	(void)media_type_is_xml(NULL);
	free(buf);
	return 0;
}
