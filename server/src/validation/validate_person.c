/*
 * validate_person.c — one Person at a time: its working set (a growable
 * array per element kind), the identity rules R101–R104 (national ID), R106
 * (ref), R107–R109, and handing an accepted person, with only its accepted
 * elements, to the sink when </Person> is read.
 *
 * Must not: keep anything of a person after it ends but what
 * validate_dedup.c records; the clear national ID is wiped at the end.
 */
#include "validate_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "received.h"
#include "validate_lex.h"

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 8;
		void *nd = realloc(v->d, nc * v->esz);
		if (!nd)
			return NULL;
		v->d = nd;
		unsigned char *ns = realloc(v->st, nc);
		if (!ns)
			return NULL;
		v->st = ns;
		unsigned long *nr = realloc(v->regs, nc * sizeof *nr);
		if (!nr)
			return NULL;
		v->regs = nr;
		v->cap = nc;
	}
	void *e = (char *)v->d + v->n * v->esz;
	memset(e, 0, v->esz);
	v->st[v->n] = ELEM_ACCEPTED;
	v->regs[v->n] = 1;
	v->n++;
	return e;
}

static void vec_free(struct vec *v)
{
	free(v->d);
	free(v->st);
	free(v->regs);
}

/* Keeps the accepted elements in place; returns their registrations. */
static unsigned long vec_compact(struct vec *v)
{
	size_t j = 0;
	unsigned long regs = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (v->st[i] != ELEM_ACCEPTED)
			continue;
		if (i != j) {
			memcpy((char *)v->d + j * v->esz, (char *)v->d + i * v->esz, v->esz);
			v->regs[j] = v->regs[i];
		}
		v->st[j] = ELEM_ACCEPTED;
		regs += v->regs[j];
		j++;
	}
	v->n = j;
	return regs;
}

static const size_t pv_esz[PV_COUNT] = {
    sizeof(struct v_vurdering), sizeof(struct v_tjeneste), sizeof(struct v_diagnose),
    sizeof(struct v_svar),      sizeof(struct v_svar),     sizeof(struct v_svar),
    sizeof(struct v_kode),      sizeof(struct v_kode),     sizeof(struct v_venteliste),
};

void val_person_init(struct vstate *s)
{
	for (int i = 0; i < PV_COUNT; i++)
		s->person.pv[i].esz = pv_esz[i];
}

void val_person_free(struct vstate *s)
{
	for (int i = 0; i < PV_COUNT; i++)
		vec_free(&s->person.pv[i]);
	/* refs as written may carry an ID (R106 refuses them, but they were
	 * read); wipe with explicit_bzero, which the compiler may not drop */
	if (s->person.ref)
		explicit_bzero(s->person.ref, s->person.ref_bufcap);
	free(s->person.ref);
}

static bool ref_set(struct vstate *s, const char *v, size_t len)
{
	if (len + 1 > s->person.ref_bufcap) {
		size_t nc = len + 64;
		char *nr = realloc(s->person.ref, nc);
		if (!nr)
			return false;
		s->person.ref = nr;
		s->person.ref_bufcap = nc;
	}
	memcpy(s->person.ref, v, len);
	s->person.ref[len] = '\0';
	s->person.ref_len = len;
	return true;
}

/* 1-64 characters, not blank, no control characters (C0, DEL, C1), no
 * national-ID candidate: otherwise R110, about the unknown unit. */
bool val_unit_check(struct vstate *s, const char *v, size_t len, unsigned long line,
		    const char *path)
{
	bool blank = true, ctrl = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f ||
		    (c == 0xC2 && i + 1 < len && (unsigned char)v[i + 1] >= 0x80 &&
		     (unsigned char)v[i + 1] <= 0x9f))
			ctrl = true;
		if (c != ' ')
			blank = false;
	}
	const char *why = NULL;
	if (nid_has_candidate(v, len, &s->nidopt))
		why = "Enheten ser ut til å inneholde et fødselsnummer";
	else if (blank)
		why = "Enheten er tom";
	else if (len >= V_ENHET_LEN || lex_utf8_len(v, len) > 64)
		why = "Enheten er lengre enn 64 tegn";
	else if (ctrl)
		why = "Enheten inneholder kontrolltegn";
	if (!why)
		return true;
	val_set_unit(s, REPORT_UNIT_UNKNOWN);
	if (blank)
		val_msg(s, RULE_R110, line, path, NULL, "%s; enheten registreres som ukjent", why);
	else
		val_msgv(s, RULE_R110, line, path, v, len, "%s; enheten registreres som ukjent",
			 why);
	return false;
}

