/*
 * validate_element.c — the rules of one element inside a Person, applied as
 * it is read: Vurdering and Funksjon (R201–R204), Tjeneste (R301–R307),
 * Diagnose (R401), the answer codes (R405), Venteliste. Each element joins
 * the person's working set with its status (enum elem_status).
 *
 * Must not: look at other elements of the person (validate_cross.c does,
 * when the person ends) or at other persons.
 */
#include "validate_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate_lex.h"

void val_element_vurdering_begin(struct vstate *s, const struct attr_val *a, unsigned long line,
				 bool ok)
{
	struct v_vurdering *v = val_person_push(s, &s->person.pv[PV_VURD]);
	if (!v)
		return;
	v->line = line;
	if (a[0].present && !a[0].bad)
		memcpy(v->dato, a[0].date, V_DATE_LEN);
	if (!ok)
		s->person.pv[PV_VURD].st[s->person.pv[PV_VURD].n - 1] = ELEM_BROKEN;
	memset(s->person.vurd.count, 0, sizeof s->person.vurd.count);
	s->person.vurd.n_bad = 0;
	s->person.vurd.nfunk = 0;
}

void val_element_funksjon(struct vstate *s, const struct attr_val *a, unsigned long line, bool ok)
{
	struct vec *vv = &s->person.pv[PV_VURD];
	if (vv->n == 0)
		return;
	size_t vi = vv->n - 1;
	struct v_vurdering *v = VEC_AT(vv, struct v_vurdering, vi);
	s->person.vurd.nfunk++;
	vv->regs[vi]++;
	if (!ok) {
		vv->st[vi] = ELEM_BROKEN;
		return;
	}
	long kode = a[0].i, skaar = a[1].i;
	const char *path = val_ek_path[E_FUNKSJON];
	if (kode >= 1 && kode <= V_FUNKSJON_COUNT && s->codes.funk_valid[kode]) {
		if (s->person.vurd.count[kode] < 255)
			s->person.vurd.count[kode]++;
	} else if (s->person.vurd.n_bad < KPR_ARRAY_LEN(s->person.vurd.bad_codes)) {
		s->person.vurd.bad_codes[s->person.vurd.n_bad++] = kode;
	} else {
		s->person.vurd.n_bad++;
	}
	if (!(skaar >= 0 && skaar < 100 && s->codes.skaar_valid[skaar])) {
		val_msgv(
		    s, RULE_R201, line, path, a[1].v, a[1].len,
		    "Skår for funksjon %ld er ikke en gyldig skår (1, 2, 3, 4, 5 eller 9); vurderingen lastes ikke",
		    kode);
		if (vv->st[vi] == ELEM_ACCEPTED)
			vv->st[vi] = ELEM_EXCLUDED;
	} else if (skaar == 9 && (kode == 11 || kode == 13 || kode == 14)) {
		val_msgv(
		    s, RULE_R204, line, path, a[1].v, a[1].len,
		    "Skår 9 (ikke relevant) er brukt for funksjon %ld (%s), som alltid er relevant",
		    kode,
		    kode == 11   ? "Toalett"
		    : kode == 13 ? "Syn"
				 : "Hørsel");
	}
	if (kode >= 1 && kode <= V_FUNKSJON_COUNT && skaar >= 0 && skaar < 256)
		v->skaar[kode - 1] = (unsigned char)skaar;
}

