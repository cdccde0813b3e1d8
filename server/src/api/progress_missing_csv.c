/*
 * progress_missing_csv.c — GET /api/v1/progress/missing.csv?aargang=Y (staff):
 * the reminder list (purreliste) of expected municipalities with no
 * submission at all for the årgang, as Excel opens it: UTF-8 with BOM,
 * ';'-separated, CRLF, header `kommunenummer;kommunenavn;fylke`.
 * ?include=rejected adds those with only rejected submissions and a fourth
 * column `status` (mangler / avvist). Fields are written by the one CSV field
 * writer (csv.h), so a name that looks like a formula is shown as text.
 * "Missing" is exactly the `missing` state of GET /api/v1/progress: the two
 * share API_PROGRESS_OF_AARGANG and API_PROGRESS_EXPECTED.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "csv.h"
#include "db.h"

/* $2 = 't': municipalities whose submissions are all rejected are listed too */
static const struct db_stmt st_missing = {
    "progress_missing",
    "SELECT k.kommunenummer, k.navn, f.navn,"
    "  CASE WHEN EXISTS (SELECT 1 FROM kpr.submission s WHERE s.kommunenummer = k.kommunenummer"
    "   AND " API_PROGRESS_OF_AARGANG(
	"s") ") THEN 'avvist' ELSE 'mangler' END"
	     " FROM kpr.kommune k JOIN kpr.fylke f USING (fylkesnummer)"
	     " WHERE " API_PROGRESS_EXPECTED(
		 "k") " AND NOT EXISTS (SELECT 1 FROM kpr.submission s WHERE s.kommunenummer = k.kommunenummer"
		      "  AND " API_PROGRESS_OF_AARGANG(
			  "s") " AND NOT ($2::bool AND s.status = 'rejected'))"
			       " ORDER BY k.kommunenummer",
    2};

struct missing_args {
	char aargang[8];
	bool include_rejected;
};

static void args_free(void *p)
{
	free(p);
}

static void missing_db(struct http_request *rq, struct db *db)
{
	struct missing_args *a = rq->state;
	const char *p[] = {a->aargang, a->include_rejected ? "t" : "f"};
	PGresult *r = db ? db_exec(db, &st_missing, p, NULL) : NULL;
	if (!r) {
		(void)http_reply_error(rq, KPR_E_DATABASE_UNAVAILABLE, NULL);
		return;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out) {
		PQclear(r);
		(void)http_reply_error(rq, KPR_E_INTERNAL, NULL);
		return;
	}
	fputs(CSV_UTF8_BOM, out);
	fputs(a->include_rejected ? "kommunenummer;kommunenavn;fylke;status\r\n"
				  : "kommunenummer;kommunenavn;fylke\r\n",
	      out);
	int ncols = a->include_rejected ? 4 : 3;
	bool ok = true;
	for (int i = 0; i < PQntuples(r); i++) {
		for (int c = 0; c < ncols; c++) {
			if (c)
				fputc(';', out);
			ok &= csv_field_write(out, PQgetvalue(r, i, c));
		}
		fputs("\r\n", out);
	}
	PQclear(r);
	if (fclose(out) != 0 || !ok) {
		free(buf);
		(void)http_reply_error(rq, KPR_E_INTERNAL, NULL);
		return;
	}
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(buf);
		(void)http_reply_error(rq, KPR_E_INTERNAL, NULL);
		return;
	}
	char disp[96];
	snprintf(disp, sizeof disp, "attachment; filename=\"kpr-purreliste-%s%s.csv\"", a->aargang,
		 a->include_rejected ? "-med-avviste" : "");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/csv; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
	(void)http_reply_response(rq, MHD_HTTP_OK, resp);
}

enum MHD_Result api_progress_missing_csv(struct http_request *rq, const char *upload,
					 size_t *upload_size)
{
	(void)upload;
	(void)upload_size;
	int aargang;
	if (!api_progress_aargang(rq, &aargang))
		return http_reply_error(rq, KPR_E_BAD_PARAMETER, "aargang: a year, 4 digits");
	const char *inc = http_query(rq, "include");
	if (inc && *inc && strcmp(inc, "rejected"))
		return http_reply_error(rq, KPR_E_BAD_PARAMETER, "include: only \"rejected\"");
	struct missing_args *a = calloc(1, sizeof *a);
	if (!a)
		return http_reply_error(rq, KPR_E_INTERNAL, NULL);
	snprintf(a->aargang, sizeof a->aargang, "%d", aargang);
	a->include_rejected = inc && *inc;
	rq->state = a;
	rq->state_free = args_free;
	return http_defer(rq, missing_db);
}
