/*
 * submission_view.c — the one JSON shape of a submission, shared by the
 * upload answer, GET /submissions/{id} and the list, from the row the store
 * reads (store_submission.h); and the id check every {id} route makes.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "feedback.h"

static json_t *opt_int(struct store_opt_int v)
{
	return v.set ? json_integer((json_int_t)v.v) : json_null();
}

static json_t *opt_real(struct store_opt_real v)
{
	return v.set ? json_real(v.v) : json_null();
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *api_submission_json(const struct store_submission *s)
{
	char self[128], fb[FEEDBACK_FORMAT_COUNT][160];
	snprintf(self, sizeof self, "/api/v1/submissions/%s", s->id);
	json_t *feedback = json_object();
	for (int i = 0; i < FEEDBACK_FORMAT_COUNT; i++) {
		const char *f = feedback_format_name((enum feedback_format)i);
		snprintf(fb[i], sizeof fb[i], "%s/feedback?format=%s", self, f);
		if (s->feedback_ready)
			json_object_set_new(feedback, f, json_string(fb[i]));
	}
	return json_pack(
	    "{s:s, s:s, s:o, s:o, s:o, s:s, s:I, s:b, s:s,"
	    " s:{s:o, s:o, s:o},"
	    " s:{s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o}},"
	    " s:{s:o, s:o, s:o},"
	    " s:{s:o, s:o}, s:o,"
	    " s:{s:s, s:o}}",
	    "id", s->id, "kommunenummer", s->kommunenummer, "aargang", opt_int(s->aargang),
	    "innsending_id", opt_str(s->innsending_id), "forrige_id", opt_str(s->forrige_id),
	    "sha256", s->sha256, "bytes", (json_int_t)s->bytes, "dry_run", s->dry_run, "status",
	    s->status, "times", "received_at", opt_str(s->received_at), "started_at",
	    opt_str(s->started_at), "processed_at", opt_str(s->processed_at), "counts", "persons",
	    opt_int(s->persons), "registrations", opt_int(s->registrations), "persons_loaded",
	    opt_int(s->persons_loaded), "persons_excluded", opt_int(s->persons_excluded),
	    "registrations_loaded", opt_int(s->registrations_loaded), "registrations_excluded",
	    opt_int(s->registrations_excluded), "messages", "fatal", opt_int(s->n_fatal), "error",
	    opt_int(s->n_error), "warning", opt_int(s->n_warning), "info", opt_int(s->n_info),
	    "timings", "validate_seconds", opt_real(s->validate_seconds), "load_seconds",
	    opt_real(s->load_seconds), "total_seconds", opt_real(s->total_seconds), "sender",
	    "fagsystem", opt_str(s->fagsystem), "fagsystem_versjon", opt_str(s->fagsystem_versjon),
	    "superseded_by", opt_str(s->superseded_by), "links", "self", self, "feedback",
	    feedback);
}
