/*
 * acceptor.c — the listening socket and PROXY v2 header reader used when
 * kprd sits behind a load balancer (see acceptor.h). One thread, one
 * poll(2) loop over: a wake-up eventfd, the listening socket, and the
 * connections of trusted peers whose header is not complete yet.
 * Must not: read a byte past the PROXY header, believe a header from a peer
 * that is not trusted, block on one connection, or touch libmicrohttpd
 * (the handoff callback does that).
 */
#include "acceptor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* After accept(2) fails for lack of descriptors or memory, the listening
 * socket is left alone this long (it would poll readable at once again). */
#define ACCEPT_PAUSE_MS 100

struct pending {
	int fd;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	uint64_t deadline; /* ms, monotonic */
	size_t have;
	unsigned char buf[PROXY_V2_MAX_LEN];
};

struct acceptor {
	struct acceptor_params p;
	int listen_fd, wake_fd, port;
	pthread_t thread;
	bool started, stopped;
	uint64_t paused_until;
	struct pending *pending; /* p.max_pending slots, the first npending in use */
	int npending;
	struct pollfd *pfd; /* 2 + p.max_pending */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	const void *a = ss->ss_family == AF_INET6
			    ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
			    : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
	if ((ss->ss_family != AF_INET && ss->ss_family != AF_INET6) ||
	    !inet_ntop(ss->ss_family, a, out, (socklen_t)len))
		snprintf(out, len, "?");
	return out;
}

static void drop_pending(struct acceptor *a, int i)
{
	close(a->pending[i].fd);
	a->pending[i] = a->pending[--a->npending];
}

static void hand_off(struct acceptor *a, int fd, const struct sockaddr_storage *sa, socklen_t len)
{
	a->p.handoff(a->p.cls, fd, (const struct sockaddr *)sa, len);
}

/* Reads what the header still needs; hands the connection on once whole. */
static void read_header(struct acceptor *a, int i)
{
	struct pending *c = &a->pending[i];
	char who[INET6_ADDRSTRLEN];
	for (;;) {
		struct proxy_header h;
		size_t need;
		const char *why;
		enum proxy_result r = proxy_v2_parse(c->buf, c->have, &h, &need, &why);
		if (r == PROXY_OK) {
			int fd = c->fd;
			struct sockaddr_storage sa = h.local ? c->peer : h.src;
			socklen_t len = h.local ? c->peer_len : h.src_len;
			a->pending[i] = a->pending[--a->npending];
			hand_off(a, fd, &sa, len);
			return;
		}
		if (r == PROXY_BAD) {
			log_warn("connection from %s closed: %s",
				 addr_text(&c->peer, who, sizeof who), why);
			drop_pending(a, i);
			return;
		}
		ssize_t n = recv(c->fd, c->buf + c->have, need - c->have, 0);
		if (n > 0) {
			c->have += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		log_info("connection from %s closed before its PROXY header was complete",
			 addr_text(&c->peer, who, sizeof who));
		drop_pending(a, i);
		return;
	}
}

static void add_pending(struct acceptor *a, int fd, const struct sockaddr_storage *sa,
			socklen_t len, uint64_t now)
{
	char who[INET6_ADDRSTRLEN];
	if (a->npending == a->p.max_pending) {
		/* the oldest has had the longest to send its header */
		int oldest = 0;
		for (int i = 1; i < a->npending; i++)
			if (a->pending[i].deadline < a->pending[oldest].deadline)
				oldest = i;
		log_warn("%d connections from trusted peers without a PROXY header yet: "
			 "closing the oldest (from %s)",
			 a->npending, addr_text(&a->pending[oldest].peer, who, sizeof who));
		drop_pending(a, oldest);
	}
	struct pending *c = &a->pending[a->npending++];
	c->fd = fd;
	c->peer = *sa;
	c->peer_len = len;
	c->deadline = now + (uint64_t)a->p.header_timeout_ms;
	c->have = 0;
	/* the balancer sends the header with its first packet: usually whole now */
	read_header(a, a->npending - 1);
}

static void accept_all(struct acceptor *a, uint64_t now)
{
	char who[INET6_ADDRSTRLEN];
	for (;;) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof sa;
		int fd = accept4(a->listen_fd, (struct sockaddr *)&sa, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			log_warn("accept: %s; not accepting for %d ms", strerror(errno),
				 ACCEPT_PAUSE_MS);
			a->paused_until = now + ACCEPT_PAUSE_MS;
			return;
		}
		if (proxy_trust_contains(&a->p.trust, (struct sockaddr *)&sa)) {
			add_pending(a, fd, &sa, len, now);
		} else {
			/* not a balancer: the connection stands for itself, and any
			 * PROXY header it sends is TLS garbage to libmicrohttpd */
			log_debug("connection from %s (not a trusted proxy)",
				  addr_text(&sa, who, sizeof who));
			hand_off(a, fd, &sa, len);
		}
	}
}

