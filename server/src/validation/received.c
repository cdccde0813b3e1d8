/*
 * received.c — the figures of what was received (received.h): the figure
 * sets, their sparse hour histograms, and the aggregation of delivered
 * persons with retraction.
 */
#include "received.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codelist.h"
#include "files.h"
#include "hash.h"

#define INDEX_SLOTS 2048 /* > 2 × (RECEIVED_MAX_UNITS + 2): open addressing stays short */

/* ---- sparse histograms of tenths ------------------------------------------ */

struct hist_entry {
	uint16_t tenths; /* 0..1680 (R304 keeps hours within 0..168) */
	uint32_t count;
};

struct received_hist {
	struct hist_entry *e; /* sorted by tenths */
	uint32_t n, cap;
	bool lost; /* the budget ran out: the median is not known */
};

/* Adds delta at tenths; *budget (NULL: none) counts entries left. */
static bool hist_add(struct received_hist *h, long tenths, int delta, unsigned long *budget)
{
	if (h->lost)
		return true;
	uint16_t v = (uint16_t)(tenths < 0 ? 0 : tenths > 65535 ? 65535 : tenths);
	uint32_t lo = 0, hi = h->n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (h->e[mid].tenths < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < h->n && h->e[lo].tenths == v) {
		h->e[lo].count += (uint32_t)delta;
		return true;
	}
	if (delta < 0)
		return true; /* never added: nothing to take away */
	if (budget && *budget == 0) {
		h->lost = true;
		free(h->e);
		h->e = NULL;
		h->n = h->cap = 0;
		return true;
	}
	if (h->n == h->cap) {
		uint32_t nc = h->cap ? h->cap * 2 : 8;
		struct hist_entry *ne = realloc(h->e, nc * sizeof *ne);
		if (!ne)
			return false;
		h->e = ne;
		h->cap = nc;
	}
	memmove(&h->e[lo + 1], &h->e[lo], (h->n - lo) * sizeof *h->e);
	h->e[lo] = (struct hist_entry){v, (uint32_t)delta};
	h->n++;
	if (budget)
		(*budget)--;
	return true;
}

/* The value at 0-based rank k. */
static long hist_at(const struct received_hist *h, unsigned long k)
{
	unsigned long seen = 0;
	for (uint32_t i = 0; i < h->n; i++) {
		seen += h->e[i].count;
		if (k < seen)
			return h->e[i].tenths;
	}
	return -1;
}

/* The median × 100, or -1. */
static long long hist_median_centi(const struct received_hist *h, unsigned long n)
{
	if (!h || h->lost || n == 0)
		return -1;
	long a = hist_at(h, (n - 1) / 2), b = hist_at(h, n / 2);
	if (a < 0 || b < 0)
		return -1;
	return (long long)(a + b) * 5; /* tenths → hundredths, halved */
}

static void hist_free(struct received_hist *h)
{
	if (h) {
		free(h->e);
		free(h);
	}
}

long received_hours_tenths(double hours)
{
	/* exactly the loader's text, put_hours's "%.1f" (glibc prints the
	 * exact binary value rounded half to even), in integers: hours =
	 * m * 2^e with a 53-bit m, so hours * 10 = 10m * 2^e with 10m < 2^57,
	 * rounded half to even at the binary point. No printf, and no long
	 * double (valgrind computes it as double). check_received compares
	 * the two. Meant for |hours| well below 2^53 (R304: 0..168). */
	if (hours != hours || hours == 0)
		return 0;
	bool neg = hours < 0;
	int e;
	double f = frexp(neg ? -hours : hours, &e);
	uint64_t t = (uint64_t)ldexp(f, 53) * 10; /* hours * 10 = t * 2^(e - 53) */
	int k = 53 - e;                           /* bits right of the binary point */
	uint64_t q;
	if (k <= 0)
		q = k > -7 ? t << -k : UINT64_C(1) << 62; /* far out of range: saturated */
	else if (k >= 64)
		q = 0; /* below 1/128 of a tenth */
	else {
		uint64_t r = t & ((UINT64_C(1) << k) - 1), half = UINT64_C(1) << (k - 1);
		q = t >> k;
		if (r > half || (r == half && (q & 1)))
			q++;
	}
	if (q > (uint64_t)LONG_MAX)
		q = (uint64_t)LONG_MAX;
	return neg ? -(long)q : (long)q;
}

