/*
 * submission_view.c — the one JSON shape of a submission, shared by the
 * upload answer, GET /submissions/{id} and the list, and the one query that
 * reads it with the caller's visibility applied (a municipality sees only
 * its own; anything else is 404, never 403, so ids reveal nothing).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "db.h"

static json_t *opt_int(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? json_null()
					: json_integer(atoll(PQgetvalue(r, row, col)));
}

static json_t *opt_str(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? json_null() : json_string(PQgetvalue(r, row, col));
}

static json_t *opt_real(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? json_null() : json_real(atof(PQgetvalue(r, row, col)));
}

json_t *api_submission_json(PGresult *r, int row)
{
	const char *id = PQgetvalue(r, row, 0);
	char self[128], fb[4][160];
	snprintf(self, sizeof self, "/api/v1/submissions/%s", id);
	static const char *const fmts[] = {"csv", "xml", "html", "json"};
	bool ready = PQgetvalue(r, row, 25)[0] == 't';
	json_t *feedback = json_object();
	for (int i = 0; i < 4; i++) {
		snprintf(fb[i], sizeof fb[i], "%s/feedback?format=%s", self, fmts[i]);
		if (ready)
			json_object_set_new(feedback, fmts[i], json_string(fb[i]));
	}
	return json_pack(
	    "{s:s, s:s, s:o, s:o, s:o, s:s, s:I, s:b, s:s,"
	    " s:{s:o, s:o, s:o},"
	    " s:{s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o}},"
	    " s:{s:o, s:o, s:o},"
	    " s:{s:o, s:o}, s:o,"
	    " s:{s:s, s:o}}",
	    "id", id, "kommunenummer", PQgetvalue(r, row, 1), "aargang", opt_int(r, row, 2),
	    "innsending_id", opt_str(r, row, 3), "forrige_id", opt_str(r, row, 4), "sha256",
	    PQgetvalue(r, row, 5), "bytes", (json_int_t)atoll(PQgetvalue(r, row, 6)), "dry_run",
	    PQgetvalue(r, row, 7)[0] == 't', "status", PQgetvalue(r, row, 8), "times",
	    "received_at", opt_str(r, row, 9), "started_at", opt_str(r, row, 10), "processed_at",
	    opt_str(r, row, 11), "counts", "persons", opt_int(r, row, 12), "registrations",
	    opt_int(r, row, 13), "persons_loaded", opt_int(r, row, 14), "persons_excluded",
	    opt_int(r, row, 15), "registrations_loaded", opt_int(r, row, 16),
	    "registrations_excluded", opt_int(r, row, 17), "messages", "fatal", opt_int(r, row, 18),
	    "error", opt_int(r, row, 19), "warning", opt_int(r, row, 20), "info",
	    opt_int(r, row, 21), "timings", "validate_seconds", opt_real(r, row, 22),
	    "load_seconds", opt_real(r, row, 23), "total_seconds", opt_real(r, row, 24), "sender",
	    "fagsystem", opt_str(r, row, 27), "fagsystem_versjon", opt_str(r, row, 28),
	    "superseded_by", opt_str(r, row, 26), "links", "self", self, "feedback", feedback);
}

bool api_uuid_valid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return false;
		}
	}
	return true;
}
