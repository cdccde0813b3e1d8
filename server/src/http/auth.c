/*
 * auth.c — the token cache and the Authorization header check.
 * Lookups hash the presented token and compare hashes in constant time;
 * the cache is swapped whole under a lock by the refresher thread, which
 * alone talks to the database: it LISTENs for changes to kpr.api_token,
 * reloads asynchronously (so it can always resume waiting requests on time)
 * and resumes the connections suspended for a reload. HTTP threads never
 * block here: a request that must wait is suspended (auth.h).
 */
#include "auth.h"

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "waits.h"

/* Reloads asked for by waiting requests (unknown tokens) come at most this
 * often, so a client sending wrong tokens cannot keep the database busy;
 * notified changes reload at once. */
#define AUTH_WAIT_RELOAD_INTERVAL_MS 25
#define AUTH_FIRST_LOAD_WAIT_S       15 /* longer than libpq's connect_timeout (db.c) */

struct token_entry {
	unsigned char hash[32];
	long long id;
	enum auth_role role;
	char kommune[8];
	time_t expires; /* 0: never */
};

struct token_set {
	struct token_entry *v;
	size_t n;
};

/* A request suspended until a reload that began after it arrived. */
struct waiter {
	struct MHD_Connection *conn;
	uint64_t deadline_ms;
	struct waiter *next;
};

struct auth {
	pthread_mutex_t mu;       /* guards everything below but the thread fields */
	pthread_cond_t first_cv;  /* first_attempt_done */
	pthread_cond_t waiter_cv; /* a waiter was added, or stopping (CLOCK_MONOTONIC) */
	struct token_set *set;
	bool loaded;             /* read lock-free by auth_loaded() (atomic) */
	bool first_attempt_done; /* the refresher's first load ended, well or not */
	bool reload_coming;      /* LISTENing, or reconnecting at once after a loss */
	bool stale;              /* a notified change is not loaded yet */
	bool quiescing, stopping;
	struct waiter *waiting; /* registered since the last reload query was sent */
	struct waiter *batch;   /* waiting for the reload query in flight */
	size_t nwaiters;
	int wake_fd; /* eventfd: new waiter, quiesce, stop */
	pthread_t thread, expirer;
	bool thread_started, expirer_started;
	char *dsn, *password_file;
};

/* The refresher thread's own state. */
struct refresher {
	struct auth *a;
	struct db *db;
	bool listening;
	bool in_flight;          /* a reload query was sent; its result is pending */
	bool need_reload;        /* notified, (re)connected or due */
	bool notified_in_flight; /* a change arrived after the query in flight was sent */
	struct token_set *result;
	bool result_ok;
	uint64_t next_periodic, next_connect, last_sent;
};

static const char sql_tokens[] =
    "SELECT token_hash, id, role, coalesce(kommunenummer, ''),"
    " coalesce(extract(epoch from expires_at)::bigint, 0)"
    " FROM kpr.api_token WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())";

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void set_free(struct token_set *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s->v, s->n * sizeof *s->v);
	free(s->v);
	free(s);
}

static struct token_set *set_from_result(PGresult *r)
{
	struct token_set *s = calloc(1, sizeof *s);
	int n = PQntuples(r);
	if (!s || !(s->v = calloc((size_t)n + 1, sizeof *s->v))) {
		free(s);
		return NULL;
	}
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
		t->role = !strcmp(PQgetvalue(r, i, 2), "staff") ? AUTH_ROLE_STAFF
								: AUTH_ROLE_MUNICIPALITY;
		snprintf(t->kommune, sizeof t->kommune, "%s", PQgetvalue(r, i, 3));
		t->expires = (time_t)atoll(PQgetvalue(r, i, 4));
		s->n++;
	}
	return s;
}

static void wake(struct auth *a)
{
	uint64_t one = 1;
	if (write(a->wake_fd, &one, sizeof one) < 0) {
		/* the counter is already non-zero: the refresher wakes anyway */
	}
}

