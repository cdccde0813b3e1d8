/*
 * check_proxy_proto.c — the PROXY protocol v2 parser (valid IPv4 and IPv6
 * headers with and without TLVs, LOCAL, byte-by-byte arrival, truncated,
 * bad signature, version, command, family, oversized length), the trusted
 * address list, and the acceptor over real loopback sockets: a trusted
 * peer's header is read and never a byte more, an untrusted peer's
 * "header" is not believed, a trusted peer without a header is closed, and
 * a silent connection neither holds up others nor lives past its deadline.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acceptor.h"
#include "check_main.h"
#include "proxy_proto.h"

static const unsigned char SIG[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* A header: version/command byte, family byte, body. */
static size_t make_hdr(unsigned char *out, unsigned char vc, unsigned char fam,
		       const unsigned char *body, size_t blen)
{
	memcpy(out, SIG, 12);
	out[12] = vc;
	out[13] = fam;
	out[14] = (unsigned char)(blen >> 8);
	out[15] = (unsigned char)blen;
	if (blen)
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

/* PROXY TCP4 src:sport -> 10.0.0.1:8443, then extra bytes of TLVs */
static size_t v4_hdr(unsigned char *out, const char *src, unsigned sport, size_t tlv)
{
	unsigned char b[12 + 64] = {0};
	inet_pton(AF_INET, src, b);
	inet_pton(AF_INET, "10.0.0.1", b + 4);
	b[8] = (unsigned char)(sport >> 8);
	b[9] = (unsigned char)sport;
	b[10] = 8443 >> 8;
	b[11] = 8443 & 0xFF;
	if (tlv) { /* a PP2_TYPE_NOOP TLV with tlv - 3 bytes of padding */
		b[12] = 0x04;
		b[13] = (unsigned char)((tlv - 3) >> 8);
		b[14] = (unsigned char)(tlv - 3);
	}
	return make_hdr(out, 0x21, 0x11, b, 12 + tlv);
}

static enum proxy_result parse(const unsigned char *b, size_t len, struct proxy_header *h,
			       size_t *need, const char **why)
{
	return proxy_v2_parse(b, len, h, need, why);
}

START_TEST(valid_ipv4)
{
	unsigned char b[PROXY_V2_MAX_LEN];
	size_t len = v4_hdr(b, "192.0.2.7", 50123, 0);
	struct proxy_header h;
	size_t need;
	const char *why;
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_OK);
	ck_assert_uint_eq(h.len, 28);
	ck_assert(!h.local);
	const struct sockaddr_in *s = (const struct sockaddr_in *)&h.src;
	ck_assert_int_eq(s->sin_family, AF_INET);
	ck_assert_uint_eq(h.src_len, sizeof *s);
	char txt[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &s->sin_addr, txt, sizeof txt);
	ck_assert_str_eq(txt, "192.0.2.7");
	ck_assert_uint_eq(ntohs(s->sin_port), 50123);
	/* bytes after the header (the ClientHello) are not part of it */
	b[len] = 0x16;
	ck_assert_int_eq(parse(b, len + 1, &h, &need, &why), PROXY_OK);
	ck_assert_uint_eq(h.len, 28);
	/* TLVs after the address block are skipped */
	len = v4_hdr(b, "192.0.2.8", 1, 40);
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_OK);
	ck_assert_uint_eq(h.len, 16 + 12 + 40);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&h.src)->sin_addr, txt, sizeof txt);
	ck_assert_str_eq(txt, "192.0.2.8");
}
END_TEST

START_TEST(valid_ipv6)
{
	unsigned char body[36] = {0}, b[64];
	inet_pton(AF_INET6, "2001:db8::42", body);
	inet_pton(AF_INET6, "2001:db8::1", body + 16);
	body[32] = 0xC3;
	body[33] = 0x50; /* port 50000 */
	size_t len = make_hdr(b, 0x21, 0x21, body, sizeof body);
	struct proxy_header h;
	size_t need;
	const char *why;
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_OK);
	ck_assert_uint_eq(h.len, 52);
	const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&h.src;
	ck_assert_int_eq(s->sin6_family, AF_INET6);
	ck_assert_uint_eq(h.src_len, sizeof *s);
	char txt[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &s->sin6_addr, txt, sizeof txt);
	ck_assert_str_eq(txt, "2001:db8::42");
	ck_assert_uint_eq(ntohs(s->sin6_port), 50000);
}
END_TEST

