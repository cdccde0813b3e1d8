/*
 * submission_get.c — GET /api/v1/submissions/{id}: status, counts, timings
 * and feedback links. A municipality asking for another's gets 404.
 */
#include "api.h"
#include "db.h"

static const struct db_stmt st_get = {"submission_get",
				      "SELECT " API_SUBMISSION_COLUMNS " FROM kpr.submission"
				      " WHERE id = $1::uuid AND ($2 = '' OR kommunenummer = $2)",
				      2};

static void get_db(struct http_request *rq, struct db *db)
{
	const char *p[] = {rq->segment, rq->role == HTTP_ROLE_STAFF ? "" : rq->kommune};
	PGresult *r = db ? db_exec(db, &st_get, p, NULL) : NULL;
	if (!r) {
		(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
		return;
	}
	if (PQntuples(r) != 1)
		(void)http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
	else
		(void)http_reply_json(rq, MHD_HTTP_OK, api_submission_json(r, 0));
	PQclear(r);
}

enum MHD_Result api_submission_get(struct http_request *rq, const char *upload, size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	if (!api_uuid_valid(rq->segment))
		return http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
	return http_defer(rq, get_db);
}