/* Called without a->mu held: MHD takes its own locks in resume. From the
 * resume on, the request may be freed at any moment by its MHD thread. */
static void resume_all(struct waiter *w)
{
	while (w) {
		struct waiter *next = w->next;
		MHD_resume_connection(w->conn);
		free(w);
		w = next;
	}
}

static size_t list_len(const struct waiter *w)
{
	size_t n = 0;
	for (; w; w = w->next)
		n++;
	return n;
}

/* Unlinks every waiter (both lists) into one list; caller holds a->mu. */
static struct waiter *take_all_locked(struct auth *a)
{
	struct waiter *all = a->batch;
	struct waiter **tail = &all;
	while (*tail)
		tail = &(*tail)->next;
	*tail = a->waiting;
	a->batch = a->waiting = NULL;
	a->nwaiters = 0;
	return all;
}

/* Unlinks from *list the waiters whose deadline has passed onto *out. */
static void take_expired(struct waiter **list, uint64_t now, struct waiter **out, size_t *n)
{
	while (*list) {
		struct waiter *w = *list;
		if (w->deadline_ms > now) {
			list = &w->next;
			continue;
		}
		*list = w->next;
		w->next = *out;
		*out = w;
		(*n)--;
	}
}

static uint64_t earliest_deadline(const struct waiter *w, uint64_t until)
{
	for (; w; w = w->next)
		if (w->deadline_ms < until)
			until = w->deadline_ms;
	return until;
}

/* The expirer thread keeps the wait bounded whatever the refresher is
 * doing (a connect to an unreachable host blocks it for connect_timeout):
 * a request not served by a reload within AUTH_WAIT_MS is resumed and
 * answered from the copy as it then is. */
