/*
 * fuzz_token.c — libFuzzer target for bearer-token parsing: the
 * Authorization header value through auth_parse_bearer() and any bytes
 * through auth_token_well_formed(), both compared with an independent
 * statement of the token grammar ("kpr_" + 43 base64url characters). Also
 * checks that a parsed token points into the header, that hashing is
 * deterministic, and (every 64th input) that a freshly generated token is
 * well formed and parses back out of "Bearer <token>".
 *
 * Build: make fuzz (build-fuzz/fuzz_token); run from the repository root:
 *   build-fuzz/fuzz_token -max_total_time=60 tests/fuzz/corpus/token
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool ref_well_formed(const char *t, size_t n)
{
	if (n != 47 || memcmp(t, "kpr_", 4) != 0)
		return false;
	for (size_t i = 4; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
			    t[i]) ||
		    t[i] == '\0')
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* raw bytes (may hold NULs) for the syntax check */
	if (auth_token_well_formed((const char *)data, size) !=
	    ref_well_formed((const char *)data, size))
		abort();

	/* the header as libmicrohttpd hands it over: NUL-terminated */
	char *h = malloc(size + 1);
	if (!h)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	const char *tok = NULL;
	size_t len = 0;
	bool ok = auth_parse_bearer(h, &tok, &len);
	size_t hl = strlen(h);
	bool want = hl >= 7 && !strncasecmp(h, "Bearer ", 7);
	if (want) {
		size_t i = 7;
		while (h[i] == ' ')
			i++;
		want = ref_well_formed(h + i, hl - i);
	}
	if (ok != want)
		abort();
	if (ok) {
		if (tok < h || tok + len != h + hl || len != AUTH_TOKEN_LEN)
			abort();
		unsigned char a[32], b[32];
		auth_token_hash(tok, len, a);
		auth_token_hash(tok, len, b);
		if (memcmp(a, b, 32))
			abort();
	}
	free(h);

	if (size % 64 == 0) {
		char t[AUTH_TOKEN_LEN + 1], hdr[80];
		if (!auth_token_generate(t) || !ref_well_formed(t, strlen(t)))
			abort();
		snprintf(hdr, sizeof hdr, "bEaReR   %s", t);
		if (!auth_parse_bearer(hdr, &tok, &len) || strcmp(tok, t))
			abort();
	}
	if (auth_parse_bearer(NULL, &tok, &len))
		abort();
	return 0;
}
