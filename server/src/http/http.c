/*
 * http.c — libmicrohttpd setup and the request life cycle:
 *   URI log callback  → request state allocated, request id drawn
 *   first access call → route, method, authentication (a token the cache
 *                       lacks suspends the request once, until a reload:
 *                       auth.h; MHD then repeats this call); then the handler
 *   later calls       → the handler again (body chunks), or a deferred
 *                       response prepared by a dbpool thread is queued
 *   completion        → one log line; request state freed (only here)
 * Must not: touch the database, or free request state anywhere else.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acceptor.h"
#include "auth.h"
#include "config.h"
#include "dbpool.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "hex.h"
#include "files.h"

struct http_server {
	struct MHD_Daemon *daemon;
	struct acceptor *acceptor; /* behind a load balancer (PROXY protocol) only */
	struct app *app;
	const struct http_route *routes; /* the route table (api/routes.c, given by main.c) */
	size_t nroutes;
	char *cert_pem, *key_pem;
};

/* A trusted balancer's PROXY header comes with its first packet; this is
 * the most a connection may take to send it. */
#define PROXY_HEADER_TIMEOUT_MS 5000
#define PROXY_MAX_PENDING       256

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void new_request_id(char out[33])
{
	unsigned char b[16];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		uint64_t t = now_ns();
		memcpy(b, &t, sizeof t);
		memcpy(b + 8, &t, sizeof t);
	}
	hex_encode(b, sizeof b, out);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *s = cls;
	struct http_request *rq = calloc(1, sizeof *rq);
	if (!rq)
		return NULL;
	new_request_id(rq->id);
	rq->conn = conn;
	rq->app = s->app;
	rq->cfg = config_acquire();
	rq->started_ns = now_ns();
	/* the path only: query strings are parsed by MHD and never logged */
	size_t plen = strcspn(uri, "?");
	rq->path = strndup(uri, plen);
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
				  rq->client_addr, sizeof rq->client_addr);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
				  rq->client_addr, sizeof rq->client_addr);
	}
	return rq;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	struct http_request *rq = *con_cls;
	if (!rq)
		return;
	double ms = (double)(now_ns() - rq->started_ns) / 1e6;
	const char *route = rq->route ? rq->route->name : "unrouted";
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK || rq->answered_early)
		rlog_info(rq->id, "%s %s %u %.1fms from %s%s", rq->method,
			  rq->path ? rq->path : "?", rq->response_status, ms, rq->client_addr,
			  rq->answered_early ? " (answered mid-body)" : "");
	else
		rlog_info(rq->id, "%s %s aborted (%d) after %.1fms from %s", rq->method,
			  rq->path ? rq->path : "?", (int)toe, ms, rq->client_addr);
	metrics_http_request(route, rq->response_status,
			     toe == MHD_REQUEST_TERMINATED_COMPLETED_OK || rq->answered_early);
	if (rq->state_free)
		rq->state_free(rq->state);
	if (rq->response)
		MHD_destroy_response(rq->response);
	free(rq->segment);
	free(rq->path);
	config_release(rq->cfg);
	free(rq);
	*con_cls = NULL;
}

void http_add_common_headers(struct http_request *rq, struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "X-Request-Id", rq->id);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* API answers are never cached; static files set their own policy */
	if (!MHD_get_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL))
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (rq->cfg && rq->cfg->hsts_max_age > 0) {
		char v[64];
		snprintf(v, sizeof v, "max-age=%d", rq->cfg->hsts_max_age);
		MHD_add_response_header(resp, "Strict-Transport-Security", v);
	}
}

