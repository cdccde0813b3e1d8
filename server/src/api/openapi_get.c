/*
 * openapi_get.c — GET /api/v1/openapi.yaml: the API's OpenAPI 3.1 document
 * (docs/openapi.yaml), for municipalities' care-records vendors. No token.
 * The document is built into kprd (.incbin below; the Makefile makes this
 * object depend on the file), so the running server always serves the
 * document of its own version and no install path can go stale.
 * An ETag (the document's SHA-256, first 128 bits) lets clients revalidate.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "api.h"
#include "hex.h"

/* The bytes of docs/openapi.yaml, between two symbols. The path is relative to
 * the directory make runs in (the project root). */
__asm__(".pushsection .rodata\n"
	".balign 16\n"
	".global kpr_openapi_yaml\n"
	".hidden kpr_openapi_yaml\n"
	".type kpr_openapi_yaml, %object\n"
	"kpr_openapi_yaml:\n"
	".incbin \"docs/openapi.yaml\"\n"
	".global kpr_openapi_yaml_end\n"
	".hidden kpr_openapi_yaml_end\n"
	"kpr_openapi_yaml_end:\n"
	".byte 0\n"
	".size kpr_openapi_yaml, kpr_openapi_yaml_end - kpr_openapi_yaml\n"
	".popsection\n");

extern const char kpr_openapi_yaml[];
extern const char kpr_openapi_yaml_end[];

static pthread_once_t etag_once = PTHREAD_ONCE_INIT;
static char etag[35]; /* "<32 hex>" */

static void etag_compute(void)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_Digest(kpr_openapi_yaml, (size_t)(kpr_openapi_yaml_end - kpr_openapi_yaml), md, &n,
		       EVP_sha256(), NULL) != 1 ||
	    n < 16) {
		etag[0] = '\0'; /* no validator then: every answer is a 200 */
		return;
	}
	etag[0] = '"';
	hex_encode(md, 16, etag + 1);
	etag[33] = '"';
	etag[34] = '\0';
}

enum MHD_Result api_openapi_get(struct http_request *rq, const char *upload, size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	pthread_once(&etag_once, etag_compute);
	const char *inm = http_header(rq, MHD_HTTP_HEADER_IF_NONE_MATCH);
	bool fresh = etag[0] && inm && strstr(inm, etag);
	size_t len = fresh ? 0 : (size_t)(kpr_openapi_yaml_end - kpr_openapi_yaml);
	/* the document is static data for the process's lifetime: no copy */
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, (void *)kpr_openapi_yaml, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	if (!fresh)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/yaml");
	if (etag[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	return http_reply_response(rq, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp);
}