/* Person/@enhet: as written, or unknown (R110; or F002 when it is too long
 * to read, which rejects the file anyway). */
static void person_unit(struct vstate *s, const struct attr_val *enhet, unsigned long line)
{
	struct vperson *pe = &s->person;
	pe->enhet[0] = '\0';
	pe->enhet_unknown = false;
	if (enhet && enhet->present) {
		char path[64];
		snprintf(path, sizeof path, "%s/@enhet", val_ek_path[E_PERSON]);
		if (enhet->bad || !val_unit_check(s, enhet->v, enhet->len, line, path)) {
			pe->enhet_unknown = true;
		} else {
			memcpy(pe->enhet, enhet->v, enhet->len);
			pe->enhet[enhet->len] = '\0';
		}
	}
	val_set_unit(s, val_person_unit(s));
}

void val_unit_tjeneste_begin(struct vstate *s, int nb_attrs, const xmlChar **attrs,
			     unsigned long line)
{
	struct vperson *pe = &s->person;
	memcpy(pe->tj_enhet, pe->enhet, sizeof pe->tj_enhet);
	pe->tj_enhet_unknown = pe->enhet_unknown;
	for (int i = 0; i < nb_attrs; i++) {
		if (attrs[i * 5 + 2] || strcmp((const char *)attrs[i * 5], "enhet") != 0)
			continue;
		const char *v = (const char *)attrs[i * 5 + 3];
		size_t len = (size_t)(attrs[i * 5 + 4] - attrs[i * 5 + 3]);
		char path[64];
		snprintf(path, sizeof path, "%s/@enhet", val_ek_path[E_TJENESTE]);
		pe->tj_enhet[0] = '\0';
		pe->tj_enhet_unknown = true;
		if (len <= MAX_ATTR_VALUE && val_unit_check(s, v, len, line, path)) {
			memcpy(pe->tj_enhet, v, len);
			pe->tj_enhet[len] = '\0';
			pe->tj_enhet_unknown = false;
		}
		break;
	}
	val_set_unit(s, pe->tj_enhet_unknown ? REPORT_UNIT_UNKNOWN : pe->tj_enhet);
}

void val_person_begin(struct vstate *s, const struct attr_val *ref, const struct attr_val *enhet,
		      unsigned long line)
{
	s->person.active = true;
	s->person.phase = PHASE_START;
	s->person.line = line;
	s->person.has_ref = ref->present && !ref->bad;
	s->person.ref_len = 0;
	if (s->person.ref)
		s->person.ref[0] = '\0';
	s->person.ref_idlike = false;
	s->person.ref_display[0] = '\0';
	if (s->person.has_ref) {
		size_t n = ref->len > 256 ? 256 : ref->len;
		if (!ref_set(s, ref->v, n)) {
			s->internal_error = true;
			val_stop(s);
			return;
		}
		s->person.ref_len = ref->len; /* the real length, for R106 */
		s->person.ref_idlike = nid_has_candidate(ref->v, ref->len, &s->nidopt);
		val_scrub_text(s, s->person.ref, n, MAX_REF_SHOWN, s->person.ref_display,
			       sizeof s->person.ref_display);
	}
	person_unit(s, enhet, line);
	s->person.has_fnr = s->person.fnr_overflow = false;
	s->person.fnr_len = 0;
	s->person.has_kjonn = s->person.kjonn_broken = false;
	s->person.has_fodselsaar = false;
	s->person.has_dodsdato = false;
	s->person.dodsdato[0] = '\0';
	s->person.ident_regs = s->person.regs = s->person.elems = 0;
	s->person.excluded = s->person.broken = s->person.too_big = false;
	for (int i = 0; i < PV_COUNT; i++) {
		s->person.pv[i].n = 0;
		s->person.pv[i].esz = pv_esz[i];
	}
}

/* A new element of the person's working set; out of memory stops the
 * parse as an internal error (the caller just returns). */
void *val_person_push(struct vstate *s, struct vec *v)
{
	void *e = vec_push(v);
	if (!e) {
		s->internal_error = true;
		val_stop(s);
	}
	return e;
}

static void excluded(struct vstate *s, enum rule_id rule, unsigned long line, const char *path,
		     const char *value, const char *text)
{
	val_msg(s, rule, line, path, value, "%s", text);
	s->person.excluded = true;
}

