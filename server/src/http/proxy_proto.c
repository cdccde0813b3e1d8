/*
 * proxy_proto.c — PROXY protocol v2 header parser and the trusted-peer list
 * (see proxy_proto.h and the specification, haproxy's
 * doc/proxy-protocol.txt §2.2). Must not: read sockets, log, allocate.
 */
#include "proxy_proto.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char sig[PROXY_V2_SIG_LEN] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
						    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

enum { CMD_LOCAL = 0x0, CMD_PROXY = 0x1 };
enum { FAM_UNSPEC = 0x0, FAM_INET = 0x1, FAM_INET6 = 0x2, FAM_UNIX = 0x3 };
enum { TRANS_UNSPEC = 0x0, TRANS_STREAM = 0x1 };

static enum proxy_result bad(const char **why, const char *text)
{
	*why = text;
	return PROXY_BAD;
}

/* The fixed 16 bytes, as far as they have arrived: each byte is judged as
 * soon as it is there. */
static enum proxy_result check_fixed(const unsigned char *b, size_t len, const char **why)
{
	size_t n = len < PROXY_V2_SIG_LEN ? len : PROXY_V2_SIG_LEN;
	if (memcmp(b, sig, n) != 0)
		return bad(why, "not a PROXY protocol v2 header");
	if (len > 12 && b[12] >> 4 != 2)
		return bad(why, "PROXY protocol version is not 2");
	if (len > 12 && (b[12] & 0x0F) != CMD_LOCAL && (b[12] & 0x0F) != CMD_PROXY)
		return bad(why, "unknown PROXY command");
	if (len > 13 && b[13] >> 4 > FAM_UNIX)
		return bad(why, "unknown PROXY address family");
	if (len > 13 && (b[13] & 0x0F) > 0x2)
		return bad(why, "unknown PROXY transport protocol");
	return PROXY_OK;
}

/* PROXY command, whole header present: the client's address. */
static enum proxy_result read_address(const unsigned char *b, size_t body, struct proxy_header *out,
				      const char **why)
{
	unsigned fam = b[13] >> 4, trans = b[13] & 0x0F;
	const unsigned char *a = b + PROXY_V2_HDR_LEN;
	if (fam == FAM_UNSPEC || fam == FAM_UNIX) {
		/* the spec: accept, and use the connection's own addresses */
		out->local = true;
		return body >= (fam == FAM_UNIX ? 216u : 0u)
			   ? PROXY_OK
			   : bad(why, "PROXY address block too short");
	}
	if (trans != TRANS_STREAM)
		return bad(why, "PROXY header for a datagram connection");
	memset(&out->src, 0, sizeof out->src);
	if (fam == FAM_INET) {
		if (body < 12)
			return bad(why, "PROXY address block too short");
		struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&s->sin_port, a + 8, 2); /* both in network order */
		out->src_len = sizeof *s;
	} else {
		if (body < 36)
			return bad(why, "PROXY address block too short");
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&s->sin6_port, a + 32, 2);
		out->src_len = sizeof *s;
	}
	return PROXY_OK;
}

enum proxy_result proxy_v2_parse(const unsigned char *buf, size_t len, struct proxy_header *out,
				 size_t *need, const char **why)
{
	*why = NULL;
	*need = PROXY_V2_HDR_LEN;
	if (check_fixed(buf, len, why) == PROXY_BAD)
		return PROXY_BAD;
	if (len < PROXY_V2_HDR_LEN)
		return PROXY_NEED_MORE;
	size_t body = (size_t)buf[14] << 8 | buf[15];
	if (body > PROXY_V2_MAX_BODY)
		return bad(why, "PROXY header longer than kprd accepts");
	*need = PROXY_V2_HDR_LEN + body;
	if (len < *need)
		return PROXY_NEED_MORE;
	memset(out, 0, sizeof *out);
	out->len = *need;
	if ((buf[12] & 0x0F) == CMD_LOCAL) {
		/* the balancer speaking for itself (health checks); the address
		 * block, if any, is to be ignored */
		out->local = true;
		return PROXY_OK;
	}
	/* TLVs after the address block carry nothing kprd uses: skipped */
	return read_address(buf, body, out, why);
}

/* One "addr" or "addr/prefix" entry. */
static bool parse_net(const char *tok, struct proxy_trust *t)
{
	char a[64];
	unsigned long prefix = 0;
	const char *slash = strchr(tok, '/');
	size_t alen = slash ? (size_t)(slash - tok) : strlen(tok);
	if (alen == 0 || alen >= sizeof a)
		return false;
	memcpy(a, tok, alen);
	a[alen] = '\0';
	int fam = strchr(a, ':') ? AF_INET6 : AF_INET;
	unsigned maxbits = fam == AF_INET ? 32 : 128;
	if (inet_pton(fam, a, t->net[t->n].addr) != 1)
		return false;
	if (slash) {
		char *end;
		if (!isdigit((unsigned char)slash[1]))
			return false;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end || prefix > maxbits)
			return false;
	} else {
		prefix = maxbits;
	}
	t->net[t->n].family = fam;
	t->net[t->n].prefix = (unsigned)prefix;
	t->n++;
	return true;
}

bool proxy_trust_parse(const char *spec, struct proxy_trust *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	const char *p = spec ? spec : "";
	for (;;) {
		p += strspn(p, ", \t");
		size_t n = strcspn(p, ", \t");
		if (n == 0)
			return true;
		if (out->n == PROXY_TRUST_MAX) {
			snprintf(err, errlen, "more than %d addresses", PROXY_TRUST_MAX);
			return false;
		}
		char tok[128];
		bool ok = n < sizeof tok;
		if (ok) {
			memcpy(tok, p, n);
			tok[n] = '\0';
			ok = parse_net(tok, out);
		}
		if (!ok) {
			snprintf(err, errlen,
				 "\"%.*s\" is not an IPv4 or IPv6 address or address/prefix",
				 (int)(n > 64 ? 64 : n), p);
			return false;
		}
		p += n;
	}
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xFF << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

bool proxy_trust_contains(const struct proxy_trust *t, const struct sockaddr *sa)
{
	unsigned char addr[16];
	int fam;
	if (sa->sa_family == AF_INET) {
		fam = AF_INET;
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			fam = AF_INET;
			memcpy(addr, a6->s6_addr + 12, 4);
		} else {
			fam = AF_INET6;
			memcpy(addr, a6->s6_addr, 16);
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->net[i].family == fam && prefix_equal(addr, t->net[i].addr, t->net[i].prefix))
			return true;
	return false;
}
