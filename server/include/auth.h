/*
 * auth.h — bearer tokens. Tokens are stored only as SHA-256 hashes in the
 * register database; kprd keeps an in-memory copy of the active ones,
 * refreshed by its own thread every few seconds, so checking a token never
 * touches the database on an HTTP thread. Revocation takes effect within
 * one refresh interval.
 */
#ifndef AUTH_H
#define AUTH_H

#include "errors.h"
#include "kpr.h"

struct http_request;
struct kpr_config;
struct db;
struct auth;

#define AUTH_TOKEN_PREFIX    "kpr_"
#define AUTH_REFRESH_SECONDS 2

struct auth *auth_new(const struct kpr_config *cfg) KPR_WUR;
void auth_free(struct auth *a);
/* Loads the active tokens once (at start, before serving). */
bool auth_refresh(struct auth *a, struct db *db) KPR_WUR;
/* True once at least one refresh succeeded. */
bool auth_loaded(const struct auth *a);

/* Checks Authorization: Bearer and the route's role need; fills rq->role,
 * rq->kommune, rq->token_id. On refusal sets *e (401 or 403). */
bool auth_request(struct auth *a, struct http_request *rq, enum kpr_error *e) KPR_WUR;

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
