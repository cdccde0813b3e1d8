/*
 * validate_header.c — Innsending and Avsender: the header the worker and the
 * loader need, the årgang's bounds, the code lists as valid for the årgang,
 * and the file-level rules F003 (sender), F004 (municipality), F005 (open
 * årgang) and F007 (forrigeId).
 *
 * Must not: judge persons; an F003–F005 makes every later R-rule moot
 * (validate_msg.c drops them).
 */
#include "validate_state.h"

#include <stdio.h>
#include <string.h>

#include "codelist.h"
#include "validate_lex.h"

void val_copy_attr(char *dst, size_t dstlen, const struct attr_val *a)
{
	size_t n = a->present ? a->len : 0;
	if (n >= dstlen) {
		n = dstlen - 1;
		while (n > 0 && ((unsigned char)a->v[n] & 0xC0) == 0x80)
			n--; /* do not cut a UTF-8 sequence */
	}
	if (n)
		memcpy(dst, a->v, n);
	dst[n] = '\0';
}

static void setup_codes(struct vstate *s)
{
	int y = s->header.hdr.aargang;
	const struct codelist *cl = s->p ? s->p->codes : NULL;
	bool have_tj = false, have_funk = false, have_skaar = false, have_diag = false;
	if (cl) {
		for (size_t i = 0; i < codelist_count(cl); i++) {
			const struct codelist_entry *e = codelist_at(cl, i);
			if (strcmp(e->list, "tjenestetype") == 0)
				have_tj = true;
			else if (strcmp(e->list, "funksjon") == 0)
				have_funk = true;
			else if (strcmp(e->list, "skaar") == 0)
				have_skaar = true;
			else if (strcmp(e->list, "diagnosekodeverk") == 0)
				have_diag = true;
		}
	}
	char code[16];
	for (int c = 0; c < 256; c++) {
		if (have_tj) {
			snprintf(code, sizeof code, "%d", c);
			const struct codelist_entry *e = codelist_find(cl, "tjenestetype", code, y);
			s->codes.tj_valid[c] = e != NULL;
			s->codes.tj_inst[c] = e && e->institution;
		} else {
			/* SPEC §2 list, when no code list is loaded */
			static const int codes[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,
						    11, 14, 15, 17, 18, 19, 20, 21, 22,
						    23, 24, 25, 26, 27, 28, 29};
			s->codes.tj_valid[c] = false;
			for (size_t i = 0; i < KPR_ARRAY_LEN(codes); i++)
				if (codes[i] == c)
					s->codes.tj_valid[c] = true;
			s->codes.tj_inst[c] = c == 8 || c == 17 || (c >= 18 && c <= 22) || c == 25;
		}
	}
	for (int k = 1; k <= V_FUNKSJON_COUNT; k++) {
		snprintf(code, sizeof code, "%d", k);
		s->codes.funk_valid[k] =
		    have_funk ? codelist_find(cl, "funksjon", code, y) != NULL : true;
	}
	for (int k = 0; k < 100; k++) {
		if (have_skaar) {
			snprintf(code, sizeof code, "%d", k);
			s->codes.skaar_valid[k] = codelist_find(cl, "skaar", code, y) != NULL;
		} else {
			s->codes.skaar_valid[k] = (k >= 1 && k <= 5) || k == 9;
		}
	}
	s->codes.icd10_ok =
	    have_diag ? codelist_find(cl, "diagnosekodeverk", "ICD-10", y) != NULL : true;
	s->codes.icpc2_ok =
	    have_diag ? codelist_find(cl, "diagnosekodeverk", "ICPC-2", y) != NULL : true;
}

static bool kommune_valid_31dec(const struct codelist *cl, const char *knr, int y)
{
	int d = y * 10000 + 1231;
	for (size_t i = 0; i < codelist_count(cl); i++) {
		const struct codelist_entry *e = codelist_at(cl, i);
		if (strcmp(e->list, "kommune") == 0 && strcmp(e->code, knr) == 0 &&
		    e->valid_from <= d && d <= e->valid_to)
			return true;
	}
	return false;
}