/* ---- figure sets ----------------------------------------------------------- */

void received_figures_init(struct received_figures *f)
{
	memset(f, 0, sizeof *f);
}

static void unit_clear(struct received_unit *u)
{
	for (size_t i = 0; i < u->n_svc; i++) {
		free(u->svc[i].name);
		hist_free(u->svc[i].hist);
	}
	free(u->svc);
	free(u->diag);
	free(u->enhet);
	memset(u, 0, sizeof *u);
}

void received_figures_clear(struct received_figures *f)
{
	unit_clear(&f->whole);
	for (size_t i = 0; i < f->n_units; i++) {
		unit_clear(f->units[i]);
		free(f->units[i]);
	}
	free(f->units);
	if (f->other) {
		unit_clear(f->other);
		free(f->other);
	}
	free(f->index);
	memset(f, 0, sizeof *f);
}

static struct received_unit **index_slot(const struct received_figures *f, const char *enhet)
{
	struct received_unit **tab = f->index;
	if (!tab)
		return NULL;
	size_t slot = hash_fnv1a(enhet) & (INDEX_SLOTS - 1);
	while (tab[slot] && strcmp(tab[slot]->enhet, enhet) != 0)
		slot = (slot + 1) & (INDEX_SLOTS - 1);
	return &tab[slot];
}

const struct received_unit *received_figures_find(const struct received_figures *f,
						  const char *enhet)
{
	struct received_unit **slot = index_slot(f, enhet ? enhet : "");
	return slot ? *slot : NULL;
}

static struct received_unit *other_row(struct received_figures *f)
{
	if (!f->other) {
		f->other = calloc(1, sizeof *f->other);
		if (f->other)
			f->other->other = true;
	}
	return f->other;
}

struct received_unit *received_figures_unit(struct received_figures *f, const char *enhet)
{
	if (!enhet)
		enhet = "";
	if (!f->index && !(f->index = calloc(INDEX_SLOTS, sizeof(struct received_unit *))))
		return NULL;
	struct received_unit **slot = index_slot(f, enhet);
	if (*slot)
		return *slot;
	if (f->n_units >= RECEIVED_MAX_UNITS)
		return other_row(f);
	if (f->n_units == f->cap_units) {
		size_t nc = f->cap_units ? f->cap_units * 2 : 16;
		struct received_unit **nu = realloc(f->units, nc * sizeof *nu);
		if (!nu)
			return NULL;
		f->units = nu;
		f->cap_units = nc;
	}
	struct received_unit *u = calloc(1, sizeof *u);
	if (!u || !(u->enhet = strdup(enhet))) {
		free(u);
		return NULL;
	}
	f->units[f->n_units++] = u;
	*slot = u;
	return u;
}

struct received_service *received_unit_service(struct received_unit *u, int type)
{
	size_t i = 0;
	while (i < u->n_svc && u->svc[i].type < type)
		i++;
	if (i < u->n_svc && u->svc[i].type == type)
		return &u->svc[i];
	if (u->n_svc == u->cap_svc) {
		size_t nc = u->cap_svc ? u->cap_svc * 2 : 8;
		struct received_service *ns = realloc(u->svc, nc * sizeof *ns);
		if (!ns)
			return NULL;
		u->svc = ns;
		u->cap_svc = nc;
	}
	memmove(&u->svc[i + 1], &u->svc[i], (u->n_svc - i) * sizeof *u->svc);
	memset(&u->svc[i], 0, sizeof u->svc[i]);
	u->svc[i].type = type;
	u->svc[i].median_centi = -1;
	u->n_svc++;
	return &u->svc[i];
}

