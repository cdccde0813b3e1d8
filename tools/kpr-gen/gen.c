/*
 * gen.c — generates one municipality's submission (SPEC §2) for kpr-gen:
 * plausible persons (age skewed to 67+, care profiles from safety alarm only
 * to long-term care), every date consistent with the SPEC §3 rules, and, at
 * the configured rates, exactly one deliberate fault per injection, logged
 * by ref. Each person is first planned in a fixed-size struct (no malloc
 * per element), then faults are applied from a separate random stream (so a
 * clean person is the same with or without injection), then it is written
 * straight into the output buffer.
 * National IDs exist only in the XML written; they never reach the log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"

const struct inj_def inj_defs[INJ_COUNT] = {
    [INJ_F001] = {"F001", SCOPE_FILE, LEVEL_FATAL,
		  "file cut off in the middle of a Person (not well-formed)"},
    [INJ_F002] = {"F002", SCOPE_FILE, LEVEL_FATAL,
		  "one Vurdering/@dato written DD.MM.YYYY (not xs:date)"},
    [INJ_F003] = {"F003", SCOPE_FILE, LEVEL_FATAL,
		  "Avsender/@kommunenummer of another municipality"},
    [INJ_F004] = {"F004", SCOPE_FILE, LEVEL_FATAL,
		  "Avsender/@kommunenummer not valid on 31 Dec of the aargang"},
    [INJ_F005] = {"F005", SCOPE_FILE, LEVEL_FATAL, "@aargang three years back (not open)"},
    [INJ_F006] = {"F006", SCOPE_FILE, LEVEL_FATAL, "no Person at all"},
    [INJ_F007] = {"F007", SCOPE_FILE, LEVEL_WARNING, "@forrigeId naming no earlier submission"},
    [INJ_R101] = {"R101", SCOPE_IDENTITY, LEVEL_ERROR, "Fnr left out"},
    [INJ_R102] = {"R102", SCOPE_IDENTITY, LEVEL_ERROR, "Fnr of 10 or 12 digits, or with a letter"},
    [INJ_R103] = {"R103", SCOPE_IDENTITY, LEVEL_ERROR, "Fnr with a wrong second control digit"},
    [INJ_R104] = {"R104", SCOPE_IDENTITY, LEVEL_ERROR,
		  "Fnr with valid control digits but no real date (30/31 Feb)"},
    [INJ_R105] = {"R105", SCOPE_IDENTITY, LEVEL_ERROR, "Fnr of the previous clean person repeated"},
    [INJ_R106] = {"R106", SCOPE_PERSON, LEVEL_ERROR, "ref of the previous person repeated"},
    [INJ_R107] = {"R107", SCOPE_PERSON, LEVEL_WARNING, "Fodselsaar 1-3 years off the ID"},
    [INJ_R108] = {"R108", SCOPE_PERSON, LEVEL_ERROR, "Kjonn 0, 3 or 9, or left out"},
    [INJ_R109] = {"R109", SCOPE_PERSON, LEVEL_WARNING, "Dodsdato in the year after the aargang"},
    [INJ_R110] = {"R110", SCOPE_PERSON, LEVEL_WARNING,
		  "Person or Tjeneste enhet blank, over 64 characters, with a tab or an ID"},
    [INJ_R201] = {"R201", SCOPE_VURDERING, LEVEL_ERROR, "one Funksjon/@skaar 0, 6, 7 or 8"},
    [INJ_R202] = {"R202", SCOPE_VURDERING, LEVEL_ERROR, "a Funksjon code missing, repeated or 18"},
    [INJ_R203] = {"R203", SCOPE_VURDERING, LEVEL_ERROR,
		  "Vurdering/@dato after 31 Dec of the aargang"},
    [INJ_R204] = {"R204", SCOPE_VURDERING, LEVEL_WARNING, "skaar 9 for 11, 13 or 14"},
    [INJ_R301] = {"R301", SCOPE_TJENESTE, LEVEL_ERROR, "Tjeneste/@type not in the code list"},
    [INJ_R302] = {"R302", SCOPE_TJENESTE, LEVEL_ERROR,
		  "vedtak before soknad, or slutt before start"},
    [INJ_R303] = {"R303", SCOPE_TJENESTE, LEVEL_ERROR,
		  "start after the aargang, or slutt before it"},
    [INJ_R304] = {"R304", SCOPE_TJENESTE, LEVEL_ERROR,
		  "timerPerUke negative or timerMedFlere above 168"},
    [INJ_R305] = {"R305", SCOPE_TJENESTE, LEVEL_ERROR, "timerMedFlere below timerPerUke"},
    [INJ_R306] = {"R306", SCOPE_TJENESTE, LEVEL_ERROR,
		  "avslag with a start, or vedtak without start"},
    [INJ_R307] = {"R307", SCOPE_TJENESTE, LEVEL_WARNING,
		  "institution service without orgnr or with a bad one"},
    [INJ_R308] = {"R308", SCOPE_TJENESTE, LEVEL_WARNING,
		  "an overlapping second service of the same type"},
    [INJ_R309] = {"R309", SCOPE_PERSON, LEVEL_WARNING,
		  "every Vurdering removed from a person who needs one"},
    [INJ_R310] = {"R310", SCOPE_PERSON, LEVEL_WARNING,
		  "Vurderinger moved over 12 months before the latest vedtak"},
    [INJ_R401] = {"R401", SCOPE_DIAGNOSE, LEVEL_ERROR,
		  "Diagnose with an unknown kodeverk or a malformed kode"},
    [INJ_R402] = {"R402", SCOPE_PERSON, LEVEL_WARNING,
		  "Legemiddelgjennomgang without an institution stay"},
    [INJ_R403] = {"R403", SCOPE_PERSON, LEVEL_WARNING,
		  "Ernaering removed from a person with service 18-21"},
    [INJ_R404] = {"R404", SCOPE_PERSON, LEVEL_WARNING,
		  "Venteliste during ongoing long-term care (21)"},
    [INJ_R405] = {"R405", SCOPE_PERSON, LEVEL_ERROR,
		  "IndividuellPlan/Koordinator/Heldogn code out of range"},
};

/* ---- calendar ---- */

int gen_days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void gen_civil_from_days(int z, int *y, int *m, int *d)
{
	z += 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = z - era * 146097;
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* ---- the person plan ---- */

#define MAX_VURD   4
#define MAX_FUNK   20
#define MAX_TJ     24
#define MAX_DIAG   6
#define HOURS_NONE (-100000)

enum profile { PR_LIGHT, PR_MODERATE, PR_HEAVY, PR_INST, PR_YOUNG };

struct vurd {
	int dato;
	bool dato_nor; /* F002: written DD.MM.YYYY */
	int nf;
	unsigned char kode[MAX_FUNK];
	unsigned char skaar[MAX_FUNK];
};

struct tj {
	int type;
	int soknad, vedtak, start, slutt; /* day numbers, 0 = absent */
	bool avslag;
	int tpu, tmf; /* tenths of an hour, HOURS_NONE = absent */
	char orgnr[12];
};

struct svar {
	int kode; /* 0 = element absent */
	int dato;
};

struct person {
	char ref[32];
	char fnr[16];   /* "" = Fnr absent */
	int kjonn;      /* -1 = absent */
	int fodselsaar; /* 0 = absent */
	int dodsdato;   /* 0 = absent */
	int nv;
	struct vurd v[MAX_VURD];
	int nt;
	struct tj t[MAX_TJ];
	int nd;
	struct {
		const char *kodeverk;
		const char *kode;
	} d[MAX_DIAG];
	struct svar heldogn, lmg, ern;
	int iplan, koord; /* 0 = absent */
	int venteliste;   /* vedtak day, 0 = absent */
	/* R110: where bad_unit replaces the unit (0 nowhere, 1 the Person,
	 * 2 + i its Tjeneste i); bad_unit is written as is (XML-escaped) */
	int bad_unit_at;
	char bad_unit[128];
	/* plan facts used by injection */
	enum profile profile;
	int birth_year, birth_month, birth_day;
	bool male;
	int end; /* last day with activity: death or 31 Dec */
};

struct gen_ctx {
	const struct gen_config *cfg;
	struct file_result *res;
	struct rng r;  /* the data */
	struct rng ri; /* injection decisions and faults */
	int Y, jan1, dec31;
	uint64_t *ids;
	size_t ids_mask;
	int cell_lo, cell_count;
	char orgnr[48][12];
	int n_org;
	const char *ref_prefix;
	int ref_width;
	struct rng rj;     /* journal refs */
	bool journal_case; /* "2024/123456-01", else "1101-0000001" */
	char journal_prefix[8];
	unsigned long ref_counter;
	bool omit_fodselsaar;
	bool latin1; /* the file is ISO-8859-1: text goes through out_text */
	char last_fnr[16];
	int last_kjonn, last_fodselsaar;
	bool have_last_fnr;
	char last_ref[32];
	bool have_last_ref;
	struct unit_set units; /* --units auto: this municipality's */
	uint64_t units_used;   /* bit i: unit i written (for the manifest) */
};

static const unsigned char K1W[9] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
static const unsigned char K2W[10] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};

/* Fills d[9], d[10] from d[0..8] (ASCII); false when a digit would be 10. */
static bool fnr_control(char d[11])
{
	int s = 0;
	for (int i = 0; i < 9; i++)
		s += K1W[i] * (d[i] - '0');
	int k1 = 11 - s % 11;
	if (k1 == 11)
		k1 = 0;
	if (k1 == 10)
		return false;
	d[9] = (char)('0' + k1);
	s = 0;
	for (int i = 0; i < 10; i++)
		s += K2W[i] * (d[i] - '0');
	int k2 = 11 - s % 11;
	if (k2 == 11)
		k2 = 0;
	if (k2 == 10)
		return false;
	d[10] = (char)('0' + k2);
	return true;
}

static bool ids_insert(struct gen_ctx *g, uint64_t key)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 20) & g->ids_mask;
	while (g->ids[i]) {
		if (g->ids[i] == key)
			return false;
		i = (i + 1) & g->ids_mask;
	}
	g->ids[i] = key;
	return true;
}

