/*
 * proxy_proto.h — the PROXY protocol, version 2 (HAProxy's binary header a
 * load balancer sends before the client's first byte), and the list of
 * addresses kprd believes it from. Pure functions: no sockets, no logging,
 * no allocation, so the parser is tested and fuzzed on bytes alone.
 *
 * Behind a load balancer every connection comes from the balancer's
 * address; the header carries the real client's. kprd reads it only from a
 * peer in server.proxy_trusted_addresses (acceptor.c): from anyone else the
 * bytes would be believed spoofing, so they are not even looked at.
 * Version 1 (the text form) is not accepted.
 */
#ifndef PROXY_PROTO_H
#define PROXY_PROTO_H

#include <stdint.h>
#include <sys/socket.h>

#include "kpr.h"

#define PROXY_V2_SIG_LEN 12
#define PROXY_V2_HDR_LEN 16 /* signature, version/command, family, length */
/* The address block plus TLVs a balancer may send: 216 bytes for AF_UNIX
 * addresses, room for TLVs (ALPN, authority, unique id, CRC) besides. A
 * longer header is refused rather than buffered. */
#define PROXY_V2_MAX_BODY 1024
#define PROXY_V2_MAX_LEN  (PROXY_V2_HDR_LEN + PROXY_V2_MAX_BODY)

enum proxy_result {
	PROXY_NEED_MORE, /* read up to *need bytes in all, then call again */
	PROXY_OK,
	PROXY_BAD,
};

struct proxy_header {
	/* true: the header names no client (LOCAL command — the balancer's own
	 * health check — or an address family that is not IP): the connection
	 * stands for itself and the peer's own address applies */
	bool local;
	struct sockaddr_storage src; /* the client, when !local */
	socklen_t src_len;
	size_t len; /* bytes the header took; the client's bytes follow */
};

/* Parses the first len bytes received on a connection. PROXY_NEED_MORE
 * sets *need to the bytes needed in all (16 until the length field is
 * known, then the whole header), so a reader that never reads past *need
 * leaves the client's first byte (its TLS ClientHello) in the socket.
 * Bytes that can no longer become a valid header are refused as early as
 * possible (a ClientHello fails at its first byte). PROXY_BAD sets *why to
 * a static text for the log. */
enum proxy_result proxy_v2_parse(const unsigned char *buf, size_t len, struct proxy_header *out,
				 size_t *need, const char **why) KPR_WUR;

/* Trusted peers: IPv4/IPv6 addresses or CIDR blocks. */
#define PROXY_TRUST_MAX 32
struct proxy_trust {
	size_t n;
	struct {
		int family; /* AF_INET or AF_INET6 */
		unsigned char addr[16];
		unsigned prefix; /* bits */
	} net[PROXY_TRUST_MAX];
};

/* Parses "10.0.0.5, 10.0.1.0/24 fd00::/8" (commas and/or spaces). An
 * empty list is valid (n = 0: PROXY protocol off). On a malformed entry
 * writes what and where into err and returns false. */
bool proxy_trust_parse(const char *spec, struct proxy_trust *out, char *err, size_t errlen) KPR_WUR;
/* true if sa (AF_INET, AF_INET6; an IPv4-mapped IPv6 address counts as
 * its IPv4 address) lies in one of the blocks. */
bool proxy_trust_contains(const struct proxy_trust *t, const struct sockaddr *sa);

#endif