struct received_diag *received_unit_diag(struct received_unit *u, const char *kodeverk)
{
	size_t i = 0;
	int c = 1;
	while (i < u->n_diag && (c = strcmp(u->diag[i].kodeverk, kodeverk)) < 0)
		i++;
	if (i < u->n_diag && c == 0)
		return &u->diag[i];
	if (u->n_diag == u->cap_diag) {
		size_t nc = u->cap_diag ? u->cap_diag * 2 : 4;
		struct received_diag *nd = realloc(u->diag, nc * sizeof *nd);
		if (!nd)
			return NULL;
		u->diag = nd;
		u->cap_diag = nc;
	}
	memmove(&u->diag[i + 1], &u->diag[i], (u->n_diag - i) * sizeof *u->diag);
	memset(&u->diag[i], 0, sizeof u->diag[i]);
	snprintf(u->diag[i].kodeverk, sizeof u->diag[i].kodeverk, "%s", kodeverk);
	u->n_diag++;
	return &u->diag[i];
}

/* named units by name, then "", then the unknown unit (as report_units) */
static int unit_rank(const char *e)
{
	if (!e[0])
		return 1;
	return strcmp(e, KPR_UNIT_UNKNOWN) == 0 ? 2 : 0;
}

int received_unit_cmp(const void *a, const void *b)
{
	const struct received_unit *x = *(const struct received_unit *const *)a;
	const struct received_unit *y = *(const struct received_unit *const *)b;
	int rx = unit_rank(x->enhet), ry = unit_rank(y->enhet);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return strcmp(x->enhet, y->enhet);
}

void received_figures_sort(struct received_figures *f)
{
	if (f->n_units > 1)
		qsort(f->units, f->n_units, sizeof *f->units, received_unit_cmp);
}

/* ---- the aggregation ------------------------------------------------------- */

struct received {
	struct received_figures f;
	FILE *spill; /* the contributions, for retraction */
	uint64_t spill_len;
	unsigned long budget; /* histogram entries left for units */
	bool exhausted;
	bool settled; /* medians and order are those of the figures now */
	/* the person being told (received_person_*), in arrays kept between
	 * persons */
	const char *punit;
	bool assessed;
	struct contrib_svc *svc;
	size_t n_svc, cap_svc;
	const char **diag;
	size_t n_diag, cap_diag;
	unsigned char *enc;
	size_t cap_enc;
};

struct received *received_new(const char *tmpdir)
{
	struct received *rc = calloc(1, sizeof *rc);
	if (!rc)
		return NULL;
	received_figures_init(&rc->f);
	rc->budget = RECEIVED_HIST_BUDGET;
	rc->spill = files_open_unlinked(tmpdir, "kpr-received");
	if (!rc->spill) {
		free(rc);
		return NULL;
	}
	return rc;
}

void received_free(struct received *rc)
{
	if (!rc)
		return;
	received_figures_clear(&rc->f);
	if (rc->spill)
		fclose(rc->spill);
	free(rc->svc);
	free(rc->diag);
	free(rc->enc);
	free(rc);
}

bool received_hist_exhausted(const struct received *rc)
{
	return rc->exhausted;
}

void received_set_hist_budget(struct received *rc, unsigned long entries)
{
	rc->budget = entries;
}

/* One person's contribution, as told (received_person_*) or read back from
 * the spill. */
struct contrib_svc {
	int type;
	long tenths; /* -1: no hours */
	const char *unit;
	struct received_unit *row; /* resolved while applying */
};

struct contrib {
	const char *punit;
	bool assessed;
	struct contrib_svc *svc;
	size_t n_svc;
	const char **diag;
	size_t n_diag;
};

