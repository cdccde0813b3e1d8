/*
 * codelist.c — loads config/codelists.csv (format in codelist.h) and answers
 * "is this code valid in this årgang" quickly: the validator asks once per
 * Tjeneste, i.e. millions of times per national file.
 *
 * Owns: the parser and an immutable in-memory table. The whole file is read
 * into one buffer and split in place, so every string of every entry points
 * into that buffer; lookups go through an index sorted by (list, code,
 * valid_from) and binary search.
 * Must not: accept anything doubtful. The file is the one source of truth for
 * code lists, so the parser is strict and names file and line on every error
 * (quoting, stray blanks, bad dates, overlapping periods, bad UTF-8).
 */
#include "codelist.h"
#include "files.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Far above any real code list (the real one is ~25 KB); a bound keeps a
 * wrong path (a log file, a device) from eating memory. */
#define CODELIST_MAX_BYTES (16u * 1024u * 1024u)

enum { COL_LIST, COL_CODE, COL_NAME, COL_FROM, COL_TO, COL_INST, COL_PARENT, COL_MAX };

static const char *const column_names[COL_MAX] = {
    "liste", "kode", "navn", "gyldig_fra", "gyldig_til", "institusjon", "forelder",
};

struct codelist {
	char *buf;                      /* the file, split in place */
	struct codelist_entry *entries; /* in file order */
	size_t *lines;                  /* source line of each entry */
	size_t *index;                  /* entry numbers sorted by list, code, valid_from */
	size_t n;
};

static void KPR_PRINTF(5, 6)
    set_err(char *err, size_t errlen, const char *path, size_t line, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	int n = snprintf(err, errlen, "%s:%zu: ", path, line);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool valid_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t need;
		unsigned cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1fu;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0fu;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07u;
		} else {
			return false;
		}
		if (len - i <= need)
			return false;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "yyyy-mm-dd" -> yyyymmdd, or -1. */
static int parse_date(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1800 || m < 1 || m > 12 || d < 1)
		return -1;
	int max = mdays[m - 1] + (m == 2 && is_leap(y) ? 1 : 0);
	if (d > max)
		return -1;
	return y * 10000 + m * 100 + d;
}

static bool is_list_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static bool is_code(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_'))
			return false;
	return true;
}

static int key_cmp(const struct codelist_entry *a, const char *list, const char *code)
{
	int c = strcmp(a->list, list);
	return c != 0 ? c : strcmp(a->code, code);
}

/* The index is sorted with a small merge sort rather than qsort, which has no
 * context argument and would need a global (loads may run on a reload thread
 * while another table is in use). Stable, so equal keys keep file order. */
static int entry_cmp(const struct codelist_entry *a, const struct codelist_entry *b)
{
	int c = key_cmp(a, b->list, b->code);
	if (c != 0)
		return c;
	return (a->valid_from > b->valid_from) - (a->valid_from < b->valid_from);
}

static void merge_sort(size_t *idx, size_t *tmp, size_t n, const struct codelist_entry *e)
{
	if (n < 2)
		return;
	size_t half = n / 2;
	merge_sort(idx, tmp, half, e);
	merge_sort(idx + half, tmp, n - half, e);
	size_t i = 0, j = half, k = 0;
	while (i < half && j < n)
		tmp[k++] = entry_cmp(&e[idx[j]], &e[idx[i]]) < 0 ? idx[j++] : idx[i++];
	while (i < half)
		tmp[k++] = idx[i++];
	while (j < n)
		tmp[k++] = idx[j++];
	memcpy(idx, tmp, n * sizeof(*idx));
}

/* Splits line in place at ';'; returns the number of fields found (at most
 * max; one more than max means "too many"). */
static size_t split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;
	for (;;) {
		if (n < max)
			fields[n] = p;
		n++;
		char *semi = strchr(p, ';');
		if (semi == NULL)
			break;
		*semi = '\0';
		p = semi + 1;
	}
	return n;
}

