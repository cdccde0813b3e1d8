/*
 * fuzz_proxy.c — libFuzzer target for the PROXY protocol v2 parser and the
 * trusted-address list (proxy_proto.h). The bytes are fed as a reader
 * would: every prefix, each asking for no more than the parser said it
 * needs. Invariants: the parser never asks for more than PROXY_V2_MAX_LEN
 * bytes nor for fewer than it has; a header it accepts is exactly the bytes
 * it asked for and names an IPv4 or IPv6 client (or none); a refusal is
 * final (a longer input is refused too) and comes with a reason. The same
 * bytes as text go through proxy_trust_parse: at most PROXY_TRUST_MAX
 * entries with valid prefixes, or a message.
 *
 * Build: make fuzz (build-fuzz/fuzz_proxy); run from the repository root:
 *   build-fuzz/fuzz_proxy -max_total_time=60 tests/fuzz/corpus/proxy
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_header(const uint8_t *data, size_t size)
{
	struct proxy_header h;
	size_t have = 0, need = 0;
	const char *why;
	for (;;) {
		enum proxy_result r = proxy_v2_parse(data, have, &h, &need, &why);
		if (r == PROXY_BAD) {
			if (!why)
				abort();
			/* final: the whole input is refused as well */
			if (proxy_v2_parse(data, size, &h, &need, &why) != PROXY_BAD)
				abort();
			return;
		}
		if (r == PROXY_OK) {
			if (h.len != have) /* exactly the bytes it asked for */
				abort();
			if (!h.local && !((h.src.ss_family == AF_INET && h.src_len == 16) ||
					  (h.src.ss_family == AF_INET6 && h.src_len == 28)))
				abort();
			return;
		}
		if (need <= have || need > PROXY_V2_MAX_LEN)
			abort();
		if (have == size)
			return; /* the connection would wait for more */
		have = need < size ? need : size;
	}
}

static void check_trust(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	struct proxy_trust t;
	char err[200] = "";
	if (proxy_trust_parse(text, &t, err, sizeof err)) {
		if (t.n > PROXY_TRUST_MAX)
			abort();
		for (size_t i = 0; i < t.n; i++)
			if (t.net[i].prefix > (t.net[i].family == AF_INET ? 32u : 128u))
				abort();
	} else if (err[0] == '\0') {
		abort();
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_header(data, size);
	check_trust(data, size);
	return 0;
}
