/*
 * csv.c — the feedback CSV (SPEC §6): UTF-8 with BOM, ';', CRLF, the list
 * of messages only, the unit (enhet) of each in the last column; and the one CSV field writer every CSV of kprd uses
 * (csv.h), with its guard against formula injection.
 */
#include <string.h>

#include "csv.h"
#include "feedback_internal.h"

/* RFC 4180 quoting when the field holds ; " CR or LF. A field that starts
 * with = + - @ TAB or CR would be taken for a formula by Excel and
 * LibreOffice (CSV injection), so it gets a leading apostrophe, which both
 * show as text; a negative number in a value column thus reads '-1.
 * mask: the display form of SPEC §3 (feedback fields); else as given.
 * Masking keeps the first character and never adds or removes ; " CR LF,
 * so both decisions can be taken on s as given. */
static void csv_field_out(struct fb_out *o, const char *s, bool mask)
{
	if (s == NULL)
		s = "";
	bool guard = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
	bool quote = strpbrk(s, ";\"\r\n") != NULL;

	if (quote)
		fb_putc(o, '"');
	if (guard)
		fb_putc(o, '\'');
	if (mask)
		fb_text(o, s, ESC_CSV);
	else
		fb_identifier(o, s, ESC_CSV);
	if (quote)
		fb_putc(o, '"');
}

bool csv_field_write(FILE *out, const char *s)
{
	struct fb_out o = {.f = out, .ok = true};
	csv_field_out(&o, s, false);
	return o.ok;
}

static void csv_field(struct fb_out *o, const char *s)
{
	csv_field_out(o, s, true);
}

static bool csv_visit(void *ctx, const struct vmsg *m)
{
	struct fb_out *o = ctx;
	char lines[FB_LINES_TEXT_MAX]; /* on the stack: workers render at once */

	fb_text(o, m->rule, ESC_CSV);
	fb_putc(o, ';');
	fb_puts(o, sev_nb(m->severity));
	fb_putc(o, ';');
	csv_field(o, m->ref);
	fb_putc(o, ';');
	fb_lines_text(m, lines);
	fb_puts(o, lines);
	fb_putc(o, ';');
	csv_field(o, m->path);
	fb_putc(o, ';');
	csv_field(o, m->text);
	fb_putc(o, ';');
	csv_field(o, m->value);
	fb_putc(o, ';');
	csv_field(o, m->enhet); /* NULL (the whole file) and "" (no unit): empty */
	fb_puts(o, "\r\n");
	return o->ok;
}

bool fb_render_csv(struct fb_out *o, struct report *r)
{
	fb_puts(o, CSV_UTF8_BOM "regel;alvorlighet;ref;linje;element;melding;verdi;enhet\r\n");
	if (!o->ok)
		return false;
	return report_foreach(r, csv_visit, o) && o->ok;
}
