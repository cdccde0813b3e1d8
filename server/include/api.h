/*
 * api.h — the endpoint handlers (one file each in server/src/api/) and the
 * static route table that maps method + path to them.
 */
#ifndef API_H
#define API_H

#include <libpq-fe.h>

#include "http.h"

/* The columns api_submission_json() reads, in its order. */
#define API_SUBMISSION_COLUMNS                                                              \
	"id::text, kommunenummer, aargang, innsending_id, forrige_id, sha256, bytes, dry_run," \
	" status, to_char(received_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MSOF'),"                    \
	" to_char(started_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MSOF'),"                             \
	" to_char(processed_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MSOF'), persons, registrations,"   \
	" persons_loaded, persons_excluded, registrations_loaded, registrations_excluded,"    \
	" n_fatal, n_error, n_warning, n_info, validate_seconds, load_seconds, total_seconds," \
	" feedback_ready, superseded_by::text, fagsystem, fagsystem_versjon"

json_t *api_submission_json(PGresult *r, int row);
bool api_uuid_valid(const char *s);

extern const struct http_route api_routes[];
extern const size_t api_routes_len;

enum MHD_Result api_healthz(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_readyz(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_metrics(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_submissions_post(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_submission_get(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_submissions_list(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_feedback_get(struct http_request *rq, const char *upload, size_t *upload_size);

#endif
