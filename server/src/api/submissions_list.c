/*
 * submissions_list.c — GET /api/v1/submissions?kommune=&aargang=&limit=:
 * newest first. A municipality lists only its own (another kommune: 404).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "db.h"

static const struct db_stmt st_list = {
    "submissions_list",
    "SELECT " API_SUBMISSION_COLUMNS " FROM kpr.submission"
    " WHERE ($1 = '' OR kommunenummer = $1) AND ($2 = '' OR aargang = $2::int)"
    " ORDER BY received_at DESC, id LIMIT $3::int",
    3};

struct list_args {
	char kommune[8];
	char aargang[8];
	char limit[16];
};

static void list_free(void *p)
{
	free(p);
}

static void list_db(struct http_request *rq, struct db *db)
{
	struct list_args *a = rq->state;
	const char *p[] = {a->kommune, a->aargang, a->limit};
	PGresult *r = db ? db_exec(db, &st_list, p, NULL) : NULL;
	if (!r) {
		(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
		return;
	}
	json_t *items = json_array();
	for (int i = 0; i < PQntuples(r); i++)
		json_array_append_new(items, api_submission_json(r, i));
	PQclear(r);
	(void)http_reply_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "submissions", items));
}

static bool digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return false;
	return strspn(s, "0123456789") == n;
}

enum MHD_Result api_submissions_list(struct http_request *rq, const char *upload,
				     size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	const char *k = http_query(rq, "kommune"), *y = http_query(rq, "aargang"),
		   *l = http_query(rq, "limit");
	if ((k && *k && !digits(k, 4, 4)) || (y && *y && !digits(y, 4, 4)) ||
	    (l && *l && (!digits(l, 1, 4) || atoi(l) < 1)))
		return http_reply_error(rq, KPR_E_BAD_PARAMETER,
					"kommune: 4 digits; aargang: 4 digits; limit: 1-1000");
	if (rq->role == HTTP_ROLE_MUNICIPALITY) {
		if (k && *k && strcmp(k, rq->kommune))
			return http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
		k = rq->kommune;
	}
	struct list_args *a = calloc(1, sizeof *a);
	if (!a)
		return http_reply_error(rq, KPR_E_INTERNAL, NULL);
	snprintf(a->kommune, sizeof a->kommune, "%s", k ? k : "");
	snprintf(a->aargang, sizeof a->aargang, "%s", y ? y : "");
	int lim = l && *l ? atoi(l) : 100;
	snprintf(a->limit, sizeof a->limit, "%d", lim > 1000 ? 1000 : lim);
	rq->state = a;
	rq->state_free = list_free;
	return http_defer(rq, list_db);
}