enum MHD_Result http_reply_response(struct http_request *rq, unsigned status,
				    struct MHD_Response *resp)
{
	if (!resp) {
		if (!rq->suspended)
			return MHD_NO;
		/* out of memory on a dbpool thread: the connection must still be resumed */
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (!resp) {
			rq->suspended = false;
			rq->failed = true; /* on_access closes the connection */
			*rq->deferred_answered = true;
			MHD_resume_connection(rq->conn);
			return MHD_NO;
		}
	}
	http_add_common_headers(rq, resp);
	rq->response_status = status;
	rq->responded = true;
	if (rq->suspended) {
		/* deferred: hand the response to the MHD thread, then wake it; from
		 * the resume on, rq may be freed at any moment by the MHD thread */
		rq->response = resp;
		rq->suspended = false;
		*rq->deferred_answered = true;
		MHD_resume_connection(rq->conn);
		return MHD_YES;
	}
	enum MHD_Result r = MHD_queue_response(rq->conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

enum MHD_Result http_reply_buffer(struct http_request *rq, unsigned status, const char *ctype,
				  const void *data, size_t len)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	return http_reply_response(rq, status, resp);
}

struct MHD_Response *http_json_response(json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (!text)
		return NULL;
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return resp;
}

enum MHD_Result http_reply_json(struct http_request *rq, unsigned status, json_t *body)
{
	return http_reply_response(rq, status, http_json_response(body));
}

static json_t *error_body(struct http_request *rq, const struct kpr_error_def *d,
			  const char *message, json_t *detail)
{
	return json_pack("{s:s, s:s, s:o, s:s}", "code", d->code, "message",
			 message ? message : d->message, "detail", detail ? detail : json_null(),
			 "request_id", rq->id);
}

enum MHD_Result http_reply_error_retry(struct http_request *rq, enum kpr_error e, int seconds)
{
	const struct kpr_error_def *d = kpr_error_get(e);
	struct MHD_Response *resp = http_json_response(error_body(rq, d, NULL, NULL));
	if (!resp)
		return MHD_NO;
	char v[16];
	snprintf(v, sizeof v, "%d", seconds);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
	return http_reply_response(rq, d->http_status, resp);
}

enum MHD_Result http_reply_error_json(struct http_request *rq, enum kpr_error e,
				      const char *message, json_t *detail)
{
	const struct kpr_error_def *d = kpr_error_get(e);
	return http_reply_json(rq, d->http_status, error_body(rq, d, message, detail));
}

enum MHD_Result http_reply_error(struct http_request *rq, enum kpr_error e, const char *detail)
{
	return http_reply_error_json(rq, e, NULL, detail ? json_string(detail) : NULL);
}

enum MHD_Result http_reply_fd(struct http_request *rq, unsigned status, const char *ctype, int fd,
			      uint64_t size, const char *disposition)
{
	struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (disposition)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition);
	return http_reply_response(rq, status, resp);
}

/* --- answers in the middle of a body ------------------------------------
 * libmicrohttpd 0.9.75 (and 1.0) queues a response only before the body is
 * read or after all of it has arrived; a client sending an endless chunked
 * body, or trickling one, would never hear why it was cut off. The answer
 * is written here on the MHD thread that owns the connection, while
 * libmicrohttpd itself is between reads and writes nothing (it has no
 * response), then the sending side is closed. */
#define EARLY_DRAIN_LIMIT (1u << 20)

static bool send_raw(struct MHD_Connection *conn, const char *p, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t tls = ci ? (gnutls_session_t)ci->tls_session : NULL;
	const union MHD_ConnectionInfo *fi =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!tls && !fi)
		return false;
	/* the socket is non-blocking. A few hundred bytes fit the send buffer
	 * of a connection that has only been read from; if it is full all the
	 * same (a client that reads nothing), give up after 0.2 s rather than
	 * hold this MHD thread. gnutls wants the same data again after AGAIN. */
	for (int tries = 0; len > 0 && tries < 20; tries++) {
		ssize_t w = tls ? gnutls_record_send(tls, p, len)
				: send(fi->connect_fd, p, len, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
		} else if (tls ? (w != GNUTLS_E_AGAIN && w != GNUTLS_E_INTERRUPTED)
			       : (errno != EAGAIN && errno != EINTR)) {
			return false;
		} else if (fi) {
			struct pollfd pfd = {.fd = fi->connect_fd, .events = POLLOUT};
			(void)poll(&pfd, 1, 10);
		}
	}
	if (len > 0)
		return false;
	if (tls)
		(void)gnutls_bye(tls, GNUTLS_SHUT_WR); /* close_notify: the client reads EOF */
	else
		(void)shutdown(fi->connect_fd, SHUT_WR);
	return true;
}

