/*
 * routes.c — every endpoint kprd serves. The table is the API at a glance;
 * the first matching pattern wins, a path that matches with another method
 * gets 405. docs/openapi.yaml documents every entry (operationId = name,
 * x-kpr-auth = auth); tests/openapi checks that the two agree.
 */
#include "api.h"

const struct http_route api_routes[] = {
    {"GET", "/healthz", api_healthz, HTTP_AUTH_NONE, "healthz"},
    {"GET", "/readyz", api_readyz, HTTP_AUTH_NONE, "readyz"},
    {"GET", "/metrics", api_metrics, HTTP_AUTH_NONE, "metrics"},
    {"POST", "/api/v1/submissions", api_submissions_post, HTTP_AUTH_MUNICIPALITY,
     "submissions_post"},
    {"GET", "/api/v1/submissions", api_submissions_list, HTTP_AUTH_ANY, "submissions_list"},
    {"GET", "/api/v1/submissions/{}", api_submission_get, HTTP_AUTH_ANY, "submission_get"},
    {"GET", "/api/v1/submissions/{}/feedback", api_feedback_get, HTTP_AUTH_ANY, "feedback_get"},
    {"GET", "/api/v1/progress", api_progress_get, HTTP_AUTH_STAFF, "progress_get"},
    {"GET", "/api/v1/progress/missing.csv", api_progress_missing_csv, HTTP_AUTH_STAFF,
     "progress_missing_csv"},
    /* the API's OpenAPI document (docs/openapi.yaml), built into kprd */
    {"GET", "/api/v1/openapi.yaml", api_openapi_get, HTTP_AUTH_NONE, "openapi"},
    /* the dashboard: static files that hold no data (the data comes from the API with a token) */
    {"GET", "/", api_static_index, HTTP_AUTH_NONE, "dashboard"},
    {"GET", "/static/{}", api_static_get, HTTP_AUTH_NONE, "static"},
};
const size_t api_routes_len = sizeof api_routes / sizeof api_routes[0];
