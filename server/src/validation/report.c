/*
 * report.c — the validation messages of one file (report.h).
 *
 * Owns: merging identical messages of one person scope (same ref, unit,
 * rule, text, path and value) with their line numbers, the unlinked spill
 * file that keeps memory bounded, the per-severity, per-rule and per-unit
 * counts, the current unit and the unit filter, and iteration in file order.
 *
 * Units: at most REPORT_MAX_UNITS rows with a name, found through an
 * open-addressing table of row indices; past that one "other" row. A
 * message keeps its own unit's name whatever row counts it.
 *
 * How file order is kept without sorting the whole file: persons end in file
 * order, and each flush writes its messages sorted by first line to the main
 * run. A message whose first line lies before what the main run already
 * holds (R105/R106 about an earlier person, found at a later duplicate) goes
 * to a second, "late" run; report_foreach sorts only the late run's index
 * (16 bytes per late message) and merges it into the main run.
 *
 * Must not: hold all messages in memory, or see a national ID in clear (the
 * validator masks values before they get here).
 */
#include "report.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "hash.h"
#include "received.h"

/* Pending (unflushed) messages of the current scope. Flushed early past these
 * bounds so one pathological person cannot grow memory without limit. */
#define PENDING_MAX_MSGS  4096
#define PENDING_MAX_LINES 65536
#define HASH_BUCKETS      1024

struct pmsg {
	uint32_t hash;
	int next; /* next in bucket, -1 */
	size_t rule_idx;
	char *ref, *path, *text, *value;
	char *enhet; /* NULL: the whole file */
	unsigned long *lines;
	size_t nlines, cap;
};

/* On-disk record header; strings and lines follow. */
struct rec_hdr {
	uint32_t total; /* bytes including this header */
	uint32_t nlines;
	uint32_t rule_idx;
	uint32_t ref_len, path_len, text_len;
	uint32_t value_len; /* UINT32_MAX: NULL */
	uint32_t enhet_len; /* UINT32_MAX: NULL */
};

struct unit_row {
	struct report_unit u;
	char *name; /* NULL for the other row */
	uint32_t hash;
};

#define UNIT_TAB_SLOTS 16384 /* power of two, well above REPORT_MAX_UNITS / 0.7 */

struct late_idx {
	unsigned long line;
	long offset;
};

struct report {
	char tmpdir[512];
	FILE *main_f, *late_f;
	struct received *received;
	unsigned long main_last_line;
	unsigned long n_main, n_late;

	struct pmsg *pending;
	size_t n_pending, cap_pending, pending_lines;
	int buckets[HASH_BUCKETS];

	unsigned long *rule_counts; /* per rules_catalogue index */
	struct report_summary summary;
	bool io_error;

	/* the current unit: its name (NULL: the whole file) and counting row */
	char *cur_unit;
	size_t cur_unit_cap;
	bool has_cur_unit;
	long cur_row;

	struct unit_row *units;
	size_t n_units, cap_units;
	int32_t *unit_tab; /* row index + 1; 0 empty */
	long other_row;    /* -1 until the cap is passed */
	bool capped;
	char *filter;
	/* report_foreach_unit: only messages of exactly this unit (NULL: the
	 * whole file's) */
	bool exact;
	const char *exact_unit;
};

static FILE *spill_open(const char *dir)
{
	return files_open_unlinked(dir, "kpr-report");
}

struct report *report_new(const char *tmpdir)
{
	struct report *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	if (!tmpdir || !*tmpdir)
		tmpdir = getenv("TMPDIR");
	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	snprintf(r->tmpdir, sizeof r->tmpdir, "%s", tmpdir);
	r->rule_counts =
	    calloc(rules_catalogue_len ? rules_catalogue_len : 1, sizeof *r->rule_counts);
	r->main_f = spill_open(r->tmpdir);
	r->received = received_new(r->tmpdir);
	if (!r->rule_counts || !r->main_f || !r->received) {
		report_free(r);
		return NULL;
	}
	for (size_t i = 0; i < HASH_BUCKETS; i++)
		r->buckets[i] = -1;
	r->cur_row = -1;
	r->other_row = -1;
	return r;
}