enum MHD_Result http_reply_error_now(struct http_request *rq, enum kpr_error e, const char *detail)
{
	const struct kpr_error_def *d = kpr_error_get(e);
	char *body = json_dumps(error_body(rq, d, NULL, detail ? json_string(detail) : NULL),
				JSON_COMPACT | JSON_ENSURE_ASCII);
	char date[64] = "", hsts[64] = "", *msg = NULL;
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm))
		strftime(date, sizeof date, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
	if (rq->cfg && rq->cfg->hsts_max_age > 0)
		snprintf(hsts, sizeof hsts, "Strict-Transport-Security: max-age=%d\r\n",
			 rq->cfg->hsts_max_age);
	const char *reason = MHD_get_reason_phrase_for(d->http_status);
	/* the headers http_add_common_headers adds, and the JSON error body */
	int len =
	    body ? asprintf(&msg,
			    "HTTP/1.1 %u %s\r\n%sConnection: close\r\n"
			    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			    "X-Request-Id: %s\r\nX-Content-Type-Options: nosniff\r\n"
			    "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n%s\r\n%s",
			    d->http_status, reason && *reason ? reason : "Error", date,
			    strlen(body), rq->id, hsts, body)
		 : -1;
	bool sent = len > 0 && send_raw(rq->conn, msg, (size_t)len);
	free(msg);
	free(body);
	rq->responded = true;
	rq->answered_early = sent;
	rq->response_status = d->http_status;
	return sent ? MHD_YES : MHD_NO; /* unsent: the connection is closed without an answer */
}

struct deferred {
	struct http_request *rq;
	http_deferred_fn fn;
	bool answered; /* set by the reply helper; lives here because rq may be freed */
};

static void run_deferred(struct db *db, void *arg)
{
	struct deferred *d = arg;
	struct http_request *rq = d->rq;
	d->rq->deferred_answered = &d->answered;
	d->fn(rq, db);
	if (!d->answered) {
		/* a handler that forgot to answer must not hang the client */
		rlog_error(rq->id, "deferred handler %s did not answer",
			   rq->route ? rq->route->name : "?");
		(void)http_reply_error(rq, KPR_E_INTERNAL, NULL);
	}
	free(d);
}

enum MHD_Result http_defer(struct http_request *rq, http_deferred_fn fn)
{
	struct deferred *d = malloc(sizeof *d);
	if (!d)
		return http_reply_error(rq, KPR_E_INTERNAL, NULL);
	d->rq = rq;
	d->fn = fn;
	d->answered = false;
	/* suspend before the task can possibly resume */
	rq->suspended = true;
	MHD_suspend_connection(rq->conn);
	if (!dbpool_submit(rq->app->dbpool, run_deferred, d)) {
		free(d);
		bool answered = false;
		rq->deferred_answered = &answered; /* written synchronously below */
		(void)http_reply_error(rq, KPR_E_NOT_READY, "server busy or stopping");
		rq->deferred_answered = NULL;
		return MHD_YES;
	}
	return MHD_YES;
}

const char *http_query(struct http_request *rq, const char *key)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(struct http_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

/* "/api/v1/submissions/{}" against a path: {} takes one non-empty segment.
 * Exposed (http.h) only so tests/fuzz/fuzz_router.c can reach it. */
bool http_route_match(const char *pattern, const char *path, char **segment)
{
	const char *p = pattern, *u = path;
	while (*p && *u) {
		if (p[0] == '{' && p[1] == '}') {
			size_t n = strcspn(u, "/");
			if (n == 0 || n > 128)
				goto no;
			if (segment) {
				/* fuzz_router finding: a pattern with two {} leaked the first
				 * segment; the last one is kept. Out of memory is a miss. */
				free(*segment);
				*segment = strndup(u, n);
				if (!*segment)
					return false;
			}
			u += n;
			p += 2;
			continue;
		}
		if (*p != *u)
			goto no;
		p++;
		u++;
	}
	if (*p == '\0' && *u == '\0')
		return true;
no:
	if (segment && *segment) {
		free(*segment);
		*segment = NULL;
	}
	return false;
}

static enum MHD_Result route_request(const struct http_server *s, struct http_request *rq,
				     const char *method)
{
	bool path_known = false;
	const char *m = strcmp(method, "HEAD") ? method : "GET";
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct http_route *r = &s->routes[i];
		char *seg = NULL;
		if (!http_route_match(r->pattern, rq->path, &seg))
			continue;
		path_known = true;
		if (strcmp(r->method, m)) {
			free(seg);
			continue;
		}
		rq->route = r;
		rq->segment = seg;
		return MHD_YES;
	}
	return http_reply_error(rq, path_known ? KPR_E_METHOD_NOT_ALLOWED : KPR_E_NOT_FOUND, NULL);
}