START_TEST(local_and_unspec)
{
	unsigned char b[64];
	struct proxy_header h;
	size_t need;
	const char *why;
	/* LOCAL (HAProxy's health checks): no address, the peer stands for itself */
	size_t len = make_hdr(b, 0x20, 0x00, NULL, 0);
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_OK);
	ck_assert(h.local);
	ck_assert_uint_eq(h.len, 16);
	/* LOCAL with an address block: the block is ignored */
	len = v4_hdr(b, "192.0.2.9", 1, 0);
	b[12] = 0x20;
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_OK);
	ck_assert(h.local);
	ck_assert_uint_eq(h.len, 28);
	/* PROXY with an unspecified family: accepted, the peer's address applies */
	len = make_hdr(b, 0x21, 0x00, NULL, 0);
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_OK);
	ck_assert(h.local);
}
END_TEST

START_TEST(byte_by_byte)
{
	unsigned char b[PROXY_V2_MAX_LEN];
	size_t len = v4_hdr(b, "198.51.100.3", 7, 5);
	struct proxy_header h;
	const char *why;
	for (size_t have = 0; have < len; have++) {
		size_t need = 0;
		ck_assert_int_eq(parse(b, have, &h, &need, &why), PROXY_NEED_MORE);
		/* never asks for a byte past the header */
		ck_assert_uint_eq(need, have < 16 ? 16 : len);
	}
	size_t need;
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_OK);
}
END_TEST

START_TEST(truncated_address_block)
{
	unsigned char b[64], body[36] = {0};
	struct proxy_header h;
	size_t need;
	const char *why;
	/* the length says 8, but TCP4 needs 12 */
	size_t len = make_hdr(b, 0x21, 0x11, body, 8);
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_BAD);
	ck_assert_ptr_nonnull(why);
	len = make_hdr(b, 0x21, 0x21, body, 20); /* TCP6 needs 36 */
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_BAD);
	len = make_hdr(b, 0x21, 0x31, body, 36); /* UNIX needs 216 */
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_BAD);
}
END_TEST

START_TEST(bad_signature)
{
	unsigned char b[PROXY_V2_MAX_LEN];
	struct proxy_header h;
	size_t need;
	const char *why;
	/* a TLS ClientHello is refused at its first byte */
	const unsigned char hello[] = {0x16, 0x03, 0x01, 0x02, 0x00};
	ck_assert_int_eq(parse(hello, 1, &h, &need, &why), PROXY_BAD);
	ck_assert_int_eq(parse(hello, sizeof hello, &h, &need, &why), PROXY_BAD);
	/* PROXY protocol v1 (text) is not accepted */
	const char *v1 = "PROXY TCP4 192.0.2.1 10.0.0.1 5000 8443\r\n";
	ck_assert_int_eq(parse((const unsigned char *)v1, strlen(v1), &h, &need, &why), PROXY_BAD);
	/* one wrong byte anywhere in the signature */
	for (size_t i = 0; i < 12; i++) {
		size_t len = v4_hdr(b, "192.0.2.7", 1, 0);
		b[i] ^= 0x40;
		ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_BAD);
		ck_assert_int_eq(parse(b, i + 1, &h, &need, &why), PROXY_BAD);
	}
}
END_TEST

START_TEST(bad_version_command_family)
{
	unsigned char b[PROXY_V2_MAX_LEN];
	struct proxy_header h;
	size_t need;
	const char *why;
	size_t len = v4_hdr(b, "192.0.2.7", 1, 0);
	b[12] = 0x11; /* version 1 in the binary form */
	ck_assert_int_eq(parse(b, 13, &h, &need, &why), PROXY_BAD);
	b[12] = 0x31; /* version 3 */
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_BAD);
	b[12] = 0x22; /* command 2 */
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_BAD);
	b[12] = 0x21;
	b[13] = 0x41; /* family 4 */
	ck_assert_int_eq(parse(b, 14, &h, &need, &why), PROXY_BAD);
	b[13] = 0x13; /* transport 3 */
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_BAD);
	b[13] = 0x12; /* UDP over IPv4: not a TCP connection's header */
	ck_assert_int_eq(parse(b, len, &h, &need, &why), PROXY_BAD);
}
END_TEST