static void pmsg_clear(struct pmsg *m)
{
	free(m->ref);
	free(m->path);
	free(m->text);
	free(m->value);
	free(m->enhet);
	free(m->lines);
	memset(m, 0, sizeof *m);
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_pending; i++)
		pmsg_clear(&r->pending[i]);
	free(r->pending);
	free(r->rule_counts);
	if (r->main_f)
		fclose(r->main_f);
	if (r->late_f)
		fclose(r->late_f);
	for (size_t i = 0; i < r->n_units; i++)
		free(r->units[i].name);
	free(r->units);
	free(r->unit_tab);
	free(r->cur_unit);
	free(r->filter);
	received_free(r->received);
	free(r);
}

struct received *report_received(struct report *r)
{
	return r->received;
}

static size_t rule_index(const char *rule)
{
	enum rule_id id;
	return rules_id_parse(rule, &id) ? (size_t)id : SIZE_MAX;
}

static uint32_t fnv1a(uint32_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h *
	       16777619u; /* separates "ab"+"c" from "a"+"bc" well enough; equality is checked anyway */
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static char *dup_or_null(const char *s, bool *ok)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*ok = false;
	return d;
}

static bool lines_add(struct pmsg *m, unsigned long line)
{
	if (m->nlines == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 4;
		unsigned long *nl = realloc(m->lines, nc * sizeof *nl);
		if (!nl)
			return false;
		m->lines = nl;
		m->cap = nc;
	}
	m->lines[m->nlines++] = line;
	return true;
}

/* ---- units ------------------------------------------------------------ */

/* The row of name: its index, or -1 when unknown (create false) or out of
 * memory. Past REPORT_MAX_UNITS a new name gets the other row. */
static long unit_row(struct report *r, const char *name, bool create)
{
	if (!r->unit_tab) {
		if (!create)
			return -1;
		r->unit_tab = calloc(UNIT_TAB_SLOTS, sizeof *r->unit_tab);
		if (!r->unit_tab)
			return -1;
	}
	uint32_t h = hash_fnv1a(name);
	size_t slot = h & (UNIT_TAB_SLOTS - 1);
	while (r->unit_tab[slot]) {
		const struct unit_row *u = &r->units[r->unit_tab[slot] - 1];
		if (u->hash == h && strcmp(u->name, name) == 0)
			return (long)r->unit_tab[slot] - 1;
		slot = (slot + 1) & (UNIT_TAB_SLOTS - 1);
	}
	if (!create)
		return -1;
	size_t named = r->n_units - (r->other_row >= 0 ? 1 : 0);
	if (named >= REPORT_MAX_UNITS) {
		r->capped = true;
		if (r->other_row >= 0)
			return r->other_row;
	}
	if (r->n_units == r->cap_units) {
		size_t nc = r->cap_units ? r->cap_units * 2 : 16;
		struct unit_row *nu = realloc(r->units, nc * sizeof *nu);
		if (!nu)
			return -1;
		r->units = nu;
		r->cap_units = nc;
	}
	struct unit_row *u = &r->units[r->n_units];
	memset(u, 0, sizeof *u);
	if (r->capped) {
		r->other_row = (long)r->n_units++;
		return r->other_row;
	}
	u->name = strdup(name);
	if (!u->name)
		return -1;
	u->hash = h;
	u->u.enhet = u->name;
	r->unit_tab[slot] = (int32_t)r->n_units + 1;
	return (long)r->n_units++;
}

bool report_set_unit(struct report *r, const char *enhet)
{
	if (!enhet) {
		r->has_cur_unit = false;
		r->cur_row = -1;
		return true;
	}
	if (r->has_cur_unit && strcmp(r->cur_unit, enhet) == 0)
		return true;
	size_t n = strlen(enhet) + 1;
	if (n > r->cur_unit_cap) {
		char *nb = realloc(r->cur_unit, n + 64);
		if (!nb)
			return false;
		r->cur_unit = nb;
		r->cur_unit_cap = n + 64;
	}
	memcpy(r->cur_unit, enhet, n);
	r->has_cur_unit = true;
	r->cur_row = unit_row(r, enhet, true);
	return r->cur_row >= 0;
}

const char *report_current_unit(const struct report *r)
{
	return r->has_cur_unit ? r->cur_unit : NULL;
}

struct report_unit *report_unit(struct report *r, const char *enhet)
{
	long i = unit_row(r, enhet ? enhet : "", true);
	return i < 0 ? NULL : &r->units[i].u;
}

/* named units by name, then "", then the unknown unit, then the other row */
static int unit_rank(const struct report_unit *u)
{
	if (!u->enhet)
		return 3;
	if (!u->enhet[0])
		return 1;
	if (strcmp(u->enhet, REPORT_UNIT_UNKNOWN) == 0)
		return 2;
	return 0;
}