/* --- rate-limiting hooks (ratelimit.h): failed bearer tokens per client
 * address. Only a presented token that is wrong counts; a missing header
 * (a browser's first request) or a valid token of the wrong role does not. */
static int auth_lockout_wait(struct http_request *rq)
{
	const struct kpr_config *c = rq->cfg;
	return ratelimit_wait(ratelimit_shared(RATELIMIT_AUTH_FAILURES), rq->client_addr,
			      c->auth_failure_limit, c->auth_failure_window);
}

static void auth_failure_count(struct http_request *rq, enum kpr_error e)
{
	const struct kpr_config *c = rq->cfg;
	if (e != KPR_E_UNAUTHENTICATED || !http_header(rq, MHD_HTTP_HEADER_AUTHORIZATION))
		return;
	ratelimit_hit(ratelimit_shared(RATELIMIT_AUTH_FAILURES), rq->client_addr,
		      c->auth_failure_limit, c->auth_failure_window);
}

/* Whether a principal's role may use a route: a wrong role is 403. */
static bool role_allowed(enum http_auth_need need, enum auth_role role)
{
	switch (need) {
	case HTTP_AUTH_NONE:
	case HTTP_AUTH_ANY:
		return true;
	case HTTP_AUTH_STAFF:
		return role == AUTH_ROLE_STAFF;
	case HTTP_AUTH_MUNICIPALITY:
		return role == AUTH_ROLE_MUNICIPALITY;
	}
	return false;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	const struct http_server *s = cls;
	(void)url;
	(void)version;
	struct http_request *rq = *con_cls;
	if (!rq)
		return MHD_NO; /* out of memory in on_uri */
	rq->conn = conn;
	if (rq->response && *upload_size > 0) {
		*upload_size = 0; /* queue only on the final call, once the body is consumed */
		return MHD_YES;
	}
	if (rq->response) {
		/* a dbpool thread prepared the answer while we were suspended */
		struct MHD_Response *resp = rq->response;
		rq->response = NULL;
		enum MHD_Result r = MHD_queue_response(conn, rq->response_status, resp);
		MHD_destroy_response(resp);
		return r;
	}
	if (rq->failed)
		return MHD_NO;
	if (rq->answered_early) {
		/* http_reply_error_now: the answer is out; what still comes is
		 * thrown away (so the client can read the answer before a close
		 * with unread bytes resets the connection), but not forever */
		if (*upload_size == 0)
			return MHD_NO; /* the body ended: close, there is no second answer */
		rq->drained += *upload_size;
		*upload_size = 0;
		return rq->drained > EARLY_DRAIN_LIMIT ? MHD_NO : MHD_YES;
	}
	if (rq->responded) {
		*upload_size = 0; /* answer already queued: discard the rest of the body */
		return MHD_YES;
	}
	if (!rq->route) {
		snprintf(rq->method, sizeof rq->method, "%s", method);
		if (route_request(s, rq, method) != MHD_YES || !rq->route)
			return rq->responded ? MHD_YES : MHD_NO;
	}
	if (!rq->auth_done) {
		if (rq->route->auth != HTTP_AUTH_NONE) {
			enum kpr_error e;
			enum auth_result ar = auth_check(
			    rq->app->auth, http_header(rq, MHD_HTTP_HEADER_AUTHORIZATION),
			    rq->auth_waited ? NULL : rq->conn, &rq->who, &e);
			/* suspended until the token cache reloads (auth.h); MHD then
			 * repeats this first, headers-only call */
			if (ar == AUTH_WAIT) {
				rq->auth_waited = true;
				return MHD_YES;
			}
			if (ar == AUTH_OK && !role_allowed(rq->route->auth, rq->who.role)) {
				ar = AUTH_REFUSED;
				e = KPR_E_FORBIDDEN;
			}
			if (ar == AUTH_REFUSED && e == KPR_E_TOKENS_NOT_LOADED)
				return http_reply_error_retry(rq, e, AUTH_RETRY_SECONDS);
			if (ar != AUTH_OK) {
				/* rate limit (ratelimit.h): an address that presented too
				 * many wrong tokens gets 429 for every further wrong one. A
				 * valid token still passes: several municipalities may share
				 * one address (a vendor's NAT), and a 256-bit token is not
				 * guessed anyway; the limit is against runaway clients. */
				int wait = e == KPR_E_UNAUTHENTICATED ? auth_lockout_wait(rq) : 0;
				if (wait > 0)
					return http_reply_error_retry(
					    rq, KPR_E_TOO_MANY_AUTH_FAILURES, wait);
				auth_failure_count(rq, e);
				return http_reply_error(rq, e, NULL);
			}
		}
		rq->auth_done = true;
	}
	return rq->route->handler(rq, upload, upload_size);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char buf[512];
	vsnprintf(buf, sizeof buf, fmt, ap);
	log_warn("libmicrohttpd: %s", buf);
}