static void *expirer_main(void *arg)
{
	struct auth *a = arg;
	pthread_mutex_lock(&a->mu);
	while (!a->stopping) {
		uint64_t now = now_ms();
		uint64_t until =
		    earliest_deadline(a->batch, earliest_deadline(a->waiting, UINT64_MAX));
		if (until == UINT64_MAX) {
			pthread_cond_wait(&a->waiter_cv, &a->mu);
			continue;
		}
		if (until > now) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t ns = (uint64_t)ts.tv_nsec + (until - now) * 1000000u;
			ts.tv_sec += (time_t)(ns / 1000000000u);
			ts.tv_nsec = (long)(ns % 1000000000u);
			pthread_cond_timedwait(&a->waiter_cv, &a->mu, &ts);
			continue;
		}
		struct waiter *done = NULL;
		take_expired(&a->batch, now, &done, &a->nwaiters);
		take_expired(&a->waiting, now, &done, &a->nwaiters);
		pthread_mutex_unlock(&a->mu);
		resume_all(done);
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static void first_attempt_over(struct auth *a)
{
	if (!a->first_attempt_done) {
		a->first_attempt_done = true;
		pthread_cond_broadcast(&a->first_cv);
	}
}

/* --- the refresher thread ------------------------------------------------- */

static void lost(struct refresher *r, const char *why)
{
	log_warn("auth: the token connection to the register failed (%s); reconnecting", why);
	r->listening = false;
	r->in_flight = false;
	set_free(r->result);
	r->result = NULL;
	/* at once: the waiting requests stay for the reload after the reconnect.
	 * Changes made meanwhile are not notified: until that reload, known
	 * tokens wait for it too, as after a notification. */
	r->next_connect = 0;
	pthread_mutex_lock(&r->a->mu);
	r->a->stale = true;
	pthread_mutex_unlock(&r->a->mu);
}

/* (Re)connects and LISTENs. Changes made while not listening were not
 * notified, so every successful connect is followed by a full reload. */
static void connect_listen(struct refresher *r)
{
	struct auth *a = r->a;
	if (!r->db)
		r->db = db_new(a->dsn, a->password_file, "register/auth");
	char st[6];
	bool ok = r->db && db_ensure(r->db);
	if (ok && !db_exec_simple(r->db, "LISTEN " AUTH_NOTIFY_CHANNEL, st)) {
		log_warn("auth: LISTEN " AUTH_NOTIFY_CHANNEL " failed: %s", db_last_error(r->db));
		ok = false;
	}
	struct waiter *gone = NULL;
	pthread_mutex_lock(&a->mu);
	a->reload_coming = ok;
	if (!ok) {
		/* no reload is coming soon: the waiting requests are answered from the copy */
		gone = take_all_locked(a);
		first_attempt_over(a);
	}
	pthread_mutex_unlock(&a->mu);
	resume_all(gone);
	r->listening = ok;
	if (ok) {
		log_info("auth: listening on " AUTH_NOTIFY_CHANNEL " for token changes");
		r->need_reload = true;
	} else {
		r->next_connect = now_ms() + AUTH_RETRY_SECONDS * 1000u;
	}
}

static void send_query(struct refresher *r)
{
	struct auth *a = r->a;
	/* the requests waiting now are answered after this query, which sees
	 * every token committed before they arrived */
	pthread_mutex_lock(&a->mu);
	struct waiter **tail = &a->batch;
	while (*tail)
		tail = &(*tail)->next;
	*tail = a->waiting;
	a->waiting = NULL;
	pthread_mutex_unlock(&a->mu);
	r->need_reload = false;
	r->notified_in_flight = false;
	r->last_sent = now_ms();
	r->next_periodic = r->last_sent + AUTH_REFRESH_SECONDS * 1000u;
	r->result_ok = false;
	if (!PQsendQueryParams(db_conn(r->db), sql_tokens, 0, NULL, NULL, NULL, NULL, 0)) {
		lost(r, "cannot send the query");
		return;
	}
	r->in_flight = true;
}

static void finish_query(struct refresher *r)
{
	struct auth *a = r->a;
	struct token_set *s = r->result, *old = NULL;
	r->result = NULL;
	r->in_flight = false;
	bool ok = r->result_ok && s;
	pthread_mutex_lock(&a->mu);
	if (ok) {
		old = a->set;
		a->set = s;
		__atomic_store_n(&a->loaded, true, __ATOMIC_RELEASE);
		if (!r->notified_in_flight)
			a->stale = false;
	}
	struct waiter *done = a->batch;
	a->batch = NULL;
	a->nwaiters -= list_len(done);
	first_attempt_over(a);
	pthread_mutex_unlock(&a->mu);
	resume_all(done);
	if (ok) {
		set_free(old);
	} else {
		set_free(s);
		r->next_periodic = now_ms() + AUTH_RETRY_SECONDS * 1000u;
		log_warn("auth: token reload failed; keeping the previous set");
	}
}

static void take_notifies(struct refresher *r, PGconn *c)
{
	bool notified = false;
	PGnotify *n;
	while ((n = PQnotifies(c))) {
		notified = true;
		PQfreemem(n);
	}
	if (!notified)
		return;
	r->need_reload = true;
	if (r->in_flight)
		r->notified_in_flight = true;
	pthread_mutex_lock(&r->a->mu);
	r->a->stale = true;
	pthread_mutex_unlock(&r->a->mu);
}

static void on_readable(struct refresher *r)
{
	PGconn *c = db_conn(r->db);
	if (!PQconsumeInput(c)) {
		lost(r, "read failed");
		return;
	}
	take_notifies(r, c);
	while (r->in_flight && !PQisBusy(c)) {
		PGresult *res = PQgetResult(c);
		if (!res) {
			/* a query cut off by a lost connection is run again after the reconnect */
			if (PQstatus(c) != CONNECTION_OK)
				break;
			finish_query(r);
			break;
		}
		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			set_free(r->result);
			r->result = set_from_result(res);
			r->result_ok = r->result != NULL;
		} else if (PQstatus(c) == CONNECTION_OK) {
			char msg[256];
			snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
			msg[strcspn(msg, "\n")] = '\0';
			log_warn("auth: token query failed: %s", msg);
		}
		PQclear(res);
	}
	take_notifies(r, c);
	if (PQstatus(c) != CONNECTION_OK)
		lost(r, "connection closed");
}