/* R101–R104: the national ID; masked gets its display form. True when it
 * is valid, with its birth year in *info. */
static bool check_nid(struct vstate *s, struct nid_info *info, char masked[12])
{
	struct vperson *pe = &s->person;
	const char *path = val_ek_path[E_FNR];
	enum nid_status st = NID_MISSING;
	if (pe->has_fnr)
		st = pe->fnr_overflow ? NID_NOT_11_DIGITS
				      : nid_check(pe->fnr, pe->fnr_len, &s->nidopt, info);
	nid_mask(pe->fnr, pe->fnr_len, masked);
	unsigned long fl = pe->has_fnr ? pe->fnr_line : pe->line;
	switch (st) {
	case NID_OK:
		return true;
	case NID_MISSING:
		excluded(s, RULE_R101, fl, path, NULL,
			 "Fødselsnummer mangler; personen lastes ikke");
		break;
	case NID_NOT_11_DIGITS:
		excluded(s, RULE_R102, fl, path, masked,
			 "Fødselsnummeret er ikke 11 sifre; personen lastes ikke");
		break;
	case NID_BAD_CHECKSUM:
		excluded(s, RULE_R103, fl, path, masked,
			 "Fødselsnummeret har ugyldige kontrollsifre; personen lastes ikke");
		break;
	case NID_BAD_DATE:
		excluded(
		    s, RULE_R104, fl, path, masked,
		    s->nidopt.test_mode
			? "Fødselsnummeret inneholder ingen gyldig dato; personen lastes ikke"
			: "Fødselsnummeret inneholder ingen gyldig dato (syntetiske testnumre godtas bare i testmodus); personen lastes ikke");
		break;
	}
	return false;
}

/* 1-64 printable characters: no control characters (C0, DEL, C1); *blank
 * when only spaces. Inner spaces are allowed ("J 2025/17"). */
static bool ref_printable(const struct vperson *pe, bool *blank)
{
	bool printable = pe->ref_len <= 256 && lex_utf8_len(pe->ref, pe->ref_len) <= 64;
	*blank = true;
	for (size_t i = 0; printable && i < pe->ref_len; i++) {
		unsigned char c = (unsigned char)pe->ref[i];
		if (c < 0x20 || c == 0x7f ||
		    (c == 0xC2 && i + 1 < pe->ref_len && (unsigned char)pe->ref[i + 1] >= 0x80 &&
		     (unsigned char)pe->ref[i + 1] <= 0x9f))
			printable = false;
		if (c != ' ')
			*blank = false;
	}
	return printable;
}

/* R106 (the ref itself; duplicates are validate_dedup.c's). True when the
 * ref can identify the person. */
static bool check_ref(struct vstate *s)
{
	struct vperson *pe = &s->person;
	char path[64];
	snprintf(path, sizeof path, "%s/@ref", val_ek_path[E_PERSON]);
	if (!pe->has_ref || pe->ref_len == 0) {
		excluded(s, RULE_R106, pe->line, path, NULL,
			 "Personen mangler ref; personen lastes ikke");
		return false;
	}
	if (pe->ref_idlike) {
		excluded(
		    s, RULE_R106, pe->line, path, pe->ref_display,
		    "ref ser ut til å inneholde et fødselsnummer; bruk kommunens egen referanse (journalnummer). Personen lastes ikke");
		return false;
	}
	bool blank;
	bool printable = ref_printable(pe, &blank);
	if (blank && printable) {
		excluded(s, RULE_R106, pe->line, path, NULL,
			 "Personen mangler ref (bare mellomrom); personen lastes ikke");
		return false;
	}
	if (!printable) {
		excluded(s, RULE_R106, pe->line, path, pe->ref_display,
			 "ref må være 1–64 tegn uten kontrolltegn; personen lastes ikke");
		return false;
	}
	return true;
}

/* R108 */
static void check_kjonn(struct vstate *s)
{
	struct vperson *pe = &s->person;
	if (!pe->has_kjonn) {
		excluded(s, RULE_R108, pe->line, val_ek_path[E_KJONN], NULL,
			 "Kjønn mangler; personen lastes ikke");
	} else if (!pe->kjonn_broken && pe->kjonn != 1 && pe->kjonn != 2) {
		char v[24];
		snprintf(v, sizeof v, "%ld", pe->kjonn);
		excluded(s, RULE_R108, pe->kjonn_line, val_ek_path[E_KJONN], v,
			 "Kjønn må være 1 (mann) eller 2 (kvinne); personen lastes ikke");
	}
}

