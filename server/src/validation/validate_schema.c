/*
 * validate_schema.c — the structure of config/xsd/innsending.xsd as tables:
 * the elements, where each may occur, its content and its attributes with
 * their lexical types (checked by validate_lex.c). Element and attribute
 * names are compared as interned libxml2 dictionary pointers first.
 *
 * Must not: apply an R-rule; structure errors are F002 and nothing else.
 */
#include "validate_state.h"

#include <stdio.h>
#include <string.h>

#include "validate_lex.h"

const char *const val_ek_name[E_COUNT] = {
    "",
    "Innsending",
    "Avsender",
    "Person",
    "Fnr",
    "Kjonn",
    "Fodselsaar",
    "Dodsdato",
    "Vurdering",
    "Funksjon",
    "Tjeneste",
    "Diagnose",
    "Heldogn",
    "Legemiddelgjennomgang",
    "Ernaering",
    "IndividuellPlan",
    "Koordinator",
    "Venteliste",
};

const char *const val_ek_path[E_COUNT] = {
    "/",
    "/Innsending",
    "/Innsending/Avsender",
    "/Innsending/Person",
    "/Innsending/Person/Fnr",
    "/Innsending/Person/Kjonn",
    "/Innsending/Person/Fodselsaar",
    "/Innsending/Person/Dodsdato",
    "/Innsending/Person/Vurdering",
    "/Innsending/Person/Vurdering/Funksjon",
    "/Innsending/Person/Tjeneste",
    "/Innsending/Person/Diagnose",
    "/Innsending/Person/Heldogn",
    "/Innsending/Person/Legemiddelgjennomgang",
    "/Innsending/Person/Ernaering",
    "/Innsending/Person/IndividuellPlan",
    "/Innsending/Person/Koordinator",
    "/Innsending/Person/Venteliste",
};

enum content val_ek_content(enum ek k)
{
	switch (k) {
	case E_INNSENDING:
	case E_PERSON:
	case E_VURDERING:
		return C_ELEMENTS;
	case E_FNR:
	case E_KJONN:
	case E_FODSELSAAR:
	case E_DODSDATO:
		return C_SIMPLE;
	default:
		return C_EMPTY;
	}
}

const struct attr_spec val_attr_specs[E_COUNT][MAX_ATTRS + 1] = {
    [E_INNSENDING] = {{"versjon", T_STRING, true, 1, 16},
		      {"id", T_STRING, true, 1, 64},
		      {"forrigeId", T_STRING, false, -1, 64},
		      {"opprettet", T_DATETIME, true, -1, -1},
		      {"aargang", T_AAR, true, -1, -1}},
    [E_AVSENDER] = {{"kommunenummer", T_STRING, true, 4, 4},
		    {"fagsystem", T_STRING, true, 1, 64},
		    {"fagsystemVersjon", T_STRING, false, -1, 32}},
    [E_PERSON] = {{"ref", T_STRING, false, -1, -1}, {"enhet", T_STRING, false, -1, -1}},
    [E_VURDERING] = {{"dato", T_DATO, true, -1, -1}},
    [E_FUNKSJON] = {{"kode", T_INTEGER, true, -1, -1}, {"skaar", T_INTEGER, true, -1, -1}},
    [E_TJENESTE] = {{"type", T_INTEGER, true, -1, -1},
		    {"soknad", T_DATO, false, -1, -1},
		    {"vedtak", T_DATO, false, -1, -1},
		    {"start", T_DATO, false, -1, -1},
		    {"slutt", T_DATO, false, -1, -1},
		    {"avslag", T_BOOLEAN, false, -1, -1},
		    {"timerPerUke", T_DECIMAL, false, -1, -1},
		    {"timerMedFlere", T_DECIMAL, false, -1, -1},
		    {"orgnr", T_STRING, false, -1, -1},
		    {"enhet", T_STRING, false, -1, -1}},
    [E_DIAGNOSE] = {{"kodeverk", T_STRING, true, -1, -1}, {"kode", T_STRING, true, -1, -1}},
    [E_HELDOGN] = {{"svar", T_INTEGER, true, -1, -1}, {"dato", T_DATO, true, -1, -1}},
    [E_LEGEMIDDEL] = {{"svar", T_INTEGER, true, -1, -1}, {"dato", T_DATO, true, -1, -1}},
    [E_ERNAERING] = {{"risiko", T_INTEGER, true, -1, -1}, {"dato", T_DATO, true, -1, -1}},
    [E_INDPLAN] = {{"kode", T_INTEGER, true, -1, -1}},
    [E_KOORDINATOR] = {{"kode", T_INTEGER, true, -1, -1}},
    [E_VENTELISTE] = {{"vedtak", T_DATO, true, -1, -1}},
};

