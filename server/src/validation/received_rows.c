/*
 * received_rows.c — the rows of the "what was received" overview, this
 * file's figures beside the previous årgang's, with the change and the flag:
 * computed here once, so that HTML, XLSX, XML and JSON show the same.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "received.h"

void received_compare_init(struct received_compare *c)
{
	memset(c, 0, sizeof *c);
	received_figures_init(&c->prev);
	c->threshold_percent = RECEIVED_DEFAULT_THRESHOLD;
}

void received_compare_clear(struct received_compare *c)
{
	received_figures_clear(&c->prev);
}

const char *received_prev_state_code(enum received_prev_state s)
{
	switch (s) {
	case RECEIVED_PREV_COMPARED:
		return "sammenlignet";
	case RECEIVED_PREV_NONE:
		return "ingen_innsending";
	case RECEIVED_PREV_NEW_NUMBER:
		return "nytt_kommunenummer";
	case RECEIVED_PREV_UNAVAILABLE:
		return "ikke_tilgjengelig";
	case RECEIVED_PREV_NOT_ASKED:
		break;
	}
	return "ikke_sammenlignet";
}

void received_value_text(long long v, int decimals, char *buf, size_t len)
{
	if (decimals <= 0) {
		snprintf(buf, len, "%lld", v);
		return;
	}
	long long scale = decimals == 1 ? 10 : 100;
	const char *sign = v < 0 ? "-" : "";
	long long a = v < 0 ? -v : v;
	if (decimals == 1)
		snprintf(buf, len, "%s%lld.%01lld", sign, a / scale, a % scale);
	else
		snprintf(buf, len, "%s%lld.%02lld", sign, a / scale, a % scale);
}

struct emit {
	const struct received_compare *cmp; /* NULL: no comparison */
	received_row_fn fn;
	void *ctx;
	struct received_row row; /* unit fields set per block */
};

/* One figure: now (has_cur false: not known) and then (NULL side: 0). */
static bool figure(struct emit *e, enum received_key key, const char *code, const char *label,
		   int decimals, bool has_cur, long long cur, bool has_prev, long long prev)
{
	struct received_row *r = &e->row;
	r->key = key;
	r->key_code = code;
	r->label = label;
	r->decimals = decimals;
	r->has_value = has_cur;
	r->value = has_cur ? cur : 0;
	r->has_prev = e->cmp && has_prev;
	r->prev = r->has_prev ? prev : 0;
	r->has_change = r->has_value && r->has_prev && prev > 0;
	r->change_percent = r->has_change ? ((double)cur - (double)prev) * 100.0 / (double)prev : 0;
	r->flagged = false;
	if (r->has_change)
		r->flagged = fabs(r->change_percent) > (double)e->cmp->threshold_percent;
	else if (r->has_value && r->has_prev && prev == 0)
		r->flagged = cur > 0; /* from nothing to something */
	return e->fn(e->ctx, r);
}

static const struct received_diag *find_diag(const struct received_unit *u, const char *k)
{
	for (size_t i = 0; u && i < u->n_diag; i++)
		if (!strcmp(u->diag[i].kodeverk, k))
			return &u->diag[i];
	return NULL;
}

static bool service_rows(struct emit *e, int type, const struct received_service *c,
			 const struct received_service *p)
{
	static const struct received_service zero = {.median_centi = -1};
	const struct received_service *cz = c ? c : &zero, *pz = p ? p : &zero;
	bool hp = p != NULL || e->cmp != NULL;
	e->row.type = type;
	e->row.type_name = c && c->name ? c->name : p && p->name ? p->name : NULL;
	bool ok =
	    figure(e, RECEIVED_SERVICES, "tjenester", "Tjenester", 0, true, (long long)cz->count,
		   hp, (long long)pz->count) &&
	    figure(e, RECEIVED_SERVICE_PERSONS, "personer_med_tjenesten", "Personer med tjenesten",
		   0, true, (long long)cz->persons, hp, (long long)pz->persons);
	if (ok && (cz->with_hours > 0 || pz->with_hours > 0))
		ok = figure(e, RECEIVED_HOURS_TOTAL, "timer_per_uke_sum", "Timer per uke, sum", 1,
			    true, (long long)cz->hours_tenths, hp, (long long)pz->hours_tenths) &&
		     figure(e, RECEIVED_HOURS_MEDIAN, "timer_per_uke_median",
			    "Timer per uke, median", 2, cz->median_centi >= 0, cz->median_centi,
			    pz->median_centi >= 0, pz->median_centi);
	e->row.type = 0;
	e->row.type_name = NULL;
	return ok;
}

