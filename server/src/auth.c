/*
 * auth.c — the token cache and the Authorization header check.
 * Lookups hash the presented token and compare hashes in constant time;
 * the cache is swapped whole under a lock by the refresh thread.
 */
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"

struct token_entry {
	unsigned char hash[32];
	long long id;
	enum http_role role;
	char kommune[8];
	time_t expires; /* 0: never */
};

struct token_set {
	struct token_entry *v;
	size_t n;
};

struct auth {
	pthread_mutex_t mu;
	struct token_set *set;
	bool loaded;
	bool stopping;
	pthread_t thread;
	bool thread_started;
	pthread_cond_t cv;
	char *dsn, *password_file;
};

static const struct db_stmt stmt_tokens = {
    "auth_tokens",
    "SELECT token_hash, id, role, coalesce(kommunenummer, ''),"
    " coalesce(extract(epoch from expires_at)::bigint, 0)"
    " FROM kpr.api_token WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
    0};

static void set_free(struct token_set *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s->v, s->n * sizeof *s->v);
	free(s->v);
	free(s);
}

bool auth_refresh(struct auth *a, struct db *db)
{
	if (!db_ensure(db))
		return false;
	PGresult *r = db_exec_bin(db, &stmt_tokens, NULL, NULL, NULL, NULL);
	if (!r)
		return false;
	struct token_set *s = calloc(1, sizeof *s);
	int n = PQntuples(r);
	s->v = calloc((size_t)n + 1, sizeof *s->v);
	for (int i = 0; i < n; i++) {
		struct token_entry *t = &s->v[s->n];
		size_t hl = 0;
		unsigned char *h = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 0), &hl);
		if (!h || hl != 32) {
			PQfreemem(h);
			continue;
		}
		memcpy(t->hash, h, 32);
		PQfreemem(h);
		t->id = atoll(PQgetvalue(r, i, 1));
		t->role = !strcmp(PQgetvalue(r, i, 2), "staff") ? HTTP_ROLE_STAFF
								: HTTP_ROLE_MUNICIPALITY;
		snprintf(t->kommune, sizeof t->kommune, "%s", PQgetvalue(r, i, 3));
		t->expires = (time_t)atoll(PQgetvalue(r, i, 4));
		s->n++;
	}
	PQclear(r);
	pthread_mutex_lock(&a->mu);
	struct token_set *old = a->set;
	a->set = s;
	a->loaded = true;
	pthread_mutex_unlock(&a->mu);
	set_free(old);
	return true;
}

static void *refresher(void *arg)
{
	struct auth *a = arg;
	struct db *db = db_new(a->dsn, a->password_file, "register/auth");
	pthread_mutex_lock(&a->mu);
	while (!a->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += AUTH_REFRESH_SECONDS;
		pthread_cond_timedwait(&a->cv, &a->mu, &ts);
		if (a->stopping)
			break;
		pthread_mutex_unlock(&a->mu);
		if (db)
			if (!auth_refresh(a, db))
				log_debug("auth: token refresh failed; keeping the previous set");
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);
	db_free(db);
	return NULL;
}

struct auth *auth_new(const struct kpr_config *cfg)
{
	struct auth *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->dsn = strdup(cfg->register_dsn);
	a->password_file = strdup(cfg->register_password_file);
	if (!a->dsn || !a->password_file || pthread_create(&a->thread, NULL, refresher, a) != 0) {
		auth_free(a);
		return NULL;
	}
	a->thread_started = true;
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	if (a->thread_started) {
		pthread_mutex_lock(&a->mu);
		a->stopping = true;
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thread, NULL);
	}
	set_free(a->set);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a->dsn);
	free(a->password_file);
	free(a);
}

bool auth_loaded(const struct auth *a)
{
	return a && a->loaded;
}

bool auth_token_well_formed(const char *t, size_t len)
{
	if (len != AUTH_TOKEN_LEN || strncmp(t, AUTH_TOKEN_PREFIX, 4) != 0)
		return false;
	for (size_t i = 4; i < len; i++) {
		char c = t[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

void auth_token_hash(const char *token, size_t len, unsigned char out[32])
{
	unsigned int olen = 32;
	EVP_Digest(token, len, out, &olen, EVP_sha256(), NULL);
}

bool auth_token_generate(char out[AUTH_TOKEN_LEN + 1])
{
	static const char b64url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char r[32];
	if (RAND_bytes(r, sizeof r) != 1)
		return false;
	memcpy(out, AUTH_TOKEN_PREFIX, 4);
	/* 256 bits as 43 base64url characters (the last carries 4 bits) */
	size_t o = 4;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < sizeof r; i++) {
		acc = (acc << 8) | r[i];
		bits += 8;
		while (bits >= 6) {
			out[o++] = b64url[(acc >> (bits - 6)) & 63];
			bits -= 6;
		}
	}
	if (bits > 0)
		out[o++] = b64url[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	OPENSSL_cleanse(r, sizeof r);
	return o == AUTH_TOKEN_LEN;
}

bool auth_parse_bearer(const char *h, const char **token, size_t *len)
{
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	const char *tok = h + 7;
	while (*tok == ' ')
		tok++;
	size_t n = strlen(tok);
	if (!auth_token_well_formed(tok, n))
		return false;
	*token = tok;
	*len = n;
	return true;
}

bool auth_request(struct auth *a, struct http_request *rq, enum kpr_error *e)
{
	const char *tok;
	size_t len;
	*e = KPR_E_UNAUTHENTICATED;
	if (!auth_parse_bearer(http_header(rq, MHD_HTTP_HEADER_AUTHORIZATION), &tok, &len))
		return false;
	unsigned char hash[32];
	auth_token_hash(tok, len, hash);
	bool found = false;
	time_t now = time(NULL);
	pthread_mutex_lock(&a->mu);
	if (a->set) {
		for (size_t i = 0; i < a->set->n; i++) {
			const struct token_entry *t = &a->set->v[i];
			/* every entry is compared so timing says nothing about which matched */
			if (CRYPTO_memcmp(t->hash, hash, 32) == 0 && !found &&
			    (t->expires == 0 || t->expires > now)) {
				found = true;
				rq->role = t->role;
				rq->token_id = t->id;
				snprintf(rq->kommune, sizeof rq->kommune, "%s", t->kommune);
			}
		}
	}
	pthread_mutex_unlock(&a->mu);
	if (!found)
		return false;
	enum http_auth_need need = rq->route->auth;
	if ((need == HTTP_AUTH_STAFF && rq->role != HTTP_ROLE_STAFF) ||
	    (need == HTTP_AUTH_MUNICIPALITY && rq->role != HTTP_ROLE_MUNICIPALITY)) {
		*e = KPR_E_FORBIDDEN;
		return false;
	}
	return true;
}