static int cmp_unit(const void *a, const void *b)
{
	const struct report_unit *x = *(const struct report_unit *const *)a;
	const struct report_unit *y = *(const struct report_unit *const *)b;
	int rx = unit_rank(x), ry = unit_rank(y);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return rx == 0 ? strcmp(x->enhet, y->enhet) : 0;
}

long report_units(struct report *r, const struct report_unit ***out)
{
	*out = malloc((r->n_units ? r->n_units : 1) * sizeof **out);
	if (!*out)
		return -1;
	long n = 0;
	if (r->filter) {
		long i = unit_row(r, r->filter, false);
		if (i >= 0)
			(*out)[n++] = &r->units[i].u;
		return n;
	}
	for (size_t i = 0; i < r->n_units; i++)
		(*out)[n++] = &r->units[i].u;
	qsort(*out, (size_t)n, sizeof **out, cmp_unit);
	return n;
}

bool report_units_capped(const struct report *r)
{
	return r->capped;
}

bool report_has_unit(const struct report *r, const char *enhet)
{
	if (!enhet)
		return false;
	return unit_row((struct report *)r, enhet, false) >= 0 || r->capped;
}

bool report_set_filter(struct report *r, const char *enhet)
{
	free(r->filter);
	r->filter = NULL;
	if (!enhet)
		return true;
	if (!report_has_unit(r, enhet))
		return false;
	r->filter = strdup(enhet);
	return r->filter != NULL;
}

const char *report_filter(const struct report *r)
{
	return r->filter;
}

static void count_message(struct report *r, size_t ri)
{
	enum severity sev = rules_catalogue[ri].severity;
	r->summary.by_severity[sev]++;
	if (sev == SEV_FATAL)
		r->summary.fatal = true;
	if (r->has_cur_unit && r->cur_row >= 0)
		r->units[r->cur_row].u.by_severity[sev]++;
}

bool report_add(struct report *r, const char *rule, const char *ref, unsigned long line,
		const char *path, const char *text, const char *value)
{
	enum rule_id id;
	if (!rules_id_parse(rule, &id))
		return false;
	return report_add_rule(r, id, ref, line, path, text, value);
}