static bool check_field_chars(const char *path, size_t lineno, const char *field, int col,
			      char *err, size_t errlen)
{
	size_t len = strlen(field);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)field[i];
		if (c < 0x20 || c == 0x7f) {
			set_err(err, errlen, path, lineno, "control character in column %s",
				column_names[col]);
			return false;
		}
		if (c == '"') {
			set_err(err, errlen, path, lineno,
				"quote character in column %s (quoting is not supported; "
				"values must not contain ';' or '\"')",
				column_names[col]);
			return false;
		}
	}
	if (len > 0 && (field[0] == ' ' || field[len - 1] == ' ')) {
		set_err(err, errlen, path, lineno, "leading or trailing blank in column %s",
			column_names[col]);
		return false;
	}
	return true;
}

static bool parse_row(const char *path, size_t lineno, char **f, size_t ncols,
		      struct codelist_entry *e, char *err, size_t errlen)
{
	for (size_t c = 0; c < ncols; c++)
		if (!check_field_chars(path, lineno, f[c], (int)c, err, errlen))
			return false;

	if (!is_list_name(f[COL_LIST])) {
		set_err(err, errlen, path, lineno,
			"liste must be non-empty lower-case letters, digits or '_'");
		return false;
	}
	if (!is_code(f[COL_CODE])) {
		set_err(err, errlen, path, lineno,
			"kode must be non-empty letters, digits, '-', '.' or '_'");
		return false;
	}
	if (f[COL_NAME][0] == '\0') {
		set_err(err, errlen, path, lineno, "navn is empty");
		return false;
	}
	int from = parse_date(f[COL_FROM]);
	if (from < 0) {
		set_err(err, errlen, path, lineno, "gyldig_fra '%.20s' is not a date (yyyy-mm-dd)",
			f[COL_FROM]);
		return false;
	}
	int to = 99991231;
	if (f[COL_TO][0] != '\0') {
		to = parse_date(f[COL_TO]);
		if (to < 0) {
			set_err(err, errlen, path, lineno,
				"gyldig_til '%.20s' is not a date (yyyy-mm-dd) or empty",
				f[COL_TO]);
			return false;
		}
		if (to < from) {
			set_err(err, errlen, path, lineno, "gyldig_til is before gyldig_fra");
			return false;
		}
	}
	const char *inst = f[COL_INST];
	if (!(inst[0] == '\0' || ((inst[0] == '0' || inst[0] == '1') && inst[1] == '\0'))) {
		set_err(err, errlen, path, lineno, "institusjon must be 0, 1 or empty");
		return false;
	}
	const char *parent = NULL;
	if (ncols > COL_PARENT && f[COL_PARENT][0] != '\0') {
		if (!is_code(f[COL_PARENT])) {
			set_err(err, errlen, path, lineno,
				"forelder must be letters, digits, '-', '.' or '_'");
			return false;
		}
		parent = f[COL_PARENT];
	}

	e->list = f[COL_LIST];
	e->code = f[COL_CODE];
	e->name = f[COL_NAME];
	e->valid_from = from;
	e->valid_to = to;
	e->institution = inst[0] == '1';
	e->parent = parent;
	return true;
}

void codelist_free(struct codelist *cl)
{
	if (cl == NULL)
		return;
	free(cl->buf);
	free(cl->entries);
	free(cl->lines);
	free(cl->index);
	free(cl);
}

static bool build_index(struct codelist *cl, const char *path, char *err, size_t errlen)
{
	cl->index = malloc(cl->n * sizeof(*cl->index));
	size_t *tmp = malloc(cl->n * sizeof(*tmp));
	if (cl->index == NULL || tmp == NULL) {
		free(tmp);
		set_err(err, errlen, path, 0, "out of memory");
		return false;
	}
	for (size_t i = 0; i < cl->n; i++)
		cl->index[i] = i;
	merge_sort(cl->index, tmp, cl->n, cl->entries);
	free(tmp);

	/* Two rows for the same code must not both be valid on any day. */
	for (size_t i = 1; i < cl->n; i++) {
		const struct codelist_entry *a = &cl->entries[cl->index[i - 1]];
		const struct codelist_entry *b = &cl->entries[cl->index[i]];
		if (key_cmp(a, b->list, b->code) == 0 && b->valid_from <= a->valid_to) {
			size_t la = cl->lines[cl->index[i - 1]], lb = cl->lines[cl->index[i]];
			set_err(err, errlen, path, la > lb ? la : lb,
				"%s %s is also defined on line %zu with an overlapping "
				"validity period",
				b->list, b->code, la > lb ? lb : la);
			return false;
		}
	}
	return true;
}