START_TEST(oversized_length)
{
	unsigned char b[16];
	struct proxy_header h;
	size_t need;
	const char *why;
	make_hdr(b, 0x21, 0x11, NULL, 0);
	b[14] = 0xFF;
	b[15] = 0xFF; /* 65535 bytes announced */
	ck_assert_int_eq(parse(b, 16, &h, &need, &why), PROXY_BAD);
	ck_assert_ptr_nonnull(why);
	b[14] = (PROXY_V2_MAX_BODY + 1) >> 8;
	b[15] = (PROXY_V2_MAX_BODY + 1) & 0xFF;
	ck_assert_int_eq(parse(b, 16, &h, &need, &why), PROXY_BAD);
	b[14] = PROXY_V2_MAX_BODY >> 8;
	b[15] = PROXY_V2_MAX_BODY & 0xFF;
	ck_assert_int_eq(parse(b, 16, &h, &need, &why), PROXY_NEED_MORE);
	ck_assert_uint_eq(need, PROXY_V2_MAX_LEN);
}
END_TEST

static struct sockaddr_storage sa_of(const char *text)
{
	struct sockaddr_storage ss = {0};
	if (strchr(text, ':')) {
		ss.ss_family = AF_INET6;
		inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr);
	} else {
		ss.ss_family = AF_INET;
		inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr);
	}
	return ss;
}

static bool trusts(const struct proxy_trust *t, const char *addr)
{
	struct sockaddr_storage ss = sa_of(addr);
	return proxy_trust_contains(t, (struct sockaddr *)&ss);
}

START_TEST(trust_list)
{
	struct proxy_trust t;
	char err[200];
	ck_assert(proxy_trust_parse("", &t, err, sizeof err));
	ck_assert_uint_eq(t.n, 0);
	ck_assert(!trusts(&t, "127.0.0.1"));
	ck_assert(proxy_trust_parse("10.0.0.5, 10.0.1.0/24 fd00::/8,\t192.0.2.128/25", &t, err,
				    sizeof err));
	ck_assert_uint_eq(t.n, 4);
	ck_assert(trusts(&t, "10.0.0.5"));
	ck_assert(!trusts(&t, "10.0.0.6"));
	ck_assert(trusts(&t, "10.0.1.200"));
	ck_assert(!trusts(&t, "10.0.2.1"));
	ck_assert(trusts(&t, "fd12::1"));
	ck_assert(!trusts(&t, "fe80::1"));
	ck_assert(trusts(&t, "192.0.2.200"));
	ck_assert(!trusts(&t, "192.0.2.127"));
	ck_assert(trusts(&t, "::ffff:10.0.0.5")); /* IPv4-mapped counts as IPv4 */
	ck_assert(proxy_trust_parse("0.0.0.0/0", &t, err, sizeof err));
	ck_assert(trusts(&t, "203.0.113.1"));
	const char *bad[] = {"10.0.0",     "10.0.0.1/33",  "10.0.0.1/", "10.0.0.1/-1",
			     "fd00::/129", "host.example", "/24",       "10.0.0.1/8x"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		ck_assert_msg(!proxy_trust_parse(bad[i], &t, err, sizeof err), "%s", bad[i]);
		ck_assert_msg(strstr(err, "not an IPv4 or IPv6") != NULL, "%s: %s", bad[i], err);
	}
	char many[40 * 12] = "";
	for (int i = 0; i < PROXY_TRUST_MAX + 1; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "10.0.0.%d ", i);
	ck_assert(!proxy_trust_parse(many, &t, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "more than"));
}
END_TEST

/* --- the acceptor over loopback sockets ------------------------------- */

struct handed {
	pthread_mutex_t mu;
	int n;
	int fd[8];
	struct sockaddr_storage sa[8];
};

static void record(void *cls, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct handed *h = cls;
	pthread_mutex_lock(&h->mu);
	if (h->n < 8) {
		h->fd[h->n] = fd;
		memcpy(&h->sa[h->n], sa, len);
		h->n++;
	} else {
		close(fd);
	}
	pthread_mutex_unlock(&h->mu);
}

static int handed_count(struct handed *h)
{
	pthread_mutex_lock(&h->mu);
	int n = h->n;
	pthread_mutex_unlock(&h->mu);
	return n;
}

