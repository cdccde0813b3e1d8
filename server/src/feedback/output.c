/*
 * output.c — the feedback files' output stream and escaping engine.
 *
 * Owns: writing with one sticky error flag; decoding UTF-8 (malformed bytes
 * and characters the target format cannot carry become U+FFFD, so every
 * file is valid UTF-8 whatever the report holds); the escaping of each
 * format; and the display form of a string: SPEC §3's masking by the one
 * masking function (nid_mask_text), with the options the validator used,
 * except inside UUID-shaped identifiers, which are shown in full (a ref
 * carrying an ID reaches this point already masked, so no UUID-shaped span
 * still holds one). Must not: write an unmasked value when masking fails.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feedback_internal.h"

void fb_put(struct fb_out *o, const char *s, size_t n)
{
	if (n > 0 && fwrite(s, 1, n, o->f) != n)
		o->ok = false;
}

void fb_puts(struct fb_out *o, const char *s)
{
	fb_put(o, s, strlen(s));
}

void fb_putc(struct fb_out *o, char c)
{
	if (putc(c, o->f) == EOF)
		o->ok = false;
}

void fb_printf(struct fb_out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vfprintf(o->f, fmt, ap) < 0)
		o->ok = false;
	va_end(ap);
}

#define REPLACEMENT_CHAR 0xFFFDu
#define UUID_LEN         36

/* Decodes one code point; malformed or overlong input, surrogates and values
 * above U+10FFFF give U+FFFD and consume one byte. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2, v = c & 0x1Fu, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, v = c & 0x0Fu, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, v = c & 0x07u, min = 0x10000;
	} else {
		*cp = REPLACEMENT_CHAR;
		return 1;
	}
	if (n < len) {
		*cp = REPLACEMENT_CHAR;
		return 1;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = REPLACEMENT_CHAR;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3Fu);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
		*cp = REPLACEMENT_CHAR;
		return 1;
	}
	*cp = v;
	return len;
}

static void out_utf8(struct fb_out *o, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	fb_put(o, b, n);
}

/* C0 controls other than TAB, LF, CR; DEL and the C1 controls; the XML 1.0
 * non-characters U+FFFE and U+FFFF. None belongs in a feedback file. */
static bool char_unwanted(uint32_t cp)
{
	if (cp < 0x20)
		return cp != '\t' && cp != '\n' && cp != '\r';
	if (cp >= 0x7F && cp <= 0x9F)
		return true;
	return cp == 0xFFFE || cp == 0xFFFF;
}

/* cp inside a JSON string (malformed input arrives as U+FFFD). Unlike the
 * other formats JSON can carry every control character, escaped. */
static void out_cp_json(struct fb_out *o, uint32_t cp)
{
	switch (cp) {
	case '"':
		fb_puts(o, "\\\"");
		return;
	case '\\':
		fb_puts(o, "\\\\");
		return;
	case '\b':
		fb_puts(o, "\\b");
		return;
	case '\f':
		fb_puts(o, "\\f");
		return;
	case '\n':
		fb_puts(o, "\\n");
		return;
	case '\r':
		fb_puts(o, "\\r");
		return;
	case '\t':
		fb_puts(o, "\\t");
		return;
	case 0x2028:
		fb_puts(o, "\\u2028");
		return; /* not valid raw in JavaScript */
	case 0x2029:
		fb_puts(o, "\\u2029");
		return;
	default:
		break;
	}
	if (cp < 0x20 || cp == 0x7F) {
		fb_printf(o, "\\u%04x", (unsigned)cp);
		return;
	}
	out_utf8(o, cp);
}

/* cp in XML or HTML text or a double-quoted attribute. */
static void out_cp_markup(struct fb_out *o, uint32_t cp, enum esc mode)
{
	switch (cp) {
	case '&':
		fb_puts(o, "&amp;");
		return;
	case '<':
		fb_puts(o, "&lt;");
		return;
	case '>':
		fb_puts(o, "&gt;");
		return;
	case '"':
		fb_puts(o, mode == ESC_XML_TEXT ? "\"" : "&quot;");
		return;
	case '\'':
		fb_puts(o, mode == ESC_HTML ? "&#39;" : "'");
		return;
	case '\n':
		/* attribute-value normalisation would turn a raw LF into a space */
		fb_puts(o, mode == ESC_XML_ATTR ? "&#10;" : "\n");
		return;
	case '\t':
		fb_puts(o, mode == ESC_XML_ATTR ? "&#9;" : "\t");
		return;
	case '\r':
		/* XML parsers fold a raw CR into LF; HTML has no use for it */
		fb_puts(o, mode == ESC_HTML ? " " : "&#13;");
		return;
	default:
		out_utf8(o, cp);
		return;
	}
}