void val_element_vurdering_end(struct vstate *s)
{
	struct vec *vv = &s->person.pv[PV_VURD];
	if (vv->n == 0)
		return;
	size_t vi = vv->n - 1;
	struct v_vurdering *v = VEC_AT(vv, struct v_vurdering, vi);
	if (vv->st[vi] == ELEM_BROKEN)
		return;
	const char *path = val_ek_path[E_VURDERING];
	/* R202: exactly the 17 codes, each once */
	char detail[256] = "";
	size_t dl = 0;
	int missing = 0, dup = 0;
	for (int k = 1; k <= V_FUNKSJON_COUNT; k++) {
		if (!s->codes.funk_valid[k])
			continue;
		if (s->person.vurd.count[k] == 0)
			missing++;
		else if (s->person.vurd.count[k] > 1)
			dup++;
	}
	if (missing || dup || s->person.vurd.n_bad) {
		if (missing) {
			dl += (size_t)snprintf(detail + dl, sizeof detail - dl, "mangler kode");
			for (int k = 1; k <= V_FUNKSJON_COUNT && dl < sizeof detail - 8; k++)
				if (s->codes.funk_valid[k] && s->person.vurd.count[k] == 0)
					dl += (size_t)snprintf(detail + dl, sizeof detail - dl,
							       " %d", k);
		}
		if (dup && dl < sizeof detail - 40) {
			dl += (size_t)snprintf(detail + dl, sizeof detail - dl,
					       "%sflere ganger: kode", dl ? "; " : "");
			for (int k = 1; k <= V_FUNKSJON_COUNT && dl < sizeof detail - 8; k++)
				if (s->codes.funk_valid[k] && s->person.vurd.count[k] > 1)
					dl += (size_t)snprintf(detail + dl, sizeof detail - dl,
							       " %d", k);
		}
		if (s->person.vurd.n_bad && dl < sizeof detail - 40) {
			dl += (size_t)snprintf(detail + dl, sizeof detail - dl, "%sukjent kode",
					       dl ? "; " : "");
			size_t shown =
			    s->person.vurd.n_bad < KPR_ARRAY_LEN(s->person.vurd.bad_codes)
				? s->person.vurd.n_bad
				: KPR_ARRAY_LEN(s->person.vurd.bad_codes);
			for (size_t i = 0; i < shown && dl < sizeof detail - 16; i++)
				dl += (size_t)snprintf(detail + dl, sizeof detail - dl, " %ld",
						       s->person.vurd.bad_codes[i]);
		}
		char n[16];
		snprintf(n, sizeof n, "%lu", s->person.vurd.nfunk);
		val_msg(
		    s, RULE_R202, v->line, path, n,
		    "Vurderingen har ikke nøyaktig de 17 funksjonskodene, hver én gang (%s); vurderingen lastes ikke",
		    detail);
		vv->st[vi] = ELEM_EXCLUDED;
	}
	/* R203 */
	if (date_set(v->dato)) {
		if (s->header.opprettet_date[0] && strcmp(v->dato, s->header.opprettet_date) > 0) {
			val_msg(
			    s, RULE_R203, v->line, "/Innsending/Person/Vurdering/@dato", v->dato,
			    "Vurderingsdatoen er etter tidspunktet filen ble laget (%s); vurderingen lastes ikke",
			    s->header.opprettet_date);
			vv->st[vi] = ELEM_EXCLUDED;
		} else if (s->header.y_end[0] && strcmp(v->dato, s->header.y_end) > 0) {
			val_msg(
			    s, RULE_R203, v->line, "/Innsending/Person/Vurdering/@dato", v->dato,
			    "Vurderingsdatoen er etter utgangen av årgang %d; vurderingen lastes ikke",
			    s->header.hdr.aargang);
			vv->st[vi] = ELEM_EXCLUDED;
		}
	}
}

static void tjeneste_read(struct v_tjeneste *t, const struct attr_val *a)
{
	t->type = a[0].i > 1000000 ? 1000000 : a[0].i < -1000000 ? -1000000 : (int)a[0].i;
	if (a[1].present)
		memcpy(t->soknad, a[1].date, V_DATE_LEN);
	if (a[2].present)
		memcpy(t->vedtak, a[2].date, V_DATE_LEN);
	if (a[3].present)
		memcpy(t->start, a[3].date, V_DATE_LEN);
	if (a[4].present)
		memcpy(t->slutt, a[4].date, V_DATE_LEN);
	t->avslag = a[5].present && a[5].b;
	t->has_timer_per_uke = a[6].present;
	t->timer_per_uke = a[6].present ? a[6].d : 0;
	t->has_timer_med_flere = a[7].present;
	t->timer_med_flere = a[7].present ? a[7].d : 0;
	if (a[8].present)
		val_copy_attr(t->orgnr, sizeof t->orgnr, &a[8]);
}

/* "/Innsending/Person/Tjeneste/@attr" */
static const char *tj_path(char p[96], const char *attr)
{
	snprintf(p, 96, "%s/@%s", val_ek_path[E_TJENESTE], attr);
	return p;
}