static const char *unit_key(const char *enhet, bool unknown)
{
	return unknown ? KPR_UNIT_UNKNOWN : enhet ? enhet : "";
}

static bool svc_figure(struct received *rc, struct received_unit *u, const struct contrib_svc *cs,
		       int sign, const struct codelist *codes, int year)
{
	struct received_service *s = received_unit_service(u, cs->type);
	if (!s)
		return false;
	if (!s->name && codes) {
		char code[16];
		snprintf(code, sizeof code, "%d", cs->type);
		const struct codelist_entry *e = codelist_find(codes, "tjenestetype", code, year);
		if (e && !(s->name = strdup(e->name)))
			return false;
	}
	s->count += (unsigned long)(long)sign;
	if (cs->tenths < 0)
		return true;
	s->with_hours += (unsigned long)(long)sign;
	s->hours_tenths += (unsigned long long)((long long)sign * cs->tenths);
	if (!s->hist && !(s->hist = calloc(1, sizeof *s->hist)))
		return false;
	bool whole = u == &rc->f.whole;
	if (!hist_add(s->hist, cs->tenths, sign, whole ? NULL : &rc->budget))
		return false;
	if (s->hist->lost)
		rc->exhausted = true;
	return true;
}

static int cmp_svc(const void *a, const void *b)
{
	const struct contrib_svc *x = a, *y = b;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	uintptr_t a_row = (uintptr_t)x->row, b_row = (uintptr_t)y->row; /* any fixed order */
	return a_row < b_row ? -1 : a_row > b_row;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Persons per service type: once per type in the whole file, once per
 * (type, unit) in the units. c->svc is sorted by type, then unit row. */
static bool svc_persons(struct received *rc, const struct contrib *c, int sign)
{
	for (size_t i = 0; i < c->n_svc; i++) {
		const struct contrib_svc *cs = &c->svc[i];
		bool new_type = i == 0 || c->svc[i - 1].type != cs->type;
		bool new_pair = new_type || c->svc[i - 1].row != cs->row;
		struct received_service *s;
		if (new_type) {
			if (!(s = received_unit_service(&rc->f.whole, cs->type)))
				return false;
			s->persons += (unsigned long)(long)sign;
		}
		if (new_pair) {
			if (!(s = received_unit_service(cs->row, cs->type)))
				return false;
			s->persons += (unsigned long)(long)sign;
		}
	}
	return true;
}

static bool diag_figures(struct received *rc, struct received_unit *pu, const struct contrib *c,
			 int sign)
{
	if (c->n_diag > 1) /* qsort's base may not be NULL, even for none */
		qsort(c->diag, c->n_diag, sizeof *c->diag, cmp_str);
	for (size_t i = 0; i < c->n_diag; i++) {
		bool first = i == 0 || strcmp(c->diag[i - 1], c->diag[i]) != 0;
		struct received_diag *dw = received_unit_diag(&rc->f.whole, c->diag[i]);
		struct received_diag *du = received_unit_diag(pu, c->diag[i]);
		if (!dw || !du)
			return false;
		dw->count += (unsigned long)(long)sign;
		du->count += (unsigned long)(long)sign;
		if (first) {
			dw->persons += (unsigned long)(long)sign;
			du->persons += (unsigned long)(long)sign;
		}
	}
	return true;
}

/* Adds (sign 1) or takes away (-1) one person's contribution. */
static bool apply(struct received *rc, struct contrib *c, int sign, const struct codelist *codes,
		  int year)
{
	rc->settled = false;
	struct received_unit *w = &rc->f.whole;
	struct received_unit *pu = received_figures_unit(&rc->f, c->punit);
	if (!pu)
		return false;
	w->persons += (unsigned long)(long)sign;
	pu->persons += (unsigned long)(long)sign;
	if (c->assessed) {
		w->persons_assessed += (unsigned long)(long)sign;
		pu->persons_assessed += (unsigned long)(long)sign;
	}
	for (size_t i = 0; i < c->n_svc; i++) {
		struct contrib_svc *cs = &c->svc[i];
		if (!(cs->row = received_figures_unit(&rc->f, cs->unit)) ||
		    !svc_figure(rc, w, cs, sign, codes, year) ||
		    !svc_figure(rc, cs->row, cs, sign, codes, year))
			return false;
	}
	if (c->n_svc > 1)
		qsort(c->svc, c->n_svc, sizeof *c->svc, cmp_svc);
	return svc_persons(rc, c, sign) && diag_figures(rc, pu, c, sign);
}

/* ---- the contribution records ---------------------------------------------- */

struct buf {
	unsigned char *p;
	size_t n, cap;
	bool oom;
};

/* Grows *v (of *cap elements of size) to hold n; false when out of memory. */
static bool reserve(void *v, size_t *cap, size_t n, size_t size)
{
	if (n <= *cap)
		return true;
	size_t nc = *cap ? *cap : 16;
	while (nc < n)
		nc *= 2;
	void *nv = realloc(*(void **)v, nc * size);
	if (!nv)
		return false;
	*(void **)v = nv;
	*cap = nc;
	return true;
}

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->oom)
		return;
	if (!reserve(&b->p, &b->cap, b->n + n, 1)) {
		b->oom = true;
		return;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
	put(b, &v, sizeof v);
}

