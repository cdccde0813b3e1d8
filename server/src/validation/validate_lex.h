/*
 * validate_lex.h — lexical checks of the XSD's simple types, private to the
 * validator (validate_*.c) and its unit test. Each function takes a value as
 * the parser delivers it (not NUL-terminated, whitespace not yet collapsed)
 * and answers exactly what libxml2's schema validator answers for
 * config/xsd/innsending.xsd: common forms on a fast path, anything unusual
 * handed to libxml2's own xmlSchemaValidatePredefinedType.
 */
#ifndef VALIDATE_LEX_H
#define VALIDATE_LEX_H

#include <stdbool.h>
#include <stddef.h>

/* XML whitespace: space, tab, CR, LF. */
static inline bool lex_is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Strips leading and trailing XML whitespace (xs:whiteSpace collapse for
 * types whose lexical space has no inner whitespace). */
void lex_trim(const char **s, size_t *len);

/* xs:integer; *out is clamped to [-1e9, 1e9] so huge values stay out of range. */
bool lex_integer(const char *s, size_t len, long *out);
/* xs:decimal */
bool lex_decimal(const char *s, size_t len, double *out);
/* xs:boolean */
bool lex_boolean(const char *s, size_t len, bool *out);
/* Dato: xs:date restricted to [0-9]{4}-[0-9]{2}-[0-9]{2}; out "YYYY-MM-DD" */
bool lex_dato(const char *s, size_t len, char out[11]);
/* Aar: xs:gYear restricted to [0-9]{4} */
bool lex_aar(const char *s, size_t len, int *out);
/* xs:dateTime */
bool lex_datetime(const char *s, size_t len);
/* Characters (not bytes) in UTF-8 text, as the XSD length facets count them. */
size_t lex_utf8_len(const char *s, size_t len);

#endif