/* Simple-content element types */
enum lex_type val_simple_type(enum ek k)
{
	switch (k) {
	case E_KJONN:
		return T_INTEGER;
	case E_FODSELSAAR:
		return T_AAR;
	case E_DODSDATO:
		return T_DATO;
	default:
		return T_STRING;
	}
}

const char *val_type_text(enum lex_type t)
{
	switch (t) {
	case T_INTEGER:
		return "et heltall";
	case T_DECIMAL:
		return "et desimaltall (for eksempel 7.5)";
	case T_BOOLEAN:
		return "true eller false";
	case T_DATO:
		return "en gyldig dato på formen ÅÅÅÅ-MM-DD";
	case T_AAR:
		return "et årstall med fire sifre";
	case T_DATETIME:
		return "et gyldig tidspunkt (ÅÅÅÅ-MM-DDTtt:mm:ss med tidssone)";
	default:
		return "en gyldig tekst";
	}
}

static bool name_is(struct vstate *s, const xmlChar *interned, const xmlChar *name,
		    const char *plain)
{
	(void)s;
	return name == interned || (name && strcmp((const char *)name, plain) == 0);
}

bool val_lex_check(enum lex_type t, struct attr_val *v, int minlen, int maxlen)
{
	switch (t) {
	case T_STRING:
		if (minlen >= 0 || maxlen >= 0) {
			size_t n = lex_utf8_len(v->v, v->len);
			if ((minlen >= 0 && n < (size_t)minlen) ||
			    (maxlen >= 0 && n > (size_t)maxlen))
				return false;
		}
		return true;
	case T_INTEGER:
		return lex_integer(v->v, v->len, &v->i);
	case T_DECIMAL:
		return lex_decimal(v->v, v->len, &v->d);
	case T_BOOLEAN:
		return lex_boolean(v->v, v->len, &v->b);
	case T_DATO:
		return lex_dato(v->v, v->len, v->date);
	case T_AAR: {
		int y = 0;
		bool ok = lex_aar(v->v, v->len, &y);
		v->i = y;
		return ok;
	}
	case T_DATETIME:
		return lex_datetime(v->v, v->len);
	}
	return false;
}

static void length_text(char *buf, size_t n, int minlen, int maxlen)
{
	if (minlen >= 0 && minlen == maxlen)
		snprintf(buf, n, "en tekst på nøyaktig %d tegn", minlen);
	else if (minlen > 0)
		snprintf(buf, n, "en tekst på %d–%d tegn", minlen, maxlen);
	else
		snprintf(buf, n, "en tekst på høyst %d tegn", maxlen);
}

/* Checks the attributes of element k against its spec; fills out[] by spec
 * index. False when any attribute is wrong (F002 reported). */