/* Polls until n connections were handed over; false after 5 s. */
static bool wait_handed(struct handed *h, int n)
{
	for (int i = 0; i < 500; i++) {
		if (handed_count(h) >= n)
			return true;
		usleep(10000);
	}
	return false;
}

static struct acceptor *start(struct handed *h, const char *trusted, int timeout_ms)
{
	memset(h, 0, sizeof *h);
	pthread_mutex_init(&h->mu, NULL);
	struct acceptor_params p = {.listen_address = "127.0.0.1",
				    .port = 0,
				    .header_timeout_ms = timeout_ms,
				    .max_pending = 4,
				    .handoff = record,
				    .cls = h};
	char err[200];
	ck_assert(proxy_trust_parse(trusted, &p.trust, err, sizeof err));
	struct acceptor *a = acceptor_start(&p, err, sizeof err);
	ck_assert_msg(a != NULL, "%s", err);
	return a;
}

static int connect_from(const char *src, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in me = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
	inet_pton(AF_INET, src, &me.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	to.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&me, sizeof me), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&to, sizeof to), 0);
	return fd;
}

static const char *text_of(const struct sockaddr_storage *ss, char *out, size_t len)
{
	return inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, (socklen_t)len);
}

/* What the handed-over socket still holds for the application. */
static void expect_payload(int fd, const char *payload)
{
	char got[64] = "";
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ssize_t n = recv(fd, got, sizeof got - 1, 0);
	ck_assert_int_eq(n, (ssize_t)strlen(payload));
	got[n] = '\0';
	ck_assert_str_eq(got, payload);
}

START_TEST(acceptor_reads_trusted_header_only)
{
	struct handed h;
	struct acceptor *a = start(&h, "127.0.0.9", 5000);
	int port = acceptor_port(a);
	ck_assert_int_gt(port, 0);
	unsigned char b[PROXY_V2_MAX_LEN + 16];
	char txt[INET_ADDRSTRLEN];

	/* trusted: header and first client bytes in one send; the client's
	 * address is handed on, and every byte after the header is left */
	int c1 = connect_from("127.0.0.9", port);
	size_t len = v4_hdr(b, "192.0.2.77", 40000, 7);
	memcpy(b + len, "HELLO", 5);
	ck_assert_int_eq(send(c1, b, len + 5, 0), (ssize_t)len + 5);
	ck_assert(wait_handed(&h, 1));
	ck_assert_str_eq(text_of(&h.sa[0], txt, sizeof txt), "192.0.2.77");
	expect_payload(h.fd[0], "HELLO");

	/* not trusted: the same header is not read, let alone believed */
	int c2 = connect_from("127.0.0.3", port);
	ck_assert_int_eq(send(c2, b, len + 5, 0), (ssize_t)len + 5);
	ck_assert(wait_handed(&h, 2));
	ck_assert_str_eq(text_of(&h.sa[1], txt, sizeof txt), "127.0.0.3");
	char first[16];
	struct pollfd p = {.fd = h.fd[1], .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert_int_ge(recv(h.fd[1], first, 12, MSG_WAITALL), 12);
	ck_assert(memcmp(first, SIG, 12) == 0);

	/* LOCAL (a health check): the balancer's own address */
	int c3 = connect_from("127.0.0.9", port);
	len = make_hdr(b, 0x20, 0x00, NULL, 0);
	ck_assert_int_eq(send(c3, b, len, 0), (ssize_t)len);
	ck_assert(wait_handed(&h, 3));
	ck_assert_str_eq(text_of(&h.sa[2], txt, sizeof txt), "127.0.0.9");

	/* the header in pieces, slower than one packet */
	int c4 = connect_from("127.0.0.9", port);
	len = v4_hdr(b, "198.51.100.4", 1, 0);
	memcpy(b + len, "X", 1);
	ck_assert_int_eq(send(c4, b, 10, 0), 10);
	usleep(50000);
	ck_assert_int_eq(handed_count(&h), 3);
	ck_assert_int_eq(send(c4, b + 10, len + 1 - 10, 0), (ssize_t)(len + 1 - 10));
	ck_assert(wait_handed(&h, 4));
	ck_assert_str_eq(text_of(&h.sa[3], txt, sizeof txt), "198.51.100.4");
	expect_payload(h.fd[3], "X");

	acceptor_free(a);
	int fds[] = {c1, c2, c3, c4};
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	for (int i = 0; i < h.n; i++)
		close(h.fd[i]);
}
END_TEST

/* true once the peer has closed fd (EOF or reset) within ms */
static bool closed_within(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, ms) != 1)
		return false;
	char c;
	return recv(fd, &c, 1, 0) <= 0;
}

