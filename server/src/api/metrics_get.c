/*
 * metrics_get.c — GET /metrics in the Prometheus text exposition format.
 */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "metrics.h"

enum MHD_Result api_metrics(struct http_request *rq, const char *upload, size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return http_reply_error(rq, KPR_E_INTERNAL, NULL);
	metrics_render(f);
	fclose(f);
	enum MHD_Result r =
		http_reply_buffer(rq, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf, len);
	free(buf);
	return r;
}