static bool query_due(struct refresher *r, bool waiters, uint64_t now)
{
	return r->need_reload || now >= r->next_periodic ||
	       (waiters && now >= r->last_sent + AUTH_WAIT_RELOAD_INTERVAL_MS);
}

static void wait_events(struct refresher *r)
{
	struct auth *a = r->a;
	uint64_t now = now_ms(), until = now + 60000;
	pthread_mutex_lock(&a->mu);
	bool waiters = a->waiting != NULL;
	pthread_mutex_unlock(&a->mu);
	if (!r->listening && r->next_connect < until)
		until = r->next_connect;
	if (r->listening && !r->in_flight) {
		if (query_due(r, waiters, now))
			until = now;
		if (r->next_periodic < until)
			until = r->next_periodic;
		if (waiters && r->last_sent + AUTH_WAIT_RELOAD_INTERVAL_MS < until)
			until = r->last_sent + AUTH_WAIT_RELOAD_INTERVAL_MS;
	}
	struct pollfd p[2] = {{a->wake_fd, POLLIN, 0}, {-1, POLLIN, 0}};
	if (r->listening)
		p[1].fd = PQsocket(db_conn(r->db));
	if (poll(p, 2, until > now ? (int)(until - now) : 0) <= 0)
		return;
	if (p[0].revents) {
		uint64_t v;
		if (read(a->wake_fd, &v, sizeof v) < 0) {
			/* nothing to drain */
		}
	}
	if (p[1].revents)
		on_readable(r);
}

static void *refresher_main(void *arg)
{
	struct refresher r = {.a = arg};
	struct auth *a = r.a;
	for (;;) {
		pthread_mutex_lock(&a->mu);
		bool stop = a->stopping, waiters = a->waiting != NULL;
		pthread_mutex_unlock(&a->mu);
		if (stop)
			break;
		uint64_t now = now_ms();
		if (!r.listening && now >= r.next_connect)
			connect_listen(&r);
		if (r.listening && !r.in_flight && query_due(&r, waiters, now))
			send_query(&r);
		wait_events(&r);
	}
	set_free(r.result);
	db_free(r.db);
	return NULL;
}

/* --- life cycle ------------------------------------------------------------ */

struct auth *auth_new(const struct kpr_config *cfg)
{
	struct auth *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->first_cv, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->waiter_cv, &ca);
	pthread_condattr_destroy(&ca);
	a->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	a->dsn = strdup(cfg->register_dsn);
	a->password_file = strdup(cfg->register_password_file);
	if (a->wake_fd < 0 || !a->dsn || !a->password_file ||
	    pthread_create(&a->expirer, NULL, expirer_main, a) != 0) {
		auth_free(a);
		return NULL;
	}
	a->expirer_started = true;
	if (pthread_create(&a->thread, NULL, refresher_main, a) != 0) {
		auth_free(a);
		return NULL;
	}
	a->thread_started = true;
	return a;
}

bool auth_wait_first_load(struct auth *a)
{
	struct timespec ts = waits_deadline_ms(AUTH_FIRST_LOAD_WAIT_S * 1000L);
	pthread_mutex_lock(&a->mu);
	while (!a->first_attempt_done)
		if (pthread_cond_timedwait(&a->first_cv, &a->mu, &ts) != 0)
			break;
	bool loaded = a->set != NULL;
	pthread_mutex_unlock(&a->mu);
	return loaded;
}

bool auth_loaded(const struct auth *a)
{
	return a && __atomic_load_n(&a->loaded, __ATOMIC_ACQUIRE);
}

