/*
 * api.h — the endpoint handlers (one file each in server/src/api/) and the
 * static route table that maps method + path to them.
 */
#ifndef API_H
#define API_H

#include <libpq-fe.h>

#include "http.h"

/* The columns api_submission_json() reads, in its order. */
#define API_SUBMISSION_COLUMNS                                                                 \
	"id::text, kommunenummer, aargang, innsending_id, forrige_id, sha256, bytes, dry_run," \
	" status, kpr.oslo_time(received_at, true), kpr.oslo_time(started_at, true),"          \
	" kpr.oslo_time(processed_at, true), persons, registrations,"                          \
	" persons_loaded, persons_excluded, registrations_loaded, registrations_excluded,"     \
	" n_fatal, n_error, n_warning, n_info, validate_seconds, load_seconds, total_seconds," \
	" feedback_ready, superseded_by::text, fagsystem, fagsystem_versjon"

/* Staff monitoring (§7): which submissions count toward årgang $1, and which
 * municipalities are expected to report for it. Shared by the progress
 * endpoints so "missing" means the same in the JSON and in the CSV.
 * A submission counts when it is not a dry run and is of that årgang or, when
 * its årgang could not be read from the file, was received in the following
 * year (Oslo time), the intake season of that årgang. */
#define API_PROGRESS_OF_AARGANG(s)                                                     \
	"NOT " s ".dry_run AND (" s ".aargang = $1::int OR (" s ".aargang IS NULL AND" \
	" extract(year FROM " s ".received_at AT TIME ZONE 'Europe/Oslo') = $1::int + 1))"
/* A municipality is expected when it is valid on 31 December of the årgang. */
#define API_PROGRESS_EXPECTED(k)                                                          \
	k ".gyldig_fra <= make_date($1::int, 12, 31) AND (" k ".gyldig_til IS NULL OR " k \
	  ".gyldig_til >= make_date($1::int, 12, 31))"
/* Parses ?aargang= (default: the newest open årgang); false on a malformed value. */
bool api_progress_aargang(struct http_request *rq, int *aargang);

json_t *api_submission_json(PGresult *r, int row);
bool api_uuid_valid(const char *s);

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
