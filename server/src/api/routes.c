/*
 * routes.c — every endpoint kprd serves. The table is the API at a glance;
 * the first matching pattern wins, a path that matches with another method
 * gets 405.
 */
#include "api.h"

const struct http_route api_routes[] = {
	{"GET", "/healthz", api_healthz, HTTP_AUTH_NONE, "healthz"},
	{"GET", "/readyz", api_readyz, HTTP_AUTH_NONE, "readyz"},
	{"GET", "/metrics", api_metrics, HTTP_AUTH_NONE, "metrics"},
};
const size_t api_routes_len = sizeof api_routes / sizeof api_routes[0];
