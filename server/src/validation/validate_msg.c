/*
 * validate_msg.c — the validator's messages: every value shown in one is
 * scrubbed (control characters, length) and masked by SPEC §3's rule
 * (nid_mask_text), so no national ID passes through a message; F002 is
 * counted and gives up after MAX_F002; a FATAL message stops a peek.
 *
 * Must not: decide what a rule means (the checks do), or add a message
 * about a person other than the current one except through msg_raw's ref.
 */
#include "validate_state.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Copies v for a message: at most MAX_VALUE_SHOWN bytes, control characters
 * as '?', and every national-ID candidate masked by SPEC §3's rule
 * (nid_mask_text), so no national ID can pass through a message while
 * everything else is shown as written. */
void val_scrub_text(const struct vstate *s, const char *v, size_t len, size_t max_shown, char *out,
		    size_t outlen)
{
	/* masking is decided on a prefix long enough to hold every candidate
	 * that starts before the cut */
	char masked[MAX_REF_SHOWN + 16];
	if (max_shown > MAX_REF_SHOWN)
		max_shown = MAX_REF_SHOWN;
	size_t mlen = len < max_shown + 15 ? len : max_shown + 15;
	(void)nid_mask_text(v, mlen, &s->nidopt, masked, mlen + 1);
	mlen = strlen(masked);
	if (mlen < len && mlen < max_shown)
		len = mlen; /* a NUL inside v: show what comes before it */
	v = masked;
	size_t o = 0;
	size_t i = 0;
	for (; i < len && i < max_shown && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f) {
			out[o++] = '?';
		} else {
			out[o++] = (char)c;
		}
	}
	if (i < len) {
		/* cut: finish a UTF-8 sequence, then mark the cut */
		while (i < len && ((unsigned char)v[i] & 0xC0) == 0x80 && o + 5 < outlen)
			out[o++] = v[i++];
		if (i < len && o + 4 < outlen) {
			memcpy(out + o, "...", 3);
			o += 3;
		}
	}
	out[o] = '\0';
}

/* An identifier (Innsending/@id, @forrigeId) for a message: shown in full,
 * control characters as '?'. */
void val_show_identifier(const char *v, char *out, size_t outlen)
{
	size_t o = 0;
	for (; v[o] && o + 1 < outlen; o++) {
		unsigned char c = (unsigned char)v[o];
		out[o] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
}

void val_scrub_value(const struct vstate *s, const char *v, size_t len, char *out, size_t outlen)
{
	val_scrub_text(s, v, len, MAX_VALUE_SHOWN, out, outlen);
}

void val_stop(struct vstate *s)
{
	if (!s->stopped) {
		s->stopped = true;
		xmlStopParser(s->parser.ctxt);
	}
}

const char *val_person_unit(const struct vstate *s)
{
	if (!s->person.active)
		return NULL;
	return s->person.enhet_unknown ? REPORT_UNIT_UNKNOWN : s->person.enhet;
}

const char *val_tj_unit(const struct v_tjeneste *t)
{
	return t->enhet_unknown ? REPORT_UNIT_UNKNOWN : t->enhet;
}

/* The unit the next messages carry (the report's current unit). */
void val_set_unit(struct vstate *s, const char *unit)
{
	if (s->r && !report_set_unit(s->r, unit)) {
		s->internal_error = true;
		val_stop(s);
	}
}

void val_msg_raw(struct vstate *s, enum rule_id rule, const char *ref, unsigned long line,
		 const char *path, const char *text, const char *value)
{
	const struct rule_def *rd = rules_get(rule);
	if (rd->severity == SEV_FATAL)
		s->fatal = true;
	if (rule == RULE_F003 || rule == RULE_F004 || rule == RULE_F005)
		s->header_fatal = true;
	else if (s->header_fatal && rd->id[0] == 'R')
		return;
	if (!s->r) {
		if (rd->severity == SEV_FATAL && !s->peek_err[0])
			snprintf(s->peek_err, sizeof s->peek_err, "%s linje %lu: %s", rd->id, line,
				 text);
		return;
	}
	if (!report_add_rule(s->r, rule, ref ? ref : "", line, path, text, value)) {
		s->internal_error = true;
		val_stop(s);
	}
}

/* A message about the current person (or file-level outside a person). */
void val_msg(struct vstate *s, enum rule_id rule, unsigned long line, const char *path,
	     const char *value, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	char val[MAX_VALUE_SHOWN * 4 + 16];
	if (value)
		val_scrub_value(s, value, strlen(value), val, sizeof val);
	val_msg_raw(s, rule, s->person.active ? s->person.ref_display : "", line, path, text,
		    value ? val : NULL);
}

void val_msgv(struct vstate *s, enum rule_id rule, unsigned long line, const char *path,
	      const char *v, size_t vlen, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	char val[MAX_VALUE_SHOWN * 4 + 16];
	val_scrub_value(s, v, vlen, val, sizeof val);
	val_msg_raw(s, rule, s->person.active ? s->person.ref_display : "", line, path, text, val);
}

void val_f002(struct vstate *s, unsigned long line, const char *path, const char *v, size_t vlen,
	      const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	char val[MAX_VALUE_SHOWN * 4 + 16];
	if (v)
		val_scrub_value(s, v, vlen, val, sizeof val);
	val_msg_raw(s, RULE_F002, s->person.active ? s->person.ref_display : "", line, path, text,
		    v ? val : NULL);
	if (s->person.active)
		s->person.broken = true;
	if (++s->n_f002 >= MAX_F002) {
		val_set_unit(s, NULL); /* about the whole file */
		val_msg_raw(
		    s, RULE_F002, "", line, "/Innsending",
		    "Kontrollen ble avbrutt etter for mange strukturfeil; rett feilene over og send filen på nytt",
		    NULL);
		val_stop(s);
	}
}
