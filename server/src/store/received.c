/*
 * received.c — the previous årgang's figures from the register
 * (store_received.h). A unit is keyed as the validator keys it: the unit as
 * written, "" for none, KPR_UNIT_UNKNOWN after R110 (enhet_ukjent); a
 * service under its own stored unit (the loader gives a service without one
 * its person's), an assessment and a diagnosis under its person's.
 */
#include "store_received.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIT_OF(t)                                                                             \
	"CASE WHEN " t ".enhet_ukjent THEN '" KPR_UNIT_UNKNOWN "' ELSE coalesce(" t ".enhet, " \
	"'') END"

static const struct db_stmt st_existed = {
    "received_existed",
    "SELECT kpr.kommune_expected(gyldig_fra, gyldig_til, $2::integer)"
    " FROM kpr.kommune WHERE kommunenummer = $1",
    2};
static const struct db_stmt st_current = {
    "received_current",
    "SELECT id FROM kpr.current_submission WHERE kommunenummer = $1 AND aargang = $2::integer", 2};
static const struct db_stmt st_persons = {
    "received_persons",
    "SELECT " UNIT_OF(
	"p") ", count(*),"
	     " count(*) FILTER (WHERE EXISTS (SELECT 1 FROM kpr.vurdering v"
	     "   WHERE v.submission_id = p.submission_id AND v.ref = p.ref))"
	     " FROM kpr.person p WHERE p.submission_id = $1::uuid GROUP BY 1 ORDER BY 1",
    1};
/* GROUPING(unit) = 1 marks the whole file's row of a type */
static const struct db_stmt st_services = {
    "received_services",
    "SELECT GROUPING(u.unit), u.unit, t.type, count(*), count(DISTINCT t.ref),"
    " count(t.timer_per_uke), coalesce(sum(t.timer_per_uke) * 10, 0)::bigint,"
    " round((percentile_cont(0.5) WITHIN GROUP (ORDER BY t.timer_per_uke))::numeric * 100)"
    "::bigint,"
    " (SELECT k.navn FROM kpr.kode k WHERE k.liste = 'tjenestetype' AND k.kode = t.type::text"
    "   ORDER BY k.gyldig_fra DESC LIMIT 1)"
    " FROM kpr.tjeneste t CROSS JOIN LATERAL (SELECT " UNIT_OF(
	"t") " AS unit) u"
	     " WHERE t.submission_id = $1::uuid"
	     " GROUP BY GROUPING SETS ((u.unit, t.type), (t.type)) ORDER BY 2 NULLS FIRST, 3",
    1};
static const struct db_stmt st_diagnoses = {
    "received_diagnoses",
    "SELECT GROUPING(u.unit), u.unit, d.kodeverk, count(*), count(DISTINCT d.ref)"
    " FROM kpr.diagnose d JOIN kpr.person p USING (submission_id, ref)"
    " CROSS JOIN LATERAL (SELECT " UNIT_OF(
	"p") " AS unit) u"
	     " WHERE d.submission_id = $1::uuid"
	     " GROUP BY GROUPING SETS ((u.unit, d.kodeverk), (d.kodeverk)) ORDER BY 2 NULLS FIRST, 3",
    1};

static unsigned long ul(const PGresult *r, int row, int col)
{
	return strtoul(PQgetvalue(r, row, col), NULL, 10);
}

static bool persons(struct db *db, const char *const *p, struct received_figures *f)
{
	PGresult *r = db_exec(db, &st_persons, p, NULL);
	if (!r)
		return false;
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(r); i++) {
		struct received_unit *u = received_figures_unit(f, PQgetvalue(r, i, 0));
		if (!(ok = u != NULL))
			break;
		u->persons += ul(r, i, 1);
		u->persons_assessed += ul(r, i, 2);
		f->whole.persons += ul(r, i, 1);
		f->whole.persons_assessed += ul(r, i, 2);
	}
	PQclear(r);
	return ok;
}