static int poll_timeout(struct acceptor *a, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (int i = 0; i < a->npending; i++)
		if (a->pending[i].deadline < next)
			next = a->pending[i].deadline;
	if (a->paused_until > now && a->paused_until < next)
		next = a->paused_until;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
}

static void expire(struct acceptor *a, uint64_t now)
{
	char who[INET6_ADDRSTRLEN];
	for (int i = a->npending - 1; i >= 0; i--) {
		if (a->pending[i].deadline > now)
			continue;
		log_warn("connection from %s closed: no complete PROXY header within %d ms",
			 addr_text(&a->pending[i].peer, who, sizeof who), a->p.header_timeout_ms);
		drop_pending(a, i);
	}
}

static void *acceptor_main(void *arg)
{
	struct acceptor *a = arg;
	for (;;) {
		uint64_t now = now_ms();
		a->pfd[0] = (struct pollfd){.fd = a->wake_fd, .events = POLLIN};
		a->pfd[1] = (struct pollfd){.fd = a->paused_until > now ? -1 : a->listen_fd,
					    .events = POLLIN};
		int n = a->npending;
		for (int i = 0; i < n; i++)
			a->pfd[2 + i] = (struct pollfd){.fd = a->pending[i].fd, .events = POLLIN};
		int r = poll(a->pfd, (nfds_t)(2 + n), poll_timeout(a, now));
		if (r < 0 && errno != EINTR) {
			log_error("acceptor: poll: %s", strerror(errno));
			break;
		}
		if (r > 0 && a->pfd[0].revents)
			break; /* acceptor_stop */
		now = now_ms();
		/* downwards: drop_pending moves the last slot into the dropped one,
		 * and the last has been looked at already */
		for (int i = n - 1; r > 0 && i >= 0; i--)
			if (a->pfd[2 + i].revents)
				read_header(a, i);
		if (r > 0 && a->pfd[1].revents)
			accept_all(a, now);
		expire(a, now);
	}
	return NULL;
}

static bool open_listener(struct acceptor *a, char *err, size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a->p.port)};
	if (inet_pton(AF_INET, a->p.listen_address, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "server.listen_address: \"%s\" is not an IPv4 address",
			 a->p.listen_address);
		return false;
	}
	a->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int on = 1;
	socklen_t len = sizeof sa;
	if (a->listen_fd < 0 ||
	    setsockopt(a->listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
	    bind(a->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(a->listen_fd, SOMAXCONN) != 0 ||
	    getsockname(a->listen_fd, (struct sockaddr *)&sa, &len) != 0) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", a->p.listen_address, a->p.port,
			 strerror(errno));
		return false;
	}
	a->port = ntohs(sa.sin_port);
	return true;
}

struct acceptor *acceptor_start(const struct acceptor_params *p, char *err, size_t errlen)
{
	struct acceptor *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->p = *p;
	a->listen_fd = a->wake_fd = -1;
	if (a->p.max_pending < 1)
		a->p.max_pending = 1;
	a->pending = calloc((size_t)a->p.max_pending, sizeof *a->pending);
	a->pfd = calloc((size_t)a->p.max_pending + 2, sizeof *a->pfd);
	if (!a->pending || !a->pfd) {
		snprintf(err, errlen, "out of memory");
		acceptor_free(a);
		return NULL;
	}
	if (!open_listener(a, err, errlen)) {
		acceptor_free(a);
		return NULL;
	}
	a->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->wake_fd < 0 || pthread_create(&a->thread, NULL, acceptor_main, a) != 0) {
		snprintf(err, errlen, "cannot start the acceptor thread");
		acceptor_free(a);
		return NULL;
	}
	a->started = true;
	return a;
}

int acceptor_port(const struct acceptor *a)
{
	return a ? a->port : 0;
}

void acceptor_stop(struct acceptor *a)
{
	if (!a || a->stopped)
		return;
	a->stopped = true;
	if (a->started) {
		uint64_t one = 1;
		ssize_t w KPR_UNUSED = write(a->wake_fd, &one, sizeof one);
		pthread_join(a->thread, NULL);
	}
	while (a->npending > 0)
		drop_pending(a, a->npending - 1);
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	a->listen_fd = -1;
}

void acceptor_free(struct acceptor *a)
{
	if (!a)
		return;
	acceptor_stop(a);
	if (a->wake_fd >= 0)
		close(a->wake_fd);
	free(a->pending);
	free(a->pfd);
	free(a);
}
