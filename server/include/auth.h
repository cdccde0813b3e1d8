/*
 * auth.h — bearer tokens. Tokens are stored only as SHA-256 hashes in the
 * register database; kprd keeps an in-memory copy of the active ones, so
 * checking a token never touches the database on an HTTP thread.
 *
 * The copy is kept current by one refresher thread that LISTENs on the
 * channel kpr_api_token (sql/register/0007_token_notify.sql notifies it on
 * every change to kpr.api_token) and reloads at once on a notification, after
 * every reconnect, and every AUTH_REFRESH_SECONDS as a fallback. A request
 * whose token is not in the copy (just issued), or that arrives while a
 * notified change is being loaded, is suspended until a reload that began
 * after it arrived has finished — at most AUTH_WAIT_MS — and checked again,
 * so a token works on the first request after `kprctl token issue` returns.
 * Until the first load has succeeded (after waiting for a load under way, if
 * any), a request with a token is answered 503 tokens_not_loaded, not 401:
 * the token may well be valid. A missing or malformed token is 401 always.
 */
#ifndef AUTH_H
#define AUTH_H

#include "errors.h"
#include "kpr.h"

struct kpr_config;
struct auth;
struct MHD_Connection;

#define AUTH_TOKEN_PREFIX    "kpr_"
#define AUTH_NOTIFY_CHANNEL  "kpr_api_token"
#define AUTH_REFRESH_SECONDS 30 /* fallback reload while notifications arrive */
#define AUTH_RETRY_SECONDS   2  /* reconnect interval after the database went away */
#define AUTH_WAIT_MS         5000 /* longest a request waits for a reload: a loaded host may need seconds */
#define AUTH_MAX_WAITERS     1024 /* beyond this, requests are checked against the copy as is */

/* Starts the refresher thread (it connects and loads at once). */
struct auth *auth_new(const struct kpr_config *cfg) KPR_WUR;
/* Waits (bounded) until the refresher's first load attempt has ended, so
 * kprd serves only once tokens are known; true if the tokens are loaded. */
bool auth_wait_first_load(struct auth *a) KPR_WUR;
/* True once at least one load succeeded. */
bool auth_loaded(const struct auth *a);
/* Before the HTTP daemon stops: resumes every request waiting for a reload;
 * none waits after this (suspended connections must all be resumed before
 * MHD_stop_daemon). NULL-safe. */
void auth_quiesce(struct auth *a);
void auth_free(struct auth *a);

enum auth_role { AUTH_ROLE_NONE = 0, AUTH_ROLE_MUNICIPALITY, AUTH_ROLE_STAFF };

/* Who a valid token speaks for. */
struct auth_principal {
	enum auth_role role;
	char kommune[8]; /* municipality tokens: the kommunenummer they are bound to */
	long long token_id;
};

enum auth_result {
	AUTH_OK,      /* *who is filled */
	AUTH_REFUSED, /* *e says why: 401 or 503 tokens_not_loaded */
	AUTH_WAIT,    /* the connection is suspended until a reload; call again when resumed */
};

/* Checks an Authorization header value (NULL: none) against the copy and
 * says whose token it is; whether that principal may use a route is the
 * caller's (http.c) to judge. Called on the MHD thread; never blocks.
 * conn: the request's connection, which may be suspended once for a reload
 * (AUTH_WAIT); NULL after it waited once: the answer then comes from the
 * copy as it is. */
enum auth_result auth_check(struct auth *a, const char *authorization, struct MHD_Connection *conn,
			    struct auth_principal *who, enum kpr_error *e) KPR_WUR;

/* Token text helpers shared with kprctl. */
#define AUTH_TOKEN_LEN 47 /* "kpr_" + 43 base64url characters (32 random bytes) */
bool auth_token_generate(char out[AUTH_TOKEN_LEN + 1]) KPR_WUR;
/* Syntax check of a presented token; false for anything not of our form. */
bool auth_token_well_formed(const char *token, size_t len);
void auth_token_hash(const char *token, size_t len, unsigned char out[32]);
/* Pure parse of an Authorization header value: "Bearer" (any case), one
 * space, optional further spaces, then a well-formed token and nothing else.
 * On success points *token into header. NULL header: false. */
bool auth_parse_bearer(const char *header, const char **token, size_t *len);

#endif