/* The figures of one unit (or the whole file) beside the previous ones. */
static bool block(struct emit *e, const struct received_unit *c, const struct received_unit *p)
{
	static const struct received_unit zero;
	const struct received_unit *cz = c ? c : &zero, *pz = p ? p : &zero;
	bool hp = true;
	if (!figure(e, RECEIVED_PERSONS, "personer", "Personer", 0, true, (long long)cz->persons,
		    hp, (long long)pz->persons) ||
	    !figure(e, RECEIVED_PERSONS_ASSESSED, "personer_med_vurdering",
		    "Personer med funksjonsvurdering", 0, true, (long long)cz->persons_assessed, hp,
		    (long long)pz->persons_assessed))
		return false;
	/* the service types of both, in order */
	size_t i = 0, j = 0;
	while (i < cz->n_svc || (e->cmp && j < pz->n_svc)) {
		int tc = i < cz->n_svc ? cz->svc[i].type : 1 << 30;
		int tp = e->cmp && j < pz->n_svc ? pz->svc[j].type : 1 << 30;
		int t = tc < tp ? tc : tp;
		if (!service_rows(e, t, tc == t ? &cz->svc[i] : NULL, tp == t ? &pz->svc[j] : NULL))
			return false;
		i += tc == t;
		j += tp == t;
	}
	/* the diagnosis code systems of both */
	for (int side = 0; side < 2; side++) {
		const struct received_unit *u = side ? pz : cz;
		if (side && !e->cmp)
			break;
		for (size_t k = 0; k < u->n_diag; k++) {
			const char *kv = u->diag[k].kodeverk;
			if (side && find_diag(cz, kv))
				continue; /* shown with this year's */
			const struct received_diag *dc = find_diag(cz, kv), *dp = find_diag(pz, kv);
			e->row.kodeverk = kv;
			bool ok = figure(e, RECEIVED_DIAGNOSES, "diagnoser", "Diagnoser", 0, true,
					 dc ? (long long)dc->count : 0, true,
					 dp ? (long long)dp->count : 0) &&
				  figure(e, RECEIVED_DIAGNOSIS_PERSONS, "personer_med_diagnose",
					 "Personer med diagnose", 0, true,
					 dc ? (long long)dc->persons : 0, true,
					 dp ? (long long)dp->persons : 0);
			e->row.kodeverk = NULL;
			if (!ok)
				return false;
		}
	}
	return true;
}

static void set_unit(struct emit *e, const struct received_unit *u, bool other)
{
	e->row.unit = u;
	e->row.other = other;
	e->row.enhet = other || !u ? NULL : u->enhet;
}

/* The units of both years, each once, in order. */
static const struct received_unit **union_units(const struct received_figures *cur,
						const struct received_figures *prev, size_t *n)
{
	size_t cap = cur->n_units + (prev ? prev->n_units : 0);
	const struct received_unit **v = malloc((cap ? cap : 1) * sizeof *v);
	if (!v)
		return NULL;
	*n = 0;
	for (size_t i = 0; i < cur->n_units; i++)
		v[(*n)++] = cur->units[i];
	for (size_t i = 0; prev && i < prev->n_units; i++)
		if (!received_figures_find(cur, prev->units[i]->enhet))
			v[(*n)++] = prev->units[i];
	if (*n > 1)
		qsort(v, *n, sizeof *v, received_unit_cmp);
	return v;
}

bool received_rows(const struct received_figures *cur, const struct received_compare *cmp,
		   const char *enhet, received_row_fn fn, void *ctx)
{
	const struct received_figures *prev =
	    cmp && cmp->state == RECEIVED_PREV_COMPARED ? &cmp->prev : NULL;
	struct emit e = {prev ? cmp : NULL, fn, ctx, {0}};
	if (!enhet) {
		set_unit(&e, NULL, false);
		if (!block(&e, &cur->whole, prev ? &prev->whole : NULL))
			return false;
	}
	size_t n = 0;
	const struct received_unit **v = union_units(cur, prev, &n);
	if (!v)
		return false;
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		const char *name = v[i]->enhet;
		if (enhet && strcmp(name, enhet) != 0)
			continue;
		const struct received_unit *c = received_figures_find(cur, name);
		const struct received_unit *p = prev ? received_figures_find(prev, name) : NULL;
		set_unit(&e, c ? c : p, false);
		ok = block(&e, c, p);
	}
	free(v);
	if (ok && !enhet && (cur->other || (prev && prev->other))) {
		set_unit(&e, cur->other ? cur->other : prev->other, true);
		ok = block(&e, cur->other, prev ? prev->other : NULL);
	}
	return ok;
}
