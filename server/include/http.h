/*
 * http.h — the HTTPS front: libmicrohttpd daemon, the static route table,
 * per-request state, and the one set of reply helpers every endpoint uses
 * (JSON error bodies from the error registry, X-Request-Id, HSTS).
 * Endpoints live one per file in server/src/api/ and never touch the
 * database on an MHD thread: they hand work to the dbpool with http_defer().
 */
#ifndef HTTP_H
#define HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>

#include "app.h" /* rq->app: the process-wide objects handlers need */
#include "auth.h"
#include "errors.h"
#include "kpr.h"

struct kpr_config;
struct dbpool;
struct db;
struct http_request;

enum http_auth_need {
	HTTP_AUTH_NONE = 0,
	HTTP_AUTH_ANY, /* any valid token */
	HTTP_AUTH_STAFF,
	HTTP_AUTH_MUNICIPALITY,
};

/* Called for every libmicrohttpd callback of the request: once without a
 * body for most routes; for uploads with each chunk and then once with
 * *upload_size == 0. Returns MHD_YES/MHD_NO as libmicrohttpd expects. */
typedef enum MHD_Result (*http_handler_fn)(struct http_request *rq, const char *upload,
					   size_t *upload_size);

struct http_route {
	const char *method;  /* "GET", "POST" */
	const char *pattern; /* "/api/v1/submissions/{}" — {} matches one path segment */
	http_handler_fn handler;
	enum http_auth_need auth;
	const char *name; /* for logs and metrics: "submission_get" */
};

struct http_request {
	char id[33]; /* X-Request-Id: 128 random bits, hex */
	struct MHD_Connection *conn;
	struct app *app;
	/* the published configuration as the request began (config.h): every
	 * reloadable value a request reads comes from here, so one request sees
	 * one consistent set; released in the completion callback */
	const struct kpr_config *cfg;
	const struct http_route *route;
	char method[8];
	char *path;
	char *segment; /* the {} part of the route, if any */
	char client_addr[64];

	/* authentication (filled before the handler runs): a principal whose
	 * role the route allows */
	struct auth_principal who; /* whose token: auth_check() */
	bool auth_done;            /* the token check passed, or the route needs none (http.c) */
	bool auth_waited;          /* suspended once for a token reload (http.c, auth.h) */

	/* a deferred response prepared off the MHD thread */
	struct MHD_Response *response;
	unsigned response_status;
	bool suspended;
	bool responded;
	bool failed;             /* no response could be made: close the connection */
	bool answered_early;     /* http_reply_error_now: the rest of the body is thrown away */
	uint64_t drained;        /* body bytes thrown away since */
	bool *deferred_answered; /* owned by the dbpool task running for this request */

	/* the handler's own state and its cleanup, freed in the completion callback */
	void *state;
	void (*state_free)(void *state);

	uint64_t started_ns;
};

struct http_server;

/* Serves routes (a static table: api_routes from api.h; http itself knows
 * no endpoint). */
struct http_server *http_start(struct app *app, const struct http_route *routes, size_t nroutes,
			       char *err, size_t errlen) KPR_WUR;
/* Stops accepting new connections (graceful shutdown, first step). */
void http_quiesce(struct http_server *s);
void http_stop(struct http_server *s);

/* Reply helpers: each queues the response at once (MHD thread) or, when the
 * request is deferred, stores it and resumes the connection. */
enum MHD_Result http_reply_json(struct http_request *rq, unsigned status, json_t *body);
enum MHD_Result http_reply_error(struct http_request *rq, enum kpr_error e, const char *detail);
/* The same with a Retry-After header (503 queue full, 429). */
enum MHD_Result http_reply_error_retry(struct http_request *rq, enum kpr_error e, int seconds);
enum MHD_Result http_reply_error_json(struct http_request *rq, enum kpr_error e,
				      const char *message, json_t *detail);
/* An error answered in the middle of a request body (413 past the limit,
 * 408 below the minimum rate), where libmicrohttpd 0.9.75 refuses to queue
 * a response until the whole body has arrived: the JSON error is written to
 * the connection at once with Connection: close, the sending side is closed,
 * the handler is not called again, and what the client still sends is
 * thrown away (1 MiB at most, then the connection is closed). MHD thread,
 * body calls only. */
enum MHD_Result http_reply_error_now(struct http_request *rq, enum kpr_error e, const char *detail);
enum MHD_Result http_reply_buffer(struct http_request *rq, unsigned status, const char *ctype,
				  const void *data, size_t len);
enum MHD_Result http_reply_fd(struct http_request *rq, unsigned status, const char *ctype, int fd,
			      uint64_t size, const char *disposition);
enum MHD_Result http_reply_response(struct http_request *rq, unsigned status,
				    struct MHD_Response *resp);
/* A JSON response (body consumed) for callers that add headers before replying. */
struct MHD_Response *http_json_response(json_t *body);
/* Adds the headers every response carries (X-Request-Id, HSTS, nosniff, ...). */
void http_add_common_headers(struct http_request *rq, struct MHD_Response *resp);

typedef void (*http_deferred_fn)(struct http_request *rq, struct db *db);
/* Suspends the connection and runs fn on a dbpool thread; fn must end by
 * calling one of the reply helpers (which resumes the connection). */
enum MHD_Result http_defer(struct http_request *rq, http_deferred_fn fn);

/* Route pattern matching, pure (for the fuzz target): true if path matches
 * pattern; a {} segment is then strdup'd into *segment (NULL on entry;
 * caller frees). A miss leaves *segment NULL. */
bool http_route_match(const char *pattern, const char *path, char **segment);

const char *http_query(struct http_request *rq, const char *key);
const char *http_header(struct http_request *rq, const char *name);

#endif