static void put_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	put_u32(b, (uint32_t)n);
	put(b, s, n);
}

/* The record: u32 length of the rest, then the person's unit, assessed,
 * the services (type, tenths, unit) and the diagnoses' code systems. */
static bool encode(const struct contrib *c, struct buf *b)
{
	b->n = 0;
	b->oom = false;
	put_u32(b, 0);
	put_str(b, c->punit);
	put_u32(b, c->assessed);
	put_u32(b, (uint32_t)c->n_svc);
	for (size_t i = 0; i < c->n_svc; i++) {
		put_u32(b, (uint32_t)c->svc[i].type);
		put_u32(b, (uint32_t)(int32_t)c->svc[i].tenths);
		put_str(b, c->svc[i].unit);
	}
	put_u32(b, (uint32_t)c->n_diag);
	for (size_t i = 0; i < c->n_diag; i++)
		put_str(b, c->diag[i]);
	if (b->oom)
		return false;
	uint32_t len = (uint32_t)(b->n - 4);
	memcpy(b->p, &len, 4);
	return true;
}

struct reader {
	unsigned char *p;
	size_t n, at;
	bool bad;
};

static uint32_t get_u32(struct reader *r)
{
	uint32_t v = 0;
	if (r->at + 4 > r->n) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p + r->at, 4);
	r->at += 4;
	return v;
}

/* A copy of the next string (free it); NULL when the record is bad. */
static char *get_str(struct reader *r)
{
	uint32_t len = get_u32(r);
	if (r->bad || r->at + len > r->n) {
		r->bad = true;
		return NULL;
	}
	char *s = malloc((size_t)len + 1);
	if (!s) {
		r->bad = true;
		return NULL;
	}
	memcpy(s, r->p + r->at, len);
	s[len] = '\0';
	r->at += len;
	return s;
}

static void contrib_free(struct contrib *c)
{
	free((char *)c->punit);
	for (size_t i = 0; i < c->n_svc; i++)
		free((char *)c->svc[i].unit);
	for (size_t i = 0; i < c->n_diag; i++)
		free((char *)c->diag[i]);
	free(c->svc);
	free(c->diag);
}

