/*
 * validate_lex.c — lexical checks of the submission XSD's simple types.
 *
 * Owns: agreement with libxml2's schema validator on what is a valid
 * xs:integer, xs:decimal, xs:boolean, Dato, Aar and xs:dateTime. The common
 * forms are decided here without allocation; everything else is decided by
 * libxml2 itself (xmlSchemaValidatePredefinedType), so the two cannot differ
 * on the odd cases (24-digit limits, leading zeros, time zones, leap days).
 * Must not: keep state, log, or see anything but attribute and text values.
 */
#include "validate_lex.h"

#include <libxml/xmlschemastypes.h>
#include <stdlib.h>
#include <string.h>

void lex_trim(const char **s, size_t *len)
{
	const char *p = *s;
	size_t n = *len;
	while (n && lex_is_ws((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n && lex_is_ws((unsigned char)p[n - 1]))
		n--;
	*s = p;
	*len = n;
}

static bool has_inner_ws(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (lex_is_ws((unsigned char)s[i]))
			return true;
	return false;
}

/* libxml2's verdict for a trimmed value of a builtin type. */
static bool libxml_valid(xmlSchemaValType t, const char *s, size_t len)
{
	char stackbuf[256];
	char *buf = len < sizeof stackbuf ? stackbuf : malloc(len + 1);
	if (!buf)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	xmlSchemaTypePtr type = xmlSchemaGetBuiltInType(t);
	bool ok = type && xmlSchemaValidatePredefinedType(type, (const xmlChar *)buf, NULL) == 0;
	if (buf != stackbuf)
		free(buf);
	return ok;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool lex_integer(const char *s, size_t len, long *out)
{
	lex_trim(&s, &len);
	size_t i = 0;
	bool neg = false;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	size_t digits = len - i;
	bool simple = digits >= 1 && digits <= 18;
	for (size_t j = i; simple && j < len; j++)
		if (!is_digit(s[j]))
			simple = false;
	if (!simple) {
		if (len == 0 || has_inner_ws(s, len) || !libxml_valid(XML_SCHEMAS_INTEGER, s, len))
			return false;
	}
	/* value, clamped: leading zeros skipped, overflow saturates */
	long v = 0;
	for (size_t j = i; j < len; j++) {
		if (!is_digit(s[j]))
			break;
		if (v < 1000000000L)
			v = v * 10 + (s[j] - '0');
	}
	if (v > 1000000000L)
		v = 1000000000L;
	*out = neg ? -v : v;
	return true;
}

bool lex_decimal(const char *s, size_t len, double *out)
{
	lex_trim(&s, &len);
	size_t i = 0;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	size_t digits = 0, dots = 0;
	bool simple = true;
	for (size_t j = i; j < len; j++) {
		if (is_digit(s[j]))
			digits++;
		else if (s[j] == '.')
			dots++;
		else
			simple = false;
	}
	simple = simple && digits >= 1 && digits <= 15 && dots <= 1;
	if (!simple) {
		if (len == 0 || has_inner_ws(s, len) || !libxml_valid(XML_SCHEMAS_DECIMAL, s, len))
			return false;
	}
	char buf[64];
	if (len < sizeof buf) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		*out = strtod(buf, NULL);
	} else {
		*out = 1e9; /* long forms (many leading zeros): out of any range the rules accept */
	}
	return true;
}

bool lex_boolean(const char *s, size_t len, bool *out)
{
	lex_trim(&s, &len);
	if (len == 4 && memcmp(s, "true", 4) == 0)
		*out = true;
	else if (len == 5 && memcmp(s, "false", 5) == 0)
		*out = false;
	else if (len == 1 && s[0] == '1')
		*out = true;
	else if (len == 1 && s[0] == '0')
		*out = false;
	else
		return false;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

bool lex_dato(const char *s, size_t len, char out[11])
{
	lex_trim(&s, &len);
	if (len != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !is_digit(s[i]))
			return false;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y == 0 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	memcpy(out, s, 10);
	out[10] = '\0';
	return true;
}

bool lex_aar(const char *s, size_t len, int *out)
{
	lex_trim(&s, &len);
	if (len != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (!is_digit(s[i]))
			return false;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	if (y == 0 && !libxml_valid(XML_SCHEMAS_GYEAR, s, len))
		return false;
	*out = y;
	return true;
}

bool lex_datetime(const char *s, size_t len)
{
	lex_trim(&s, &len);
	if (len == 0 || has_inner_ws(s, len))
		return false;
	return libxml_valid(XML_SCHEMAS_DATETIME, s, len);
}

size_t lex_utf8_len(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}
