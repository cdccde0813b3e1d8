/*
 * errors.h — the one registry of API error codes. Every JSON error body
 * ({"code","message","detail"}) is built from an entry here, so a client sees
 * one stable code per error and the HTTP status that goes with it.
 */
#ifndef ERRORS_H
#define ERRORS_H

#include "kpr.h"

enum kpr_error {
	KPR_E_NOT_FOUND = 0,
	KPR_E_METHOD_NOT_ALLOWED,
	KPR_E_UNAUTHENTICATED,
	KPR_E_FORBIDDEN,
	KPR_E_TOO_MANY_AUTH_FAILURES,
	KPR_E_LENGTH_REQUIRED,
	KPR_E_PAYLOAD_TOO_LARGE,
	KPR_E_UNSUPPORTED_MEDIA_TYPE,
	KPR_E_UNSUPPORTED_ENCODING,
	KPR_E_BAD_REQUEST,
	KPR_E_BAD_PARAMETER,
	KPR_E_UPLOAD_INCOMPLETE,
	KPR_E_QUEUE_FULL,
	KPR_E_INSUFFICIENT_STORAGE,
	KPR_E_DATABASE_UNAVAILABLE,
	KPR_E_NOT_READY,
	KPR_E_FEEDBACK_NOT_READY,
	KPR_E_RATE_LIMITED,
	KPR_E_INTERNAL,
	KPR_E_UPLOAD_TOO_SLOW,
	KPR_E_TOKENS_NOT_LOADED,
	KPR_E_UNKNOWN_UNIT,
	KPR_E_TOO_MANY_UNITS,
	KPR_E_COUNT
};

struct kpr_error_def {
	enum kpr_error id;
	const char *code; /* stable string: "payload_too_large" */
	unsigned http_status;
	const char *message; /* default English message for operators and vendors */
};

const struct kpr_error_def *kpr_error_get(enum kpr_error e);
/* Looks up by the string code (for tests and docs). */
const struct kpr_error_def *kpr_error_find(const char *code);

#endif