/* R302 and R303: the dates in order and within the årgang. True on an
 * error. */
static bool tjeneste_dates(struct vstate *s, const struct v_tjeneste *t, unsigned long line)
{
	char p[96];
	bool err = false;
	if (date_set(t->start) && date_set(t->slutt) && strcmp(t->slutt, t->start) < 0) {
		val_msg(s, RULE_R302, line, tj_path(p, "slutt"), t->slutt,
			"Sluttdato er før startdato (%s); tjenesten lastes ikke", t->start);
		err = true;
	}
	if (date_set(t->vedtak) && date_set(t->soknad) && strcmp(t->vedtak, t->soknad) < 0) {
		val_msg(s, RULE_R302, line, tj_path(p, "vedtak"), t->vedtak,
			"Vedtaksdato er før søknadsdato (%s); tjenesten lastes ikke", t->soknad);
		err = true;
	}
	const struct vheader *h = &s->header;
	if (h->y_end[0] && date_set(t->start) && strcmp(t->start, h->y_end) > 0) {
		val_msg(s, RULE_R303, line, tj_path(p, "start"), t->start,
			"Startdato er etter utgangen av årgang %d; tjenesten lastes ikke",
			h->hdr.aargang);
		err = true;
	}
	if (h->y_start[0] && date_set(t->slutt) && strcmp(t->slutt, h->y_start) < 0) {
		val_msg(s, RULE_R303, line, tj_path(p, "slutt"), t->slutt,
			"Sluttdato er før starten av årgang %d; tjenesten lastes ikke",
			h->hdr.aargang);
		err = true;
	}
	return err;
}

/* R304 and R305: the hours. True on an error. */
static bool tjeneste_hours(struct vstate *s, const struct v_tjeneste *t, const struct attr_val *a,
			   unsigned long line)
{
	char p[96];
	bool err = false;
	if (t->has_timer_per_uke && (t->timer_per_uke < 0 || t->timer_per_uke > 168)) {
		val_msgv(
		    s, RULE_R304, line, tj_path(p, "timerPerUke"), a[6].v, a[6].len,
		    "Timer per uke er negativ eller over 168 (en uke har 168 timer); tjenesten lastes ikke");
		err = true;
	}
	if (t->has_timer_med_flere && (t->timer_med_flere < 0 || t->timer_med_flere > 168)) {
		val_msgv(
		    s, RULE_R304, line, tj_path(p, "timerMedFlere"), a[7].v, a[7].len,
		    "Timer med flere er negativ eller over 168 (en uke har 168 timer); tjenesten lastes ikke");
		err = true;
	}
	if (t->has_timer_per_uke && t->has_timer_med_flere &&
	    t->timer_med_flere < t->timer_per_uke) {
		val_msgv(s, RULE_R305, line, tj_path(p, "timerMedFlere"), a[7].v, a[7].len,
			 "Timer med flere er lavere enn timer per uke; tjenesten lastes ikke");
		err = true;
	}
	return err;
}

/* R306: a refusal has no start; a decision without refusal has one. True
 * on an error. */
static bool tjeneste_avslag(struct vstate *s, const struct v_tjeneste *t, unsigned long line)
{
	char p[96];
	if (t->avslag && date_set(t->start)) {
		val_msg(s, RULE_R306, line, tj_path(p, "start"), t->start,
			"Tjenesten har avslag=\"true\", men også startdato; tjenesten lastes ikke");
		return true;
	}
	if (!t->avslag && date_set(t->vedtak) && !date_set(t->start)) {
		val_msg(
		    s, RULE_R306, line, tj_path(p, "start"), NULL,
		    "Tjenesten har vedtak uten avslag, men mangler startdato; tjenesten lastes ikke");
		return true;
	}
	return false;
}

