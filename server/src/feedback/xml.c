/*
 * xml.c — the feedback XML (SPEC §6): namespace urn:no:kpr:tilbakemelding:1,
 * valid against config/xsd/tilbakemelding.xsd; attributes of a type (times,
 * hashes, counts) are written normalised or left out, never invalid.
 */
#include "feedback_internal.h"

static void xml_attr(struct fb_out *o, const char *name, const char *value)
{
	if (value == NULL)
		return;
	fb_printf(o, " %s=\"", name);
	fb_text(o, value, ESC_XML_ATTR);
	fb_putc(o, '"');
}

/* An attribute written as is: the caller has normalised it to its type. */
static void xml_attr_raw(struct fb_out *o, const char *name, const char *value)
{
	fb_printf(o, " %s=\"%s\"", name, value);
}

static bool xml_visit(void *ctx, const struct vmsg *m)
{
	struct fb_out *o = ctx;

	fb_puts(o, "    <Melding");
	xml_attr(o, "regel", m->rule);
	xml_attr_raw(o, "alvorlighet", sev_code(m->severity));
	if (has_text(m->ref))
		xml_attr(o, "ref", m->ref);
	fb_puts(o, " linjer=\"");
	for (size_t i = 0; i < m->nlines; i++)
		fb_printf(o, "%s%lu", i ? " " : "", m->lines[i]);
	if (m->nlines == 0)
		fb_putc(o, '0');
	fb_putc(o, '"');
	if (has_text(m->path))
		xml_attr(o, "element", m->path);
	xml_attr(o, "enhet", fb_msg_unit(m));
	fb_puts(o, ">\n      <Tekst>");
	fb_text(o, m->text, ESC_XML_TEXT);
	fb_puts(o, "</Tekst>\n");
	if (m->value != NULL) {
		fb_puts(o, "      <Verdi>");
		fb_text(o, m->value, ESC_XML_TEXT);
		fb_puts(o, "</Verdi>\n");
	}
	fb_puts(o, "    </Melding>\n");
	return o->ok;
}

static void xml_attr_id(struct fb_out *o, const char *name, const char *value)
{
	if (value == NULL)
		return;
	fb_printf(o, " %s=\"", name);
	fb_identifier(o, value, ESC_XML_ATTR);
	fb_putc(o, '"');
}

/* The root element's start tag: the submission's metadata as attributes. */
static void xml_root(struct fb_out *o, const struct feedback_meta *m, const struct status_info *st,
		     const char *filter)
{
	char buf[80];
	char sha[65];

	fb_puts(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<Tilbakemelding xmlns=\"" FEEDBACK_XML_NAMESPACE "\" versjon=\"1.0\"");
	xml_attr_id(o, "id", m->submission_id);
	xml_attr_id(o, "innsendingId", m->innsending_id);
	xml_attr(o, "kommunenummer", m->kommunenummer);
	xml_attr(o, "kommunenavn", m->kommunenavn);
	if (m->aargang >= 1000 && m->aargang <= 9999)
		fb_printf(o, " aargang=\"%04d\"", m->aargang);
	xml_attr_raw(o, "status", st->code);
	xml_attr_raw(o, "proevekjoering", m->dry_run ? "true" : "false");
	if (fb_normalise_datetime(m->received_at, buf, sizeof(buf)))
		xml_attr_raw(o, "mottatt", buf);
	if (fb_normalise_datetime(m->processed_at, buf, sizeof(buf)))
		xml_attr_raw(o, "behandlet", buf);
	if (fb_normalise_sha256(m->sha256, sha))
		xml_attr_raw(o, "sha256", sha);
	if (m->bytes > 0)
		fb_printf(o, " bytes=\"%llu\"", m->bytes);
	xml_attr(o, "fagsystem", m->fagsystem);
	xml_attr(o, "fagsystemVersjon", m->fagsystem_versjon);
	xml_attr_raw(o, "programversjon", KPR_VERSION);
	xml_attr_raw(o, "regelsett", KPR_RULESET_VERSION);
	xml_attr(o, "enhet", filter);
	fb_puts(o, ">\n");
}

/* Per unit: a person under its own unit, a service under its own (or its
 * person's), messages under the unit they carry. */
static void xml_units(struct fb_out *o, const struct fb_view *v)
{
	fb_printf(o, "  <Enheter avkortet=\"%s\" maksAntall=\"%d\"%s\n",
		  v->units_capped ? "true" : "false", REPORT_MAX_UNITS, v->n_units ? ">" : "/>");
	for (size_t i = 0; i < v->n_units; i++) {
		const struct report_unit *u = v->units[i];
		enum fb_unit_kind k = fb_unit_kind(u->enhet, u->enhet == NULL);
		fb_puts(o, "    <Enhet");
		if (k == FB_UNIT_NAMED || k == FB_UNIT_UNKNOWN)
			xml_attr(o, "navn", u->enhet);
		xml_attr_raw(o, "type", fb_unit_kind_code(k));
		fb_printf(o,
			  " personer=\"%lu\" personerLastet=\"%lu\" personerUtelatt=\"%lu\""
			  " tjenester=\"%lu\" kritiskeFeil=\"%lu\" feil=\"%lu\" advarsler=\"%lu\""
			  " informasjon=\"%lu\"/>\n",
			  u->persons, u->persons_loaded, u->persons_excluded, u->services,
			  u->by_severity[SEV_FATAL], u->by_severity[SEV_ERROR],
			  u->by_severity[SEV_WARNING], u->by_severity[SEV_INFO]);
	}
	if (v->n_units)
		fb_puts(o, "  </Enheter>\n");
}

