/*
 * acceptor.h — kprd's own listening socket, used instead of
 * libmicrohttpd's when the PROXY protocol is on (server.proxy_trusted_addresses).
 * One thread accepts connections and hands each one on with the address it
 * stands for: a peer that is not trusted at once, with its own address; a
 * trusted peer (the load balancer) only after its PROXY v2 header has been
 * read, with the client's address from the header. The header is read with
 * non-blocking sockets and a deadline, never past its last byte, so the
 * client's TLS bytes stay in the socket for libmicrohttpd, and a silent or
 * slow connection cannot hold up the others.
 */
#ifndef ACCEPTOR_H
#define ACCEPTOR_H

#include <sys/socket.h>

#include "kpr.h"
#include "proxy_proto.h"

/* Takes ownership of fd (non-blocking, close-on-exec) in every case. */
typedef void (*acceptor_handoff_fn)(void *cls, int fd, const struct sockaddr *addr,
				    socklen_t addrlen);

struct acceptor_params {
	const char *listen_address; /* IPv4 literal */
	int port;                   /* 0: any free port (tests; see acceptor_port) */
	struct proxy_trust trust;   /* peers whose PROXY header is read (and required) */
	int header_timeout_ms;      /* a trusted peer's header must be complete by then */
	int max_pending;            /* headers being read at once; the oldest gives way */
	acceptor_handoff_fn handoff;
	void *cls;
};

struct acceptor;

/* Binds, listens and starts the thread; NULL with a reason in err. */
struct acceptor *acceptor_start(const struct acceptor_params *p, char *err, size_t errlen) KPR_WUR;
/* The port actually bound. */
int acceptor_port(const struct acceptor *a);
/* Stops accepting: joins the thread, closes the listening socket and every
 * connection whose header was still being read. Idempotent; NULL is fine. */
void acceptor_stop(struct acceptor *a);
/* acceptor_stop, then frees. */
void acceptor_free(struct acceptor *a);

#endif
