/*
 * json.c — the feedback JSON (SPEC §6), streamed: written as the report is
 * read, one message at a time, so a file of any size takes bounded memory.
 * Strings go through the same escaping engine as the other formats (UTF-8
 * repair, SPEC §3 masking), not through jansson: see the README,
 * "Dependencies and why".
 */
#include <string.h>

#include "feedback_internal.h"

static void json_str(struct fb_out *o, const char *s)
{
	if (s == NULL) {
		fb_puts(o, "null");
		return;
	}
	fb_putc(o, '"');
	fb_text(o, s, ESC_JSON);
	fb_putc(o, '"');
}

static void json_member(struct fb_out *o, const char *name, const char *value, bool comma)
{
	fb_printf(o, "%s\"%s\":", comma ? "," : "", name);
	json_str(o, value);
}

struct json_ctx {
	struct fb_out *o;
	bool first;
};

static bool json_visit(void *ctx, const struct vmsg *m)
{
	struct json_ctx *j = ctx;
	struct fb_out *o = j->o;

	fb_puts(o, j->first ? "\n    {" : ",\n    {");
	j->first = false;
	json_member(o, "rule", m->rule, false);
	json_member(o, "severity", sev_code(m->severity), true);
	json_member(o, "ref", m->ref ? m->ref : "", true);
	fb_puts(o, ",\"lines\":[");
	for (size_t i = 0; i < m->nlines; i++)
		fb_printf(o, "%s%lu", i ? "," : "", m->lines[i]);
	fb_putc(o, ']');
	json_member(o, "path", m->path, true);
	json_member(o, "text", m->text, true);
	json_member(o, "value", m->value, true);
	json_member(o, "enhet", fb_msg_unit(m), true);
	fb_putc(o, '}');
	return o->ok;
}

/* The "submission" object: the metadata, identifiers in full. */
static void json_submission(struct fb_out *o, const struct feedback_meta *m,
			    const struct status_info *st)
{
	char buf[80];
	char sha[65];

	fb_puts(o, "\"id\":");
	if (m->submission_id) {
		fb_putc(o, '"');
		fb_identifier(o, m->submission_id, ESC_JSON);
		fb_putc(o, '"');
	} else {
		fb_puts(o, "null");
	}
	if (m->innsending_id != NULL) {
		fb_puts(o, ",\"innsending_id\":\"");
		fb_identifier(o, m->innsending_id, ESC_JSON);
		fb_putc(o, '"');
	} else {
		json_member(o, "innsending_id", NULL, true);
	}
	json_member(o, "kommunenummer", m->kommunenummer, true);
	json_member(o, "kommunenavn", m->kommunenavn, true);
	if (m->aargang != 0)
		fb_printf(o, ",\"aargang\":%d", m->aargang);
	else
		fb_puts(o, ",\"aargang\":null");
	json_member(o, "status", st->code, true);
	json_member(o, "status_text", st->label, true);
	fb_printf(o, ",\"dry_run\":%s", m->dry_run ? "true" : "false");
	json_member(o, "received_at",
		    fb_normalise_datetime(m->received_at, buf, sizeof(buf)) ? buf : m->received_at,
		    true);
	json_member(
	    o, "processed_at",
	    fb_normalise_datetime(m->processed_at, buf, sizeof(buf)) ? buf : m->processed_at, true);
	json_member(o, "sha256", fb_normalise_sha256(m->sha256, sha) ? sha : NULL, true);
	fb_printf(o, ",\"bytes\":%llu", m->bytes);
	json_member(o, "fagsystem", m->fagsystem, true);
	json_member(o, "fagsystem_versjon", m->fagsystem_versjon, true);
}

static void json_rules(struct fb_out *o, const struct tallies *t)
{
	fb_puts(o, "  \"rules\":[");
	for (size_t i = 0; i < t->n; i++) {
		const struct tally *e = &t->v[i];
		fb_puts(o, i ? ",\n    {" : "\n    {");
		json_member(o, "rule", e->id, false);
		json_member(o, "severity", sev_code(e->severity), true);
		fb_printf(o, ",\"count\":%lu,\"messages\":%lu", e->occurrences, e->messages);
		json_member(o, "title", e->def ? e->def->title : NULL, true);
		fb_putc(o, '}');
	}
	fb_puts(o, t->n ? "\n  ],\n" : "],\n");
}

/* Per unit: a person under its own unit, a service under its own (or its
 * person's), messages under the unit they carry. */
static void json_units(struct fb_out *o, const struct fb_view *v)
{
	fb_puts(o, "  \"units\":[");
	for (size_t i = 0; i < v->n_units; i++) {
		const struct report_unit *u = v->units[i];
		enum fb_unit_kind k = fb_unit_kind(u->enhet, u->enhet == NULL);
		fb_puts(o, i ? ",\n    {" : "\n    {");
		json_member(o, "enhet",
			    k == FB_UNIT_NAMED || k == FB_UNIT_UNKNOWN ? u->enhet : NULL, false);
		json_member(o, "kind", fb_unit_kind_code(k), true);
		fb_printf(o,
			  ",\"persons\":%lu,\"persons_loaded\":%lu,\"persons_excluded\":%lu,"
			  "\"services\":%lu,\"by_severity\":{\"FATAL\":%lu,\"ERROR\":%lu,"
			  "\"WARNING\":%lu,\"INFO\":%lu}}",
			  u->persons, u->persons_loaded, u->persons_excluded, u->services,
			  u->by_severity[SEV_FATAL], u->by_severity[SEV_ERROR],
			  u->by_severity[SEV_WARNING], u->by_severity[SEV_INFO]);
	}
	fb_puts(o, v->n_units ? "\n  ],\n" : "],\n");
	fb_printf(o, "  \"units_capped\":%s,\"units_max\":%d,\n",
		  v->units_capped ? "true" : "false", REPORT_MAX_UNITS);
}

