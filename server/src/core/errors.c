/*
 * errors.c — the error registry table. Codes are part of the API contract:
 * never rename one; add new ones at the end.
 */
#include "errors.h"

#include <string.h>

static const struct kpr_error_def registry[KPR_E_COUNT] = {
    [KPR_E_NOT_FOUND] = {KPR_E_NOT_FOUND, "not_found", 404, "No such resource."},
    [KPR_E_METHOD_NOT_ALLOWED] = {KPR_E_METHOD_NOT_ALLOWED, "method_not_allowed", 405,
				  "Method not allowed on this resource."},
    [KPR_E_UNAUTHENTICATED] = {KPR_E_UNAUTHENTICATED, "unauthenticated", 401,
			       "A valid bearer token is required."},
    [KPR_E_FORBIDDEN] = {KPR_E_FORBIDDEN, "forbidden", 403, "The token's role may not do this."},
    [KPR_E_TOO_MANY_AUTH_FAILURES] = {KPR_E_TOO_MANY_AUTH_FAILURES, "too_many_auth_failures", 429,
				      "Too many failed sign-ins from this address."},
    [KPR_E_LENGTH_REQUIRED] = {KPR_E_LENGTH_REQUIRED, "length_required", 411,
			       "Content-Length (or chunked transfer) is required."},
    [KPR_E_PAYLOAD_TOO_LARGE] = {KPR_E_PAYLOAD_TOO_LARGE, "payload_too_large", 413,
				 "The body is larger than the configured limit."},
    [KPR_E_UNSUPPORTED_MEDIA_TYPE] = {KPR_E_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415,
				      "Send the file as Content-Type: application/xml."},
    [KPR_E_UNSUPPORTED_ENCODING] = {KPR_E_UNSUPPORTED_ENCODING, "unsupported_content_encoding", 415,
				    "Only Content-Encoding: gzip (or none) is accepted."},
    [KPR_E_BAD_REQUEST] = {KPR_E_BAD_REQUEST, "bad_request", 400, "Malformed request."},
    [KPR_E_BAD_PARAMETER] = {KPR_E_BAD_PARAMETER, "bad_parameter", 400,
			     "A query parameter is missing or malformed."},
    [KPR_E_UPLOAD_INCOMPLETE] = {KPR_E_UPLOAD_INCOMPLETE, "upload_incomplete", 400,
				 "The upload ended before the announced length."},
    [KPR_E_QUEUE_FULL] = {KPR_E_QUEUE_FULL, "queue_full", 503,
			  "The intake queue is full; retry after the indicated time."},
    [KPR_E_INSUFFICIENT_STORAGE] = {KPR_E_INSUFFICIENT_STORAGE, "insufficient_storage", 507,
				    "The server cannot store the file right now."},
    [KPR_E_DATABASE_UNAVAILABLE] = {KPR_E_DATABASE_UNAVAILABLE, "database_unavailable", 503,
				    "The database is unavailable; retry later."},
    [KPR_E_NOT_READY] = {KPR_E_NOT_READY, "not_ready", 503, "The service is not ready."},
    [KPR_E_FEEDBACK_NOT_READY] = {KPR_E_FEEDBACK_NOT_READY, "feedback_not_ready", 409,
				  "The submission has not been processed yet."},
    [KPR_E_RATE_LIMITED] = {KPR_E_RATE_LIMITED, "rate_limited", 429,
			    "Too many requests; retry after the indicated time."},
    [KPR_E_INTERNAL] = {KPR_E_INTERNAL, "internal_error", 500,
			"Internal error; the request id identifies it in the server log."},
    [KPR_E_UPLOAD_TOO_SLOW] = {KPR_E_UPLOAD_TOO_SLOW, "upload_too_slow", 408,
			       "The upload was slower than the minimum rate; nothing was stored."},
    [KPR_E_TOKENS_NOT_LOADED] = {KPR_E_TOKENS_NOT_LOADED, "tokens_not_loaded", 503,
				 "Tokens are not loaded yet; retry after the indicated time."},
    [KPR_E_UNKNOWN_UNIT] = {KPR_E_UNKNOWN_UNIT, "unknown_unit", 404,
			    "No element of this submission names this unit (enhet); names are "
			    "matched exactly as written."},
    [KPR_E_TOO_MANY_UNITS] = {KPR_E_TOO_MANY_UNITS, "too_many_units", 422,
			      "The file names too many units to split its feedback by unit; use "
			      "the whole file (without enhet) and filter on its enhet column."},
};

const struct kpr_error_def *kpr_error_get(enum kpr_error e)
{
	if ((unsigned)e >= KPR_E_COUNT)
		e = KPR_E_INTERNAL;
	return &registry[e];
}

const struct kpr_error_def *kpr_error_find(const char *code)
{
	for (size_t i = 0; i < KPR_E_COUNT; i++)
		if (registry[i].code && !strcmp(registry[i].code, code))
			return &registry[i];
	return NULL;
}
