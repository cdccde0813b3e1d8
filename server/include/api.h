/*
 * api.h — the endpoint handlers (one file each in server/src/api/) and the
 * static route table that maps method + path to them.
 */
#ifndef API_H
#define API_H

#include "http.h"
#include "store_submission.h"

/* Staff monitoring (§7): which submissions count toward årgang $1, and which
 * municipalities are expected to report for it, for the progress endpoints
 * (the JSON and the CSV): SQL functions of migration 0009, store_submission.h. */
#define API_PROGRESS_OF_AARGANG(s) STORE_COUNTS_TOWARD_AARGANG(s)
#define API_PROGRESS_EXPECTED(k)   STORE_KOMMUNE_EXPECTED(k)
/* Parses ?aargang= (default: the newest open årgang); false on a malformed value. */
bool api_progress_aargang(struct http_request *rq, int *aargang);

/* The one JSON shape of a submission (upload answer, GET, list). */
json_t *api_submission_json(const struct store_submission *s);

extern const struct http_route api_routes[];
extern const size_t api_routes_len;

enum MHD_Result api_healthz(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_readyz(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_metrics(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_submissions_post(struct http_request *rq, const char *upload,
				     size_t *upload_size);
enum MHD_Result api_submission_get(struct http_request *rq, const char *upload,
				   size_t *upload_size);
enum MHD_Result api_submissions_list(struct http_request *rq, const char *upload,
				     size_t *upload_size);
enum MHD_Result api_feedback_get(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_progress_get(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_progress_missing_csv(struct http_request *rq, const char *upload,
					 size_t *upload_size);
enum MHD_Result api_openapi_get(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_static_index(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_static_get(struct http_request *rq, const char *upload, size_t *upload_size);

#endif
