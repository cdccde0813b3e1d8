/*
 * health.c — GET /healthz (the process answers) and GET /readyz (the
 * database answers, tokens are loaded and the workers run). Load balancers
 * and systemd watchdogs use them; neither needs a token.
 */
#include <stdlib.h>

#include "api.h"
#include "auth.h"
#include "config.h"
#include "db.h"

enum MHD_Result api_healthz(struct http_request *rq, const char *upload, size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	json_t *body = json_pack("{s:s, s:s, s:b}", "status", "ok", "version", KPR_VERSION,
				 "test_mode", rq->cfg->test_mode);
	return http_reply_json(rq, MHD_HTTP_OK, body);
}

static void readyz_db(struct http_request *rq, struct db *db)
{
	static const struct db_stmt ping = {"readyz_ping", "SELECT 1", 0};
	bool db_ok = false;
	if (db && db_ensure(db)) {
		PGresult *r = db_exec(db, &ping, NULL, NULL);
		db_ok = r != NULL;
		PQclear(r);
	}
	bool tokens = auth_loaded(rq->app->auth);
	bool workers = __atomic_load_n(&rq->app->ready, __ATOMIC_SEQ_CST) > 0;
	bool ok = db_ok && tokens && workers;
	json_t *body = json_pack("{s:s, s:b, s:b, s:b}", "status", ok ? "ready" : "not_ready",
				 "database", db_ok, "tokens_loaded", tokens, "workers", workers);
	(void)http_reply_json(rq, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

enum MHD_Result api_readyz(struct http_request *rq, const char *upload, size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	return http_defer(rq, readyz_db);
}