static bool decode(struct reader *r, struct contrib *c)
{
	memset(c, 0, sizeof *c);
	c->punit = get_str(r);
	c->assessed = get_u32(r) != 0;
	uint32_t ns = get_u32(r);
	if (r->bad || ns > r->n / 12 || !(c->svc = calloc(ns ? ns : 1, sizeof *c->svc)))
		return false;
	for (uint32_t i = 0; i < ns && !r->bad; i++, c->n_svc++) {
		c->svc[i].type = (int)get_u32(r);
		c->svc[i].tenths = (int32_t)get_u32(r);
		c->svc[i].unit = get_str(r);
	}
	uint32_t nd = get_u32(r);
	if (r->bad || nd > r->n / 4 || !(c->diag = calloc(nd ? nd : 1, sizeof *c->diag)))
		return false;
	for (uint32_t i = 0; i < nd && !r->bad; i++, c->n_diag++)
		c->diag[i] = get_str(r);
	return !r->bad;
}

bool received_person_begin(struct received *rc, const char *enhet, bool enhet_unknown,
			   bool assessed)
{
	rc->n_svc = rc->n_diag = 0;
	rc->punit = unit_key(enhet, enhet_unknown);
	rc->assessed = assessed;
	return true;
}

bool received_person_service(struct received *rc, int type, bool has_hours, double hours,
			     const char *enhet, bool enhet_unknown)
{
	if (!reserve(&rc->svc, &rc->cap_svc, rc->n_svc + 1, sizeof *rc->svc))
		return false;
	rc->svc[rc->n_svc++] =
	    (struct contrib_svc){type, has_hours ? received_hours_tenths(hours) : -1,
				 unit_key(enhet, enhet_unknown), NULL};
	return true;
}

bool received_person_diagnosis(struct received *rc, const char *kodeverk)
{
	if (!reserve(&rc->diag, &rc->cap_diag, rc->n_diag + 1, sizeof *rc->diag))
		return false;
	rc->diag[rc->n_diag++] = kodeverk;
	return true;
}

bool received_person_end(struct received *rc, const struct codelist *codes, int year,
			 uint64_t *handle)
{
	struct contrib c = {rc->punit, rc->assessed, rc->svc, rc->n_svc, rc->diag, rc->n_diag};
	struct buf b = {rc->enc, 0, rc->cap_enc, false};
	bool ok = encode(&c, &b);
	rc->enc = b.p; /* kept, grown or not */
	rc->cap_enc = b.cap;
	ok = ok && fwrite(b.p, 1, b.n, rc->spill) == b.n;
	if (ok) {
		*handle = rc->spill_len;
		rc->spill_len += b.n;
		ok = apply(rc, &c, 1, codes, year);
	}
	return ok;
}

bool received_retract(struct received *rc, uint64_t handle)
{
	uint32_t len = 0;
	if (fflush(rc->spill) != 0 || pread(fileno(rc->spill), &len, 4, (off_t)handle) != 4 ||
	    handle + 4 + len > rc->spill_len)
		return false;
	struct reader r = {malloc(len ? len : 1), len, 0, false};
	if (!r.p)
		return false;
	bool ok = pread(fileno(rc->spill), r.p, len, (off_t)handle + 4) == (ssize_t)len;
	struct contrib c;
	memset(&c, 0, sizeof c);
	ok = ok && decode(&r, &c);
	ok = ok && apply(rc, &c, -1, NULL, 0);
	contrib_free(&c);
	free(r.p);
	return ok;
}

static void medians(struct received_unit *u)
{
	for (size_t i = 0; i < u->n_svc; i++)
		u->svc[i].median_centi = hist_median_centi(u->svc[i].hist, u->svc[i].with_hours);
}

const struct received_figures *received_figures(struct received *rc)
{
	/* every feedback file asks (5 formats, each unit's too): the medians
	 * walk every histogram, so they are computed once per change */
	if (rc->settled)
		return &rc->f;
	rc->settled = true;
	medians(&rc->f.whole);
	for (size_t i = 0; i < rc->f.n_units; i++)
		medians(rc->f.units[i]);
	if (rc->f.other)
		medians(rc->f.other);
	received_figures_sort(&rc->f);
	return &rc->f;
}