/* The figures a GROUPING SETS row counts into: the whole file's when
 * GROUPING(unit) is 1 (column 0), else its unit's (column 1). */
static struct received_unit *row_unit(struct received_figures *f, const PGresult *r, int row)
{
	if (strcmp(PQgetvalue(r, row, 0), "1") == 0)
		return &f->whole;
	return received_figures_unit(f, PQgetvalue(r, row, 1));
}

static bool services(struct db *db, const char *const *p, struct received_figures *f)
{
	PGresult *r = db_exec(db, &st_services, p, NULL);
	if (!r)
		return false;
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(r); i++) {
		struct received_unit *u = row_unit(f, r, i);
		struct received_service *s =
		    u ? received_unit_service(u, atoi(PQgetvalue(r, i, 2))) : NULL;
		if (!(ok = s != NULL))
			break;
		bool merged = s->count > 0; /* the other row: several units */
		s->count += ul(r, i, 3);
		s->persons += ul(r, i, 4);
		s->with_hours += ul(r, i, 5);
		s->hours_tenths += strtoull(PQgetvalue(r, i, 6), NULL, 10);
		s->median_centi =
		    merged || PQgetisnull(r, i, 7) ? -1 : strtoll(PQgetvalue(r, i, 7), NULL, 10);
		if (!s->name && !PQgetisnull(r, i, 8) && !(s->name = strdup(PQgetvalue(r, i, 8))))
			ok = false;
	}
	PQclear(r);
	return ok;
}

static bool diagnoses(struct db *db, const char *const *p, struct received_figures *f)
{
	PGresult *r = db_exec(db, &st_diagnoses, p, NULL);
	if (!r)
		return false;
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(r); i++) {
		struct received_unit *u = row_unit(f, r, i);
		struct received_diag *d = u ? received_unit_diag(u, PQgetvalue(r, i, 2)) : NULL;
		if (!(ok = d != NULL))
			break;
		d->count += ul(r, i, 3);
		d->persons += ul(r, i, 4);
	}
	PQclear(r);
	return ok;
}

/* The previous årgang's state: whether the number existed, and its
 * current submission (id "" when none). */
static bool previous_submission(struct db *db, const char *kommunenummer, const char *year,
				struct received_compare *out)
{
	const char *p[] = {kommunenummer, year};
	PGresult *r = db_exec(db, &st_existed, p, NULL);
	if (!r)
		return false;
	bool existed = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!existed) {
		out->state = RECEIVED_PREV_NEW_NUMBER;
		return true;
	}
	if (!(r = db_exec(db, &st_current, p, NULL)))
		return false;
	if (PQntuples(r) == 1) {
		snprintf(out->submission_id, sizeof out->submission_id, "%s", PQgetvalue(r, 0, 0));
		out->state = RECEIVED_PREV_COMPARED;
	} else {
		out->state = RECEIVED_PREV_NONE;
	}
	PQclear(r);
	return true;
}

bool store_received_previous(struct db *db, const char *kommunenummer, int aargang,
			     struct received_compare *out)
{
	char year[16];
	snprintf(year, sizeof year, "%d", aargang - 1);
	out->aargang = aargang - 1;
	out->state = RECEIVED_PREV_UNAVAILABLE;
	if (!previous_submission(db, kommunenummer, year, out)) {
		out->state = RECEIVED_PREV_UNAVAILABLE;
		return false;
	}
	if (out->state != RECEIVED_PREV_COMPARED)
		return true;
	const char *p[] = {out->submission_id};
	if (!persons(db, p, &out->prev) || !services(db, p, &out->prev) ||
	    !diagnoses(db, p, &out->prev)) {
		received_figures_clear(&out->prev);
		out->state = RECEIVED_PREV_UNAVAILABLE;
		return false;
	}
	received_figures_sort(&out->prev);
	return true;
}