void auth_quiesce(struct auth *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->quiescing = true;
	struct waiter *all = take_all_locked(a);
	pthread_mutex_unlock(&a->mu);
	resume_all(all);
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stopping = true;
	pthread_cond_broadcast(&a->waiter_cv);
	pthread_mutex_unlock(&a->mu);
	if (a->thread_started) {
		wake(a);
		pthread_join(a->thread, NULL);
	}
	if (a->expirer_started)
		pthread_join(a->expirer, NULL);
	/* auth_quiesce() resumed every waiter while the daemon still ran; any
	 * left belong to connections that no longer exist */
	pthread_mutex_lock(&a->mu);
	struct waiter *w = take_all_locked(a);
	pthread_mutex_unlock(&a->mu);
	while (w) {
		struct waiter *next = w->next;
		free(w);
		w = next;
	}
	set_free(a->set);
	if (a->wake_fd >= 0)
		close(a->wake_fd);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->first_cv);
	pthread_cond_destroy(&a->waiter_cv);
	free(a->dsn);
	free(a->password_file);
	free(a);
}

/* --- tokens --------------------------------------------------------------- */

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

/* Every entry is compared so timing says nothing about which matched. */
static bool lookup(const struct token_set *s, const unsigned char hash[32], time_t now,
		   struct auth_principal *who)
{
	bool found = false;
	for (size_t i = 0; s && i < s->n; i++) {
		const struct token_entry *t = &s->v[i];
		if (CRYPTO_memcmp(t->hash, hash, 32) == 0 && !found &&
		    (t->expires == 0 || t->expires > now)) {
			found = true;
			who->role = t->role;
			who->token_id = t->id;
			snprintf(who->kommune, sizeof who->kommune, "%s", t->kommune);
		}
	}
	return found;
}

/* Suspends the request until the next reload (or its deadline); false when
 * no reload is coming soon (no connection, stopping, too many waiting). */
static bool wait_for_reload(struct auth *a, struct MHD_Connection *conn)
{
	pthread_mutex_lock(&a->mu);
	bool can = a->reload_coming && !a->quiescing && a->nwaiters < AUTH_MAX_WAITERS;
	pthread_mutex_unlock(&a->mu);
	struct waiter *w = can ? malloc(sizeof *w) : NULL;
	if (!w)
		return false;
	w->conn = conn;
	w->deadline_ms = now_ms() + AUTH_WAIT_MS;
	/* suspended before anyone can resume it */
	MHD_suspend_connection(conn);
	pthread_mutex_lock(&a->mu);
	if (a->quiescing || !a->reload_coming) {
		pthread_mutex_unlock(&a->mu);
		free(w);
		MHD_resume_connection(conn);
		return true; /* called again at once, then answered from the copy */
	}
	w->next = a->waiting;
	a->waiting = w;
	a->nwaiters++;
	pthread_cond_signal(&a->waiter_cv);
	pthread_mutex_unlock(&a->mu);
	wake(a);
	return true;
}

enum auth_result auth_check(struct auth *a, const char *authorization, struct MHD_Connection *conn,
			    struct auth_principal *who, enum kpr_error *e)
{
	const char *tok;
	size_t len;
	*e = KPR_E_UNAUTHENTICATED;
	memset(who, 0, sizeof *who);
	/* a missing or malformed token is wrong whatever the database holds */
	if (!auth_parse_bearer(authorization, &tok, &len))
		return AUTH_REFUSED;
	unsigned char hash[32];
	auth_token_hash(tok, len, hash);
	pthread_mutex_lock(&a->mu);
	bool loaded = a->set != NULL;
	bool found = lookup(a->set, hash, time(NULL), who);
	bool stale = a->stale;
	pthread_mutex_unlock(&a->mu);
	OPENSSL_cleanse(hash, sizeof hash);
	/* unknown (perhaps issued a moment ago), or a notified change (perhaps
	 * its revocation) not loaded yet: wait once for a reload */
	if ((!found || stale) && conn && wait_for_reload(a, conn))
		return AUTH_WAIT;
	if (!loaded) {
		*e = KPR_E_TOKENS_NOT_LOADED;
		return AUTH_REFUSED;
	}
	return found ? AUTH_OK : AUTH_REFUSED;
}