static void out_cp(struct fb_out *o, uint32_t cp, enum esc mode)
{
	if (mode == ESC_JSON) {
		out_cp_json(o, cp);
		return;
	}

	if (char_unwanted(cp))
		cp = REPLACEMENT_CHAR;

	if (mode == ESC_NONE) {
		out_utf8(o, cp);
		return;
	}
	if (mode == ESC_CSV) {
		if (cp == '"')
			fb_puts(o, "\"\"");
		else
			out_utf8(o, cp);
		return;
	}
	out_cp_markup(o, cp, mode);
}

/* True when cp is written as its own UTF-8 bytes in mode. */
static bool char_plain(uint32_t cp, enum esc mode)
{
	switch (mode) {
	case ESC_JSON:
		return cp >= 0x20 && cp != '"' && cp != '\\' && cp != 0x7F && cp != 0x2028 &&
		       cp != 0x2029;
	case ESC_CSV:
		return cp != '"' && !char_unwanted(cp);
	case ESC_NONE:
		return !char_unwanted(cp);
	default:
		return !char_unwanted(cp) && cp != '&' && cp != '<' && cp != '>' && cp != '"' &&
		       cp != '\'' && cp != '\n' && cp != '\t' && cp != '\r';
	}
}

static bool uuid_at(const char *s, size_t n)
{
	if (n < UUID_LEN)
		return false;
	for (size_t i = 0; i < UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return n == UUID_LEN || !isxdigit((unsigned char)s[UUID_LEN]);
}

/* The display form of s: SPEC §3's masking, except inside UUID-shaped
 * identifiers. Returns s itself when nothing is masked, else a copy in buf
 * (or on the heap, *heap set, when s is longer than buf). */
static const char *masked_for_display(const struct fb_out *o, const char *s, size_t n, char *buf,
				      size_t bufsz, char **heap)
{
	size_t digits = 0;
	for (size_t i = 0; i < n && digits < 11; i++)
		digits += s[i] >= '0' && s[i] <= '9';
	if (digits < 11)
		return s; /* the common case: no candidate can fit */
	char *m = buf;
	if (n + 1 > bufsz) {
		m = *heap = malloc(n + 1);
		if (!m)
			return NULL;
	}
	if (nid_mask_text(s, n, &o->nid, m, n + 1) == 0)
		return s;
	for (size_t i = 0; i < n; i++) {
		bool boundary = i == 0 || !isxdigit((unsigned char)s[i - 1]);
		if (boundary && uuid_at(s + i, n - i)) {
			memcpy(m + i, s + i, UUID_LEN);
			i += UUID_LEN - 1;
		}
	}
	return m;
}

/* Writes p[0..n) escaped for mode. Bytes that need no escaping go out in
 * spans, not one call per character: a national file can carry millions of
 * messages. */
static void out_escaped(struct fb_out *o, const unsigned char *p, size_t n, enum esc mode)
{
	size_t i = 0, span = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_next(p + i, n - i, &cp);
		bool malformed = cp == REPLACEMENT_CHAR && len == 1;
		if (!malformed && char_plain(cp, mode)) {
			i += len;
			continue;
		}
		fb_put(o, (const char *)p + span, i - span);
		out_cp(o, cp, mode);
		i += len;
		span = i;
	}
	fb_put(o, (const char *)p + span, i - span);
}

/* Writes s escaped for mode, masking national-ID candidates (SPEC §3). */
void fb_text(struct fb_out *o, const char *s, enum esc mode)
{
	size_t n = s ? strlen(s) : 0;
	char buf[1024], *heap = NULL;
	const char *shown = n ? masked_for_display(o, s, n, buf, sizeof buf, &heap) : "";
	if (!shown) {
		o->ok = false; /* out of memory: never write the unmasked value */
		return;
	}
	out_escaped(o, (const unsigned char *)shown, n, mode);
	free(heap);
}

/* An identifier (submission id, Innsending/@id): shown in full (SPEC §3),
 * escaped for mode. */
void fb_identifier(struct fb_out *o, const char *s, enum esc mode)
{
	out_escaped(o, (const unsigned char *)(s ? s : ""), s ? strlen(s) : 0, mode);
}