START_TEST(acceptor_refuses_and_times_out)
{
	struct handed h;
	struct acceptor *a = start(&h, "127.0.0.0/8", 300);
	int port = acceptor_port(a);
	unsigned char b[64];

	/* a trusted peer speaking TLS straight away: closed, not handed on */
	int c1 = connect_from("127.0.0.9", port);
	const unsigned char hello[] = {0x16, 0x03, 0x01, 0x00, 0x10};
	ck_assert_int_eq(send(c1, hello, sizeof hello, 0), (ssize_t)sizeof hello);
	ck_assert(closed_within(c1, 2000));

	/* a silent trusted peer does not hold up the next one, and is closed
	 * at its deadline */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int silent = connect_from("127.0.0.9", port);
	int c2 = connect_from("127.0.0.9", port);
	size_t len = v4_hdr(b, "192.0.2.5", 1, 0);
	ck_assert_int_eq(send(c2, b, len, 0), (ssize_t)len);
	ck_assert(wait_handed(&h, 1));
	ck_assert(closed_within(silent, 3000));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(s >= 0.25, "closed after %.3f s, before its deadline", s);

	/* an oversized header is refused from its length field on */
	int c3 = connect_from("127.0.0.9", port);
	make_hdr(b, 0x21, 0x11, NULL, 0);
	b[14] = 0xFF;
	ck_assert_int_eq(send(c3, b, 16, 0), 16);
	ck_assert(closed_within(c3, 2000));

	acceptor_free(a);
	int fds[] = {c1, silent, c2, c3};
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		close(fds[i]);
	close(h.fd[0]);
}
END_TEST

START_TEST(acceptor_bounds_pending)
{
	struct handed h;
	struct acceptor *a = start(&h, "127.0.0.9", 60000);
	int port = acceptor_port(a);
	/* more silent peers than max_pending (4): the oldest gives way long
	 * before its deadline, the others stay */
	int q[5];
	for (int i = 0; i < 5; i++) {
		q[i] = connect_from("127.0.0.9", port);
		if (i < 4)
			usleep(20000); /* distinct deadlines, so "oldest" is q[0] */
	}
	ck_assert(closed_within(q[0], 5000));
	for (int i = 1; i < 5; i++)
		ck_assert(!closed_within(q[i], 50));
	ck_assert_int_eq(handed_count(&h), 0);
	acceptor_free(a); /* closes the rest */
	for (int i = 1; i < 5; i++)
		ck_assert(closed_within(q[i], 2000));
	for (int i = 0; i < 5; i++)
		close(q[i]);
}
END_TEST

START_TEST(acceptor_bad_address)
{
	struct acceptor_params p = {.listen_address = "localhost", .port = 0, .max_pending = 1};
	char err[200];
	ck_assert_ptr_null(acceptor_start(&p, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "not an IPv4 address"));
	acceptor_stop(NULL);
	acceptor_free(NULL);
}
END_TEST

static Suite *proxy_suite(void)
{
	Suite *s = suite_create("proxy_proto");
	TCase *tc = tcase_create("parser");
	tcase_add_test(tc, valid_ipv4);
	tcase_add_test(tc, valid_ipv6);
	tcase_add_test(tc, local_and_unspec);
	tcase_add_test(tc, byte_by_byte);
	tcase_add_test(tc, truncated_address_block);
	tcase_add_test(tc, bad_signature);
	tcase_add_test(tc, bad_version_command_family);
	tcase_add_test(tc, oversized_length);
	tcase_add_test(tc, trust_list);
	suite_add_tcase(s, tc);
	TCase *ta = tcase_create("acceptor");
	tcase_set_timeout(ta, 30);
	tcase_add_test(ta, acceptor_reads_trusted_header_only);
	tcase_add_test(ta, acceptor_refuses_and_times_out);
	tcase_add_test(ta, acceptor_bounds_pending);
	tcase_add_test(ta, acceptor_bad_address);
	suite_add_tcase(s, ta);
	return s;
}

KPR_CHECK_MAIN(proxy_suite)