/* One figure of what was received. */
static bool xml_figure(void *ctx, const struct received_row *row)
{
	struct fb_out *o = ctx;
	char v[40];
	fb_puts(o, "    <Tall");
	xml_attr_raw(o, "type", fb_received_unit_kind(row));
	if (row->unit && !row->other && row->enhet && row->enhet[0])
		xml_attr(o, "enhet", row->enhet);
	xml_attr_raw(o, "tall", row->key_code);
	if (row->type > 0)
		fb_printf(o, " tjenestetype=\"%d\"", row->type);
	xml_attr(o, "tjenestetypeNavn", row->type > 0 ? row->type_name : NULL);
	xml_attr(o, "kodeverk", row->kodeverk);
	if (row->has_value) {
		received_value_text(row->value, row->decimals, v, sizeof v);
		xml_attr_raw(o, "verdi", v);
	}
	if (row->has_prev) {
		received_value_text(row->prev, row->decimals, v, sizeof v);
		xml_attr_raw(o, "forrige", v);
	}
	if (row->has_change)
		fb_printf(o, " endringProsent=\"%.1f\"", row->change_percent);
	if (row->has_prev)
		xml_attr_raw(o, "avvik", row->flagged ? "true" : "false");
	fb_puts(o, "/>\n");
	return o->ok;
}

/* What was received (SPEC §6): the figures, beside the previous årgang's. */
static bool xml_received(struct fb_out *o, const struct feedback_meta *m, struct report *r,
			 const struct status_info *st)
{
	struct fb_received x;
	if (!fb_received_collect(&x, m, r, st))
		return false;
	fb_printf(o, "  <Mottatt lastet=\"%s\" sammenligning=\"%s\"", x.shown ? "true" : "false",
		  received_prev_state_code(x.state));
	if (x.cmp) {
		fb_printf(o, " forrigeAargang=\"%04d\"", x.cmp->aargang);
		if (x.state == RECEIVED_PREV_COMPARED)
			xml_attr_id(o, "forrigeInnsending", x.cmp->submission_id);
		fb_printf(o, " terskelProsent=\"%d\"", x.cmp->threshold_percent);
	}
	fb_puts(o, ">\n    <Merknad>");
	fb_text(o, x.note, ESC_XML_TEXT);
	fb_puts(o, "</Merknad>\n");
	if (x.shown && !received_rows(x.cur, x.cmp, x.filter, xml_figure, o))
		return false;
	fb_puts(o, "  </Mottatt>\n");
	return o->ok;
}

static void xml_rule(struct fb_out *o, const struct tally *e)
{
	fb_puts(o, "    <Regel");
	xml_attr(o, "id", e->id);
	xml_attr_raw(o, "alvorlighet", sev_code(e->severity));
	fb_printf(o, " antall=\"%lu\" meldinger=\"%lu\">\n", e->occurrences, e->messages);
	if (e->def != NULL) {
		fb_puts(o, "      <Tittel>");
		fb_text(o, e->def->title, ESC_XML_TEXT);
		fb_puts(o, "</Tittel>\n");
		if (has_text(e->def->explanation)) {
			fb_puts(o, "      <Forklaring>");
			fb_text(o, e->def->explanation, ESC_XML_TEXT);
			fb_puts(o, "</Forklaring>\n");
		}
		if (has_text(e->def->fix)) {
			fb_puts(o, "      <Retting>");
			fb_text(o, e->def->fix, ESC_XML_TEXT);
			fb_puts(o, "</Retting>\n");
		}
	} else {
		fb_puts(o, "      <Tittel></Tittel>\n");
	}
	fb_puts(o, "    </Regel>\n");
}

bool fb_render_xml(struct fb_out *o, const struct feedback_meta *m, struct report *r)
{
	struct fb_view v;

	if (!fb_view_collect(&v, m, r))
		return false;

	xml_root(o, m, v.st, v.filter);
	fb_printf(o,
		  "  <Sammendrag personer=\"%lu\" registreringer=\"%lu\""
		  " personerLastet=\"%lu\" personerUtelatt=\"%lu\""
		  " registreringerLastet=\"%lu\" registreringerUtelatt=\"%lu\""
		  " kritiskeFeil=\"%lu\" feil=\"%lu\" advarsler=\"%lu\" informasjon=\"%lu\""
		  " meldinger=\"%lu\"/>\n",
		  v.s.persons, v.s.registrations, v.s.persons_loaded, v.s.persons_excluded,
		  v.s.registrations_loaded, v.s.registrations_excluded, v.s.by_severity[SEV_FATAL],
		  v.s.by_severity[SEV_ERROR], v.s.by_severity[SEV_WARNING],
		  v.s.by_severity[SEV_INFO], v.t.messages);
	xml_units(o, &v);
	if (!xml_received(o, m, r, v.st)) {
		fb_view_free(&v);
		return false;
	}

	if (v.t.n == 0) {
		fb_puts(o, "  <Regler/>\n");
	} else {
		fb_puts(o, "  <Regler>\n");
		for (size_t i = 0; i < v.t.n; i++)
			xml_rule(o, &v.t.v[i]);
		fb_puts(o, "  </Regler>\n");
	}
	unsigned long messages = v.t.messages;
	fb_view_free(&v);

	if (messages == 0) {
		fb_puts(o, "  <Meldinger/>\n");
	} else {
		fb_puts(o, "  <Meldinger>\n");
		if (!o->ok || !report_foreach(r, xml_visit, o))
			return false;
		fb_puts(o, "  </Meldinger>\n");
	}
	fb_puts(o, "</Tilbakemelding>\n");
	return o->ok;
}