/* R307 (warning): the institution's organisation number. */
static void tjeneste_orgnr(struct vstate *s, struct v_tjeneste *t, const struct attr_val *a,
			   unsigned long line)
{
	char p[96];
	tj_path(p, "orgnr");
	bool inst = t->type >= 0 && t->type < 256 && s->codes.tj_inst[t->type];
	if (a[8].present) {
		/* free text: stored as written when it is not an ID candidate and
		 * fits the register's column; otherwise not stored at all (SPEC §3) */
		const char *o = a[8].v;
		size_t on = a[8].len;
		bool id = nid_has_candidate(o, on, &s->nidopt);
		bool fits = on < sizeof t->orgnr && lex_utf8_len(o, on) <= 64;
		if (id || !fits)
			t->orgnr[0] = '\0';
		if (id)
			val_msgv(
			    s, RULE_R307, line, p, o, on,
			    "Organisasjonsnummeret ser ut til å inneholde et fødselsnummer og lagres ikke; oppgi institusjonens organisasjonsnummer (9 siffer)");
		else if (!orgnr_valid(o, on))
			val_msgv(
			    s, RULE_R307, line, p, o, on,
			    fits
				? "Organisasjonsnummeret er ikke gyldig (9 siffer med kontrollsiffer)"
				: "Organisasjonsnummeret er ikke gyldig (9 siffer med kontrollsiffer); det er for langt og lagres ikke");
	} else if (inst && date_set(t->start) && !t->avslag) {
		val_msg(s, RULE_R307, line, p, NULL,
			"Institusjonstjeneste (type %d) mangler organisasjonsnummer", t->type);
	}
}

void val_element_tjeneste(struct vstate *s, const struct attr_val *a, unsigned long line, bool ok)
{
	struct vec *tv = &s->person.pv[PV_TJ];
	struct v_tjeneste *t = val_person_push(s, tv);
	if (!t)
		return;
	size_t ti = tv->n - 1;
	t->line = line;
	/* its own unit, else its person's (val_unit_tjeneste_begin) */
	memcpy(t->enhet, s->person.tj_enhet, sizeof t->enhet);
	t->enhet_unknown = s->person.tj_enhet_unknown;
	struct report_unit *u = s->r ? report_unit(s->r, val_tj_unit(t)) : NULL;
	if (u)
		u->services++;
	if (!ok) {
		tv->st[ti] = ELEM_BROKEN;
		return;
	}
	tjeneste_read(t, a);

	bool err = false;
	/* R301 */
	bool known = t->type >= 0 && t->type < 256 ? s->codes.tj_valid[t->type] : false;
	if (!known && s->header.hdr.aargang > 0) {
		char p[96];
		val_msgv(
		    s, RULE_R301, line, tj_path(p, "type"), a[0].v, a[0].len,
		    "Tjenestetypen finnes ikke i kodelisten for årgang %d; tjenesten lastes ikke",
		    s->header.hdr.aargang);
		err = true;
	}
	err |= tjeneste_dates(s, t, line);
	err |= tjeneste_hours(s, t, a, line);
	err |= tjeneste_avslag(s, t, line);
	tjeneste_orgnr(s, t, a, line);
	if (err)
		tv->st[ti] = ELEM_EXCLUDED;
}

static bool diag_code_ok(const char *kv, size_t kvlen, const char *k, size_t klen, bool icd10_ok,
			 bool icpc2_ok)
{
	bool letter = klen >= 3 && k[0] >= 'A' && k[0] <= 'Z' && k[1] >= '0' && k[1] <= '9' &&
		      k[2] >= '0' && k[2] <= '9';
	if (kvlen == 6 && memcmp(kv, "ICD-10", 6) == 0 && icd10_ok) {
		if (!letter)
			return false;
		if (klen == 3)
			return true;
		if (k[3] != '.' || klen < 5 || klen > 6)
			return false;
		for (size_t i = 4; i < klen; i++)
			if (k[i] < '0' || k[i] > '9')
				return false;
		return true;
	}
	if (kvlen == 6 && memcmp(kv, "ICPC-2", 6) == 0 && icpc2_ok)
		return letter && klen == 3;
	return false;
}

