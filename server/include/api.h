/*
 * api.h — the endpoint handlers (one file each in server/src/api/) and the
 * static route table that maps method + path to them.
 */
#ifndef API_H
#define API_H

#include "http.h"

extern const struct http_route api_routes[];
extern const size_t api_routes_len;

enum MHD_Result api_healthz(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_readyz(struct http_request *rq, const char *upload, size_t *upload_size);
enum MHD_Result api_metrics(struct http_request *rq, const char *upload, size_t *upload_size);

#endif
