/*
 * submission_get.c — GET /api/v1/submissions/{id}: status, counts, timings
 * and feedback links. A municipality asking for another's gets 404, never
 * 403, so ids reveal nothing.
 */
#include "api.h"
#include "store_submission.h"
#include "uuid.h"

static void get_db(struct http_request *rq, struct db *db)
{
	const char *kommune = rq->who.role == AUTH_ROLE_STAFF ? "" : rq->who.kommune;
	struct store_submissions *rows = NULL;
	if (!db || !store_submission_get(db, rq->segment, kommune, &rows)) {
		(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
		return;
	}
	if (store_submissions_len(rows) != 1) {
		(void)http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
	} else {
		struct store_submission s;
		store_submissions_row(rows, 0, &s);
		(void)http_reply_json(rq, MHD_HTTP_OK, api_submission_json(&s));
	}
	store_submissions_free(rows);
}

enum MHD_Result api_submission_get(struct http_request *rq, const char *upload, size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	if (!uuid_valid(rq->segment))
		return http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
	return http_defer(rq, get_db);
}