/* A PEM file (certificate or key): small, read whole. */
static char *slurp(const char *path, char *err, size_t errlen)
{
	size_t len;
	return files_read_all(path, 1 << 20, &len, err, errlen);
}

/* The acceptor's handoff: from here on the connection is libmicrohttpd's,
 * with the client's address for its per-IP limit and for on_uri. */
static void add_connection(void *cls, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct http_server *s = cls;
	(void)MHD_add_connection(s->daemon, fd, sa, len); /* closes fd on failure, and logs */
}

/* With server.proxy_trusted_addresses set, kprd listens itself (acceptor.c)
 * and libmicrohttpd gets each connection with the address it stands for. */
static bool start_acceptor(struct http_server *s, char *err, size_t errlen)
{
	const struct kpr_config *c = s->app->cfg;
	struct acceptor_params p = {.listen_address = c->listen_address,
				    .port = c->port,
				    .header_timeout_ms = PROXY_HEADER_TIMEOUT_MS,
				    .max_pending = PROXY_MAX_PENDING,
				    .handoff = add_connection,
				    .cls = s};
	if (!proxy_trust_parse(c->proxy_trusted_addresses, &p.trust, err, errlen))
		return false;
	s->acceptor = acceptor_start(&p, err, errlen);
	if (s->acceptor)
		log_info("PROXY protocol v2 accepted from %s", c->proxy_trusted_addresses);
	return s->acceptor != NULL;
}

struct http_server *http_start(struct app *app, const struct http_route *routes, size_t nroutes,
			       char *err, size_t errlen)
{
	const struct kpr_config *c = app->cfg;
	struct http_server *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->app = app;
	s->routes = routes;
	s->nroutes = nroutes;
	s->cert_pem = slurp(c->tls_cert_file, err, errlen);
	s->key_pem = s->cert_pem ? slurp(c->tls_key_file, err, errlen) : NULL;
	if (!s->key_pem) {
		http_stop(s);
		return NULL;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
	if (inet_pton(AF_INET, c->listen_address, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "server.listen_address: \"%s\" is not an IPv4 address",
			 c->listen_address);
		http_stop(s);
		return NULL;
	}
	unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	/* behind a balancer the acceptor listens and hands connections over
	 * (MHD then ignores the port and address) */
	bool proxied = c->proxy_trusted_addresses[0] != '\0';
	if (proxied)
		flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
	s->daemon = MHD_start_daemon(
	    flags, (uint16_t)c->port, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER,
	    on_mhd_log, s, /* first, so every message goes through it */
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, s->key_pem, MHD_OPTION_HTTPS_PRIORITIES, c->tls_priorities,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->http_threads, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)c->connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)c->connection_memory_limit, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)c->connection_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)c->per_ip_connection_limit, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
	if (!s->daemon) {
		snprintf(err, errlen,
			 "cannot start HTTPS on %s:%d (port in use, or bad TLS key/"
			 "certificate/priorities; see the libmicrohttpd lines above)",
			 c->listen_address, c->port);
		http_stop(s);
		return NULL;
	}
	if (proxied && !start_acceptor(s, err, errlen)) {
		http_stop(s);
		return NULL;
	}
	return s;
}

void http_quiesce(struct http_server *s)
{
	if (s)
		acceptor_stop(s->acceptor);
	if (s && s->daemon) {
		MHD_socket fd = MHD_quiesce_daemon(s->daemon);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	acceptor_free(s->acceptor); /* no connection is handed to a stopped daemon */
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	if (s->key_pem)
		explicit_bzero(s->key_pem, strlen(s->key_pem));
	free(s->key_pem);
	free(s->cert_pem);
	free(s);
}