void val_header_innsending(struct vstate *s, const struct attr_val *a, unsigned long line)
{
	val_copy_attr(s->header.hdr.versjon, sizeof s->header.hdr.versjon, &a[0]);
	val_copy_attr(s->header.hdr.id, sizeof s->header.hdr.id, &a[1]);
	val_copy_attr(s->header.hdr.forrige_id, sizeof s->header.hdr.forrige_id, &a[2]);
	val_copy_attr(s->header.hdr.opprettet, sizeof s->header.hdr.opprettet, &a[3]);
	if (a[4].present && !a[4].bad)
		s->header.hdr.aargang = (int)a[4].i;
	if (a[3].present && !a[3].bad) {
		const char *v = a[3].v;
		size_t n = a[3].len;
		lex_trim(&v, &n);
		char d[V_DATE_LEN];
		if (n >= 10 && lex_dato(v, 10, d))
			memcpy(s->header.opprettet_date, d, sizeof d);
	}
	if (s->header.hdr.aargang > 0) {
		snprintf(s->header.y_start, sizeof s->header.y_start, "%04u-01-01",
			 (unsigned)s->header.hdr.aargang % 10000u);
		snprintf(s->header.y_end, sizeof s->header.y_end, "%04u-12-31",
			 (unsigned)s->header.hdr.aargang % 10000u);
		const struct validate_params *p = s->p;
		if (p && (p->aargang_open_min || p->aargang_open_max) &&
		    (s->header.hdr.aargang < p->aargang_open_min ||
		     s->header.hdr.aargang > p->aargang_open_max)) {
			char v[16];
			snprintf(v, sizeof v, "%d", s->header.hdr.aargang);
			if (p->aargang_open_min == p->aargang_open_max)
				val_msg(s, RULE_F005, line, "/Innsending/@aargang", v,
					"Årgang %d er ikke åpen for innsending; åpen årgang er %d",
					s->header.hdr.aargang, p->aargang_open_min);
			else
				val_msg(
				    s, RULE_F005, line, "/Innsending/@aargang", v,
				    "Årgang %d er ikke åpen for innsending; åpne årganger er %d–%d",
				    s->header.hdr.aargang, p->aargang_open_min,
				    p->aargang_open_max);
		}
	}
	setup_codes(s);
	if (s->p && s->p->latest_submission_id) {
		const char *latest = s->p->latest_submission_id;
		if (strcmp(latest, s->header.hdr.forrige_id) != 0) {
			/* identifiers are shown in full (SPEC §3): no masking */
			char id[sizeof s->header.hdr.forrige_id], text[512];
			val_show_identifier(s->header.hdr.forrige_id, id, sizeof id);
			const char *path = "/Innsending/@forrigeId";
			if (!*latest) {
				val_msg_raw(
				    s, RULE_F007, "", line, path,
				    "forrigeId er oppgitt, men registeret har ingen tidligere innsending fra kommunen for årgangen",
				    id);
			} else if (!s->header.hdr.forrige_id[0]) {
				snprintf(
				    text, sizeof text,
				    "forrigeId mangler, men registeret har en tidligere innsending (%s); en innsending kan mangle",
				    latest);
				val_msg_raw(s, RULE_F007, "", line, path, text, NULL);
			} else {
				snprintf(
				    text, sizeof text,
				    "forrigeId stemmer ikke med kommunens siste innsending (%s); en innsending kan mangle",
				    latest);
				val_msg_raw(s, RULE_F007, "", line, path, text, id);
			}
		}
	}
}

void val_header_avsender(struct vstate *s, const struct attr_val *a, unsigned long line)
{
	val_copy_attr(s->header.hdr.kommunenummer, sizeof s->header.hdr.kommunenummer, &a[0]);
	val_copy_attr(s->header.hdr.fagsystem, sizeof s->header.hdr.fagsystem, &a[1]);
	val_copy_attr(s->header.hdr.fagsystem_versjon, sizeof s->header.hdr.fagsystem_versjon,
		      &a[2]);
	s->header.header_ok = !s->fatal && s->header.hdr.id[0] && s->header.hdr.aargang > 0 &&
			      a[0].present && !a[0].bad;
	if (!a[0].present)
		return;
	const char *knr = s->header.hdr.kommunenummer;
	if (s->p && s->p->auth_kommune && strcmp(s->p->auth_kommune, knr) != 0)
		val_msg(s, RULE_F003, line, "/Innsending/Avsender/@kommunenummer", knr,
			"Kommunenummeret i filen (%s) er ikke kommunen du er logget inn som (%s)",
			knr, s->p->auth_kommune);
	if (s->p && s->p->codes && s->header.hdr.aargang > 0 &&
	    !kommune_valid_31dec(s->p->codes, knr, s->header.hdr.aargang))
		val_msg(s, RULE_F004, line, "/Innsending/Avsender/@kommunenummer", knr,
			"Kommunenummer %s er ikke en gyldig kommune per 31.12.%d", knr,
			s->header.hdr.aargang);
}