struct codelist *codelist_load(const char *path, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	size_t len = 0;
	char *buf = files_read_all(path, CODELIST_MAX_BYTES, &len, err, errlen);
	if (buf == NULL)
		return NULL;

	struct codelist *cl = calloc(1, sizeof(*cl));
	if (cl == NULL) {
		free(buf);
		set_err(err, errlen, path, 0, "out of memory");
		return NULL;
	}
	cl->buf = buf;

	size_t max_rows = 1;
	for (size_t i = 0; i < len; i++)
		max_rows += buf[i] == '\n';
	cl->entries = calloc(max_rows, sizeof(*cl->entries));
	cl->lines = calloc(max_rows, sizeof(*cl->lines));
	if (cl->entries == NULL || cl->lines == NULL) {
		set_err(err, errlen, path, 0, "out of memory");
		goto fail;
	}

	char *p = buf;
	char *end = buf + len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a BOM, as Excel writes it */

	size_t ncols = 0;
	for (size_t lineno = 1; p < end; lineno++) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line_end = nl != NULL ? nl : end;
		char *line = p;
		p = nl != NULL ? nl + 1 : end;

		size_t llen = (size_t)(line_end - line);
		if (memchr(line, '\0', llen) != NULL) {
			set_err(err, errlen, path, lineno, "NUL byte");
			goto fail;
		}
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		line[llen] = '\0';
		if (memchr(line, '\r', llen) != NULL) {
			set_err(err, errlen, path, lineno, "carriage return inside a line");
			goto fail;
		}
		if (!valid_utf8((const unsigned char *)line, llen)) {
			set_err(err, errlen, path, lineno, "invalid UTF-8");
			goto fail;
		}

		if (lineno == 1) {
			if (strcmp(line, "liste;kode;navn;gyldig_fra;gyldig_til;institusjon") ==
			    0) {
				ncols = 6;
			} else if (strcmp(line, "liste;kode;navn;gyldig_fra;gyldig_til;"
						"institusjon;forelder") == 0) {
				ncols = 7;
			} else {
				set_err(err, errlen, path, lineno,
					"header must be "
					"'liste;kode;navn;gyldig_fra;gyldig_til;institusjon' "
					"optionally followed by ';forelder'");
				goto fail;
			}
			continue;
		}
		if (llen == 0)
			continue; /* blank lines are harmless */

		char *fields[COL_MAX];
		size_t nf = split_fields(line, fields, ncols);
		if (nf != ncols) {
			set_err(err, errlen, path, lineno,
				"expected %zu ';'-separated fields, found %zu", ncols, nf);
			goto fail;
		}
		if (!parse_row(path, lineno, fields, ncols, &cl->entries[cl->n], err, errlen))
			goto fail;
		cl->lines[cl->n] = lineno;
		cl->n++;
	}

	if (ncols == 0) {
		set_err(err, errlen, path, 1, "empty file (no header)");
		goto fail;
	}
	if (cl->n == 0) {
		set_err(err, errlen, path, 1, "no entries after the header");
		goto fail;
	}
	if (!build_index(cl, path, err, errlen))
		goto fail;
	return cl;

fail:
	codelist_free(cl);
	return NULL;
}

const struct codelist_entry *codelist_find(const struct codelist *cl, const char *list,
					   const char *code, int year)
{
	if (cl == NULL || list == NULL || code == NULL)
		return NULL;

	/* lower bound of (list, code) */
	size_t lo = 0, hi = cl->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (key_cmp(&cl->entries[cl->index[mid]], list, code) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}

	int year_from = year * 10000 + 101;
	int year_to = year * 10000 + 1231;
	const struct codelist_entry *found = NULL;
	/* Periods of one code do not overlap and are sorted by valid_from, so the
	 * last match is the one in force latest in the year. */
	for (size_t i = lo; i < cl->n; i++) {
		const struct codelist_entry *e = &cl->entries[cl->index[i]];
		if (key_cmp(e, list, code) != 0)
			break;
		if (e->valid_from <= year_to && e->valid_to >= year_from)
			found = e;
	}
	return found;
}

size_t codelist_count(const struct codelist *cl)
{
	return cl != NULL ? cl->n : 0;
}

const struct codelist_entry *codelist_at(const struct codelist *cl, size_t i)
{
	if (cl == NULL || i >= cl->n)
		return NULL;
	return &cl->entries[i];
}
