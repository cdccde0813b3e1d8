/*
 * static_get.c — GET / and GET /static/{name}: the monitoring dashboard's
 * files from paths.static_dir. The files hold no data (the page fetches it
 * from the API with the staff token), so they need no token.
 * Only plain file names of known types in the directory itself are served:
 * no path separators, no leading dot, no symlinks, regular files only, so a
 * request can never reach outside static_dir. Every answer carries a
 * Content-Security-Policy that keeps the page to its own origin.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "log.h"

#define STATIC_CSP                                                                             \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;" \
	" connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none';"         \
	" frame-ancestors 'none'"

static const struct {
	const char *ext;
	const char *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
};

static const char *content_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!dot)
		return NULL;
	for (size_t i = 0; i < KPR_ARRAY_LEN(content_types); i++)
		if (!strcmp(dot, content_types[i].ext))
			return content_types[i].type;
	return NULL;
}

static bool name_safe(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 100 || name[0] == '.')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       n;
}

static enum MHD_Result serve(struct http_request *rq, const char *name)
{
	const char *ctype = content_type(name);
	if (!name_safe(name) || !ctype)
		return http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
	int dfd = open(rq->cfg->static_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rlog_error(rq->id, "static_dir %s: %s", rq->cfg->static_dir, strerror(errno));
		return http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
	}
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return http_reply_error(rq, KPR_E_NOT_FOUND, NULL);
	}
	/* a validator from size and modification time: cheap, and it changes on deploy */
	char etag[64], lastmod[64];
	snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
		     (unsigned long long)st.st_mtim.tv_nsec);
	struct tm tm;
	gmtime_r(&st.st_mtim.tv_sec, &tm);
	strftime(lastmod, sizeof lastmod, "%a, %d %b %Y %H:%M:%S GMT", &tm);

	const char *inm = http_header(rq, MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct MHD_Response *resp;
	unsigned status = MHD_HTTP_OK;
	if (inm && strstr(inm, etag)) {
		close(fd);
		status = MHD_HTTP_NOT_MODIFIED;
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
		if (!resp)
			close(fd);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lastmod);
	MHD_add_response_header(resp, "Content-Security-Policy", STATIC_CSP);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	return http_reply_response(rq, status, resp);
}

enum MHD_Result api_static_index(struct http_request *rq, const char *upload, size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	return serve(rq, "index.html");
}

enum MHD_Result api_static_get(struct http_request *rq, const char *upload, size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	return serve(rq, rq->segment);
}
