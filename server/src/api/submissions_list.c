/*
 * submissions_list.c — GET /api/v1/submissions?kommune=&aargang=&limit=:
 * newest first. A municipality lists only its own (another kommune: 404).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "store_submission.h"

struct list_args {
	char kommune[8]; /* "" for every one (staff) */
	int aargang;     /* -1 for every årgang */
	int limit;
};

static void list_free(void *p)
{
	free(p);
}

static void list_db(struct http_request *rq, struct db *db)
{
	struct list_args *a = rq->state;
	struct store_submissions *rows = NULL;
	if (!db || !store_submission_list(db, a->kommune, a->aargang, a->limit, &rows)) {
		(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < store_submissions_len(rows); i++) {
		struct store_submission s;
		store_submissions_row(rows, i, &s);
		json_array_append_new(items, api_submission_json(&s));
	}
	store_submissions_free(rows);
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
	if (rq->who.role == AUTH_ROLE_MUNICIPALITY) {
		if (k && *k && strcmp(k, rq->who.kommune))
			return http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
		k = rq->who.kommune;
	}
	struct list_args *a = calloc(1, sizeof *a);
	if (!a)
		return http_reply_error(rq, KPR_E_INTERNAL, NULL);
	snprintf(a->kommune, sizeof a->kommune, "%s", k ? k : "");
	a->aargang = y && *y ? atoi(y) : -1;
	int lim = l && *l ? atoi(l) : 100;
	a->limit = lim > 1000 ? 1000 : lim;
	rq->state = a;
	rq->state_free = list_free;
	return http_defer(rq, list_db);
}