/* R107; returns the birth year to load (from the ID when not given). */
static int check_fodselsaar(struct vstate *s, bool nid_ok, const struct nid_info *info)
{
	struct vperson *pe = &s->person;
	int fodselsaar = pe->has_fodselsaar ? pe->fodselsaar : 0;
	if (!nid_ok)
		return fodselsaar;
	if (pe->has_fodselsaar && pe->fodselsaar != info->birth_year) {
		char v[16];
		snprintf(v, sizeof v, "%d", pe->fodselsaar);
		val_msg(s, RULE_R107, pe->fodselsaar_line, val_ek_path[E_FODSELSAAR], v,
			"Fødselsåret stemmer ikke med fødselsåret i fødselsnummeret (%d)",
			info->birth_year);
	}
	if (!pe->has_fodselsaar)
		fodselsaar = info->birth_year;
	return fodselsaar;
}

/* R109: at most one message, the first finding in this order. */
static void check_dodsdato(struct vstate *s)
{
	struct vperson *pe = &s->person;
	if (!pe->has_dodsdato)
		return;
	const char *dd = pe->dodsdato;
	const char *dpath = val_ek_path[E_DODSDATO];
	if (s->header.hdr.aargang > 0 && atoi(dd) > s->header.hdr.aargang) {
		val_msg(s, RULE_R109, pe->dodsdato_line, dpath, dd,
			"Dødsdatoen er i et senere år enn årgang %d", s->header.hdr.aargang);
		return;
	}
	const struct vec *tv = &pe->pv[PV_TJ], *vv = &pe->pv[PV_VURD];
	for (size_t i = 0; i < tv->n; i++) {
		const struct v_tjeneste *t = VEC_AT(tv, struct v_tjeneste, i);
		if (tv->st[i] != ELEM_BROKEN && date_set(t->start) && strcmp(dd, t->start) < 0) {
			val_msg(s, RULE_R109, pe->dodsdato_line, dpath, dd,
				"Dødsdatoen er før starten på en tjeneste (%s, linje %lu)",
				t->start, t->line);
			return;
		}
	}
	for (size_t i = 0; i < vv->n; i++) {
		const struct v_vurdering *v = VEC_AT(vv, struct v_vurdering, i);
		if (vv->st[i] != ELEM_BROKEN && date_set(v->dato) && strcmp(dd, v->dato) < 0) {
			val_msg(s, RULE_R109, pe->dodsdato_line, dpath, dd,
				"Dødsdatoen er før en funksjonsvurdering (%s, linje %lu)", v->dato,
				v->line);
			return;
		}
	}
}

/* The accepted elements as the sink sees them (pointers into the set). */
static void fill_person(const struct vperson *pe, int fodselsaar, struct v_person *p)
{
	memset(p, 0, sizeof *p);
	p->ref = pe->ref;
	p->enhet = pe->enhet_unknown ? "" : pe->enhet;
	p->enhet_unknown = pe->enhet_unknown;
	p->line = pe->line;
	memcpy(p->fnr, pe->fnr, 11);
	p->fnr[11] = '\0';
	p->kjonn = (int)pe->kjonn;
	p->fodselsaar = fodselsaar;
	p->fodselsaar_given = pe->has_fodselsaar;
	memcpy(p->dodsdato, pe->dodsdato, V_DATE_LEN);
	p->vurderinger = pe->pv[PV_VURD].d;
	p->n_vurderinger = pe->pv[PV_VURD].n;
	p->tjenester = pe->pv[PV_TJ].d;
	p->n_tjenester = pe->pv[PV_TJ].n;
	p->diagnoser = pe->pv[PV_DIAG].d;
	p->n_diagnoser = pe->pv[PV_DIAG].n;
	p->heldogn = pe->pv[PV_HELD].d;
	p->n_heldogn = pe->pv[PV_HELD].n;
	p->legemiddel = pe->pv[PV_LMG].d;
	p->n_legemiddel = pe->pv[PV_LMG].n;
	p->ernaering = pe->pv[PV_ERN].d;
	p->n_ernaering = pe->pv[PV_ERN].n;
	p->individuell_plan = pe->pv[PV_IP].d;
	p->n_individuell_plan = pe->pv[PV_IP].n;
	p->koordinator = pe->pv[PV_KOORD].d;
	p->n_koordinator = pe->pv[PV_KOORD].n;
	p->venteliste = pe->pv[PV_VL].d;
	p->n_venteliste = pe->pv[PV_VL].n;
}

