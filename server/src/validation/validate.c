/*
 * validate.c — the streaming validation engine's entry points (validate.h,
 * SPEC §2–§3) and the life cycle of its state.
 *
 * Owns: reading a submission (plain or gzip, UTF-8 or ISO-8859-1) with the
 * libxml2 SAX2 push parser in fixed-size chunks; the structural check that
 * mirrors config/xsd/innsending.xsd; every F- and R-rule; deciding what is
 * excluded; handing each accepted person to the sink when its Person
 * element ends; duplicate detection (R105/R106) with retraction. The work
 * is split over validate_*.c by job; validate_state.h maps them.
 *
 * Must not: build a document tree, hold more than one person's elements,
 * or put a national ID anywhere but the sink's v_person.fnr: every value in
 * a message goes through nid_mask() (Fnr) or val_scrub_value() (SPEC §3's
 * masking rule, nid_mask_text). Identity is not display: refs are compared,
 * kept for duplicate detection and retracted exactly as written; only the
 * copy put into a message is masked.
 */
#include "validate_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void state_free(struct vstate *s)
{
	val_person_free(s);
	val_dedup_free(s);
}

/* Frees the state and wipes it: the current Fnr, the text buffer and the
 * fnr keys live in it. */
static void state_destroy(struct vstate *s)
{
	state_free(s);
	explicit_bzero(s, sizeof *s);
	free(s);
}

static bool setup(struct vstate *s, const struct validate_params *p)
{
	s->p = p;
	s->nidopt.test_mode = p ? p->test_mode : false;
	s->nidopt.allow_2032 = p ? p->allow_2032 : true;
	val_person_init(s);
	val_dedup_init(s);
	return true;
}

bool validate_file(const char *path, const struct validate_params *params,
		   const struct validate_sink *sink, struct report *r, struct validate_result *res)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct vstate *s = calloc(1, sizeof *s);
	if (!s)
		return false;
	s->sink = sink;
	s->r = r;
	s->res = res;
	bool ok = setup(s, params) && val_run(s, path);
	if (ok && !s->fatal && !s->internal_error && s->header.seen_root && !s->stopped) {
		struct report_summary *sum = report_summary(r);
		if (sum->persons == 0)
			val_msg(
			    s, RULE_F006, 1, "/Innsending", NULL,
			    "Filen inneholder ingen personer; en innsending skal være et fullstendig uttrekk for årgangen");
	}
	if (!report_flush(r))
		ok = false;
	struct report_summary *sum = report_summary(r);
	if (sum->fatal) {
		/* nothing of a rejected file is loaded */
		sum->persons_loaded = 0;
		sum->persons_excluded = sum->persons;
		sum->registrations_loaded = 0;
		sum->registrations_excluded = sum->registrations;
	}
	if (s->internal_error)
		ok = false;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (res) {
		memset(res, 0, sizeof *res);
		res->header = s->header.hdr;
		res->header_ok = s->header.header_ok;
		res->bytes = s->input.bytes;
		res->timed_out = s->input.timed_out;
		res->seconds =
		    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	}
	state_destroy(s);
	return ok;
}

bool validate_peek_header(const char *path, struct v_header *h, char *err, size_t errlen)
{
	struct vstate *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "tomt for minne");
		return false;
	}
	s->peek = true;
	setup(s, NULL);
	bool ok = val_run(s, path);
	memset(h, 0, sizeof *h);
	*h = s->header.hdr;
	bool header = ok && s->header.seen_avsender && s->header.hdr.id[0] &&
		      s->header.hdr.aargang > 0 && s->header.hdr.kommunenummer[0] && !s->fatal;
	if (!ok)
		snprintf(err, errlen, "filen kan ikke leses");
	else if (!header)
		snprintf(err, errlen, "%s",
			 s->peek_err[0] ? s->peek_err
					: "Innsending og Avsender kunne ikke leses fra filen");
	state_destroy(s);
	return header;
}