bool val_check_attrs(struct vstate *s, enum ek k, unsigned long line, int nb_attrs,
		     const xmlChar **attrs, struct attr_val *out)
{
	const struct attr_spec *spec = val_attr_specs[k];
	bool ok = true;
	char path[128];
	for (int i = 0; i < nb_attrs; i++) {
		const xmlChar *lname = attrs[i * 5];
		const xmlChar *uri = attrs[i * 5 + 2];
		const char *val = (const char *)attrs[i * 5 + 3];
		size_t vlen = (size_t)(attrs[i * 5 + 4] - attrs[i * 5 + 3]);
		if (uri) {
			if (strcmp((const char *)uri, XSI_URI) == 0 &&
			    (name_is(s, s->parser.xsi_schemaLocation, lname, "schemaLocation") ||
			     name_is(s, s->parser.xsi_noNs, lname, "noNamespaceSchemaLocation")))
				continue;
			snprintf(path, sizeof path, "%s/@%s", val_ek_path[k], (const char *)lname);
			val_f002(s, line, path, NULL, 0,
				 "Attributtet «{%s}%s» er ikke tillatt på «%s»", (const char *)uri,
				 (const char *)lname, val_ek_name[k]);
			ok = false;
			continue;
		}
		int j = 0;
		for (; spec[j].name; j++)
			if (s->parser.aname[k][j] == lname)
				break;
		if (!spec[j].name)
			for (j = 0; spec[j].name; j++)
				if (strcmp(spec[j].name, (const char *)lname) == 0)
					break;
		if (!spec[j].name) {
			snprintf(path, sizeof path, "%s/@%s", val_ek_path[k], (const char *)lname);
			val_f002(s, line, path, NULL, 0, "Attributtet «%s» er ikke tillatt på «%s»",
				 (const char *)lname, val_ek_name[k]);
			ok = false;
			continue;
		}
		struct attr_val *a = &out[j];
		a->v = val;
		a->len = vlen;
		a->present = true;
		if (vlen > MAX_ATTR_VALUE ||
		    !val_lex_check(spec[j].type, a, spec[j].minlen, spec[j].maxlen)) {
			a->bad = true;
			ok = false;
			snprintf(path, sizeof path, "%s/@%s", val_ek_path[k], spec[j].name);
			char want[80];
			if (spec[j].type == T_STRING)
				length_text(want, sizeof want, spec[j].minlen, spec[j].maxlen);
			else
				snprintf(want, sizeof want, "%s", val_type_text(spec[j].type));
			val_f002(s, line, path, val, vlen, "Verdien i attributtet «%s» er ikke %s",
				 spec[j].name, want);
		}
	}
	for (int j = 0; spec[j].name; j++) {
		if (spec[j].required && !out[j].present) {
			snprintf(path, sizeof path, "%s/@%s", val_ek_path[k], spec[j].name);
			val_f002(s, line, path, NULL, 0, "Attributtet «%s» mangler på «%s»",
				 spec[j].name, val_ek_name[k]);
			ok = false;
		}
	}
	return ok;
}

enum ek val_classify(struct vstate *s, enum ek parent, const xmlChar *lname)
{
	enum ek lo, hi;
	switch (parent) {
	case E_NONE:
		lo = hi = E_INNSENDING;
		break;
	case E_INNSENDING:
		lo = E_AVSENDER;
		hi = E_PERSON;
		break;
	case E_PERSON:
		lo = E_FNR;
		hi = E_VENTELISTE;
		break;
	case E_VURDERING:
		lo = hi = E_FUNKSJON;
		break;
	default:
		return E_NONE;
	}
	for (int k = lo; k <= (int)hi; k++) {
		if (k == E_FUNKSJON && parent == E_PERSON)
			continue;
		if (s->parser.ename[k] == lname)
			return (enum ek)k;
	}
	for (int k = lo; k <= (int)hi; k++) {
		if (k == E_FUNKSJON && parent == E_PERSON)
			continue;
		if (strcmp(val_ek_name[k], (const char *)lname) == 0)
			return (enum ek)k;
	}
	return E_NONE;
}

void val_intern_names(struct vstate *s)
{
	xmlDictPtr d = s->parser.ctxt->dict;
	for (int k = 1; k < E_COUNT; k++) {
		s->parser.ename[k] = xmlDictLookup(d, (const xmlChar *)val_ek_name[k], -1);
		for (int j = 0; j < MAX_ATTRS && val_attr_specs[k][j].name; j++)
			s->parser.aname[k][j] =
			    xmlDictLookup(d, (const xmlChar *)val_attr_specs[k][j].name, -1);
	}
	s->parser.xsi_schemaLocation = xmlDictLookup(d, (const xmlChar *)"schemaLocation", -1);
	s->parser.xsi_noNs = xmlDictLookup(d, (const xmlChar *)"noNamespaceSchemaLocation", -1);
}