/* The person's part of what was received (received.h). */
static bool count_received(struct vstate *s, const struct v_person *p, uint64_t *handle)
{
	struct received *rc = report_received(s->r);
	if (!received_person_begin(rc, p->enhet, p->enhet_unknown, p->n_vurderinger > 0))
		return false;
	for (size_t i = 0; i < p->n_tjenester; i++) {
		const struct v_tjeneste *t = &p->tjenester[i];
		if (!received_person_service(rc, t->type, t->has_timer_per_uke, t->timer_per_uke,
					     t->enhet, t->enhet_unknown))
			return false;
	}
	for (size_t i = 0; i < p->n_diagnoser; i++)
		if (!received_person_diagnosis(rc, p->diagnoser[i].kodeverk))
			return false;
	return received_person_end(rc, s->p->codes, s->header.hdr.aargang, handle);
}

/* Hands the person, with only its accepted elements, to the sink; me is
 * its duplicate record (-1 none). Returns the registrations delivered. */
static unsigned long deliver(struct vstate *s, int fodselsaar, long me)
{
	unsigned long regs = s->person.ident_regs;
	for (int i = 0; i < PV_COUNT; i++)
		regs += vec_compact(&s->person.pv[i]);
	struct v_person p;
	fill_person(&s->person, fodselsaar, &p);
	p.registrations = regs;
	if (s->sink && s->sink->person && !s->sink->person(s->sink->ctx, &p)) {
		s->internal_error = true;
		val_stop(s);
	}
	explicit_bzero(p.fnr, sizeof p.fnr);
	uint64_t handle = 0;
	if (s->r && !s->fatal && !count_received(s, &p, &handle)) {
		s->internal_error = true;
		val_stop(s);
	}
	if (me >= 0) {
		s->dedup.precs[me].received = handle;
		s->dedup.precs[me].delivered = true;
		s->dedup.precs[me].regs = regs > UINT32_MAX ? UINT32_MAX : (uint32_t)regs;
	}
	return regs;
}

/* Counts the person, delivers it when nothing excludes it. */
static void person_finish(struct vstate *s, int fodselsaar, long me)
{
	struct report_summary *sum = s->r ? report_summary(s->r) : NULL;
	if (sum) {
		sum->persons++;
		sum->registrations += s->person.regs;
	}
	bool ok = !s->person.excluded && !s->person.broken && !s->fatal && !s->internal_error;
	if (ok) {
		unsigned long regs = deliver(s, fodselsaar, me);
		if (sum) {
			sum->persons_loaded++;
			sum->registrations_loaded += regs;
			sum->registrations_excluded += s->person.regs - regs;
		}
	} else if (sum) {
		sum->persons_excluded++;
		sum->registrations_excluded += s->person.regs;
	}
	/* a person counts under its own unit */
	struct report_unit *u = s->r ? report_unit(s->r, val_person_unit(s)) : NULL;
	if (u) {
		u->persons++;
		if (ok)
			u->persons_loaded++;
		else
			u->persons_excluded++;
	} else if (s->r) {
		s->internal_error = true;
		val_stop(s);
	}
}

void val_person_end(struct vstate *s)
{
	struct nid_info info;
	memset(&info, 0, sizeof info);
	char masked[12];

	bool nid_ok = check_nid(s, &info, masked);
	bool ref_usable = check_ref(s);
	check_kjonn(s);
	int fodselsaar = check_fodselsaar(s, nid_ok, &info);
	check_dodsdato(s);
	if (s->person.too_big)
		val_msg(s, RULE_F006, s->person.line, val_ek_path[E_PERSON], NULL,
			"Personen har flere enn %d elementer; filen avvises", MAX_PERSON_ELEMENTS);

	/* duplicates: R106 (ref) and R105 (national ID) */
	long me = -1;
	if (!val_dedup_person(s, ref_usable, nid_ok, masked, &me))
		return;

	val_person_cross_rules(s);
	person_finish(s, fodselsaar, me);

	/* the clear ID leaves memory with the person */
	explicit_bzero(s->person.fnr, sizeof s->person.fnr);
	s->person.active = false;
	val_set_unit(s, NULL);
	if (s->r && !report_flush(s->r)) {
		s->internal_error = true;
		val_stop(s);
	}
}