/* One figure of what was received. */
static bool json_figure(void *ctx, const struct received_row *row)
{
	struct json_ctx *j = ctx;
	struct fb_out *o = j->o;
	char v[40];
	fb_puts(o, j->first ? "\n      {" : ",\n      {");
	j->first = false;
	json_member(o, "kind", fb_received_unit_kind(row), false);
	json_member(o, "enhet",
		    row->unit && !row->other && row->enhet && row->enhet[0] ? row->enhet : NULL,
		    true);
	json_member(o, "figure", row->key_code, true);
	if (row->type > 0)
		fb_printf(o, ",\"service_type\":%d", row->type);
	else
		fb_puts(o, ",\"service_type\":null");
	json_member(o, "service_type_name", row->type > 0 ? row->type_name : NULL, true);
	json_member(o, "kodeverk", row->kodeverk, true);
	received_value_text(row->value, row->decimals, v, sizeof v);
	fb_printf(o, ",\"value\":%s", row->has_value ? v : "null");
	received_value_text(row->prev, row->decimals, v, sizeof v);
	fb_printf(o, ",\"previous\":%s", row->has_prev ? v : "null");
	if (row->has_change)
		fb_printf(o, ",\"change_percent\":%.1f", row->change_percent);
	else
		fb_puts(o, ",\"change_percent\":null");
	fb_printf(o, ",\"flagged\":%s}", row->flagged ? "true" : "false");
	return o->ok;
}

/* What was received (SPEC §6): the figures, beside the previous årgang's. */
static bool json_received(struct fb_out *o, const struct feedback_meta *m, struct report *r,
			  const struct status_info *st)
{
	struct fb_received x;
	if (!fb_received_collect(&x, m, r, st))
		return false;
	fb_printf(o, "  \"received\":{\"loaded\":%s", x.shown ? "true" : "false");
	json_member(o, "comparison", received_prev_state_code(x.state), true);
	if (x.cmp)
		fb_printf(o, ",\"previous_aargang\":%d,\"threshold_percent\":%d", x.cmp->aargang,
			  x.cmp->threshold_percent);
	else
		fb_puts(o, ",\"previous_aargang\":null,\"threshold_percent\":null");
	if (x.state == RECEIVED_PREV_COMPARED) {
		fb_puts(o, ",\"previous_submission\":\"");
		fb_identifier(o, x.cmp->submission_id, ESC_JSON);
		fb_putc(o, '"');
	} else {
		fb_puts(o, ",\"previous_submission\":null");
	}
	json_member(o, "note", x.note, true);
	fb_puts(o, ",\"figures\":[");
	struct json_ctx j = {o, true};
	if (x.shown && !received_rows(x.cur, x.cmp, x.filter, json_figure, &j))
		return false;
	fb_puts(o, j.first ? "]},\n" : "\n    ]},\n");
	return o->ok;
}

bool fb_render_json(struct fb_out *o, const struct feedback_meta *m, struct report *r)
{
	struct fb_view v;

	if (!fb_view_collect(&v, m, r))
		return false;

	fb_puts(o,
		"{\n  \"format\":\"kpr-tilbakemelding\",\"format_version\":1,\n  \"submission\":{");
	json_submission(o, m, v.st);
	fb_puts(o, "},\n  \"program\":{\"version\":\"" KPR_VERSION
		   "\",\"ruleset\":\"" KPR_RULESET_VERSION "\"},\n");
	fb_puts(o, "  ");
	json_member(o, "unit_filter", v.filter, false);
	fb_puts(o, ",\n");
	fb_printf(o,
		  "  \"summary\":{\"persons\":%lu,\"registrations\":%lu,"
		  "\"persons_loaded\":%lu,\"persons_excluded\":%lu,"
		  "\"registrations_loaded\":%lu,\"registrations_excluded\":%lu,"
		  "\"fatal\":%s,\"messages\":%lu,"
		  "\"by_severity\":{\"FATAL\":%lu,\"ERROR\":%lu,\"WARNING\":%lu,\"INFO\":%lu}},\n",
		  v.s.persons, v.s.registrations, v.s.persons_loaded, v.s.persons_excluded,
		  v.s.registrations_loaded, v.s.registrations_excluded,
		  (v.s.fatal || strcmp(v.st->code, "rejected") == 0) ? "true" : "false",
		  v.t.messages, v.s.by_severity[SEV_FATAL], v.s.by_severity[SEV_ERROR],
		  v.s.by_severity[SEV_WARNING], v.s.by_severity[SEV_INFO]);
	json_rules(o, &v.t);
	json_units(o, &v);
	bool ok = json_received(o, m, r, v.st);
	fb_view_free(&v);
	if (!ok)
		return false;

	struct json_ctx j = {o, true};
	fb_puts(o, "  \"messages\":[");
	if (!o->ok || !report_foreach(r, json_visit, &j))
		return false;
	fb_puts(o, j.first ? "]\n}\n" : "\n  ]\n}\n");
	return o->ok;
}
