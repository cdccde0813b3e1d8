/*
 * received_view.c — what every format says of "what was received" (SPEC
 * §6, Mottatt), beside the rows themselves (received_rows): whether it is
 * shown, the sentence about the comparison, and the labels of a row.
 */
#include <stdio.h>
#include <string.h>

#include "feedback_internal.h"

bool fb_received_collect(struct fb_received *x, const struct feedback_meta *m, struct report *r,
			 const struct status_info *st)
{
	memset(x, 0, sizeof *x);
	x->cur = received_figures(report_received(r));
	if (!x->cur)
		return false;
	x->cmp = m->received && m->received->state != RECEIVED_PREV_NOT_ASKED ? m->received : NULL;
	x->shown = strcmp(st->code, "rejected") != 0;
	x->state = x->cmp ? x->cmp->state : RECEIVED_PREV_NOT_ASKED;
	x->filter = m->enhet;
	int y = x->cmp ? x->cmp->aargang : m->aargang - 1;
	if (!x->shown)
		snprintf(x->note, sizeof x->note,
			 "Fila ble avvist, så ingenting av den ble lastet inn i registeret.");
	else if (x->state == RECEIVED_PREV_COMPARED)
		snprintf(x->note, sizeof x->note,
			 "Tallene er det som lastes inn i registeret (personer som ble utelatt på "
			 "grunn av feil er ikke med). De står ved siden av tallene fra kommunens "
			 "gjeldende innsending for %d; endringer på mer enn %d %% er markert.",
			 y, x->cmp->threshold_percent);
	else if (x->state == RECEIVED_PREV_NONE)
		snprintf(x->note, sizeof x->note,
			 "Tallene er det som lastes inn i registeret. Kommunen har ingen godkjent "
			 "innsending for %d å sammenligne med.",
			 y);
	else if (x->state == RECEIVED_PREV_NEW_NUMBER)
		snprintf(x->note, sizeof x->note,
			 "Tallene er det som lastes inn i registeret. Kommunenummer %s fantes ikke "
			 "i %d (kommunen er slått sammen eller delt), så tallene sammenlignes ikke "
			 "med %d.",
			 m->kommunenummer ? m->kommunenummer : "", y, y);
	else if (x->state == RECEIVED_PREV_UNAVAILABLE)
		snprintf(x->note, sizeof x->note,
			 "Tallene er det som lastes inn i registeret. Tallene for %d kunne ikke "
			 "hentes.",
			 y);
	else
		snprintf(x->note, sizeof x->note,
			 "Tallene er det som lastes inn i registeret. Sammenligningen med forrige "
			 "årgang står bare i tilbakemeldingen fra registeret.");
	return true;
}

const char *fb_received_unit_kind(const struct received_row *row)
{
	if (!row->unit)
		return "hele";
	return fb_unit_kind_code(fb_unit_kind(row->unit->enhet, row->other));
}

const char *fb_received_unit_label(const struct received_row *row)
{
	return row->unit ? fb_unit_name_label(row->unit->enhet, row->other) : "Hele fila";
}

void fb_received_what(const struct received_row *row, char *buf, size_t len)
{
	if (row->type > 0)
		snprintf(buf, len, "%d %s", row->type, row->type_name ? row->type_name : "");
	else if (row->kodeverk)
		snprintf(buf, len, "%s", row->kodeverk);
	else
		buf[0] = '\0';
	size_t n = strlen(buf);
	if (n && buf[n - 1] == ' ')
		buf[n - 1] = '\0';
}

void fb_received_change_text(const struct received_row *row, char *buf, size_t len)
{
	if (row->has_change)
		snprintf(buf, len, "%+.1f", row->change_percent);
	else
		buf[0] = '\0';
}