static uint64_t fnr_key(const char *d)
{
	uint64_t v = 0;
	for (int i = 0; i < 11; i++)
		v = v * 10 + (uint64_t)(d[i] - '0');
	return v;
}

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

static int days_in_month(int y, int m);

/* Individual number (ind) digits, control digits and the in-file check. */
static bool fnr_try(struct gen_ctx *g, char d[11], int ind)
{
	d[6] = (char)('0' + ind / 100);
	d[7] = (char)('0' + ind / 10 % 10);
	d[8] = (char)('0' + ind % 10);
	return fnr_control(d) && ids_insert(g, fnr_key(d));
}

/* A synthetic test number (month + 80) for a birth date in year by, month
 * bm, unique in the file, with the sex digit right. The municipality's own
 * cells are tried first (they may move the day by up to 3 within the month,
 * *bd is updated), then any number for the day. With fixed_day the day is
 * kept as given, even one that does not exist (R104). */
static bool make_fnr(struct gen_ctx *g, struct rng *r, int by, int bm, int *bd, bool male,
		     bool fixed_day, char out[16])
{
	char d[11];
	/* century from the individual number (SPEC R104): 000-499 1900s,
	 * 500-999 2000s (YY <= 39), 500-749 1800s (YY >= 54) */
	int base = by >= 2000 || by < 1900 ? 500 : 0;
	int pairs = by < 1900 ? 125 : 250;
	put2(d + 2, bm + 80);
	put2(d + 4, by % 100);
	if (!fixed_day) {
		int dim = days_in_month(by, bm);
		for (int tries = 0; tries < 60; tries++) {
			int cell = (g->cell_lo + (int)rng_below(r, (uint32_t)g->cell_count)) % 1000;
			int pair = cell / 4 % pairs, residue = cell % 4;
			int day = *bd - (*bd % 4) + residue;
			if (day < 1)
				day += 4;
			if (day > dim)
				day -= 4;
			put2(d, day);
			if (fnr_try(g, d, base + pair * 2 + (male ? 1 : 0))) {
				*bd = day;
				memcpy(out, d, 11);
				out[11] = '\0';
				return true;
			}
		}
	}
	put2(d, *bd);
	for (int tries = 0; tries < 400; tries++) {
		int ind = base + (int)rng_below(r, (uint32_t)pairs) * 2 + (male ? 1 : 0);
		if (fnr_try(g, d, ind)) {
			memcpy(out, d, 11);
			out[11] = '\0';
			return true;
		}
	}
	return false;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

static int rand_day(struct rng *r, int lo, int hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

static void make_orgnr(struct rng *r, char out[12])
{
	static const unsigned char w[8] = {3, 2, 7, 6, 5, 4, 3, 2};
	for (;;) {
		int s = 0;
		out[0] = rng_below(r, 4) ? '9' : '8';
		for (int i = 1; i < 8; i++)
			out[i] = (char)('0' + rng_below(r, 10));
		for (int i = 0; i < 8; i++)
			s += w[i] * (out[i] - '0');
		int k = 11 - s % 11;
		if (k == 11)
			k = 0;
		if (k == 10)
			continue;
		out[8] = (char)('0' + k);
		out[9] = '\0';
		return;
	}
}

/* ---- services ---- */

static struct tj *tj_add(struct gen_ctx *g, struct person *pp, int type)
{
	if (type <= 0 || type >= GEN_MAX_TYPE || !g->cfg->type_valid[type] || pp->nt >= MAX_TJ)
		return NULL;
	struct tj *t = &pp->t[pp->nt++];
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->tpu = t->tmf = HOURS_NONE;
	if (g->cfg->type_institution[type])
		memcpy(t->orgnr, g->orgnr[rng_below(&g->r, (uint32_t)g->n_org)], 10);
	return t;
}

/* Granted with start (and slutt when > 0); application and decision before. */
static void tj_grant(struct gen_ctx *g, struct tj *t, int start, int slutt)
{
	t->start = start;
	t->slutt = slutt;
	t->soknad = start - rng_range(&g->r, 4, 75);
	t->vedtak = t->soknad + (int)rng_below(&g->r, (uint32_t)(start - t->soknad + 1));
}

static void tj_hours(struct gen_ctx *g, struct tj *t, int lo, int hi, bool same)
{
	t->tpu = rng_range(&g->r, lo, hi);
	if (same || rng_below(&g->r, 2) == 0)
		t->tmf = t->tpu;
	else
		t->tmf = t->tpu + rng_range(&g->r, 1, 30);
	if (t->tmf > 1680)
		t->tmf = 1680;
}

/* An ordinary ongoing-or-new community service: 45% already running at the
 * start of the year, the rest start within it; some end. */
static struct tj *tj_ordinary(struct gen_ctx *g, struct person *pp, int type, int max_years)
{
	struct tj *t = tj_add(g, pp, type);
	if (!t)
		return NULL;
	int start, slutt = 0;
	if (rng_below(&g->r, 100) < 45)
		start = g->jan1 - rng_range(&g->r, 10, 365 * max_years);
	else
		start = rand_day(&g->r, g->jan1, pp->end - 5);
	if (pp->end < g->dec31) {
		if (rng_below(&g->r, 10) < 7)
			slutt = pp->end;
	} else if (rng_below(&g->r, 100) < 12) {
		slutt = rand_day(&g->r, start > g->jan1 ? start : g->jan1, g->dec31);
	}
	tj_grant(g, t, start, slutt);
	return t;
}

/* Institution stays of the given types, one after another (a person is in
 * one place at a time), from *cursor on; never past pp->end, open at the
 * year end when still there. */
static void tj_stays(struct gen_ctx *g, struct person *pp, int type, int n, int minlen, int maxlen,
		     int *cursor, int limit)
{
	for (int i = 0; i < n; i++) {
		int start = *cursor;
		if (start > limit || start > pp->end)
			return;
		struct tj *t = tj_add(g, pp, type);
		if (!t)
			return;
		int slutt = start + rng_range(&g->r, minlen, maxlen);
		if (slutt > pp->end)
			slutt = pp->end < g->dec31 ? pp->end : 0;
		tj_grant(g, t, start, slutt);
		if (!slutt) {
			*cursor = g->dec31 + 1000;
			return;
		}
		*cursor = slutt + rng_range(&g->r, 7, 110);
	}
}

static void tj_refused(struct gen_ctx *g, struct person *pp)
{
	static const int types[] = {21, 21, 1, 15, 3, 29, 6, 9, 11};
	struct tj *t = tj_add(g, pp, types[rng_below(&g->r, KPR_GEN_LEN(types))]);
	if (!t)
		return;
	t->soknad = rand_day(&g->r, g->jan1 - 30, pp->end - 20);
	t->vedtak = t->soknad + rng_range(&g->r, 3, 20);
	if (t->vedtak > pp->end)
		t->vedtak = pp->end;
	t->avslag = true; /* orgnr kept: the institution applied for */
}

static void tj_pending(struct gen_ctx *g, struct person *pp)
{
	static const int types[] = {21, 1, 15, 6, 3, 29, 19};
	struct tj *t = tj_add(g, pp, types[rng_below(&g->r, KPR_GEN_LEN(types))]);
	if (!t)
		return;
	t->soknad = rand_day(&g->r, g->dec31 - 40, g->dec31);
	if (t->soknad > pp->end)
		t->soknad = pp->end;
}

static bool needs_vurdering(int type)
{
	return type == 1 || type == 2 || type == 3 || type == 15 || (type >= 18 && type <= 22);
}

static bool is_stay_18_21(int type)
{
	return type >= 18 && type <= 21;
}

/* ---- diagnoses ---- */

struct dcode {
	const char *kodeverk, *kode;
};

static const struct dcode D_DEMENTIA[] = {
    {"ICD-10", "F00.1"}, {"ICD-10", "F00.0"}, {"ICD-10", "F00.9"},
    {"ICD-10", "F01.9"}, {"ICD-10", "F03"},   {"ICD-10", "G30.1"},
    {"ICD-10", "G30.9"}, {"ICPC-2", "P70"},   {"ICPC-2", "P70"},
};
static const struct dcode D_ELDERLY[] = {
    {"ICD-10", "I63.9"}, {"ICD-10", "I50.9"}, {"ICD-10", "I10"},   {"ICD-10", "E11.9"},
    {"ICD-10", "J44.9"}, {"ICD-10", "M81.9"}, {"ICD-10", "S72.0"}, {"ICD-10", "S72.1"},
    {"ICD-10", "C34.9"}, {"ICD-10", "C50.9"}, {"ICD-10", "C61"},   {"ICD-10", "N39.0"},
    {"ICD-10", "G20"},   {"ICD-10", "F32.9"}, {"ICD-10", "M17.9"}, {"ICD-10", "I48.9"},
    {"ICD-10", "I25.9"}, {"ICD-10", "M16.9"}, {"ICD-10", "H35.3"}, {"ICD-10", "H91.1"},
    {"ICD-10", "R26.8"}, {"ICD-10", "E46"},   {"ICD-10", "L89.1"}, {"ICD-10", "I69.4"},
    {"ICPC-2", "K90"},   {"ICPC-2", "K77"},   {"ICPC-2", "K86"},   {"ICPC-2", "T90"},
    {"ICPC-2", "R95"},   {"ICPC-2", "L95"},   {"ICPC-2", "P76"},   {"ICPC-2", "N87"},
    {"ICPC-2", "L89"},   {"ICPC-2", "L90"},   {"ICPC-2", "F84"},   {"ICPC-2", "H86"},
    {"ICPC-2", "K78"},
};
static const struct dcode D_YOUNG[] = {
    {"ICD-10", "F20.0"}, {"ICD-10", "F31.9"}, {"ICD-10", "F32.1"}, {"ICD-10", "F70.0"},
    {"ICD-10", "F71.1"}, {"ICD-10", "F84.0"}, {"ICD-10", "Q90.9"}, {"ICD-10", "G80.9"},
    {"ICD-10", "G35"},   {"ICD-10", "F10.2"}, {"ICD-10", "F60.3"}, {"ICD-10", "G40.9"},
    {"ICD-10", "F41.1"}, {"ICD-10", "T90.5"}, {"ICPC-2", "P72"},   {"ICPC-2", "P73"},
    {"ICPC-2", "P85"},   {"ICPC-2", "P99"},   {"ICPC-2", "N88"},   {"ICPC-2", "P15"},
};

static void add_diag(struct person *pp, const struct dcode *c)
{
	for (int i = 0; i < pp->nd; i++)
		if (pp->d[i].kode == c->kode)
			return;
	if (pp->nd < MAX_DIAG) {
		pp->d[pp->nd].kodeverk = c->kodeverk;
		pp->d[pp->nd].kode = c->kode;
		pp->nd++;
	}
}

/* ---- function scores ---- */

static void make_scores(struct gen_ctx *g, struct person *pp, struct vurd *v, double level,
			bool dementia, int age)
{
	struct rng *r = &g->r;
	v->nf = 17;
	for (int k = 1; k <= 17; k++) {
		double x = level;
		switch (k) {
		case 3:
		case 15:
		case 16:
		case 17:
			x += dementia ? 1.6 : -0.4;
			if (pp->profile == PR_YOUNG && k != 15)
				x += 0.6;
			break;
		case 2:
		case 6:
		case 9:
			x += 0.7;
			break;
		case 1:
			x += pp->profile == PR_YOUNG ? 0.7 : 0.3;
			break;
		case 10:
			x -= 0.6;
			break;
		case 12:
			x += 0.5;
			break;
		case 4:
			x += 0.3;
			break;
		case 13:
		case 14:
			x = 1.2 + (age >= 85 ? 0.9 : age >= 75 ? 0.4 : 0.0);
			break;
		default:
			break;
		}
		x += (rng_unit(r) - 0.5) * 2.0;
		int s = (int)(x + 0.5);
		if (s < 1)
			s = 1;
		if (s > 5)
			s = 5;
		/* "ikke relevant": housework and cooking for residents, rarely
		 * elsewhere; never for 11, 13, 14 (R204). */
		if ((k == 6 || k == 9 || k == 2) && pp->profile == PR_INST && rng_below(r, 100) < 4)
			s = 9;
		else if ((k == 1 || k == 12) && rng_below(r, 1000) < 4)
			s = 9;
		v->kode[k - 1] = (unsigned char)k;
		v->skaar[k - 1] = (unsigned char)s;
	}
}

/* ---- planning one person ---- */

static int pick_age(struct rng *r)
{
	/* KPR users: two thirds 67+, peak in the 80s. */
	static const struct {
		int lo, hi, w;
	} bins[] = {{1, 17, 35},   {18, 49, 85},  {50, 66, 120}, {67, 74, 120}, {75, 79, 130},
		    {80, 84, 160}, {85, 89, 170}, {90, 94, 120}, {95, 99, 45},  {100, 106, 8}};
	int total = 0;
	for (size_t i = 0; i < KPR_GEN_LEN(bins); i++)
		total += bins[i].w;
	int u = (int)rng_below(r, (uint32_t)total);
	for (size_t i = 0; i < KPR_GEN_LEN(bins); i++) {
		if (u < bins[i].w)
			return rng_range(r, bins[i].lo, bins[i].hi);
		u -= bins[i].w;
	}
	return 85;
}

static enum profile pick_profile(struct rng *r, int age)
{
	int u = (int)rng_below(r, 100);
	if (age < 67) {
		if (u < 55)
			return PR_YOUNG;
		if (u < 75)
			return PR_LIGHT;
		if (u < 90)
			return PR_MODERATE;
		if (u < 97)
			return PR_HEAVY;
		return PR_INST;
	}
	static const int cut[3][4] = {
	    /* light, moderate, heavy, inst (cumulative) */
	    {42, 76, 90, 100}, /* 67–79 */
	    {33, 65, 82, 100}, /* 80–89 */
	    {22, 52, 70, 100}, /* 90+ */
	};
	int row = age < 80 ? 0 : age < 90 ? 1 : 2;
	if (u < cut[row][0])
		return PR_LIGHT;
	if (u < cut[row][1])
		return PR_MODERATE;
	if (u < cut[row][2])
		return PR_HEAVY;
	return PR_INST;
}

static int pick_code14(struct rng *r)
{
	int u = (int)rng_below(r, 100);
	return u < 50 ? 1 : u < 80 ? 2 : u < 95 ? 3 : 4;
}

static void next_ref(struct gen_ctx *g, char out[32])
{
	g->ref_counter += 1 + rng_below(&g->r, 3);
	if (g->cfg->refs == REFS_JOURNAL) {
		/* from their own stream, so the persons stay the same */
		if (g->journal_case)
			snprintf(out, 32, "%d/%06lu-%02d", g->Y - (int)rng_below(&g->rj, 4),
				 100000 + g->ref_counter, rng_range(&g->rj, 1, 14));
		else
			snprintf(out, 32, "%s-%07lu", g->journal_prefix, g->ref_counter);
		return;
	}
	char num[24];
	int n = snprintf(num, sizeof(num), "%0*lu", g->ref_width, g->ref_counter);
	snprintf(out, 32, "%s%.*s", g->ref_prefix, n, num);
}

static void plan_person(struct gen_ctx *g, struct person *pp)
{
	struct rng *r = &g->r;
	memset(pp, 0, sizeof(*pp));
	pp->heldogn.kode = pp->lmg.kode = pp->ern.kode = 0;
	next_ref(g, pp->ref);

	int age = pick_age(r);
	pp->profile = pick_profile(r, age);
	pp->birth_year = g->Y - age;
	pp->birth_month = rng_range(r, 1, 12);
	pp->birth_day = rng_range(r, 1, days_in_month(pp->birth_year, pp->birth_month));
	pp->male = rng_below(r, 100) < (age >= 67 ? 38 : 52);
	/* When a birth date's numbers are all taken in this file (only with
	 * huge --persons), try other days; the caller fails on an empty fnr. */
	for (int tries = 0; tries < 28 && !make_fnr(g, r, pp->birth_year, pp->birth_month,
						    &pp->birth_day, pp->male, false, pp->fnr);
	     tries++)
		pp->birth_day = pp->birth_day % 28 + 1;
	pp->kjonn = pp->male ? 1 : 2;
	pp->fodselsaar = g->omit_fodselsaar ? 0 : pp->birth_year;

	/* death */
	int dp;
	switch (pp->profile) {
	case PR_INST:
		dp = 28;
		break;
	case PR_HEAVY:
		dp = 14;
		break;
	default:
		dp = age < 67 ? 1 : age < 80 ? 3 : age < 90 ? 6 : 11;
		break;
	}
	pp->end = g->dec31;
	if ((int)rng_below(r, 100) < dp) {
		pp->dodsdato = rand_day(r, g->jan1 + 20, g->dec31);
		pp->end = pp->dodsdato;
	}

	bool dementia = false;
	double level = 2.0;
	int cursor = g->jan1 + rng_range(r, 0, 120);
	switch (pp->profile) {
	case PR_LIGHT: {
		dementia = rng_below(r, 100) < 5;
		level = 1.5;
		int before = pp->nt;
		if (rng_below(r, 100) < 70)
			tj_ordinary(g, pp, 6, 6);
		struct tj *t;
		if (rng_below(r, 100) < 40 && (t = tj_ordinary(g, pp, 1, 4)))
			tj_hours(g, t, 5, 60, false);
		if (rng_below(r, 100) < 30 && (t = tj_ordinary(g, pp, 15, 3)))
			tj_hours(g, t, 5, 40, false);
		if (rng_below(r, 100) < 12)
			tj_ordinary(g, pp, 5, 3);
		if (rng_below(r, 100) < 6)
			tj_ordinary(g, pp, 4, 3);
		if (rng_below(r, 100) < 5)
			tj_ordinary(g, pp, 26, 2);
		if (rng_below(r, 100) < 6)
			tj_ordinary(g, pp, 27, 2);
		if (rng_below(r, 100) < 5)
			tj_ordinary(g, pp, 28, 2);
		if (pp->nt == before)
			tj_ordinary(g, pp, 6, 6);
		break;
	}
	case PR_MODERATE: {
		dementia = rng_below(r, 100) < 18;
		level = 2.3;
		struct tj *t;
		if (rng_below(r, 100) < 95 && (t = tj_ordinary(g, pp, 15, 5)))
			tj_hours(g, t, 10, 120, false);
		if (rng_below(r, 100) < 55 && (t = tj_ordinary(g, pp, 1, 5)))
			tj_hours(g, t, 5, 60, false);
		if (rng_below(r, 100) < 60)
			tj_ordinary(g, pp, 6, 6);
		if (rng_below(r, 100) < 15)
			tj_ordinary(g, pp, 5, 3);
		if (rng_below(r, 100) < 12)
			tj_ordinary(g, pp, 4, 3);
		if (rng_below(r, 100) < 5)
			tj_ordinary(g, pp, 17, 2);
		if (rng_below(r, 100) < 12)
			tj_ordinary(g, pp, 27, 2);
		if (rng_below(r, 100) < 4)
			tj_ordinary(g, pp, 26, 2);
		if (rng_below(r, 100) < 5)
			tj_ordinary(g, pp, 28, 2);
		if (rng_below(r, 100) < 2)
			tj_ordinary(g, pp, 7, 2);
		if (rng_below(r, 100) < 10)
			tj_stays(g, pp, 19, 1, 10, 42, &cursor, g->dec31);
		if (rng_below(r, 100) < 8)
			tj_stays(g, pp, 18, 1, 4, 21, &cursor, g->dec31);
		if (rng_below(r, 100) < 10)
			tj_stays(g, pp, 20, rng_range(r, 1, 2), 5, 28, &cursor, g->dec31);
		if (rng_below(r, 100) < 4)
			tj_stays(g, pp, 25, 1, 1, 4, &cursor, g->dec31);
		if (rng_below(r, 100) < 4)
			tj_stays(g, pp, 8, rng_range(r, 1, 3), 3, 14, &cursor, g->dec31);
		break;
	}
	case PR_HEAVY: {
		dementia = rng_below(r, 100) < 35;
		level = 3.2;
		struct tj *t;
		if ((t = tj_ordinary(g, pp, 15, 6)))
			tj_hours(g, t, 40, 350, false);
		if (rng_below(r, 100) < 65 && (t = tj_ordinary(g, pp, 1, 6)))
			tj_hours(g, t, 10, 80, false);
		if (rng_below(r, 100) < 55)
			tj_ordinary(g, pp, 6, 6);
		if (rng_below(r, 100) < 8)
			tj_ordinary(g, pp, 11, 3);
		if (rng_below(r, 100) < 10)
			tj_ordinary(g, pp, 29, 5);
		if (rng_below(r, 100) < 8)
			tj_ordinary(g, pp, 28, 2);
		if (rng_below(r, 100) < 15)
			tj_ordinary(g, pp, 27, 2);
		if (rng_below(r, 100) < 3)
			tj_ordinary(g, pp, 22, 2);
		if (rng_below(r, 100) < 15)
			tj_stays(g, pp, 18, 1, 4, 21, &cursor, g->dec31);
		if (rng_below(r, 100) < 15)
			tj_stays(g, pp, 19, 1, 10, 42, &cursor, g->dec31);
		if (rng_below(r, 100) < 35)
			tj_stays(g, pp, 20, rng_range(r, 1, 3), 5, 28, &cursor, g->dec31);
		if (rng_below(r, 100) < 8)
			tj_stays(g, pp, 25, 1, 1, 4, &cursor, g->dec31);
		if (rng_below(r, 100) < 8)
			tj_stays(g, pp, 8, rng_range(r, 1, 4), 3, 14, &cursor, g->dec31);
		if (rng_below(r, 100) < 15)
			pp->venteliste = rand_day(r, g->jan1, pp->end);
		break;
	}
	case PR_INST: {
		dementia = rng_below(r, 100) < 60;
		level = 4.0;
		struct tj *t;
		if (rng_below(r, 100) < 65 || pp->end < g->jan1 + 40) {
			t = tj_add(g, pp, 21);
			if (t)
				tj_grant(g, t, g->jan1 - rng_range(r, 20, 365 * 8),
					 pp->end < g->dec31 ? pp->end : 0);
		} else {
			int adm = rand_day(r, g->jan1 + 30, pp->end);
			/* home care until admission, often a short stay first */
			if (rng_below(r, 100) < 80 && (t = tj_add(g, pp, 15))) {
				int hs = g->jan1 - rng_range(r, 30, 365 * 4);
				int he = adm - rng_range(r, 0, 10);
				if (he < g->jan1)
					he = g->jan1;
				tj_grant(g, t, hs, he);
				tj_hours(g, t, 40, 300, false);
			}
			if (rng_below(r, 100) < 60 && (t = tj_add(g, pp, 20)))
				tj_grant(g, t, adm - rng_range(r, 8, 28), adm - 1);
			t = tj_add(g, pp, 21);
			if (t)
				tj_grant(g, t, adm, pp->end < g->dec31 ? pp->end : 0);
		}
		if (rng_below(r, 100) < 3)
			tj_ordinary(g, pp, 24, 2);
		break;
	}
	case PR_YOUNG: {
		dementia = rng_below(r, 100) < 4;
		level = 2.4;
		struct tj *t;
		int before = pp->nt;
		if (rng_below(r, 100) < 45 && (t = tj_ordinary(g, pp, 15, 6)))
			tj_hours(g, t, 10, 150, false);
		if (rng_below(r, 100) < 25 && (t = tj_ordinary(g, pp, 1, 6)))
			tj_hours(g, t, 5, 80, false);
		if (rng_below(r, 100) < 20 && (t = tj_ordinary(g, pp, 2, 4)))
			tj_hours(g, t, 10, 80, false);
		if (rng_below(r, 100) < 12 && (t = tj_ordinary(g, pp, 3, 8)))
			tj_hours(g, t, 50, 400, true);
		if (rng_below(r, 100) < 25)
			tj_ordinary(g, pp, 9, 6);
		if (rng_below(r, 100) < 12)
			tj_ordinary(g, pp, 7, 6);
		if (rng_below(r, 100) < 15)
			tj_ordinary(g, pp, 11, 6);
		if (rng_below(r, 100) < 15)
			tj_ordinary(g, pp, 4, 6);
		if (rng_below(r, 100) < 20)
			tj_ordinary(g, pp, 29, 8);
		if (rng_below(r, 100) < 5)
			tj_ordinary(g, pp, 6, 4);
		if (rng_below(r, 100) < 2)
			tj_ordinary(g, pp, 14, 3);
		if (rng_below(r, 1000) < 8)
			tj_ordinary(g, pp, 23, 2);
		if (rng_below(r, 1000) < 8)
			tj_ordinary(g, pp, 24, 2);
		if (rng_below(r, 100) < 8)
			tj_stays(g, pp, 8, rng_range(r, 1, 5), 2, 10, &cursor, g->dec31);
		if (pp->nt == before)
			tj_ordinary(g, pp, 9, 4);
		break;
	}
	}
	if (rng_below(r, 100) < 4)
		tj_refused(g, pp);
	if (rng_below(r, 100) < 2)
		tj_pending(g, pp);

	/* assessments: required when a service that needs one was granted */
	bool need = false, stay = false, has21 = false;
	for (int i = 0; i < pp->nt; i++) {
		if (!pp->t[i].start)
			continue;
		need |= needs_vurdering(pp->t[i].type);
		stay |= is_stay_18_21(pp->t[i].type);
		has21 |= pp->t[i].type == 21;
	}
	if (need || rng_below(r, 100) < 65) {
		int u = (int)rng_below(r, 100);
		pp->nv = u < 70 ? 1 : u < 96 ? 2 : 3;
		int dates[MAX_VURD];
		for (int i = 0; i < pp->nv; i++)
			dates[i] = rand_day(r, g->jan1, pp->end);
		for (int i = 1; i < pp->nv; i++) /* sort: a handful */
			for (int j = i; j > 0 && dates[j] < dates[j - 1]; j--) {
				int tmp = dates[j];
				dates[j] = dates[j - 1];
				dates[j - 1] = tmp;
			}
		for (int i = 0; i < pp->nv; i++) {
			pp->v[i].dato = dates[i];
			make_scores(g, pp, &pp->v[i], level + 0.25 * i, dementia, age);
		}
	}

	/* diagnoses */
	int u = (int)rng_below(r, 100);
	int nd = u < 20 ? 0 : u < 55 ? 1 : u < 83 ? 2 : u < 95 ? 3 : 4;
	for (int i = 0; i < nd; i++) {
		if (i == 0 && dementia)
			add_diag(pp, &D_DEMENTIA[rng_below(r, KPR_GEN_LEN(D_DEMENTIA))]);
		else if (pp->profile == PR_YOUNG)
			add_diag(pp, &D_YOUNG[rng_below(r, KPR_GEN_LEN(D_YOUNG))]);
		else
			add_diag(pp, &D_ELDERLY[rng_below(r, KPR_GEN_LEN(D_ELDERLY))]);
	}

	/* the rest */
	if (pp->profile == PR_INST || (has21 && rng_below(r, 100) < 90)) {
		pp->heldogn.kode = 1;
		pp->heldogn.dato = rand_day(r, g->jan1, pp->end);
	} else if ((pp->profile == PR_HEAVY && rng_below(r, 100) < 40) || rng_below(r, 100) < 5) {
		pp->heldogn.kode = rng_below(r, 100) < 25 ? 1 : 2;
		pp->heldogn.dato = rand_day(r, g->jan1, pp->end);
	}
	if (stay) {
		pp->ern.kode = rng_below(r, 100) < 35 ? 1 : 2;
		pp->ern.dato = rand_day(r, g->jan1, pp->end);
		if (rng_below(r, 100) < 60) {
			pp->lmg.kode = rng_below(r, 100) < 85 ? 1 : 2;
			pp->lmg.dato = rand_day(r, g->jan1, pp->end);
		}
	} else if ((pp->profile == PR_MODERATE || pp->profile == PR_HEAVY) &&
		   rng_below(r, 100) < 15) {
		pp->ern.kode = rng_below(r, 100) < 25 ? 1 : 2;
		pp->ern.dato = rand_day(r, g->jan1, pp->end);
	}
	int ip = pp->profile == PR_YOUNG ? 50 : 6;
	if ((int)rng_below(r, 100) < ip)
		pp->iplan = pick_code14(r);
	if ((int)rng_below(r, 100) < ip - 5)
		pp->koord = pick_code14(r);
	if (has21)
		pp->venteliste = 0; /* never while in long-term care (R404) */
}

/* ---- injection ---- */

static void inj_record(struct gen_ctx *g, enum inj_rule rule, const char *ref)
{
	struct inj_log *l = &g->res->inj;
	l->count[rule]++;
	size_t n = strlen(ref);
	if (l->refs_len[rule] + n + 2 > l->refs_cap[rule]) {
		size_t cap = l->refs_cap[rule] ? l->refs_cap[rule] * 2 : 256;
		while (cap < l->refs_len[rule] + n + 2)
			cap *= 2;
		char *nb = realloc(l->refs[rule], cap);
		if (!nb)
			return; /* count kept; the ref list stays shorter */
		l->refs[rule] = nb;
		l->refs_cap[rule] = cap;
	}
	if (l->refs_len[rule])
		l->refs[rule][l->refs_len[rule]++] = ',';
	memcpy(l->refs[rule] + l->refs_len[rule], ref, n);
	l->refs_len[rule] += n;
	l->refs[rule][l->refs_len[rule]] = '\0';
}

static bool inject_identity(struct gen_ctx *g, struct person *pp, enum inj_rule rule)
{
	struct rng *r = &g->ri;
	switch (rule) {
	case INJ_R101:
		pp->fnr[0] = '\0';
		return true;
	case INJ_R102:
		if (!pp->fnr[0])
			return false;
		switch (rng_below(r, 3)) {
		case 0:
			pp->fnr[10] = '\0';
			break;
		case 1:
			pp->fnr[11] = (char)('0' + rng_below(r, 10));
			pp->fnr[12] = '\0';
			break;
		default:
			pp->fnr[rng_range(r, 0, 10)] = 'X';
			break;
		}
		return true;
	case INJ_R103:
		if (!pp->fnr[0])
			return false;
		pp->fnr[10] = (char)('0' + (pp->fnr[10] - '0' + rng_range(r, 1, 9)) % 10);
		return true;
	case INJ_R104: {
		/* 30 or 31 February: right control digits, no such date */
		int d = rng_range(r, 30, 31);
		char f[16];
		if (!make_fnr(g, r, pp->birth_year, 2, &d, pp->male, true, f))
			return false;
		memcpy(pp->fnr, f, 12);
		return true;
	}
	case INJ_R105:
		if (!g->have_last_fnr)
			return false;
		memcpy(pp->fnr, g->last_fnr, sizeof(pp->fnr));
		pp->kjonn = g->last_kjonn;
		pp->fodselsaar = g->omit_fodselsaar ? 0 : g->last_fodselsaar;
		return true;
	default:
		return false;
	}
}

static bool has_granted(const struct person *pp, bool (*pred)(int))
{
	for (int i = 0; i < pp->nt; i++)
		if (pp->t[i].start && !pp->t[i].avslag && pred(pp->t[i].type))
			return true;
	return false;
}

/* The start of an ongoing long-term stay (21), or 0. */
static int ongoing_21(const struct person *pp)
{
	for (int i = 0; i < pp->nt; i++)
		if (pp->t[i].type == 21 && pp->t[i].start && !pp->t[i].slutt && !pp->t[i].avslag)
			return pp->t[i].start;
	return 0;
}

/* R110: a unit the validator refuses and records as unknown (SPEC §3), on
 * the Person or on one of its services. ASCII only, so it reads the same in
 * the ISO-8859-1 files: blank; 65 to 100 characters; a tab or line feed
 * written as a character reference (a literal one is read as a space:
 * attribute-value normalisation); or the person's own synthetic ID, a
 * national-ID candidate in test mode, as 11 digits or 6 + 5 joined by ' ',
 * '-' or '.' (the names end in a letter, so no digit joins the ID). */
static void inject_unit(struct gen_ctx *g, struct person *pp)
{
	static const char *const names[] = {"Hjemmetjenesten nord", "Tildelingskontoret",
					    "Sykehjemmet vest", "Bydel Frogner"};
	static const char tail[] = " - natt- og helgetjenesten, korttidsavdelingen, dagsenteret og "
				   "omsorgsboligene i sentrum";
	struct rng *r = &g->ri;
	const char *name = names[rng_below(r, KPR_GEN_LEN(names))];
	char *u = pp->bad_unit;
	size_t cap = sizeof pp->bad_unit;
	switch (rng_below(r, 4)) {
	case 0: /* blank: "" to three spaces */
		snprintf(u, cap, "%.*s", (int)rng_below(r, 4), "   ");
		break;
	case 1: { /* over 64 characters (each name with the tail is over 100) */
		size_t len = (size_t)rng_range(r, 65, 100);
		snprintf(u, cap, "%s%s", name, tail);
		if (len < strlen(u))
			u[len] = '\0';
		break;
	}
	case 2: { /* a control character inside the name */
		int at = rng_range(r, 1, (int)strlen(name) - 1);
		snprintf(u, cap, "%.*s%s%s", at, name, rng_below(r, 2) ? "&#9;" : "&#10;",
			 name + at);
		break;
	}
	default: { /* a national-ID candidate */
		static const char *const sep[] = {"", " ", "-", "."};
		snprintf(u, cap, "%s %.6s%s%.5s", name, pp->fnr, sep[rng_below(r, 4)], pp->fnr + 6);
		break;
	}
	}
	pp->bad_unit_at =
	    pp->nt > 0 && rng_below(r, 3) == 0 ? 2 + (int)rng_below(r, (uint32_t)pp->nt) : 1;
}

static bool inject_person_rule(struct gen_ctx *g, struct person *pp, enum inj_rule rule)
{
	struct rng *r = &g->ri;
	switch (rule) {
	case INJ_R106:
		if (!g->have_last_ref)
			return false;
		memcpy(pp->ref, g->last_ref, sizeof(pp->ref));
		return true;
	case INJ_R107: {
		int off = rng_range(r, 1, 3);
		pp->fodselsaar = (pp->fodselsaar ? pp->fodselsaar : pp->birth_year) +
				 (rng_below(r, 2) ? off : -off);
		return true;
	}
	case INJ_R108: {
		static const int bad[] = {0, 3, 9, -1};
		pp->kjonn = bad[rng_below(r, KPR_GEN_LEN(bad))];
		return true;
	}
	case INJ_R109:
		pp->dodsdato = g->dec31 + rng_range(r, 1, 40);
		return true;
	case INJ_R110:
		inject_unit(g, pp);
		return true;
	case INJ_R309:
		if (!pp->nv || !has_granted(pp, needs_vurdering))
			return false;
		pp->nv = 0;
		return true;
	case INJ_R310: {
		if (!pp->nv || has_granted(pp, needs_vurdering))
			return false;
		int lv = 0;
		for (int i = 0; i < pp->nt; i++)
			if (pp->t[i].vedtak > lv)
				lv = pp->t[i].vedtak;
		if (!lv)
			return false;
		int d = lv - rng_range(r, 380, 700);
		for (int i = 0; i < pp->nv; i++)
			pp->v[i].dato = d + i * rng_range(r, 1, 5);
		return true;
	}
	case INJ_R402:
		if (has_granted(pp, is_stay_18_21) || pp->lmg.kode)
			return false;
		pp->lmg.kode = 1;
		pp->lmg.dato = rand_day(r, g->jan1, pp->end);
		return true;
	case INJ_R403:
		if (!has_granted(pp, is_stay_18_21) || !pp->ern.kode)
			return false;
		pp->ern.kode = 0;
		return true;
	case INJ_R404: {
		/* dated while the stay is running */
		int s21 = ongoing_21(pp);
		if (!s21)
			return false;
		pp->venteliste = rand_day(r, s21 > g->jan1 ? s21 : g->jan1, pp->end);
		return true;
	}
	case INJ_R405:
		switch (rng_below(r, 3)) {
		case 0:
			pp->iplan = rng_below(r, 2) ? 5 : 9;
			break;
		case 1:
			pp->koord = rng_below(r, 2) ? 6 : 7;
			break;
		default:
			pp->heldogn.kode = 3;
			if (!pp->heldogn.dato)
				pp->heldogn.dato = rand_day(r, g->jan1, pp->end);
			break;
		}
		return true;
	default:
		return false;
	}
}

static bool inject_vurdering(struct gen_ctx *g, struct person *pp, struct vurd *v,
			     enum inj_rule rule)
{
	struct rng *r = &g->ri;
	(void)pp;
	switch (rule) {
	case INJ_R201: {
		static const unsigned char bad[] = {0, 6, 7, 8};
		v->skaar[rng_below(r, (uint32_t)v->nf)] = bad[rng_below(r, 4)];
		return true;
	}
	case INJ_R202: {
		int i = (int)rng_below(r, (uint32_t)v->nf);
		switch (rng_below(r, 3)) {
		case 0: /* one missing */
			memmove(&v->kode[i], &v->kode[i + 1], (size_t)(v->nf - i - 1));
			memmove(&v->skaar[i], &v->skaar[i + 1], (size_t)(v->nf - i - 1));
			v->nf--;
			break;
		case 1: /* one repeated at the end */
			if (v->nf >= MAX_FUNK)
				return false;
			v->kode[v->nf] = v->kode[i];
			v->skaar[v->nf] = v->skaar[i];
			v->nf++;
			break;
		default:
			v->kode[i] = 18;
			break;
		}
		return true;
	}
	case INJ_R203:
		v->dato = g->dec31 + rng_range(r, 1, 60);
		return true;
	case INJ_R204: {
		static const unsigned char k[] = {11, 13, 14};
		unsigned char want = k[rng_below(r, 3)];
		for (int i = 0; i < v->nf; i++)
			if (v->kode[i] == want) {
				v->skaar[i] = 9;
				return true;
			}
		return false;
	}
	default:
		return false;
	}
}

static bool inject_tjeneste(struct gen_ctx *g, struct person *pp, int ti, enum inj_rule rule)
{
	struct rng *r = &g->ri;
	struct tj *t = &pp->t[ti];
	switch (rule) {
	case INJ_R301: {
		static const int bad[] = {0, 10, 12, 13, 16, 30, 31, 40, 99};
		for (int tries = 0; tries < 20; tries++) {
			int c = bad[rng_below(r, KPR_GEN_LEN(bad))];
			if (c < GEN_MAX_TYPE && g->cfg->type_valid[c])
				continue;
			t->type = c;
			return true;
		}
		return false;
	}
	case INJ_R302:
		if (t->start && t->slutt && t->start - g->jan1 > 30 && rng_below(r, 2)) {
			t->slutt = t->start - rng_range(r, 1, 20);
			return true;
		}
		if (!t->soknad || !t->vedtak)
			return false;
		t->vedtak = t->soknad - rng_range(r, 1, 20);
		return true;
	case INJ_R303:
		if (!t->start || t->avslag)
			return false;
		if (!pp->dodsdato && rng_below(r, 2)) {
			/* decided in December, starting next year */
			t->start = g->dec31 + rng_range(r, 3, 45);
			t->slutt = 0;
			t->vedtak = g->dec31 - rng_range(r, 0, 20);
			t->soknad = t->vedtak - rng_range(r, 0, 30);
		} else {
			t->start = g->jan1 - rng_range(r, 120, 300);
			t->slutt = t->start + rng_range(r, 10, 100);
			t->soknad = t->start - rng_range(r, 10, 40);
			t->vedtak = t->soknad + rng_range(r, 0, 9);
		}
		return true;
	case INJ_R304:
		if (t->tpu == HOURS_NONE)
			return false;
		if (rng_below(r, 2)) {
			t->tpu = -rng_range(r, 5, 50);
		} else {
			t->tmf = rng_range(r, 1690, 2400);
		}
		return true;
	case INJ_R305:
		if (t->tpu == HOURS_NONE || t->tpu < 2)
			return false;
		t->tmf = t->tpu - rng_range(r, 1, t->tpu < 20 ? t->tpu - 1 : 20);
		return true;
	case INJ_R306:
		if (!t->start || t->avslag)
			return false;
		if (rng_below(r, 2)) {
			t->avslag = true;
		} else {
			t->start = 0;
			t->slutt = 0;
		}
		return true;
	case INJ_R307:
		if (!t->orgnr[0] || !t->start || t->avslag)
			return false; /* R307 looks at services given, not applications */
		if (rng_below(r, 2))
			t->orgnr[0] = '\0';
		else
			t->orgnr[8] = (char)('0' + (t->orgnr[8] - '0' + rng_range(r, 1, 9)) % 10);
		return true;
	case INJ_R308: {
		if (!t->start || t->avslag || pp->nt >= MAX_TJ)
			return false;
		int lo = t->start > g->jan1 ? t->start : g->jan1;
		int hi = t->slutt ? t->slutt : pp->end;
		if (hi > pp->end)
			hi = pp->end;
		if (hi <= lo)
			return false; /* no room for a real overlap (touching is not one) */
		struct tj *d = &pp->t[pp->nt++];
		*d = *t;
		d->start = rand_day(r, lo, hi - 1);
		d->slutt = t->slutt ? rand_day(r, d->start, t->slutt) : 0;
		d->soknad = d->start - rng_range(r, 5, 40);
		d->vedtak = d->soknad + (int)rng_below(r, (uint32_t)(d->start - d->soknad + 1));
		return true;
	}
	default:
		return false;
	}
}

static void inject_diagnose(struct gen_ctx *g, struct person *pp, int di)
{
	static const struct dcode bad[] = {
	    {"ICD-9", "290.0"}, {"ICD10", "F00.1"},  {"ICPC", "P70"},       {"ICD-10", "F001"},
	    {"ICD-10", "F00."}, {"ICD-10", "100.1"}, {"ICD-10", "F00.123"}, {"ICPC-2", "P7"},
	    {"ICPC-2", "P700"}, {"ICPC-2", "70"},
	};
	const struct dcode *c = &bad[rng_below(&g->ri, KPR_GEN_LEN(bad))];
	pp->d[di].kodeverk = c->kodeverk;
	pp->d[di].kode = c->kode;
}

/* A fault that makes a Vurdering an ERROR must not leave a person who needs
 * an assessment without one (that would add R309), and R203 must not date
 * it after a death (R109): the manifest should predict the report. */
static bool vurdering_fault_clean(const struct gen_ctx *g, const struct person *pp,
				  enum inj_rule rule)
{
	if (rule == INJ_R204)
		return true;
	if (rule == INJ_R203 && pp->dodsdato && pp->dodsdato <= g->dec31)
		return false;
	return pp->nv >= 2 || !has_granted(pp, needs_vurdering);
}

/* Likewise a Tjeneste fault must not take away the only institution stay
 * of a person with a Legemiddelgjennomgang (that would add R402). */
static bool tjeneste_fault_clean(const struct person *pp, int ti, enum inj_rule rule)
{
	const struct tj *t = &pp->t[ti];
	if (rule == INJ_R307 || rule == INJ_R308 || !pp->lmg.kode || !t->start ||
	    !is_stay_18_21(t->type))
		return true;
	for (int i = 0; i < pp->nt; i++)
		if (i != ti && pp->t[i].start && !pp->t[i].avslag && is_stay_18_21(pp->t[i].type))
			return true;
	return false;
}

/* At most one fault per person, so every ref in the manifest names exactly
 * one cause. Draw order: identity, person, Vurdering, Tjeneste, Diagnose.
 * Returns the rule injected (INJ_COUNT for none); *elem gives the
 * registrations of the element an ERROR excludes when that is not the
 * whole person (a Vurdering with its Funksjon elements, one Tjeneste,
 * Diagnose or coded element). */
static enum inj_rule inject(struct gen_ctx *g, struct person *pp, unsigned long *elem)
{
	const double *rate = g->cfg->rate;
	struct rng *r = &g->ri;

	*elem = 0;
	double u = rng_unit(r), acc = 0;
	for (int k = INJ_R101; k <= INJ_R105; k++) {
		acc += rate[k];
		if (u < acc) {
			if (inject_identity(g, pp, (enum inj_rule)k)) {
				inj_record(g, (enum inj_rule)k, pp->ref);
				return (enum inj_rule)k;
			}
			break;
		}
	}
	for (int k = INJ_R106; k < INJ_COUNT; k++) {
		if (inj_defs[k].scope != SCOPE_PERSON || rate[k] <= 0)
			continue;
		if (rng_chance(r, rate[k]) && inject_person_rule(g, pp, (enum inj_rule)k)) {
			inj_record(g, (enum inj_rule)k, pp->ref);
			*elem = k == INJ_R405 ? 1 : 0; /* the one coded element */
			return (enum inj_rule)k;
		}
	}
	for (int i = 0; i < pp->nv; i++)
		for (int k = INJ_R201; k <= INJ_R204; k++)
			if (rate[k] > 0 && rng_chance(r, rate[k]) &&
			    vurdering_fault_clean(g, pp, (enum inj_rule)k) &&
			    inject_vurdering(g, pp, &pp->v[i], (enum inj_rule)k)) {
				inj_record(g, (enum inj_rule)k, pp->ref);
				*elem = 1 + (unsigned long)pp->v[i].nf;
				return (enum inj_rule)k;
			}
	for (int i = 0; i < pp->nt; i++)
		for (int k = INJ_R301; k <= INJ_R308; k++)
			if (rate[k] > 0 && rng_chance(r, rate[k]) &&
			    tjeneste_fault_clean(pp, i, (enum inj_rule)k) &&
			    inject_tjeneste(g, pp, i, (enum inj_rule)k)) {
				inj_record(g, (enum inj_rule)k, pp->ref);
				*elem = 1;
				return (enum inj_rule)k;
			}
	for (int i = 0; i < pp->nd; i++)
		if (rate[INJ_R401] > 0 && rng_chance(r, rate[INJ_R401])) {
			inject_diagnose(g, pp, i);
			inj_record(g, INJ_R401, pp->ref);
			*elem = 1;
			return INJ_R401;
		}
	return INJ_COUNT;
}

/* An ERROR that excludes the whole person (SPEC §3: identity, ref, Kjonn). */
static bool excludes_person(enum inj_rule rule)
{
	return (rule >= INJ_R101 && rule <= INJ_R106) || rule == INJ_R108;
}

/* A written person as the expected outcome counts it, so that a later
 * R105 or R106 can exclude it too (both persons of a duplicate go). */
struct tracked {
	unsigned long index;
	unsigned long long loaded; /* registrations counted as loaded */
	bool excluded, error, warning, valid;
};

static void exclude_tracked(struct file_result *res, struct tracked *t, struct tracked *other)
{
	if (!t->valid || t->excluded)
		return;
	res->persons_loaded--;
	res->registrations_loaded -= t->loaded;
	if (!t->error)
		res->persons_error++;
	if (t->warning)
		res->persons_warning--;
	t->excluded = t->error = true;
	t->warning = false;
	t->loaded = 0;
	if (other->valid && other->index == t->index)
		*other = *t;
}

/* ---- writing ---- */

#define PUT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)

static char *put_s(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return p + n;
}

static char *put_int(char *p, long v)
{
	char tmp[24];
	int n = 0;
	unsigned long u = v < 0 ? (unsigned long)(-v) : (unsigned long)v;
	if (v < 0)
		*p++ = '-';
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_tenths(char *p, int t)
{
	if (t < 0) {
		*p++ = '-';
		t = -t;
	}
	p = put_int(p, t / 10);
	*p++ = '.';
	*p++ = (char)('0' + t % 10);
	return p;
}

static char *put_date(char *p, const struct gen_config *cfg, int day)
{
	int i = day - cfg->date_base;
	if (i < 0)
		i = 0;
	if (i >= cfg->date_count)
		i = cfg->date_count - 1;
	memcpy(p, cfg->dates + (size_t)i * 10, 10);
	return p + 10;
}

static char *put_date_nor(char *p, const struct gen_config *cfg, int day)
{
	char iso[10];
	put_date(iso, cfg, day);
	memcpy(p, iso + 8, 2);
	p[2] = '.';
	memcpy(p + 3, iso + 5, 2);
	p[5] = '.';
	memcpy(p + 6, iso, 4);
	return p + 10;
}

static char *emit_date_attr(char *p, const struct gen_config *cfg, const char *name, size_t nlen,
			    int day)
{
	if (!day)
		return p;
	*p++ = ' ';
	memcpy(p, name, nlen);
	p += nlen;
	*p++ = '=';
	*p++ = '"';
	p = put_date(p, cfg, day);
	*p++ = '"';
	return p;
}

/* Units (SPEC §2 enhet), as municipalities name them. Past the list a
 * department number is added ("Bydel Frogner avd. 2"). UTF-8 here; out_text
 * writes them in Latin-1 into the ISO-8859-1 files. */
static const char *const unit_names[] = {
    "Bydel Frogner",          "Bydel Grünerløkka",  "Hjemmetjenesten sone 1",
    "Hjemmetjenesten sone 2", "Tildelingskontoret", "Frogner helsehus",
    "Omsorgsboliger øst",     "Sykehjemmet vest",   "Psykisk helse og rus",
    "Praktisk bistand",       "Dagsenter sentrum",  "Avlastning barn og unge",
};

/* FNV-1a of the ref and a salt: the unit depends on the person only, and
 * draws nothing from the generator's random stream. */
static unsigned long unit_hash(const char *ref, unsigned salt)
{
	unsigned long h = 1469598103934665603ul ^ salt;
	for (const unsigned char *c = (const unsigned char *)ref; *c; c++)
		h = (h ^ *c) * 1099511628211ul;
	return h;
}

static char *put_unit(struct gen_ctx *g, char *p, unsigned long h, int units, bool latin1)
{
	int i = (int)(h % (unsigned long)units),
	    n = (int)(sizeof unit_names / sizeof unit_names[0]);
	g->units_used |= (uint64_t)1 << i;
	PUT(p, " enhet=\"");
	p = out_text(p, unit_names[i % n], latin1);
	if (i >= n) {
		PUT(p, " avd. ");
		p = put_int(p, i / n + 1);
	}
	*p++ = '"';
	return p;
}

/* --units auto: unit i of the municipality's, or nothing when i < 0 */
static char *put_auto_unit(struct gen_ctx *g, char *p, int i)
{
	if (i < 0)
		return p;
	g->units_used |= (uint64_t)1 << i;
	PUT(p, " enhet=\"");
	p = out_text(p, g->units.name[i], g->latin1);
	*p++ = '"';
	return p;
}

static char *put_bad_unit(char *p, const char *unit, bool latin1)
{
	PUT(p, " enhet=\"");
	p = out_text(p, unit, latin1);
	*p++ = '"';
	return p;
}

/* Writes the person; returns the number of registrations (elements inside
 * Person, each Funksjon on its own). */
static unsigned long emit_person(struct gen_ctx *g, struct out *o, const struct person *pp)
{
	const struct gen_config *cfg = g->cfg;
	char *p = o->buf + o->len;
	unsigned long regs = 0;

	PUT(p, "  <Person ref=\"");
	p = out_text(p, pp->ref, g->latin1);
	*p++ = '"';
	if (pp->bad_unit_at == 1)
		p = put_bad_unit(p, pp->bad_unit, g->latin1);
	else if (cfg->units > 0)
		p = put_unit(g, p, unit_hash(pp->ref, 0), cfg->units, g->latin1);
	else if (cfg->units_auto)
		p = put_auto_unit(g, p, units_auto_person(&g->units, unit_hash(pp->ref, 0)));
	PUT(p, ">\n");
	if (pp->fnr[0]) {
		PUT(p, "    <Fnr>");
		p = put_s(p, pp->fnr);
		PUT(p, "</Fnr>\n");
		regs++;
	}
	if (pp->kjonn >= 0) {
		PUT(p, "    <Kjonn>");
		p = put_int(p, pp->kjonn);
		PUT(p, "</Kjonn>\n");
		regs++;
	}
	if (pp->fodselsaar) {
		PUT(p, "    <Fodselsaar>");
		p = put_int(p, pp->fodselsaar);
		PUT(p, "</Fodselsaar>\n");
		regs++;
	}
	if (pp->dodsdato) {
		PUT(p, "    <Dodsdato>");
		p = put_date(p, cfg, pp->dodsdato);
		PUT(p, "</Dodsdato>\n");
		regs++;
	}
	for (int i = 0; i < pp->nv; i++) {
		const struct vurd *v = &pp->v[i];
		PUT(p, "    <Vurdering dato=\"");
		p = v->dato_nor ? put_date_nor(p, cfg, v->dato) : put_date(p, cfg, v->dato);
		PUT(p, "\">\n");
		for (int k = 0; k < v->nf; k++) {
			PUT(p, "      <Funksjon kode=\"");
			p = put_int(p, v->kode[k]);
			PUT(p, "\" skaar=\"");
			*p++ = (char)('0' + v->skaar[k]);
			PUT(p, "\"/>\n");
		}
		PUT(p, "    </Vurdering>\n");
		regs += 1 + (unsigned long)v->nf;
	}
	for (int i = 0; i < pp->nt; i++) {
		const struct tj *t = &pp->t[i];
		PUT(p, "    <Tjeneste type=\"");
		p = put_int(p, t->type);
		*p++ = '"';
		p = emit_date_attr(p, cfg, "soknad", 6, t->soknad);
		p = emit_date_attr(p, cfg, "vedtak", 6, t->vedtak);
		if (t->avslag)
			PUT(p, " avslag=\"true\"");
		p = emit_date_attr(p, cfg, "start", 5, t->start);
		p = emit_date_attr(p, cfg, "slutt", 5, t->slutt);
		if (t->tpu != HOURS_NONE) {
			PUT(p, " timerPerUke=\"");
			p = put_tenths(p, t->tpu);
			PUT(p, "\" timerMedFlere=\"");
			p = put_tenths(p, t->tmf);
			*p++ = '"';
		}
		if (t->orgnr[0]) {
			PUT(p, " orgnr=\"");
			p = put_s(p, t->orgnr);
			*p++ = '"';
		}
		/* one service in five at a site of its own; under --units auto
		 * half the institution services, at one of the institutions */
		if (pp->bad_unit_at == 2 + i)
			p = put_bad_unit(p, pp->bad_unit, g->latin1);
		else if (cfg->units > 0 && unit_hash(pp->ref, 1u + (unsigned)i) % 5 == 0)
			p = put_unit(g, p, unit_hash(pp->ref, 100u + (unsigned)i), cfg->units,
				     g->latin1);
		else if (cfg->units_auto && cfg->type_institution[t->type])
			p = put_auto_unit(
			    g, p,
			    units_auto_site(&g->units, unit_hash(pp->ref, 100u + (unsigned)i)));
		PUT(p, "/>\n");
		regs++;
	}
	for (int i = 0; i < pp->nd; i++) {
		PUT(p, "    <Diagnose kodeverk=\"");
		p = put_s(p, pp->d[i].kodeverk);
		PUT(p, "\" kode=\"");
		p = put_s(p, pp->d[i].kode);
		PUT(p, "\"/>\n");
		regs++;
	}
	if (pp->heldogn.kode) {
		PUT(p, "    <Heldogn svar=\"");
		p = put_int(p, pp->heldogn.kode);
		*p++ = '"';
		p = emit_date_attr(p, cfg, "dato", 4, pp->heldogn.dato);
		PUT(p, "/>\n");
		regs++;
	}
	if (pp->lmg.kode) {
		PUT(p, "    <Legemiddelgjennomgang svar=\"");
		p = put_int(p, pp->lmg.kode);
		*p++ = '"';
		p = emit_date_attr(p, cfg, "dato", 4, pp->lmg.dato);
		PUT(p, "/>\n");
		regs++;
	}
	if (pp->ern.kode) {
		PUT(p, "    <Ernaering risiko=\"");
		p = put_int(p, pp->ern.kode);
		*p++ = '"';
		p = emit_date_attr(p, cfg, "dato", 4, pp->ern.dato);
		PUT(p, "/>\n");
		regs++;
	}
	if (pp->iplan) {
		PUT(p, "    <IndividuellPlan kode=\"");
		p = put_int(p, pp->iplan);
		PUT(p, "\"/>\n");
		regs++;
	}
	if (pp->koord) {
		PUT(p, "    <Koordinator kode=\"");
		p = put_int(p, pp->koord);
		PUT(p, "\"/>\n");
		regs++;
	}
	if (pp->venteliste) {
		PUT(p, "    <Venteliste");
		p = emit_date_attr(p, cfg, "vedtak", 6, pp->venteliste);
		PUT(p, "/>\n");
		regs++;
	}
	PUT(p, "  </Person>\n");
	o->len = (size_t)(p - o->buf);
	return regs;
}

/* ---- one municipality ---- */

static void make_uuid(uint64_t seed, const char *kommune, const char *purpose, char out[40])
{
	uint64_t x = seed ^ gen_hash_str(kommune) ^ (gen_hash_str(purpose) << 1);
	uint64_t a = splitmix64(&x), b = splitmix64(&x);
	a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL; /* version 4 */
	b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; /* variant 10 */
	snprintf(out, 40, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
		 (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xffff), (unsigned)(b >> 48),
		 (unsigned long long)(b & 0xffffffffffffULL));
}

static const struct fagsystem {
	const char *name, *version, *ref_prefix;
	int ref_width;
	bool latin1, omit_fodselsaar;
	int share; /* percent of municipalities */
} FAGSYSTEM[] = {
    {"Gerica", "7.4.1", "J-", 6, false, false, 30}, {"Gerica", "7.5.0", "J-", 6, false, false, 16},
    {"Profil", "11.3.2", "P", 8, false, false, 24}, {"Profil", "12.0.1", "P", 8, false, false, 16},
    {"CosDoc", "4.12", "CD-", 7, true, true, 14},
};

void gen_kommune(const struct gen_config *cfg, const struct kommune *k, const struct kommune *all,
		 size_t n_all, struct file_result *res)
{
	struct gen_ctx g;
	struct out o;
	char path[4096], tmp[4200];
	char *buf = NULL;

	int innsending = res->innsending == 2 ? 2 : 1;
	memset(&g, 0, sizeof(g));
	memset(res, 0, sizeof(*res));
	res->innsending = innsending;
	g.cfg = cfg;
	g.res = res;
	g.Y = cfg->aargang;
	g.jan1 = gen_days_from_civil(g.Y, 1, 1);
	g.dec31 = gen_days_from_civil(g.Y, 12, 31);
	g.cell_lo = k->cell_lo;
	g.cell_count = k->cell_count > 0 ? k->cell_count : 1000;

	uint64_t base = cfg->seed * 0x9e3779b97f4a7c15ULL ^ gen_hash_str(k->nummer) ^
			(uint64_t)cfg->aargang << 48;
	rng_seed(&g.r, base);
	/* the second file: the same persons, its faults drawn anew */
	rng_seed(&g.ri,
		 base ^ 0x5bd1e9955bd1e995ULL ^ (innsending == 2 ? 0x94d049bb133111ebULL : 0));
	rng_seed(&g.rj, base ^ 0x7f4a7c159e3779b9ULL);
	g.journal_case = rng_below(&g.rj, 2) == 1;
	snprintf(g.journal_prefix, sizeof(g.journal_prefix), "%s", k->nummer);
	struct rng meta;
	rng_seed(&meta, base ^ 0x2545f4914f6cdd1dULL);

	/* the municipality's vendor, institutions, extract time */
	unsigned pick = rng_below(&meta, 100), acc = 0;
	const struct fagsystem *fs = &FAGSYSTEM[0];
	for (size_t i = 0; i < KPR_GEN_LEN(FAGSYSTEM); i++) {
		acc += (unsigned)FAGSYSTEM[i].share;
		if (pick < acc) {
			fs = &FAGSYSTEM[i];
			break;
		}
	}
	g.ref_prefix = fs->ref_prefix;
	g.ref_width = fs->ref_width;
	g.ref_counter = rng_below(&meta, 5000);
	g.omit_fodselsaar = fs->omit_fodselsaar;
	g.latin1 = fs->latin1;
	if (cfg->units_auto)
		units_auto_build(k, &g.units);
	g.n_org = 2 + (int)(k->persons / 500);
	if (g.n_org > (int)KPR_GEN_LEN(g.orgnr))
		g.n_org = (int)KPR_GEN_LEN(g.orgnr);
	for (int i = 0; i < g.n_org; i++)
		make_orgnr(&meta, g.orgnr[i]);
	int opp_day = rng_range(&meta, 2, 9) + (innsending == 2 ? 6 : 0),
	    opp_h = rng_range(&meta, 7, 15), opp_m = rng_range(&meta, 0, 59),
	    opp_s = rng_range(&meta, 0, 59);

	/* whole-file faults, decided first */
	bool f[INJ_F007 + 1] = {false};
	for (int r = INJ_F001; r <= INJ_F007; r++)
		f[r] = cfg->rate[r] > 0 && rng_chance(&g.ri, cfg->rate[r]);
	unsigned long persons = k->persons;
	if (f[INJ_F006])
		persons = 0;
	unsigned long cut_at = persons, f002_at = persons;
	if (f[INJ_F001] && persons > 0)
		cut_at = (unsigned long)((double)persons * (0.3 + 0.6 * rng_unit(&g.ri)));
	if (f[INJ_F002] && persons > 0)
		f002_at = rng_below(&g.ri, (uint32_t)persons);

	make_uuid(cfg->seed, k->nummer, innsending == 2 ? "innsending-2" : "innsending", res->id);
	snprintf(res->avsender, sizeof(res->avsender), "%s", k->nummer);
	if (f[INJ_F003] && n_all > 1) {
		const struct kommune *other = &all[rng_below(&g.ri, (uint32_t)n_all)];
		if (strcmp(other->nummer, k->nummer) == 0)
			other = &all[(size_t)(other - all + 1) % n_all];
		snprintf(res->avsender, sizeof(res->avsender), "%s", other->nummer);
		snprintf(res->inj.note[INJ_F003], sizeof(res->inj.note[0]), "kommunenummer %s",
			 res->avsender);
		res->inj.count[INJ_F003] = 1;
	}
	if (f[INJ_F004]) {
		/* Tysfjord, split between Narvik and Hamarøy in 2020 */
		snprintf(res->avsender, sizeof(res->avsender), "%s", g.Y >= 2020 ? "1850" : "9999");
		snprintf(res->inj.note[INJ_F004], sizeof(res->inj.note[0]), "kommunenummer %s",
			 res->avsender);
		res->inj.count[INJ_F004] = 1;
	}
	int aargang_attr = g.Y;
	if (f[INJ_F005]) {
		aargang_attr = g.Y - 3;
		snprintf(res->inj.note[INJ_F005], sizeof(res->inj.note[0]), "aargang %d",
			 aargang_attr);
		res->inj.count[INJ_F005] = 1;
	}
	char forrige[40] = "";
	if (innsending == 2)
		make_uuid(cfg->seed, k->nummer, "innsending", forrige);
	if (f[INJ_F007]) {
		make_uuid(cfg->seed, k->nummer, "forrige-ukjent", forrige);
		snprintf(res->inj.note[INJ_F007], sizeof(res->inj.note[0]), "forrigeId %s",
			 forrige);
		res->inj.count[INJ_F007] = 1;
	}
	if (f[INJ_F006]) {
		snprintf(res->inj.note[INJ_F006], sizeof(res->inj.note[0]), "no Person");
		res->inj.count[INJ_F006] = 1;
	}

	snprintf(res->file, sizeof(res->file), "%s-%d%s.xml%s", k->nummer, g.Y,
		 innsending == 2 ? "-2" : "", cfg->gzip ? ".gz" : "");
	snprintf(res->forrige, sizeof(res->forrige), "%s", forrige);
	snprintf(path, sizeof(path), "%.3900s/%s", cfg->out_dir, res->file);
	snprintf(tmp, sizeof(tmp), "%.4000s.tmp", path);

	size_t cap = 64;
	while (cap < 2 * (size_t)persons + 64)
		cap *= 2;
	g.ids = calloc(cap, sizeof(uint64_t));
	g.ids_mask = cap - 1;
	buf = malloc(OUT_BUF_SIZE);
	if (!g.ids || !buf) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		goto done;
	}
	if (!out_open(&o, tmp, cfg->gzip, buf)) {
		snprintf(res->error, sizeof(res->error), "%.60s: %.80s", res->file,
			 strerror(o.err));
		goto done;
	}

	char head[1024];
	int hn = snprintf(
	    head, sizeof(head),
	    "<?xml version=\"1.0\" encoding=\"%s\"?>\n"
	    "<Innsending xmlns=\"urn:no:kpr:innsending:1\" versjon=\"1.0\" id=\"%s\"%s%s%s"
	    " opprettet=\"%04d-01-%02dT%02d:%02d:%02d+01:00\" aargang=\"%d\">\n"
	    "  <Avsender kommunenummer=\"%s\" fagsystem=\"%s\" fagsystemVersjon=\"%s\"/>\n",
	    fs->latin1 ? "ISO-8859-1" : "UTF-8", res->id, forrige[0] ? " forrigeId=\"" : "",
	    forrige, forrige[0] ? "\"" : "", g.Y + 1, opp_day, opp_h, opp_m, opp_s, aargang_attr,
	    res->avsender, fs->name, fs->version);
	out_write(&o, head, (size_t)hn);

	struct person pp;
	bool truncated = false;
	struct tracked last = {0}, last_clean = {0}; /* R106's and R105's partners */
	for (unsigned long i = 0; i < persons; i++) {
		plan_person(&g, &pp);
		if (!pp.fnr[0]) {
			snprintf(res->error, sizeof(res->error), "national ID space exhausted");
			out_abort(&o);
			goto done;
		}
		bool clean_identity = true;
		enum inj_rule rule = INJ_COUNT;
		unsigned long elem = 0;
		if (i == cut_at) {
			/* F001: write half of this person and stop */
			out_reserve(&o);
			size_t before = o.len;
			uint64_t used = g.units_used; /* a half person names no unit */
			(void)emit_person(&g, &o, &pp);
			o.len = before + (o.len - before) / 2;
			g.units_used = used;
			res->inj.count[INJ_F001] = 1;
			snprintf(res->inj.note[INJ_F001], sizeof(res->inj.note[0]), "cut in ref %s",
				 pp.ref);
			truncated = true;
			break;
		}
		if (cfg->any_inject) {
			char fnr_before[16];
			memcpy(fnr_before, pp.fnr, sizeof(fnr_before));
			rule = inject(&g, &pp, &elem);
			clean_identity = memcmp(fnr_before, pp.fnr, sizeof(fnr_before)) == 0;
		}
		if (i >= f002_at && !res->inj.count[INJ_F002] && pp.nv > 0) {
			pp.v[0].dato_nor = true; /* first person from f002_at with a Vurdering */
			res->inj.count[INJ_F002] = 1;
			snprintf(res->inj.note[INJ_F002], sizeof(res->inj.note[0]), "ref %s",
				 pp.ref);
		}
		out_reserve(&o);
		unsigned long regs = emit_person(&g, &o, &pp);
		res->registrations += regs;
		res->persons++;
		/* the expected outcome: this person, and a duplicate's partner */
		struct tracked t = {.index = i, .valid = true};
		bool error = rule < INJ_COUNT && inj_defs[rule].level == LEVEL_ERROR;
		if (error && excludes_person(rule)) {
			t.excluded = t.error = true;
			res->persons_error++;
			if (rule == INJ_R105)
				exclude_tracked(res, &last_clean, &last);
			else if (rule == INJ_R106)
				exclude_tracked(res, &last, &last_clean);
		} else {
			t.loaded = regs - (error ? elem : 0);
			t.error = error;
			res->persons_loaded++;
			res->registrations_loaded += t.loaded;
			if (error)
				res->persons_error++;
			else if (rule < INJ_COUNT)
				res->persons_warning++;
			t.warning = !error && rule < INJ_COUNT;
		}
		res->has_error = res->has_error || error;
		last = t;
		if (clean_identity && (pp.kjonn == 1 || pp.kjonn == 2))
			last_clean = t;
		if (clean_identity && (pp.kjonn == 1 || pp.kjonn == 2)) {
			memcpy(g.last_fnr, pp.fnr, sizeof(g.last_fnr));
			g.last_kjonn = pp.kjonn;
			g.last_fodselsaar = pp.birth_year;
			g.have_last_fnr = true;
		}
		memcpy(g.last_ref, pp.ref, sizeof(g.last_ref));
		g.have_last_ref = true;
	}
	if (!truncated)
		out_write(&o, "</Innsending>\n", 14);
	if (!out_close(&o, res->sha256)) {
		snprintf(res->error, sizeof(res->error), "%.60s: %.80s", res->file,
			 strerror(o.err));
		unlink(tmp);
		goto done;
	}
	if (rename(tmp, path) != 0) {
		snprintf(res->error, sizeof(res->error), "rename %.60s: %.80s", res->file,
			 strerror(errno));
		unlink(tmp);
		goto done;
	}
	res->bytes = o.bytes;
	res->raw_bytes = o.raw_bytes;
	res->units = __builtin_popcountll(g.units_used);
	for (int rr = INJ_F001; rr <= INJ_F007; rr++)
		if (res->inj.count[rr] && inj_defs[rr].level == LEVEL_FATAL)
			res->has_fatal = true;
	if (res->has_fatal) {
		res->persons_loaded = 0;
		res->registrations_loaded = 0;
	}
	res->ok = true;
done:
	free(g.ids);
	free(buf);
}

void inj_log_free(struct inj_log *l)
{
	for (int i = 0; i < INJ_COUNT; i++) {
		free(l->refs[i]);
		l->refs[i] = NULL;
	}
}