bool report_add_rule(struct report *r, enum rule_id id, const char *ref, unsigned long line,
		     const char *path, const char *text, const char *value)
{
	size_t ri = (size_t)id;
	const char *rule = rules_id_str(id);
	if (!ref)
		ref = "";
	if (!path)
		path = "";
	if (!text)
		text = "";

	const char *enhet = report_current_unit(r);
	uint32_t h = fnv1a(fnv1a(fnv1a(fnv1a(fnv1a(fnv1a(2166136261u, rule), ref), path), text),
				 value ? value : "\x01"),
			   enhet ? enhet : "\x01");
	int *bucket = &r->buckets[h % HASH_BUCKETS];
	for (int i = *bucket; i >= 0; i = r->pending[i].next) {
		struct pmsg *m = &r->pending[i];
		if (m->hash == h && m->rule_idx == ri && strcmp(m->ref, ref) == 0 &&
		    strcmp(m->path, path) == 0 && strcmp(m->text, text) == 0 &&
		    str_eq(m->value, value) && str_eq(m->enhet, enhet)) {
			if (!lines_add(m, line))
				return false;
			r->pending_lines++;
			count_message(r, ri);
			if (r->pending_lines >= PENDING_MAX_LINES)
				return report_flush(r);
			return true;
		}
	}

	if (r->n_pending == r->cap_pending) {
		size_t nc = r->cap_pending ? r->cap_pending * 2 : 16;
		struct pmsg *np = realloc(r->pending, nc * sizeof *np);
		if (!np)
			return false;
		r->pending = np;
		r->cap_pending = nc;
	}
	struct pmsg *m = &r->pending[r->n_pending];
	memset(m, 0, sizeof *m);
	bool ok = true;
	m->hash = h;
	m->rule_idx = ri;
	m->ref = dup_or_null(ref, &ok);
	m->path = dup_or_null(path, &ok);
	m->text = dup_or_null(text, &ok);
	m->value = dup_or_null(value, &ok);
	m->enhet = dup_or_null(enhet, &ok);
	if (!ok || !lines_add(m, line)) {
		pmsg_clear(m);
		return false;
	}
	m->next = *bucket;
	*bucket = (int)r->n_pending;
	r->n_pending++;
	r->pending_lines++;
	count_message(r, ri);
	if (r->n_pending >= PENDING_MAX_MSGS || r->pending_lines >= PENDING_MAX_LINES)
		return report_flush(r);
	return true;
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

static int cmp_pmsg(const void *a, const void *b)
{
	const struct pmsg *x = a, *y = b;
	if (x->lines[0] != y->lines[0])
		return x->lines[0] < y->lines[0] ? -1 : 1;
	/* stable enough for equal lines: by rule then text, deterministic output */
	if (x->rule_idx != y->rule_idx)
		return x->rule_idx < y->rule_idx ? -1 : 1;
	return strcmp(x->text, y->text);
}

static bool write_rec(FILE *f, const struct pmsg *m)
{
	struct rec_hdr h;
	h.nlines = (uint32_t)m->nlines;
	h.rule_idx = (uint32_t)m->rule_idx;
	h.ref_len = (uint32_t)strlen(m->ref);
	h.path_len = (uint32_t)strlen(m->path);
	h.text_len = (uint32_t)strlen(m->text);
	h.value_len = m->value ? (uint32_t)strlen(m->value) : UINT32_MAX;
	h.enhet_len = m->enhet ? (uint32_t)strlen(m->enhet) : UINT32_MAX;
	h.total =
	    (uint32_t)(sizeof h + m->nlines * sizeof(unsigned long) + h.ref_len + h.path_len +
		       h.text_len + (m->value ? h.value_len : 0) + (m->enhet ? h.enhet_len : 0));
	if (fwrite(&h, sizeof h, 1, f) != 1 ||
	    fwrite(m->lines, sizeof(unsigned long), m->nlines, f) != m->nlines ||
	    fwrite(m->ref, 1, h.ref_len, f) != h.ref_len ||
	    fwrite(m->path, 1, h.path_len, f) != h.path_len ||
	    fwrite(m->text, 1, h.text_len, f) != h.text_len ||
	    (m->value && fwrite(m->value, 1, h.value_len, f) != h.value_len) ||
	    (m->enhet && fwrite(m->enhet, 1, h.enhet_len, f) != h.enhet_len))
		return false;
	return true;
}

bool report_flush(struct report *r)
{
	if (r->n_pending == 0)
		return !r->io_error;
	bool ok = !r->io_error;
	for (size_t i = 0; i < r->n_pending; i++)
		qsort(r->pending[i].lines, r->pending[i].nlines, sizeof(unsigned long), cmp_ulong);
	qsort(r->pending, r->n_pending, sizeof *r->pending, cmp_pmsg);
	for (size_t i = 0; i < r->n_pending && ok; i++) {
		struct pmsg *m = &r->pending[i];
		FILE *f;
		if (m->lines[0] < r->main_last_line) {
			if (!r->late_f && !(r->late_f = spill_open(r->tmpdir))) {
				ok = false;
				break;
			}
			f = r->late_f;
			r->n_late++;
		} else {
			f = r->main_f;
			r->main_last_line = m->lines[0];
			r->n_main++;
		}
		if (!write_rec(f, m))
			ok = false;
		r->rule_counts[m->rule_idx]++;
	}
	for (size_t i = 0; i < r->n_pending; i++)
		pmsg_clear(&r->pending[i]);
	r->n_pending = 0;
	r->pending_lines = 0;
	for (size_t i = 0; i < HASH_BUCKETS; i++)
		r->buckets[i] = -1;
	if (!ok)
		r->io_error = true;
	return ok;
}

struct report_summary *report_summary(struct report *r)
{
	return &r->summary;
}

const struct report_summary *report_summary_const(const struct report *r)
{
	return &r->summary;
}

unsigned long report_rule_count(const struct report *r, const char *rule_id)
{
	size_t ri = rule_index(rule_id);
	return ri == SIZE_MAX ? 0 : r->rule_counts[ri];
}

/* Reads one record at the current position of f into *buf; false at EOF or error. */
static bool read_rec(FILE *f, char **buf, size_t *cap, struct vmsg *out, bool *err)
{
	struct rec_hdr h;
	size_t n = fread(&h, 1, sizeof h, f);
	if (n == 0 && feof(f))
		return false;
	if (n != sizeof h || h.total < sizeof h) {
		*err = true;
		return false;
	}
	size_t body = h.total - sizeof h;
	/* + 5 NULs for the five strings */
	if (body + 5 + sizeof(unsigned long) > *cap) {
		size_t nc = body + 5 + sizeof(unsigned long) + 256;
		char *nb = realloc(*buf, nc);
		if (!nb) {
			*err = true;
			return false;
		}
		*buf = nb;
		*cap = nc;
	}
	char *b = *buf;
	size_t lines_bytes = (size_t)h.nlines * sizeof(unsigned long);
	if (fread(b, 1, lines_bytes, f) != lines_bytes) {
		*err = true;
		return false;
	}
	char *s = b + lines_bytes;
	char *ref = s;
	uint32_t lens[5] = {h.ref_len, h.path_len, h.text_len,
			    h.value_len == UINT32_MAX ? 0 : h.value_len,
			    h.enhet_len == UINT32_MAX ? 0 : h.enhet_len};
	char *strs[5];
	for (int i = 0; i < 5; i++) {
		strs[i] = s;
		if (lens[i] && fread(s, 1, lens[i], f) != lens[i]) {
			*err = true;
			return false;
		}
		s[lens[i]] = '\0';
		s += lens[i] + 1;
	}
	(void)ref;
	const struct rule_def *rd = &rules_catalogue[h.rule_idx];
	out->rule = rd->id;
	out->severity = rd->severity;
	out->lines = (const unsigned long *)(void *)b;
	out->nlines = h.nlines;
	out->ref = strs[0];
	out->path = strs[1];
	out->text = strs[2];
	out->value = h.value_len == UINT32_MAX ? NULL : strs[3];
	out->enhet = h.enhet_len == UINT32_MAX ? NULL : strs[4];
	return true;
}

/* The filter lets m through: no filter, a message about the whole file, or
 * one of the filter's unit. */
static bool passes(const struct report *r, const struct vmsg *m)
{
	if (r->exact)
		return r->exact_unit ? m->enhet && strcmp(m->enhet, r->exact_unit) == 0 : !m->enhet;
	return !r->filter || !m->enhet || strcmp(m->enhet, r->filter) == 0;
}

static int cmp_late(const void *a, const void *b)
{
	const struct late_idx *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

bool report_foreach(struct report *r, report_visit_fn fn, void *ctx)
{
	if (r->n_pending && !report_flush(r))
		return false;
	if (r->io_error || fflush(r->main_f) != 0 || fseek(r->main_f, 0, SEEK_SET) != 0)
		return false;

	struct late_idx *late = NULL;
	size_t n_late = 0;
	if (r->late_f && r->n_late) {
		if (fflush(r->late_f) != 0 || fseek(r->late_f, 0, SEEK_SET) != 0)
			return false;
		late = malloc(r->n_late * sizeof *late);
		if (!late)
			return false;
		/* index: first line and offset of each late record */
		for (; n_late < r->n_late; n_late++) {
			struct rec_hdr h;
			long off = ftell(r->late_f);
			unsigned long first = 0;
			if (fread(&h, sizeof h, 1, r->late_f) != 1 || h.nlines == 0 ||
			    fread(&first, sizeof first, 1, r->late_f) != 1 ||
			    fseek(r->late_f, off + (long)h.total, SEEK_SET) != 0) {
				free(late);
				return false;
			}
			late[n_late].line = first;
			late[n_late].offset = off;
		}
		qsort(late, n_late, sizeof *late, cmp_late);
	}

	char *buf = NULL, *lbuf = NULL;
	size_t cap = 0, lcap = 0;
	bool err = false, ok = true;
	size_t li = 0;
	struct vmsg m, lm;
	for (;;) {
		bool have = read_rec(r->main_f, &buf, &cap, &m, &err);
		if (err)
			break;
		while (li < n_late && (!have || late[li].line < m.lines[0])) {
			if (fseek(r->late_f, late[li].offset, SEEK_SET) != 0 ||
			    !read_rec(r->late_f, &lbuf, &lcap, &lm, &err)) {
				err = true;
				break;
			}
			li++;
			if (passes(r, &lm) && !fn(ctx, &lm)) {
				ok = false;
				break;
			}
		}
		if (err || !ok || !have)
			break;
		if (passes(r, &m) && !fn(ctx, &m)) {
			ok = false;
			break;
		}
	}
	free(buf);
	free(lbuf);
	free(late);
	fseek(r->main_f, 0, SEEK_END);
	if (r->late_f)
		fseek(r->late_f, 0, SEEK_END);
	return ok && !err;
}

bool report_foreach_unit(struct report *r, const char *enhet, report_visit_fn fn, void *ctx)
{
	r->exact = true;
	r->exact_unit = enhet;
	bool ok = report_foreach(r, fn, ctx);
	r->exact = false;
	r->exact_unit = NULL;
	return ok;
}