void val_element_diagnose(struct vstate *s, const struct attr_val *a, unsigned long line, bool ok)
{
	struct vec *dv = &s->person.pv[PV_DIAG];
	struct v_diagnose *d = val_person_push(s, dv);
	if (!d)
		return;
	d->line = line;
	if (!ok) {
		dv->st[dv->n - 1] = ELEM_BROKEN;
		return;
	}
	val_copy_attr(d->kodeverk, sizeof d->kodeverk, &a[0]);
	val_copy_attr(d->kode, sizeof d->kode, &a[1]);
	bool kv_known = (a[0].len == 6 && memcmp(a[0].v, "ICD-10", 6) == 0 && s->codes.icd10_ok) ||
			(a[0].len == 6 && memcmp(a[0].v, "ICPC-2", 6) == 0 && s->codes.icpc2_ok);
	if (!kv_known) {
		val_msgv(s, RULE_R401, line, "/Innsending/Person/Diagnose/@kodeverk", a[0].v,
			 a[0].len, "Kodeverket er ikke ICD-10 eller ICPC-2; diagnosen lastes ikke");
		dv->st[dv->n - 1] = ELEM_EXCLUDED;
	} else if (!diag_code_ok(a[0].v, a[0].len, a[1].v, a[1].len, s->codes.icd10_ok,
				 s->codes.icpc2_ok)) {
		val_msgv(s, RULE_R401, line, "/Innsending/Person/Diagnose/@kode", a[1].v, a[1].len,
			 "Diagnosekoden har feil form for %s (%s); diagnosen lastes ikke",
			 d->kodeverk,
			 d->kodeverk[3] == '-' && d->kodeverk[2] == 'D'
			     ? "bokstav, to sifre, eventuelt punktum og 1–2 sifre"
			     : "bokstav og to sifre");
		dv->st[dv->n - 1] = ELEM_EXCLUDED;
	}
}

void val_element_svar(struct vstate *s, enum ek k, const struct attr_val *a, unsigned long line,
		      bool ok)
{
	enum pv which = k == E_HELDOGN ? PV_HELD : k == E_LEGEMIDDEL ? PV_LMG : PV_ERN;
	struct vec *v = &s->person.pv[which];
	struct v_svar *e = val_person_push(s, v);
	if (!e)
		return;
	e->line = line;
	if (!ok) {
		v->st[v->n - 1] = ELEM_BROKEN;
		return;
	}
	e->kode = a[0].i == 1 ? 1 : a[0].i == 2 ? 2 : 0;
	memcpy(e->dato, a[1].date, V_DATE_LEN);
	if (a[0].i != 1 && a[0].i != 2) {
		const char *attr = k == E_ERNAERING ? "risiko" : "svar";
		char p[96];
		snprintf(p, sizeof p, "%s/@%s", val_ek_path[k], attr);
		val_msgv(s, RULE_R405, line, p, a[0].v, a[0].len,
			 "«%s» i %s må være 1 (ja) eller 2 (nei); elementet lastes ikke", attr,
			 val_ek_name[k]);
		v->st[v->n - 1] = ELEM_EXCLUDED;
	}
}

void val_element_kode(struct vstate *s, enum ek k, const struct attr_val *a, unsigned long line,
		      bool ok)
{
	struct vec *v = &s->person.pv[k == E_INDPLAN ? PV_IP : PV_KOORD];
	struct v_kode *e = val_person_push(s, v);
	if (!e)
		return;
	e->line = line;
	if (!ok) {
		v->st[v->n - 1] = ELEM_BROKEN;
		return;
	}
	e->kode = a[0].i >= 1 && a[0].i <= 4 ? (int)a[0].i : 0;
	if (!(a[0].i >= 1 && a[0].i <= 4)) {
		char p[96];
		snprintf(p, sizeof p, "%s/@kode", val_ek_path[k]);
		val_msgv(s, RULE_R405, line, p, a[0].v, a[0].len,
			 "Koden i %s må være 1, 2, 3 eller 4; elementet lastes ikke",
			 val_ek_name[k]);
		v->st[v->n - 1] = ELEM_EXCLUDED;
	}
}

void val_element_venteliste(struct vstate *s, const struct attr_val *a, unsigned long line, bool ok)
{
	struct vec *v = &s->person.pv[PV_VL];
	struct v_venteliste *e = val_person_push(s, v);
	if (!e)
		return;
	e->line = line;
	if (!ok) {
		v->st[v->n - 1] = ELEM_BROKEN;
		return;
	}
	memcpy(e->vedtak, a[0].date, V_DATE_LEN);
}
