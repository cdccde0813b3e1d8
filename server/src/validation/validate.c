/*
 * validate.c — the streaming validation engine (validate.h, SPEC §2–§3).
 *
 * Owns: reading a submission (plain or gzip, UTF-8 or ISO-8859-1) with the
 * libxml2 SAX2 push parser in fixed-size chunks; the structural check that
 * mirrors config/xsd/innsending.xsd (element names compared as interned
 * dictionary pointers, lexical types in validate_lex.c); every F- and R-rule;
 * deciding what is excluded; handing each accepted person to the sink when
 * its Person element ends; duplicate detection (R105/R106) with retraction.
 *
 * Hardening: a DOCTYPE stops the parser at its first callback, before any
 * internal subset or entity is parsed (F001), so only the predefined
 * entities and character references exist (they are replaced, XML_PARSE_NOENT);
 * no DTD loading, no network; bounded depth, text and attribute sizes; the
 * decompressed size is counted as it is produced (F006), so a gzip bomb
 * stops at the limit.
 *
 * Must not: build a document tree, hold more than one person's elements,
 * or put a national ID anywhere but the sink's v_person.fnr: every value in
 * a message goes through nid_mask() (Fnr) or scrub_value() (SPEC §3's
 * masking rule, nid_mask_text). Identity is not display: refs are compared,
 * kept for duplicate detection and retracted exactly as written; only the
 * copy put into a message is masked.
 */
#include "validate.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlschemastypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "nid.h"
#include "validate_lex.h"

#define NS_URI  "urn:no:kpr:innsending:1"
#define XSI_URI "http://www.w3.org/2001/XMLSchema-instance"

#define CHUNK_SIZE          (64 * 1024)
#define MAX_DEPTH           32   /* deeper than the schema allows: stop */
#define MAX_TEXT            4096 /* simple-content text kept per element */
#define MAX_ATTR_VALUE      (64 * 1024)
#define MAX_PERSON_ELEMENTS 200000 /* one person's working set */
#define MAX_F002            100    /* structural messages before giving up */
#define MAX_VALUE_SHOWN     120
#define MAX_REF_SHOWN       256 /* a valid ref (64 characters) is always shown whole */

enum ek {
	E_NONE = 0,
	E_INNSENDING,
	E_AVSENDER,
	E_PERSON,
	E_FNR,
	E_KJONN,
	E_FODSELSAAR,
	E_DODSDATO,
	E_VURDERING,
	E_FUNKSJON,
	E_TJENESTE,
	E_DIAGNOSE,
	E_HELDOGN,
	E_LEGEMIDDEL,
	E_ERNAERING,
	E_INDPLAN,
	E_KOORDINATOR,
	E_VENTELISTE,
	E_COUNT
};

static const char *const ek_name[E_COUNT] = {
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

static const char *const ek_path[E_COUNT] = {
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

enum content { C_ELEMENTS, C_SIMPLE, C_EMPTY };

static enum content ek_content(enum ek k)
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

enum lex_type { T_STRING, T_INTEGER, T_DECIMAL, T_BOOLEAN, T_DATO, T_AAR, T_DATETIME };

struct attr_spec {
	const char *name;
	enum lex_type type;
	bool required;
	int minlen, maxlen; /* T_STRING: characters; -1 none */
};

#define MAX_ATTRS 9
static const struct attr_spec attr_specs[E_COUNT][MAX_ATTRS + 1] = {
    [E_INNSENDING] = {{"versjon", T_STRING, true, 1, 16},
		      {"id", T_STRING, true, 1, 64},
		      {"forrigeId", T_STRING, false, -1, 64},
		      {"opprettet", T_DATETIME, true, -1, -1},
		      {"aargang", T_AAR, true, -1, -1}},
    [E_AVSENDER] = {{"kommunenummer", T_STRING, true, 4, 4},
		    {"fagsystem", T_STRING, true, 1, 64},
		    {"fagsystemVersjon", T_STRING, false, -1, 32}},
    [E_PERSON] = {{"ref", T_STRING, false, -1, -1}},
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
		    {"orgnr", T_STRING, false, -1, -1}},
    [E_DIAGNOSE] = {{"kodeverk", T_STRING, true, -1, -1}, {"kode", T_STRING, true, -1, -1}},
    [E_HELDOGN] = {{"svar", T_INTEGER, true, -1, -1}, {"dato", T_DATO, true, -1, -1}},
    [E_LEGEMIDDEL] = {{"svar", T_INTEGER, true, -1, -1}, {"dato", T_DATO, true, -1, -1}},
    [E_ERNAERING] = {{"risiko", T_INTEGER, true, -1, -1}, {"dato", T_DATO, true, -1, -1}},
    [E_INDPLAN] = {{"kode", T_INTEGER, true, -1, -1}},
    [E_KOORDINATOR] = {{"kode", T_INTEGER, true, -1, -1}},
    [E_VENTELISTE] = {{"vedtak", T_DATO, true, -1, -1}},
};

/* Simple-content element types */
static enum lex_type simple_type(enum ek k)
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

static const char *type_text(enum lex_type t)
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

struct attr_val {
	const char *v;
	size_t len;
	bool present;
	bool bad;
	long i;
	double d;
	bool b;
	char date[V_DATE_LEN];
};

/* A growable array of T plus a status byte per element: 0 accepted,
 * 1 excluded by an ERROR, 2 structurally broken (F002). */
struct vec {
	void *d;
	unsigned char *st;
	unsigned long *regs; /* registrations of the element (Vurdering: 1 + Funksjon) */
	size_t n, cap, esz;
};

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
	v->st[v->n] = 0;
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
		if (v->st[i] != 0)
			continue;
		if (i != j) {
			memcpy((char *)v->d + j * v->esz, (char *)v->d + i * v->esz, v->esz);
			v->regs[j] = v->regs[i];
		}
		v->st[j] = 0;
		regs += v->regs[j];
		j++;
	}
	v->n = j;
	return regs;
}

#define VEC_AT(v, T, i) (&((T *)(v)->d)[i])

enum pv { PV_VURD, PV_TJ, PV_DIAG, PV_HELD, PV_LMG, PV_ERN, PV_IP, PV_KOORD, PV_VL, PV_COUNT };

/* Person records for duplicate detection: one per Person, for the file. */
/* Duplicate detection costs about 40-70 bytes per person: a 16-byte record,
 * the ref's display form, an 8-byte slot in each of two open-addressing
 * tables kept at most 70 % full. */
struct prec {
	uint32_t ref_off; /* the ref as written (up to 256 bytes) in refs */
	uint32_t line;    /* saturated */
	uint32_t regs;    /* registrations handed to the sink */
	uint8_t delivered, retracted;
};

struct ref_slot {
	uint32_t hash;
	uint32_t prec; /* index + 1; 0 empty */
};

/* fnr slots: (37-bit keyed permutation of the number) << 27 | (prec index + 1) */
#define FNR_KEY_BITS  37
#define FNR_PREC_BITS 27
#define FNR_KEY_MASK  ((1ULL << FNR_KEY_BITS) - 1)
#define MAX_PRECS     ((1UL << FNR_PREC_BITS) - 2)

struct vstate {
	xmlParserCtxtPtr ctxt;
	const struct validate_params *p;
	const struct validate_sink *sink;
	struct report *r;
	struct validate_result *res;
	struct nid_options nidopt;

	/* peek mode: stop after Avsender, first fatal message to peek_err */
	bool peek;
	char peek_err[256];
	bool timed_out; /* validate_params.deadline passed */

	bool stopped, internal_error, fatal, io_fatal;
	/* F003/F004/F005: the file is not the sender's, or not for an open
	 * årgang. Per-record R-rules would judge it against the wrong year or
	 * municipality, so only the structure is still checked and reported. */
	bool header_fatal;
	unsigned long n_f002;

	/* interned names */
	const xmlChar *ename[E_COUNT];
	const xmlChar *aname[E_COUNT][MAX_ATTRS];
	const xmlChar *xsi_schemaLocation, *xsi_noNs;
	const xmlChar *ns_interned;

	/* element stack */
	enum ek stack[MAX_DEPTH + 1];
	unsigned long stack_line[MAX_DEPTH + 1];
	bool text_err[MAX_DEPTH + 1];
	int depth;
	unsigned long skip_depth;

	/* simple-content text of the current element */
	char text[MAX_TEXT + 1];
	size_t text_len;
	bool text_overflow, text_pending_ws;

	/* header */
	bool seen_root, seen_avsender, header_ok;
	struct v_header hdr;
	char y_start[V_DATE_LEN], y_end[V_DATE_LEN]; /* "" when aargang unknown */
	char opprettet_date[V_DATE_LEN];
	bool tj_valid[256], tj_inst[256];
	bool funk_valid[V_FUNKSJON_COUNT + 1];
	bool skaar_valid[100];
	bool icd10_ok, icpc2_ok;

	/* current person */
	bool in_person;
	int person_phase;
	unsigned long person_line;
	char *ref;
	size_t ref_len, ref_bufcap;
	bool has_ref;
	char ref_display[MAX_REF_SHOWN + 8];
	bool ref_idlike;
	char fnr[40];
	size_t fnr_len;
	bool has_fnr, fnr_overflow;
	unsigned long fnr_line;
	long kjonn;
	bool has_kjonn, kjonn_broken;
	unsigned long kjonn_line;
	int fodselsaar;
	bool has_fodselsaar;
	unsigned long fodselsaar_line;
	char dodsdato[V_DATE_LEN];
	bool has_dodsdato;
	unsigned long dodsdato_line;
	unsigned long ident_regs;  /* Fnr, Kjonn, Fodselsaar, Dodsdato elements */
	unsigned long person_regs; /* every element inside the Person */
	unsigned long person_elems;
	bool person_excluded, person_broken, person_too_big;
	struct vec pv[PV_COUNT];
	/* current Vurdering */
	unsigned char vurd_count[V_FUNKSJON_COUNT + 1];
	long vurd_bad_codes[8];
	size_t vurd_n_bad;
	unsigned long vurd_nfunk;

	/* duplicate detection */
	struct prec *precs;
	size_t n_precs, cap_precs;
	char *refs;
	size_t refs_len, refs_cap;
	struct ref_slot *ref_tab;
	size_t ref_cap, ref_used; /* power of two */
	uint64_t *fnr_tab;
	size_t fnr_cap, fnr_used;
	uint64_t fnr_key0, fnr_key1, fnr_key2;

	/* input */
	unsigned long long bytes;
};

/* ---------------------------------------------------------------------- */
/* values in messages: never a national ID                                */

/* Copies v for a message: at most MAX_VALUE_SHOWN bytes, control characters
 * as '?', and every national-ID candidate masked by SPEC §3's rule
 * (nid_mask_text), so no national ID can pass through a message while
 * everything else is shown as written. */
static void scrub_text(const struct vstate *s, const char *v, size_t len, size_t max_shown,
		       char *out, size_t outlen)
{
	/* masking is decided on a prefix long enough to hold every candidate
	 * that starts before the cut */
	char masked[MAX_REF_SHOWN + 16];
	if (max_shown > MAX_REF_SHOWN)
		max_shown = MAX_REF_SHOWN;
	size_t mlen = len < max_shown + 15 ? len : max_shown + 15;
	(void)nid_mask_text(v, mlen, &s->nidopt, masked, mlen + 1);
	mlen = strlen(masked);
	if (mlen < len && mlen < max_shown)
		len = mlen; /* a NUL inside v: show what comes before it */
	v = masked;
	size_t o = 0;
	size_t i = 0;
	for (; i < len && i < max_shown && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f) {
			out[o++] = '?';
		} else {
			out[o++] = (char)c;
		}
	}
	if (i < len) {
		/* cut: finish a UTF-8 sequence, then mark the cut */
		while (i < len && ((unsigned char)v[i] & 0xC0) == 0x80 && o + 5 < outlen)
			out[o++] = v[i++];
		if (i < len && o + 4 < outlen) {
			memcpy(out + o, "...", 3);
			o += 3;
		}
	}
	out[o] = '\0';
}

/* An identifier (Innsending/@id, @forrigeId) for a message: shown in full,
 * control characters as '?'. */
static void show_identifier(const char *v, char *out, size_t outlen)
{
	size_t o = 0;
	for (; v[o] && o + 1 < outlen; o++) {
		unsigned char c = (unsigned char)v[o];
		out[o] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
}

static void scrub_value(const struct vstate *s, const char *v, size_t len, char *out, size_t outlen)
{
	scrub_text(s, v, len, MAX_VALUE_SHOWN, out, outlen);
}

/* ---------------------------------------------------------------------- */
/* messages                                                               */

static void stop(struct vstate *s)
{
	if (!s->stopped) {
		s->stopped = true;
		xmlStopParser(s->ctxt);
	}
}

static void msg_raw(struct vstate *s, enum rule_id rule, const char *ref, unsigned long line,
		    const char *path, const char *text, const char *value)
{
	const struct rule_def *rd = rules_get(rule);
	if (rd->severity == SEV_FATAL)
		s->fatal = true;
	if (rule == RULE_F003 || rule == RULE_F004 || rule == RULE_F005)
		s->header_fatal = true;
	else if (s->header_fatal && rd->id[0] == 'R')
		return;
	if (!s->r) {
		if (rd->severity == SEV_FATAL && !s->peek_err[0])
			snprintf(s->peek_err, sizeof s->peek_err, "%s linje %lu: %s", rd->id, line,
				 text);
		return;
	}
	if (!report_add_rule(s->r, rule, ref ? ref : "", line, path, text, value)) {
		s->internal_error = true;
		stop(s);
	}
}

/* A message about the current person (or file-level outside a person). */
static void msg(struct vstate *s, enum rule_id rule, unsigned long line, const char *path,
		const char *value, const char *fmt, ...) KPR_PRINTF(6, 7);
static void msg(struct vstate *s, enum rule_id rule, unsigned long line, const char *path,
		const char *value, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	char val[MAX_VALUE_SHOWN * 4 + 16];
	if (value)
		scrub_value(s, value, strlen(value), val, sizeof val);
	msg_raw(s, rule, s->in_person ? s->ref_display : "", line, path, text, value ? val : NULL);
}

static void msgv(struct vstate *s, enum rule_id rule, unsigned long line, const char *path,
		 const char *v, size_t vlen, const char *fmt, ...) KPR_PRINTF(7, 8);
static void msgv(struct vstate *s, enum rule_id rule, unsigned long line, const char *path,
		 const char *v, size_t vlen, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	char val[MAX_VALUE_SHOWN * 4 + 16];
	scrub_value(s, v, vlen, val, sizeof val);
	msg_raw(s, rule, s->in_person ? s->ref_display : "", line, path, text, val);
}

static void f002(struct vstate *s, unsigned long line, const char *path, const char *v, size_t vlen,
		 const char *fmt, ...) KPR_PRINTF(6, 7);
static void f002(struct vstate *s, unsigned long line, const char *path, const char *v, size_t vlen,
		 const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	char val[MAX_VALUE_SHOWN * 4 + 16];
	if (v)
		scrub_value(s, v, vlen, val, sizeof val);
	msg_raw(s, RULE_F002, s->in_person ? s->ref_display : "", line, path, text, v ? val : NULL);
	if (s->in_person)
		s->person_broken = true;
	if (++s->n_f002 >= MAX_F002) {
		msg_raw(
		    s, RULE_F002, "", line, "/Innsending",
		    "Kontrollen ble avbrutt etter for mange strukturfeil; rett feilene over og send filen på nytt",
		    NULL);
		stop(s);
	}
}

/* ---------------------------------------------------------------------- */
/* parser plumbing                                                        */

static unsigned long cur_line(struct vstate *s)
{
	return (unsigned long)xmlSAX2GetLineNumber(s->ctxt);
}

/* The line where the current start tag begins (the parser sits at its end). */
static unsigned long start_line(struct vstate *s)
{
	xmlParserInputPtr in = s->ctxt->input;
	if (!in || !in->cur || !in->base)
		return cur_line(s);
	unsigned long line = (unsigned long)in->line;
	if (in->cur <= in->base)
		return line;
	/* '<' cannot occur inside a start tag, so the last one is its start */
	const char *lt = memrchr(in->base, '<', (size_t)(in->cur - in->base));
	if (!lt)
		return line;
	unsigned long nl = 0;
	const char *end = (const char *)in->cur;
	for (const char *p = lt; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		nl++;
	return line > nl ? line - nl : line;
}

static bool name_is(struct vstate *s, const xmlChar *interned, const xmlChar *name,
		    const char *plain)
{
	(void)s;
	return name == interned || (name && strcmp((const char *)name, plain) == 0);
}

static bool ns_ok(struct vstate *s, const xmlChar *uri)
{
	if (!uri)
		return false;
	if (uri == s->ns_interned)
		return true;
	if (strcmp((const char *)uri, NS_URI) == 0) {
		s->ns_interned = uri;
		return true;
	}
	return false;
}

/* ---------------------------------------------------------------------- */
/* header                                                                 */

static void copy_attr(char *dst, size_t dstlen, const struct attr_val *a)
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
	int y = s->hdr.aargang;
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
			s->tj_valid[c] = e != NULL;
			s->tj_inst[c] = e && e->institution;
		} else {
			/* SPEC §2 list, when no code list is loaded */
			static const int codes[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,
						    11, 14, 15, 17, 18, 19, 20, 21, 22,
						    23, 24, 25, 26, 27, 28, 29};
			s->tj_valid[c] = false;
			for (size_t i = 0; i < KPR_ARRAY_LEN(codes); i++)
				if (codes[i] == c)
					s->tj_valid[c] = true;
			s->tj_inst[c] = c == 8 || c == 17 || (c >= 18 && c <= 22) || c == 25;
		}
	}
	for (int k = 1; k <= V_FUNKSJON_COUNT; k++) {
		snprintf(code, sizeof code, "%d", k);
		s->funk_valid[k] =
		    have_funk ? codelist_find(cl, "funksjon", code, y) != NULL : true;
	}
	for (int k = 0; k < 100; k++) {
		if (have_skaar) {
			snprintf(code, sizeof code, "%d", k);
			s->skaar_valid[k] = codelist_find(cl, "skaar", code, y) != NULL;
		} else {
			s->skaar_valid[k] = (k >= 1 && k <= 5) || k == 9;
		}
	}
	s->icd10_ok = have_diag ? codelist_find(cl, "diagnosekodeverk", "ICD-10", y) != NULL : true;
	s->icpc2_ok = have_diag ? codelist_find(cl, "diagnosekodeverk", "ICPC-2", y) != NULL : true;
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

static void header_innsending(struct vstate *s, const struct attr_val *a, unsigned long line)
{
	copy_attr(s->hdr.versjon, sizeof s->hdr.versjon, &a[0]);
	copy_attr(s->hdr.id, sizeof s->hdr.id, &a[1]);
	copy_attr(s->hdr.forrige_id, sizeof s->hdr.forrige_id, &a[2]);
	copy_attr(s->hdr.opprettet, sizeof s->hdr.opprettet, &a[3]);
	if (a[4].present && !a[4].bad)
		s->hdr.aargang = (int)a[4].i;
	if (a[3].present && !a[3].bad) {
		const char *v = a[3].v;
		size_t n = a[3].len;
		lex_trim(&v, &n);
		char d[V_DATE_LEN];
		if (n >= 10 && lex_dato(v, 10, d))
			memcpy(s->opprettet_date, d, sizeof d);
	}
	if (s->hdr.aargang > 0) {
		snprintf(s->y_start, sizeof s->y_start, "%04u-01-01",
			 (unsigned)s->hdr.aargang % 10000u);
		snprintf(s->y_end, sizeof s->y_end, "%04u-12-31",
			 (unsigned)s->hdr.aargang % 10000u);
		const struct validate_params *p = s->p;
		if (p && (p->aargang_open_min || p->aargang_open_max) &&
		    (s->hdr.aargang < p->aargang_open_min ||
		     s->hdr.aargang > p->aargang_open_max)) {
			char v[16];
			snprintf(v, sizeof v, "%d", s->hdr.aargang);
			if (p->aargang_open_min == p->aargang_open_max)
				msg(s, RULE_F005, line, "/Innsending/@aargang", v,
				    "Årgang %d er ikke åpen for innsending; åpen årgang er %d",
				    s->hdr.aargang, p->aargang_open_min);
			else
				msg(s, RULE_F005, line, "/Innsending/@aargang", v,
				    "Årgang %d er ikke åpen for innsending; åpne årganger er %d–%d",
				    s->hdr.aargang, p->aargang_open_min, p->aargang_open_max);
		}
	}
	setup_codes(s);
	if (s->p && s->p->latest_submission_id) {
		const char *latest = s->p->latest_submission_id;
		if (strcmp(latest, s->hdr.forrige_id) != 0) {
			/* identifiers are shown in full (SPEC §3): no masking */
			char id[sizeof s->hdr.forrige_id], text[512];
			show_identifier(s->hdr.forrige_id, id, sizeof id);
			const char *path = "/Innsending/@forrigeId";
			if (!*latest) {
				msg_raw(
				    s, RULE_F007, "", line, path,
				    "forrigeId er oppgitt, men registeret har ingen tidligere innsending fra kommunen for årgangen",
				    id);
			} else if (!s->hdr.forrige_id[0]) {
				snprintf(
				    text, sizeof text,
				    "forrigeId mangler, men registeret har en tidligere innsending (%s); en innsending kan mangle",
				    latest);
				msg_raw(s, RULE_F007, "", line, path, text, NULL);
			} else {
				snprintf(
				    text, sizeof text,
				    "forrigeId stemmer ikke med kommunens siste innsending (%s); en innsending kan mangle",
				    latest);
				msg_raw(s, RULE_F007, "", line, path, text, id);
			}
		}
	}
}

static void header_avsender(struct vstate *s, const struct attr_val *a, unsigned long line)
{
	copy_attr(s->hdr.kommunenummer, sizeof s->hdr.kommunenummer, &a[0]);
	copy_attr(s->hdr.fagsystem, sizeof s->hdr.fagsystem, &a[1]);
	copy_attr(s->hdr.fagsystem_versjon, sizeof s->hdr.fagsystem_versjon, &a[2]);
	s->header_ok = !s->fatal && s->hdr.id[0] && s->hdr.aargang > 0 && a[0].present && !a[0].bad;
	if (!a[0].present)
		return;
	const char *knr = s->hdr.kommunenummer;
	if (s->p && s->p->auth_kommune && strcmp(s->p->auth_kommune, knr) != 0)
		msg(s, RULE_F003, line, "/Innsending/Avsender/@kommunenummer", knr,
		    "Kommunenummeret i filen (%s) er ikke kommunen du er logget inn som (%s)", knr,
		    s->p->auth_kommune);
	if (s->p && s->p->codes && s->hdr.aargang > 0 &&
	    !kommune_valid_31dec(s->p->codes, knr, s->hdr.aargang))
		msg(s, RULE_F004, line, "/Innsending/Avsender/@kommunenummer", knr,
		    "Kommunenummer %s er ikke en gyldig kommune per 31.12.%d", knr, s->hdr.aargang);
}

/* ---------------------------------------------------------------------- */
/* attributes                                                             */

static bool lex_check(enum lex_type t, struct attr_val *v, int minlen, int maxlen)
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
static bool check_attrs(struct vstate *s, enum ek k, unsigned long line, int nb_attrs,
			const xmlChar **attrs, struct attr_val *out)
{
	const struct attr_spec *spec = attr_specs[k];
	bool ok = true;
	char path[128];
	for (int i = 0; i < nb_attrs; i++) {
		const xmlChar *lname = attrs[i * 5];
		const xmlChar *uri = attrs[i * 5 + 2];
		const char *val = (const char *)attrs[i * 5 + 3];
		size_t vlen = (size_t)(attrs[i * 5 + 4] - attrs[i * 5 + 3]);
		if (uri) {
			if (strcmp((const char *)uri, XSI_URI) == 0 &&
			    (name_is(s, s->xsi_schemaLocation, lname, "schemaLocation") ||
			     name_is(s, s->xsi_noNs, lname, "noNamespaceSchemaLocation")))
				continue;
			snprintf(path, sizeof path, "%s/@%s", ek_path[k], (const char *)lname);
			f002(s, line, path, NULL, 0, "Attributtet «{%s}%s» er ikke tillatt på «%s»",
			     (const char *)uri, (const char *)lname, ek_name[k]);
			ok = false;
			continue;
		}
		int j = 0;
		for (; spec[j].name; j++)
			if (s->aname[k][j] == lname)
				break;
		if (!spec[j].name)
			for (j = 0; spec[j].name; j++)
				if (strcmp(spec[j].name, (const char *)lname) == 0)
					break;
		if (!spec[j].name) {
			snprintf(path, sizeof path, "%s/@%s", ek_path[k], (const char *)lname);
			f002(s, line, path, NULL, 0, "Attributtet «%s» er ikke tillatt på «%s»",
			     (const char *)lname, ek_name[k]);
			ok = false;
			continue;
		}
		struct attr_val *a = &out[j];
		a->v = val;
		a->len = vlen;
		a->present = true;
		if (vlen > MAX_ATTR_VALUE ||
		    !lex_check(spec[j].type, a, spec[j].minlen, spec[j].maxlen)) {
			a->bad = true;
			ok = false;
			snprintf(path, sizeof path, "%s/@%s", ek_path[k], spec[j].name);
			char want[80];
			if (spec[j].type == T_STRING)
				length_text(want, sizeof want, spec[j].minlen, spec[j].maxlen);
			else
				snprintf(want, sizeof want, "%s", type_text(spec[j].type));
			f002(s, line, path, val, vlen, "Verdien i attributtet «%s» er ikke %s",
			     spec[j].name, want);
		}
	}
	for (int j = 0; spec[j].name; j++) {
		if (spec[j].required && !out[j].present) {
			snprintf(path, sizeof path, "%s/@%s", ek_path[k], spec[j].name);
			f002(s, line, path, NULL, 0, "Attributtet «%s» mangler på «%s»",
			     spec[j].name, ek_name[k]);
			ok = false;
		}
	}
	return ok;
}

/* ---------------------------------------------------------------------- */
/* the person working set                                                 */

static const size_t pv_esz[PV_COUNT] = {
    sizeof(struct v_vurdering), sizeof(struct v_tjeneste), sizeof(struct v_diagnose),
    sizeof(struct v_svar),      sizeof(struct v_svar),     sizeof(struct v_svar),
    sizeof(struct v_kode),      sizeof(struct v_kode),     sizeof(struct v_venteliste),
};

static bool ref_set(struct vstate *s, const char *v, size_t len)
{
	if (len + 1 > s->ref_bufcap) {
		size_t nc = len + 64;
		char *nr = realloc(s->ref, nc);
		if (!nr)
			return false;
		s->ref = nr;
		s->ref_bufcap = nc;
	}
	memcpy(s->ref, v, len);
	s->ref[len] = '\0';
	s->ref_len = len;
	return true;
}

static void person_begin(struct vstate *s, const struct attr_val *ref, unsigned long line)
{
	s->in_person = true;
	s->person_phase = 0;
	s->person_line = line;
	s->has_ref = ref->present && !ref->bad;
	s->ref_len = 0;
	if (s->ref)
		s->ref[0] = '\0';
	s->ref_idlike = false;
	s->ref_display[0] = '\0';
	if (s->has_ref) {
		size_t n = ref->len > 256 ? 256 : ref->len;
		if (!ref_set(s, ref->v, n)) {
			s->internal_error = true;
			stop(s);
			return;
		}
		s->ref_len = ref->len; /* the real length, for R106 */
		s->ref_idlike = nid_has_candidate(ref->v, ref->len, &s->nidopt);
		scrub_text(s, s->ref, n, MAX_REF_SHOWN, s->ref_display, sizeof s->ref_display);
	}
	s->has_fnr = s->fnr_overflow = false;
	s->fnr_len = 0;
	s->has_kjonn = s->kjonn_broken = false;
	s->has_fodselsaar = false;
	s->has_dodsdato = false;
	s->dodsdato[0] = '\0';
	s->ident_regs = s->person_regs = s->person_elems = 0;
	s->person_excluded = s->person_broken = s->person_too_big = false;
	for (int i = 0; i < PV_COUNT; i++) {
		s->pv[i].n = 0;
		s->pv[i].esz = pv_esz[i];
	}
}

/* ---------------------------------------------------------------------- */
/* element rules                                                          */

static bool date_set(const char *d)
{
	return d && d[0];
}

/* date minus 12 months ("2025-02-29" -> "2024-02-29" compares fine as text) */
static void minus_year(const char *d, char out[V_DATE_LEN])
{
	unsigned y = (unsigned)atoi(d) % 10000u;
	snprintf(out, V_DATE_LEN, "%04u%.6s", y > 0 ? y - 1 : 0, d + 4);
}

/* A new element of the person's working set; out of memory stops the
 * parse as an internal error (the caller just returns). */
static void *person_push(struct vstate *s, struct vec *v)
{
	void *e = vec_push(v);
	if (!e) {
		s->internal_error = true;
		stop(s);
	}
	return e;
}

static void element_vurdering_begin(struct vstate *s, const struct attr_val *a, unsigned long line,
				    bool ok)
{
	struct v_vurdering *v = person_push(s, &s->pv[PV_VURD]);
	if (!v)
		return;
	v->line = line;
	if (a[0].present && !a[0].bad)
		memcpy(v->dato, a[0].date, V_DATE_LEN);
	if (!ok)
		s->pv[PV_VURD].st[s->pv[PV_VURD].n - 1] = 2;
	memset(s->vurd_count, 0, sizeof s->vurd_count);
	s->vurd_n_bad = 0;
	s->vurd_nfunk = 0;
}

static void element_funksjon(struct vstate *s, const struct attr_val *a, unsigned long line,
			     bool ok)
{
	struct vec *vv = &s->pv[PV_VURD];
	if (vv->n == 0)
		return;
	size_t vi = vv->n - 1;
	struct v_vurdering *v = VEC_AT(vv, struct v_vurdering, vi);
	s->vurd_nfunk++;
	vv->regs[vi]++;
	if (!ok) {
		vv->st[vi] = 2;
		return;
	}
	long kode = a[0].i, skaar = a[1].i;
	const char *path = ek_path[E_FUNKSJON];
	if (kode >= 1 && kode <= V_FUNKSJON_COUNT && s->funk_valid[kode]) {
		if (s->vurd_count[kode] < 255)
			s->vurd_count[kode]++;
	} else if (s->vurd_n_bad < KPR_ARRAY_LEN(s->vurd_bad_codes)) {
		s->vurd_bad_codes[s->vurd_n_bad++] = kode;
	} else {
		s->vurd_n_bad++;
	}
	if (!(skaar >= 0 && skaar < 100 && s->skaar_valid[skaar])) {
		msgv(
		    s, RULE_R201, line, path, a[1].v, a[1].len,
		    "Skår for funksjon %ld er ikke en gyldig skår (1, 2, 3, 4, 5 eller 9); vurderingen lastes ikke",
		    kode);
		if (vv->st[vi] == 0)
			vv->st[vi] = 1;
	} else if (skaar == 9 && (kode == 11 || kode == 13 || kode == 14)) {
		msgv(
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

static void element_vurdering_end(struct vstate *s)
{
	struct vec *vv = &s->pv[PV_VURD];
	if (vv->n == 0)
		return;
	size_t vi = vv->n - 1;
	struct v_vurdering *v = VEC_AT(vv, struct v_vurdering, vi);
	if (vv->st[vi] == 2)
		return;
	const char *path = ek_path[E_VURDERING];
	/* R202: exactly the 17 codes, each once */
	char detail[256] = "";
	size_t dl = 0;
	int missing = 0, dup = 0;
	for (int k = 1; k <= V_FUNKSJON_COUNT; k++) {
		if (!s->funk_valid[k])
			continue;
		if (s->vurd_count[k] == 0)
			missing++;
		else if (s->vurd_count[k] > 1)
			dup++;
	}
	if (missing || dup || s->vurd_n_bad) {
		if (missing) {
			dl += (size_t)snprintf(detail + dl, sizeof detail - dl, "mangler kode");
			for (int k = 1; k <= V_FUNKSJON_COUNT && dl < sizeof detail - 8; k++)
				if (s->funk_valid[k] && s->vurd_count[k] == 0)
					dl += (size_t)snprintf(detail + dl, sizeof detail - dl,
							       " %d", k);
		}
		if (dup && dl < sizeof detail - 40) {
			dl += (size_t)snprintf(detail + dl, sizeof detail - dl,
					       "%sflere ganger: kode", dl ? "; " : "");
			for (int k = 1; k <= V_FUNKSJON_COUNT && dl < sizeof detail - 8; k++)
				if (s->funk_valid[k] && s->vurd_count[k] > 1)
					dl += (size_t)snprintf(detail + dl, sizeof detail - dl,
							       " %d", k);
		}
		if (s->vurd_n_bad && dl < sizeof detail - 40) {
			dl += (size_t)snprintf(detail + dl, sizeof detail - dl, "%sukjent kode",
					       dl ? "; " : "");
			size_t shown = s->vurd_n_bad < KPR_ARRAY_LEN(s->vurd_bad_codes)
					   ? s->vurd_n_bad
					   : KPR_ARRAY_LEN(s->vurd_bad_codes);
			for (size_t i = 0; i < shown && dl < sizeof detail - 16; i++)
				dl += (size_t)snprintf(detail + dl, sizeof detail - dl, " %ld",
						       s->vurd_bad_codes[i]);
		}
		char n[16];
		snprintf(n, sizeof n, "%lu", s->vurd_nfunk);
		msg(s, RULE_R202, v->line, path, n,
		    "Vurderingen har ikke nøyaktig de 17 funksjonskodene, hver én gang (%s); vurderingen lastes ikke",
		    detail);
		vv->st[vi] = 1;
	}
	/* R203 */
	if (date_set(v->dato)) {
		if (s->opprettet_date[0] && strcmp(v->dato, s->opprettet_date) > 0) {
			msg(s, RULE_R203, v->line, "/Innsending/Person/Vurdering/@dato", v->dato,
			    "Vurderingsdatoen er etter tidspunktet filen ble laget (%s); vurderingen lastes ikke",
			    s->opprettet_date);
			vv->st[vi] = 1;
		} else if (s->y_end[0] && strcmp(v->dato, s->y_end) > 0) {
			msg(s, RULE_R203, v->line, "/Innsending/Person/Vurdering/@dato", v->dato,
			    "Vurderingsdatoen er etter utgangen av årgang %d; vurderingen lastes ikke",
			    s->hdr.aargang);
			vv->st[vi] = 1;
		}
	}
}

static void element_tjeneste(struct vstate *s, const struct attr_val *a, unsigned long line,
			     bool ok)
{
	struct vec *tv = &s->pv[PV_TJ];
	struct v_tjeneste *t = person_push(s, tv);
	if (!t)
		return;
	size_t ti = tv->n - 1;
	t->line = line;
	if (!ok) {
		tv->st[ti] = 2;
		return;
	}
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
		copy_attr(t->orgnr, sizeof t->orgnr, &a[8]);

	const char *path = ek_path[E_TJENESTE];
	char p[96];
	bool err = false;
	/* R301 */
	bool known = t->type >= 0 && t->type < 256 ? s->tj_valid[t->type] : false;
	if (!known && s->hdr.aargang > 0) {
		snprintf(p, sizeof p, "%s/@type", path);
		msgv(s, RULE_R301, line, p, a[0].v, a[0].len,
		     "Tjenestetypen finnes ikke i kodelisten for årgang %d; tjenesten lastes ikke",
		     s->hdr.aargang);
		err = true;
	}
	/* R302 */
	if (date_set(t->start) && date_set(t->slutt) && strcmp(t->slutt, t->start) < 0) {
		snprintf(p, sizeof p, "%s/@slutt", path);
		msg(s, RULE_R302, line, p, t->slutt,
		    "Sluttdato er før startdato (%s); tjenesten lastes ikke", t->start);
		err = true;
	}
	if (date_set(t->vedtak) && date_set(t->soknad) && strcmp(t->vedtak, t->soknad) < 0) {
		snprintf(p, sizeof p, "%s/@vedtak", path);
		msg(s, RULE_R302, line, p, t->vedtak,
		    "Vedtaksdato er før søknadsdato (%s); tjenesten lastes ikke", t->soknad);
		err = true;
	}
	/* R303 */
	if (s->y_end[0] && date_set(t->start) && strcmp(t->start, s->y_end) > 0) {
		snprintf(p, sizeof p, "%s/@start", path);
		msg(s, RULE_R303, line, p, t->start,
		    "Startdato er etter utgangen av årgang %d; tjenesten lastes ikke",
		    s->hdr.aargang);
		err = true;
	}
	if (s->y_start[0] && date_set(t->slutt) && strcmp(t->slutt, s->y_start) < 0) {
		snprintf(p, sizeof p, "%s/@slutt", path);
		msg(s, RULE_R303, line, p, t->slutt,
		    "Sluttdato er før starten av årgang %d; tjenesten lastes ikke", s->hdr.aargang);
		err = true;
	}
	/* R304 */
	if (t->has_timer_per_uke && (t->timer_per_uke < 0 || t->timer_per_uke > 168)) {
		snprintf(p, sizeof p, "%s/@timerPerUke", path);
		msgv(
		    s, RULE_R304, line, p, a[6].v, a[6].len,
		    "Timer per uke er negativ eller over 168 (en uke har 168 timer); tjenesten lastes ikke");
		err = true;
	}
	if (t->has_timer_med_flere && (t->timer_med_flere < 0 || t->timer_med_flere > 168)) {
		snprintf(p, sizeof p, "%s/@timerMedFlere", path);
		msgv(
		    s, RULE_R304, line, p, a[7].v, a[7].len,
		    "Timer med flere er negativ eller over 168 (en uke har 168 timer); tjenesten lastes ikke");
		err = true;
	}
	/* R305 */
	if (t->has_timer_per_uke && t->has_timer_med_flere &&
	    t->timer_med_flere < t->timer_per_uke) {
		snprintf(p, sizeof p, "%s/@timerMedFlere", path);
		msgv(s, RULE_R305, line, p, a[7].v, a[7].len,
		     "Timer med flere er lavere enn timer per uke; tjenesten lastes ikke");
		err = true;
	}
	/* R306 */
	if (t->avslag && date_set(t->start)) {
		snprintf(p, sizeof p, "%s/@start", path);
		msg(s, RULE_R306, line, p, t->start,
		    "Tjenesten har avslag=\"true\", men også startdato; tjenesten lastes ikke");
		err = true;
	} else if (!t->avslag && date_set(t->vedtak) && !date_set(t->start)) {
		snprintf(p, sizeof p, "%s/@start", path);
		msg(s, RULE_R306, line, p, NULL,
		    "Tjenesten har vedtak uten avslag, men mangler startdato; tjenesten lastes ikke");
		err = true;
	}
	/* R307 (warning) */
	bool inst = t->type >= 0 && t->type < 256 && s->tj_inst[t->type];
	if (a[8].present) {
		/* free text: stored as written when it is not an ID candidate and
		 * fits the register's column; otherwise not stored at all (SPEC §3) */
		const char *o = a[8].v;
		size_t on = a[8].len;
		bool id = nid_has_candidate(o, on, &s->nidopt);
		bool fits = on < sizeof t->orgnr && lex_utf8_len(o, on) <= 64;
		if (id || !fits)
			t->orgnr[0] = '\0';
		snprintf(p, sizeof p, "%s/@orgnr", path);
		if (id)
			msgv(
			    s, RULE_R307, line, p, o, on,
			    "Organisasjonsnummeret ser ut til å inneholde et fødselsnummer og lagres ikke; oppgi institusjonens organisasjonsnummer (9 siffer)");
		else if (!orgnr_valid(o, on))
			msgv(
			    s, RULE_R307, line, p, o, on,
			    fits
				? "Organisasjonsnummeret er ikke gyldig (9 siffer med kontrollsiffer)"
				: "Organisasjonsnummeret er ikke gyldig (9 siffer med kontrollsiffer); det er for langt og lagres ikke");
	} else if (inst && date_set(t->start) && !t->avslag) {
		snprintf(p, sizeof p, "%s/@orgnr", path);
		msg(s, RULE_R307, line, p, NULL,
		    "Institusjonstjeneste (type %d) mangler organisasjonsnummer", t->type);
	}
	if (err)
		tv->st[ti] = 1;
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

static void element_diagnose(struct vstate *s, const struct attr_val *a, unsigned long line,
			     bool ok)
{
	struct vec *dv = &s->pv[PV_DIAG];
	struct v_diagnose *d = person_push(s, dv);
	if (!d)
		return;
	d->line = line;
	if (!ok) {
		dv->st[dv->n - 1] = 2;
		return;
	}
	copy_attr(d->kodeverk, sizeof d->kodeverk, &a[0]);
	copy_attr(d->kode, sizeof d->kode, &a[1]);
	bool kv_known = (a[0].len == 6 && memcmp(a[0].v, "ICD-10", 6) == 0 && s->icd10_ok) ||
			(a[0].len == 6 && memcmp(a[0].v, "ICPC-2", 6) == 0 && s->icpc2_ok);
	if (!kv_known) {
		msgv(s, RULE_R401, line, "/Innsending/Person/Diagnose/@kodeverk", a[0].v, a[0].len,
		     "Kodeverket er ikke ICD-10 eller ICPC-2; diagnosen lastes ikke");
		dv->st[dv->n - 1] = 1;
	} else if (!diag_code_ok(a[0].v, a[0].len, a[1].v, a[1].len, s->icd10_ok, s->icpc2_ok)) {
		msgv(s, RULE_R401, line, "/Innsending/Person/Diagnose/@kode", a[1].v, a[1].len,
		     "Diagnosekoden har feil form for %s (%s); diagnosen lastes ikke", d->kodeverk,
		     d->kodeverk[3] == '-' && d->kodeverk[2] == 'D'
			 ? "bokstav, to sifre, eventuelt punktum og 1–2 sifre"
			 : "bokstav og to sifre");
		dv->st[dv->n - 1] = 1;
	}
}

static void element_svar(struct vstate *s, enum ek k, const struct attr_val *a, unsigned long line,
			 bool ok)
{
	enum pv which = k == E_HELDOGN ? PV_HELD : k == E_LEGEMIDDEL ? PV_LMG : PV_ERN;
	struct vec *v = &s->pv[which];
	struct v_svar *e = person_push(s, v);
	if (!e)
		return;
	e->line = line;
	if (!ok) {
		v->st[v->n - 1] = 2;
		return;
	}
	e->kode = a[0].i == 1 ? 1 : a[0].i == 2 ? 2 : 0;
	memcpy(e->dato, a[1].date, V_DATE_LEN);
	if (a[0].i != 1 && a[0].i != 2) {
		const char *attr = k == E_ERNAERING ? "risiko" : "svar";
		char p[96];
		snprintf(p, sizeof p, "%s/@%s", ek_path[k], attr);
		msgv(s, RULE_R405, line, p, a[0].v, a[0].len,
		     "«%s» i %s må være 1 (ja) eller 2 (nei); elementet lastes ikke", attr,
		     ek_name[k]);
		v->st[v->n - 1] = 1;
	}
}

static void element_kode(struct vstate *s, enum ek k, const struct attr_val *a, unsigned long line,
			 bool ok)
{
	struct vec *v = &s->pv[k == E_INDPLAN ? PV_IP : PV_KOORD];
	struct v_kode *e = person_push(s, v);
	if (!e)
		return;
	e->line = line;
	if (!ok) {
		v->st[v->n - 1] = 2;
		return;
	}
	e->kode = a[0].i >= 1 && a[0].i <= 4 ? (int)a[0].i : 0;
	if (!(a[0].i >= 1 && a[0].i <= 4)) {
		char p[96];
		snprintf(p, sizeof p, "%s/@kode", ek_path[k]);
		msgv(s, RULE_R405, line, p, a[0].v, a[0].len,
		     "Koden i %s må være 1, 2, 3 eller 4; elementet lastes ikke", ek_name[k]);
		v->st[v->n - 1] = 1;
	}
}

static void element_venteliste(struct vstate *s, const struct attr_val *a, unsigned long line,
			       bool ok)
{
	struct vec *v = &s->pv[PV_VL];
	struct v_venteliste *e = person_push(s, v);
	if (!e)
		return;
	e->line = line;
	if (!ok) {
		v->st[v->n - 1] = 2;
		return;
	}
	memcpy(e->vedtak, a[0].date, V_DATE_LEN);
}

/* ---------------------------------------------------------------------- */
/* duplicate detection                                                    */

static uint32_t hash_str(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* A keyed permutation of the 11-digit number (< 2^37) onto 37 bits: exact
 * duplicate detection without keeping the number itself in the table. */
static uint64_t fnr_key(const struct vstate *s, const char *fnr)
{
	uint64_t x = 0;
	for (int i = 0; i < 11; i++)
		x = x * 10 + (uint64_t)(fnr[i] - '0');
	x = (x ^ s->fnr_key0) & FNR_KEY_MASK;
	x = (x * (s->fnr_key1 | 1)) & FNR_KEY_MASK; /* odd multiplier: invertible mod 2^37 */
	x ^= x >> 19;
	x = (x * 0x9E3779B97F4A7C15ull) & FNR_KEY_MASK;
	x ^= x >> 17;
	x = (x + s->fnr_key2) & FNR_KEY_MASK;
	return x;
}

/* The ref as written: for identity (duplicates, retraction) only. */
static const char *prec_ref(const struct vstate *s, const struct prec *p)
{
	return s->refs + p->ref_off;
}

/* The ref as shown in a message (masked by SPEC §3's rule); "(uten ref)"
 * when the person had none. */
static const char *prec_ref_display(const struct vstate *s, const struct prec *p, char *out,
				    size_t outlen)
{
	const char *ref = prec_ref(s, p);
	if (!ref[0])
		return "(uten ref)";
	scrub_text(s, ref, strlen(ref), MAX_REF_SHOWN, out, outlen);
	return out;
}

static long prec_new(struct vstate *s, unsigned long line)
{
	if (s->n_precs >= MAX_PRECS)
		return -1;
	if (s->n_precs == s->cap_precs) {
		size_t nc = s->cap_precs ? s->cap_precs * 2 : 1024;
		struct prec *np = realloc(s->precs, nc * sizeof *np);
		if (!np)
			return -1;
		s->precs = np;
		s->cap_precs = nc;
	}
	const char *ref = s->has_ref ? s->ref : "";
	size_t n = strlen(ref) + 1;
	if (s->refs_len + n > s->refs_cap) {
		size_t nc = s->refs_cap ? s->refs_cap * 2 : 65536;
		if (nc > UINT32_MAX)
			return -1;
		char *nr = realloc(s->refs, nc);
		if (!nr)
			return -1;
		s->refs = nr;
		s->refs_cap = nc;
	}
	struct prec *p = &s->precs[s->n_precs];
	memset(p, 0, sizeof *p);
	p->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	p->ref_off = (uint32_t)s->refs_len;
	memcpy(s->refs + s->refs_len, ref, n);
	s->refs_len += n;
	return (long)s->n_precs++;
}

static bool ref_tab_grow(struct vstate *s)
{
	size_t nc = s->ref_cap ? s->ref_cap * 2 : 4096;
	struct ref_slot *nt = calloc(nc, sizeof *nt);
	if (!nt)
		return false;
	for (size_t i = 0; i < s->ref_cap; i++) {
		if (!s->ref_tab[i].prec)
			continue;
		size_t h = s->ref_tab[i].hash & (nc - 1);
		while (nt[h].prec)
			h = (h + 1) & (nc - 1);
		nt[h] = s->ref_tab[i];
	}
	if (s->ref_tab) /* hashes of refs as written, which may be IDs */
		explicit_bzero(s->ref_tab, s->ref_cap * sizeof *s->ref_tab);
	free(s->ref_tab);
	s->ref_tab = nt;
	s->ref_cap = nc;
	return true;
}

/* Finds ref; when absent, inserts prec. Returns the existing prec, -1 when
 * inserted, -2 when out of memory. */
static long ref_lookup_insert(struct vstate *s, const char *ref, long prec)
{
	if (!s->ref_cap || (s->ref_used + 1) * 10 > s->ref_cap * 7)
		if (!ref_tab_grow(s))
			return -2;
	uint32_t hv = hash_str(ref, strlen(ref));
	size_t h = hv & (s->ref_cap - 1);
	while (s->ref_tab[h].prec) {
		if (s->ref_tab[h].hash == hv &&
		    strcmp(prec_ref(s, &s->precs[s->ref_tab[h].prec - 1]), ref) == 0)
			return (long)s->ref_tab[h].prec - 1;
		h = (h + 1) & (s->ref_cap - 1);
	}
	s->ref_tab[h].hash = hv;
	s->ref_tab[h].prec = (uint32_t)prec + 1;
	s->ref_used++;
	return -1;
}

static size_t fnr_slot_hash(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static bool fnr_tab_grow(struct vstate *s)
{
	size_t nc = s->fnr_cap ? s->fnr_cap * 2 : 4096;
	uint64_t *nt = calloc(nc, sizeof *nt);
	if (!nt)
		return false;
	for (size_t i = 0; i < s->fnr_cap; i++) {
		if (!s->fnr_tab[i])
			continue;
		size_t h = fnr_slot_hash(s->fnr_tab[i] >> FNR_PREC_BITS, nc);
		while (nt[h])
			h = (h + 1) & (nc - 1);
		nt[h] = s->fnr_tab[i];
	}
	if (s->fnr_tab)
		explicit_bzero(s->fnr_tab, s->fnr_cap * sizeof *s->fnr_tab);
	free(s->fnr_tab);
	s->fnr_tab = nt;
	s->fnr_cap = nc;
	return true;
}

static long fnr_lookup_insert(struct vstate *s, uint64_t key, long prec)
{
	if (!s->fnr_cap || (s->fnr_used + 1) * 10 > s->fnr_cap * 7)
		if (!fnr_tab_grow(s))
			return -2;
	size_t h = fnr_slot_hash(key, s->fnr_cap);
	while (s->fnr_tab[h]) {
		if ((s->fnr_tab[h] >> FNR_PREC_BITS) == key)
			return (long)(s->fnr_tab[h] & ((1ULL << FNR_PREC_BITS) - 1)) - 1;
		h = (h + 1) & (s->fnr_cap - 1);
	}
	s->fnr_tab[h] = (key << FNR_PREC_BITS) | ((uint64_t)prec + 1);
	s->fnr_used++;
	return -1;
}

static void retract(struct vstate *s, struct prec *p)
{
	if (!p->delivered || p->retracted)
		return;
	p->retracted = true;
	if (s->r) {
		struct report_summary *sum = report_summary(s->r);
		sum->persons_loaded--;
		sum->persons_excluded++;
		sum->registrations_loaded -= p->regs;
		sum->registrations_excluded += p->regs;
	}
	if (s->sink && s->sink->retract && !s->fatal &&
	    !s->sink->retract(s->sink->ctx, prec_ref(s, p))) {
		s->internal_error = true;
		stop(s);
	}
}

/* ---------------------------------------------------------------------- */
/* person rules                                                           */

static bool active_in_year(const struct vstate *s, const struct v_tjeneste *t)
{
	if (!date_set(t->start) || t->avslag)
		return false;
	if (s->y_end[0] && strcmp(t->start, s->y_end) > 0)
		return false;
	if (s->y_start[0] && date_set(t->slutt) && strcmp(t->slutt, s->y_start) < 0)
		return false;
	return true;
}

static bool in_year(const struct vstate *s, const char *d)
{
	return date_set(d) &&
	       (!s->y_start[0] || (strcmp(d, s->y_start) >= 0 && strcmp(d, s->y_end) <= 0));
}

static int cmp_tj_type_start(const void *a, const void *b)
{
	const struct v_tjeneste *x = *(const struct v_tjeneste *const *)a;
	const struct v_tjeneste *y = *(const struct v_tjeneste *const *)b;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	int c = strcmp(x->start, y->start);
	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static void person_cross_rules(struct vstate *s)
{
	struct vec *tv = &s->pv[PV_TJ], *vv = &s->pv[PV_VURD];
	const char *tpath = ek_path[E_TJENESTE];

	/* latest accepted Vurdering, whether one is dated in the årgang */
	const char *latest_vurd = NULL;
	bool vurd_in_year = false;
	for (size_t i = 0; i < vv->n; i++) {
		if (vv->st[i])
			continue;
		const struct v_vurdering *v = VEC_AT(vv, struct v_vurdering, i);
		if (!latest_vurd || strcmp(v->dato, latest_vurd) > 0)
			latest_vurd = v->dato;
		if (in_year(s, v->dato))
			vurd_in_year = true;
	}

	bool inst_18_21 = false, inst_18_21_lmg = false;
	const char *latest_vedtak = NULL;
	unsigned long latest_vedtak_line = 0;
	size_t n_started = 0;
	for (size_t i = 0; i < tv->n; i++) {
		if (tv->st[i])
			continue;
		const struct v_tjeneste *t = VEC_AT(tv, struct v_tjeneste, i);
		if (date_set(t->start))
			n_started++;
		if (date_set(t->vedtak) &&
		    (!latest_vedtak || strcmp(t->vedtak, latest_vedtak) > 0)) {
			latest_vedtak = t->vedtak;
			latest_vedtak_line = t->line;
		}
		if (t->type >= 18 && t->type <= 21 && active_in_year(s, t))
			inst_18_21 = inst_18_21_lmg = true;
		/* R309 */
		bool needs_vurd = t->type == 1 || t->type == 2 || t->type == 3 || t->type == 15 ||
				  (t->type >= 18 && t->type <= 22);
		if (needs_vurd && date_set(t->start) && !t->avslag && !vurd_in_year)
			msg(s, RULE_R309, t->line, tpath, NULL,
			    "Tjeneste type %d er tildelt, men personen har ingen godkjent funksjonsvurdering datert i årgang %d",
			    t->type, s->hdr.aargang);
	}

	/* R308: same type, overlapping periods (accepted, started services) */
	if (n_started > 1) {
		const struct v_tjeneste **sorted = malloc(n_started * sizeof *sorted);
		if (!sorted) {
			s->internal_error = true;
			stop(s);
			return;
		}
		size_t m = 0;
		for (size_t i = 0; i < tv->n; i++) {
			const struct v_tjeneste *t = VEC_AT(tv, struct v_tjeneste, i);
			if (!tv->st[i] && date_set(t->start))
				sorted[m++] = t;
		}
		qsort(sorted, m, sizeof *sorted, cmp_tj_type_start);
		size_t open = 0; /* the service of this type that ends last so far */
		for (size_t i = 1; i < m; i++) {
			if (sorted[i]->type != sorted[open]->type) {
				open = i;
				continue;
			}
			const struct v_tjeneste *a = sorted[open], *b = sorted[i];
			const char *a_end = date_set(a->slutt) ? a->slutt : "9999-12-31";
			const char *b_end = date_set(b->slutt) ? b->slutt : "9999-12-31";
			/* b starts on or after a; overlap when b starts before a ends (a
			 * handover on the same day is not an overlap) */
			if (strcmp(b->start, a_end) < 0 || strcmp(a->start, b->start) == 0) {
				char v[32];
				snprintf(v, sizeof v, "%s", b->start);
				msg(s, RULE_R308, b->line, tpath, v,
				    "Tjeneste type %d overlapper i tid med en annen tjeneste av samme type (linje %lu)",
				    b->type, a->line);
			}
			if (strcmp(b_end, a_end) > 0)
				open = i;
		}
		free(sorted);
	}

	/* R310 */
	if (latest_vurd && latest_vedtak) {
		char limit[V_DATE_LEN];
		minus_year(latest_vedtak, limit);
		if (strcmp(latest_vurd, limit) < 0)
			msg(s, RULE_R310, latest_vedtak_line, tpath, latest_vurd,
			    "Siste funksjonsvurdering (%s) er mer enn 12 måneder eldre enn siste vedtak (%s); bistandsbehovet er ikke oppdatert",
			    latest_vurd, latest_vedtak);
	}

	/* R402 */
	struct vec *lv = &s->pv[PV_LMG];
	for (size_t i = 0; i < lv->n; i++) {
		if (lv->st[i])
			continue;
		const struct v_svar *e = VEC_AT(lv, struct v_svar, i);
		if (!inst_18_21_lmg)
			msg(s, RULE_R402, e->line, ek_path[E_LEGEMIDDEL], NULL,
			    "Legemiddelgjennomgang er rapportert, men personen har ingen institusjonstjeneste (type 18–21) i årgangen");
	}
	/* R403 */
	if (inst_18_21) {
		bool ern = false;
		struct vec *ev = &s->pv[PV_ERN];
		for (size_t i = 0; i < ev->n; i++)
			if (!ev->st[i] && in_year(s, VEC_AT(ev, struct v_svar, i)->dato))
				ern = true;
		if (!ern)
			msg(s, RULE_R403, s->person_line, ek_path[E_PERSON], NULL,
			    "Personen har tidsbegrenset opphold eller langtidsopphold (type 18–21), men ingen ernæringsvurdering i årgangen");
	}
	/* R404 */
	struct vec *wv = &s->pv[PV_VL];
	for (size_t i = 0; i < wv->n; i++) {
		if (wv->st[i])
			continue;
		const struct v_venteliste *w = VEC_AT(wv, struct v_venteliste, i);
		for (size_t j = 0; j < tv->n; j++) {
			const struct v_tjeneste *t = VEC_AT(tv, struct v_tjeneste, j);
			if (tv->st[j] || t->type != 21 || !date_set(t->start) || t->avslag)
				continue;
			if (strcmp(t->start, w->vedtak) <= 0 &&
			    (!date_set(t->slutt) || strcmp(t->slutt, w->vedtak) >= 0)) {
				msg(s, RULE_R404, w->line, ek_path[E_VENTELISTE], w->vedtak,
				    "Personen står på venteliste, men har pågående langtidsopphold i institusjon (linje %lu)",
				    t->line);
				break;
			}
		}
	}
}

static void person_end(struct vstate *s)
{
	const char *ppath = ek_path[E_PERSON];
	struct nid_info info;
	memset(&info, 0, sizeof info);
	bool nid_ok = false;
	char masked[12];

	/* R101–R104 */
	enum nid_status st = NID_MISSING;
	if (s->has_fnr)
		st = s->fnr_overflow ? NID_NOT_11_DIGITS
				     : nid_check(s->fnr, s->fnr_len, &s->nidopt, &info);
	nid_mask(s->fnr, s->fnr_len, masked);
	unsigned long fl = s->has_fnr ? s->fnr_line : s->person_line;
	switch (st) {
	case NID_OK:
		nid_ok = true;
		break;
	case NID_MISSING:
		msg(s, RULE_R101, fl, ek_path[E_FNR], NULL,
		    "Fødselsnummer mangler; personen lastes ikke");
		s->person_excluded = true;
		break;
	case NID_NOT_11_DIGITS:
		msg(s, RULE_R102, fl, ek_path[E_FNR], masked,
		    "Fødselsnummeret er ikke 11 sifre; personen lastes ikke");
		s->person_excluded = true;
		break;
	case NID_BAD_CHECKSUM:
		msg(s, RULE_R103, fl, ek_path[E_FNR], masked,
		    "Fødselsnummeret har ugyldige kontrollsifre; personen lastes ikke");
		s->person_excluded = true;
		break;
	case NID_BAD_DATE:
		msg(s, RULE_R104, fl, ek_path[E_FNR], masked,
		    s->nidopt.test_mode
			? "Fødselsnummeret inneholder ingen gyldig dato; personen lastes ikke"
			: "Fødselsnummeret inneholder ingen gyldig dato (syntetiske testnumre godtas bare i testmodus); personen lastes ikke");
		s->person_excluded = true;
		break;
	}

	/* R106 (ref) */
	char ppath_ref[64];
	snprintf(ppath_ref, sizeof ppath_ref, "%s/@ref", ppath);
	bool ref_usable = false;
	if (!s->has_ref || s->ref_len == 0) {
		msg(s, RULE_R106, s->person_line, ppath_ref, NULL,
		    "Personen mangler ref; personen lastes ikke");
		s->person_excluded = true;
	} else if (s->ref_idlike) {
		msg(s, RULE_R106, s->person_line, ppath_ref, s->ref_display,
		    "ref ser ut til å inneholde et fødselsnummer; bruk kommunens egen referanse (journalnummer). Personen lastes ikke");
		s->person_excluded = true;
	} else {
		/* 1-64 printable characters: no control characters (C0, DEL, C1),
		 * not blank; inner spaces are allowed ("J 2025/17") */
		bool printable = s->ref_len <= 256 && lex_utf8_len(s->ref, s->ref_len) <= 64;
		bool blank = true;
		for (size_t i = 0; printable && i < s->ref_len; i++) {
			unsigned char c = (unsigned char)s->ref[i];
			if (c < 0x20 || c == 0x7f ||
			    (c == 0xC2 && i + 1 < s->ref_len &&
			     (unsigned char)s->ref[i + 1] >= 0x80 &&
			     (unsigned char)s->ref[i + 1] <= 0x9f))
				printable = false;
			if (c != ' ')
				blank = false;
		}
		if (blank && printable) {
			msg(s, RULE_R106, s->person_line, ppath_ref, NULL,
			    "Personen mangler ref (bare mellomrom); personen lastes ikke");
			s->person_excluded = true;
		} else if (!printable) {
			msg(s, RULE_R106, s->person_line, ppath_ref, s->ref_display,
			    "ref må være 1–64 tegn uten kontrolltegn; personen lastes ikke");
			s->person_excluded = true;
		} else {
			ref_usable = true;
		}
	}

	/* R108 */
	if (!s->has_kjonn) {
		msg(s, RULE_R108, s->person_line, ek_path[E_KJONN], NULL,
		    "Kjønn mangler; personen lastes ikke");
		s->person_excluded = true;
	} else if (!s->kjonn_broken && s->kjonn != 1 && s->kjonn != 2) {
		char v[24];
		snprintf(v, sizeof v, "%ld", s->kjonn);
		msg(s, RULE_R108, s->kjonn_line, ek_path[E_KJONN], v,
		    "Kjønn må være 1 (mann) eller 2 (kvinne); personen lastes ikke");
		s->person_excluded = true;
	}

	/* R107 */
	int fodselsaar = s->has_fodselsaar ? s->fodselsaar : 0;
	if (nid_ok) {
		if (s->has_fodselsaar && s->fodselsaar != info.birth_year) {
			char v[16];
			snprintf(v, sizeof v, "%d", s->fodselsaar);
			msg(s, RULE_R107, s->fodselsaar_line, ek_path[E_FODSELSAAR], v,
			    "Fødselsåret stemmer ikke med fødselsåret i fødselsnummeret (%d)",
			    info.birth_year);
		}
		if (!s->has_fodselsaar)
			fodselsaar = info.birth_year;
	}

	/* R109 */
	if (s->has_dodsdato) {
		const char *dd = s->dodsdato;
		const char *dpath = ek_path[E_DODSDATO];
		bool reported = false;
		if (s->hdr.aargang > 0 && atoi(dd) > s->hdr.aargang) {
			msg(s, RULE_R109, s->dodsdato_line, dpath, dd,
			    "Dødsdatoen er i et senere år enn årgang %d", s->hdr.aargang);
			reported = true;
		}
		const struct vec *tv = &s->pv[PV_TJ], *vv = &s->pv[PV_VURD];
		for (size_t i = 0; i < tv->n && !reported; i++) {
			const struct v_tjeneste *t = VEC_AT(tv, struct v_tjeneste, i);
			if (tv->st[i] != 2 && date_set(t->start) && strcmp(dd, t->start) < 0) {
				msg(s, RULE_R109, s->dodsdato_line, dpath, dd,
				    "Dødsdatoen er før starten på en tjeneste (%s, linje %lu)",
				    t->start, t->line);
				reported = true;
			}
		}
		for (size_t i = 0; i < vv->n && !reported; i++) {
			const struct v_vurdering *v = VEC_AT(vv, struct v_vurdering, i);
			if (vv->st[i] != 2 && date_set(v->dato) && strcmp(dd, v->dato) < 0) {
				msg(s, RULE_R109, s->dodsdato_line, dpath, dd,
				    "Dødsdatoen er før en funksjonsvurdering (%s, linje %lu)",
				    v->dato, v->line);
				reported = true;
			}
		}
	}

	if (s->person_too_big) {
		msg(s, RULE_F006, s->person_line, ppath, NULL,
		    "Personen har flere enn %d elementer; filen avvises", MAX_PERSON_ELEMENTS);
	}

	/* duplicates: R106 (ref) and R105 (national ID) */
	long me = -1;
	if (!s->internal_error && (ref_usable || nid_ok)) {
		me = prec_new(s, s->person_line);
		if (me < 0) {
			s->internal_error = true;
			stop(s);
			return;
		}
	}
	if (me >= 0 && ref_usable) {
		long other = ref_lookup_insert(s, s->ref, me);
		if (other == -2) {
			s->internal_error = true;
			stop(s);
			return;
		}
		if (other >= 0) {
			struct prec *o = &s->precs[other];
			char obuf[sizeof s->ref_display];
			const char *oref = prec_ref_display(s, o, obuf, sizeof obuf);
			char text[768];
			snprintf(
			    text, sizeof text,
			    "ref «%s» er brukt for flere personer i filen (også linje %lu); personen lastes ikke",
			    s->ref_display, (unsigned long)o->line);
			msg_raw(s, RULE_R106, s->ref_display, s->person_line, ppath_ref, text,
				s->ref_display);
			snprintf(
			    text, sizeof text,
			    "ref «%s» er brukt for flere personer i filen (også linje %lu); personen lastes ikke",
			    oref, s->person_line);
			msg_raw(s, RULE_R106, oref, o->line, ppath_ref, text, oref);
			s->person_excluded = true;
			retract(s, o);
		}
	}
	if (me >= 0 && nid_ok) {
		long other = fnr_lookup_insert(s, fnr_key(s, s->fnr), me);
		if (other == -2) {
			s->internal_error = true;
			stop(s);
			return;
		}
		if (other >= 0) {
			struct prec *o = &s->precs[other];
			char obuf[sizeof s->ref_display];
			const char *oref = prec_ref_display(s, o, obuf, sizeof obuf);
			const char *mref = s->ref_display[0] ? s->ref_display : "(uten ref)";
			char text[768];
			snprintf(
			    text, sizeof text,
			    "Samme fødselsnummer forekommer i flere personer i filen: ref «%s» (linje %lu) og ref «%s» (linje %lu); begge lastes ikke",
			    mref, s->person_line, oref, (unsigned long)o->line);
			msg_raw(s, RULE_R105, s->ref_display, s->fnr_line, ek_path[E_FNR], text,
				masked);
			snprintf(
			    text, sizeof text,
			    "Samme fødselsnummer forekommer i flere personer i filen: ref «%s» (linje %lu) og ref «%s» (linje %lu); begge lastes ikke",
			    oref, (unsigned long)o->line, mref, s->person_line);
			msg_raw(s, RULE_R105, prec_ref(s, o)[0] ? oref : "", o->line,
				ek_path[E_FNR], text, masked);
			s->person_excluded = true;
			retract(s, o);
		}
	}

	person_cross_rules(s);

	/* registrations and the sink */
	struct report_summary *sum = s->r ? report_summary(s->r) : NULL;
	if (sum) {
		sum->persons++;
		sum->registrations += s->person_regs;
	}
	bool deliver = !s->person_excluded && !s->person_broken && !s->fatal && !s->internal_error;
	if (deliver) {
		unsigned long regs = s->ident_regs;
		for (int i = 0; i < PV_COUNT; i++)
			regs += vec_compact(&s->pv[i]);
		struct v_person p;
		memset(&p, 0, sizeof p);
		p.ref = s->ref;
		p.line = s->person_line;
		memcpy(p.fnr, s->fnr, 11);
		p.fnr[11] = '\0';
		p.kjonn = (int)s->kjonn;
		p.fodselsaar = fodselsaar;
		p.fodselsaar_given = s->has_fodselsaar;
		memcpy(p.dodsdato, s->dodsdato, V_DATE_LEN);
		p.vurderinger = s->pv[PV_VURD].d;
		p.n_vurderinger = s->pv[PV_VURD].n;
		p.tjenester = s->pv[PV_TJ].d;
		p.n_tjenester = s->pv[PV_TJ].n;
		p.diagnoser = s->pv[PV_DIAG].d;
		p.n_diagnoser = s->pv[PV_DIAG].n;
		p.heldogn = s->pv[PV_HELD].d;
		p.n_heldogn = s->pv[PV_HELD].n;
		p.legemiddel = s->pv[PV_LMG].d;
		p.n_legemiddel = s->pv[PV_LMG].n;
		p.ernaering = s->pv[PV_ERN].d;
		p.n_ernaering = s->pv[PV_ERN].n;
		p.individuell_plan = s->pv[PV_IP].d;
		p.n_individuell_plan = s->pv[PV_IP].n;
		p.koordinator = s->pv[PV_KOORD].d;
		p.n_koordinator = s->pv[PV_KOORD].n;
		p.venteliste = s->pv[PV_VL].d;
		p.n_venteliste = s->pv[PV_VL].n;
		p.registrations = regs;
		if (s->sink && s->sink->person && !s->sink->person(s->sink->ctx, &p)) {
			s->internal_error = true;
			stop(s);
		}
		explicit_bzero(p.fnr, sizeof p.fnr);
		if (me >= 0) {
			s->precs[me].delivered = true;
			s->precs[me].regs = regs > UINT32_MAX ? UINT32_MAX : (uint32_t)regs;
		}
		if (sum) {
			sum->persons_loaded++;
			sum->registrations_loaded += regs;
			sum->registrations_excluded += s->person_regs - regs;
		}
	} else if (sum) {
		sum->persons_excluded++;
		sum->registrations_excluded += s->person_regs;
	}
	/* the clear ID leaves memory with the person */
	explicit_bzero(s->fnr, sizeof s->fnr);
	s->in_person = false;
	if (s->r && !report_flush(s->r)) {
		s->internal_error = true;
		stop(s);
	}
}

/* ---------------------------------------------------------------------- */
/* SAX callbacks                                                          */

static enum ek classify(struct vstate *s, enum ek parent, const xmlChar *lname)
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
		if (s->ename[k] == lname)
			return (enum ek)k;
	}
	for (int k = lo; k <= (int)hi; k++) {
		if (k == E_FUNKSJON && parent == E_PERSON)
			continue;
		if (strcmp(ek_name[k], (const char *)lname) == 0)
			return (enum ek)k;
	}
	return E_NONE;
}

static void text_reset(struct vstate *s)
{
	s->text_len = 0;
	s->text_overflow = false;
	s->text_pending_ws = false;
}

static void on_start(void *ud, const xmlChar *lname, const xmlChar *prefix, const xmlChar *uri,
		     int nb_ns, const xmlChar **ns, int nb_attrs, int nb_defaulted,
		     const xmlChar **attrs)
{
	(void)prefix;
	(void)nb_ns;
	(void)ns;
	(void)nb_defaulted;
	struct vstate *s = ud;
	if (s->stopped)
		return;
	if (s->skip_depth) {
		if (++s->skip_depth > MAX_DEPTH)
			stop(s);
		return;
	}
	enum ek parent = s->depth ? s->stack[s->depth - 1] : E_NONE;
	unsigned long line = start_line(s);
	if (s->in_person) {
		s->person_regs++;
		if (++s->person_elems > MAX_PERSON_ELEMENTS) {
			/* a hostile person: reported at its end (F006); nothing more kept */
			s->person_too_big = true;
			s->fatal = true;
			s->skip_depth = 1;
			return;
		}
	}
	enum ek k = ns_ok(s, uri) ? classify(s, parent, lname) : E_NONE;
	if (k == E_NONE) {
		char qn[200];
		if (uri && strcmp((const char *)uri, NS_URI) != 0)
			snprintf(qn, sizeof qn, "{%s}%s", (const char *)uri, (const char *)lname);
		else if (!uri)
			snprintf(qn, sizeof qn, "%s (uten navnerom %s)", (const char *)lname,
				 NS_URI);
		else
			snprintf(qn, sizeof qn, "%s", (const char *)lname);
		if (parent == E_NONE) {
			f002(s, line, "/", NULL, 0,
			     "Rotelementet må være «Innsending» i navnerommet %s, ikke «%s»",
			     NS_URI, qn);
			stop(s);
			return;
		}
		f002(s, line, ek_path[parent], NULL, 0, "Elementet «%s» er ikke tillatt i «%s»", qn,
		     ek_name[parent]);
		s->skip_depth = 1;
		return;
	}
	if (ek_content(parent) == C_ELEMENTS && s->depth > 0) {
		/* ordering */
		bool order_ok = true;
		if (parent == E_INNSENDING) {
			if (k == E_AVSENDER) {
				order_ok = !s->seen_avsender;
				s->seen_avsender = true;
			} else {
				order_ok = s->seen_avsender;
			}
		} else if (parent == E_PERSON) {
			int phase = k <= E_DODSDATO ? (int)k - E_FNR + 1 : 5;
			order_ok = phase == 5 ? true : phase > s->person_phase;
			if (order_ok || phase > s->person_phase)
				s->person_phase = phase;
		}
		if (!order_ok) {
			if (k == E_PERSON)
				f002(s, line, ek_path[k], NULL, 0,
				     "«Avsender» må komme først i «Innsending», før personene");
			else
				f002(
				    s, line, ek_path[k], NULL, 0,
				    "Elementet «%s» står på feil plass eller forekommer mer enn én gang (rekkefølgen i Person er Fnr, Kjonn, Fodselsaar, Dodsdato, deretter de andre)",
				    ek_name[k]);
			s->skip_depth = 1;
			return;
		}
	}
	if (s->depth >= MAX_DEPTH) {
		stop(s);
		return;
	}
	s->stack[s->depth] = k;
	s->stack_line[s->depth] = line;
	s->text_err[s->depth] = false;
	s->depth++;
	text_reset(s);

	struct attr_val a[MAX_ATTRS];
	for (int j = 0; j < MAX_ATTRS && attr_specs[k][j].name; j++) {
		a[j].present = a[j].bad = false;
		a[j].v = NULL;
		a[j].len = 0;
	}
	bool ok = check_attrs(s, k, line, nb_attrs, attrs, a);
	switch (k) {
	case E_INNSENDING:
		s->seen_root = true;
		header_innsending(s, a, line);
		break;
	case E_AVSENDER:
		header_avsender(s, a, line);
		if (s->peek)
			stop(s);
		break;
	case E_PERSON:
		person_begin(s, &a[0], line);
		if (!ok)
			s->person_broken = true;
		break;
	case E_FNR:
		s->has_fnr = true;
		s->fnr_line = line;
		s->ident_regs++;
		break;
	case E_KJONN:
		s->has_kjonn = true;
		s->kjonn_line = line;
		s->ident_regs++;
		break;
	case E_FODSELSAAR:
		s->fodselsaar_line = line;
		s->ident_regs++;
		break;
	case E_DODSDATO:
		s->dodsdato_line = line;
		s->ident_regs++;
		break;
	case E_VURDERING:
		element_vurdering_begin(s, a, line, ok);
		break;
	case E_FUNKSJON:
		element_funksjon(s, a, line, ok);
		break;
	case E_TJENESTE:
		element_tjeneste(s, a, line, ok);
		break;
	case E_DIAGNOSE:
		element_diagnose(s, a, line, ok);
		break;
	case E_HELDOGN:
	case E_LEGEMIDDEL:
	case E_ERNAERING:
		element_svar(s, k, a, line, ok);
		break;
	case E_INDPLAN:
	case E_KOORDINATOR:
		element_kode(s, k, a, line, ok);
		break;
	case E_VENTELISTE:
		element_venteliste(s, a, line, ok);
		break;
	default:
		break;
	}
}

static void simple_end(struct vstate *s, enum ek k, unsigned long line)
{
	const char *v = s->text;
	size_t n = s->text_len;
	if (k == E_FNR) {
		lex_trim(&v, &n);
		s->fnr_overflow = s->text_overflow;
		if (n >= sizeof s->fnr) {
			s->fnr_overflow = true;
			n = sizeof s->fnr - 1;
		}
		memcpy(s->fnr, v, n);
		s->fnr[n] = '\0';
		s->fnr_len = n;
		/* an empty Fnr is R101 */
		if (n == 0 && !s->text_overflow)
			s->has_fnr = false;
		memset(s->text, 0, s->text_len);
		return;
	}
	struct attr_val a;
	memset(&a, 0, sizeof a);
	a.v = v;
	a.len = n;
	enum lex_type t = simple_type(k);
	bool ok = !s->text_overflow && lex_check(t, &a, -1, -1);
	if (!ok) {
		f002(s, line, ek_path[k], v, n, "Innholdet i «%s» er ikke %s", ek_name[k],
		     type_text(t));
		if (k == E_KJONN)
			s->kjonn_broken = true;
		return;
	}
	switch (k) {
	case E_KJONN:
		s->kjonn = a.i;
		break;
	case E_FODSELSAAR:
		s->fodselsaar = (int)a.i;
		s->has_fodselsaar = true;
		break;
	case E_DODSDATO:
		memcpy(s->dodsdato, a.date, V_DATE_LEN);
		s->has_dodsdato = true;
		break;
	default:
		break;
	}
}

static void on_end(void *ud, const xmlChar *lname, const xmlChar *prefix, const xmlChar *uri)
{
	(void)lname;
	(void)prefix;
	(void)uri;
	struct vstate *s = ud;
	if (s->stopped)
		return;
	if (s->skip_depth) {
		s->skip_depth--;
		return;
	}
	if (s->depth == 0)
		return;
	s->depth--;
	enum ek k = s->stack[s->depth];
	unsigned long line = s->stack_line[s->depth];
	switch (k) {
	case E_FNR:
	case E_KJONN:
	case E_FODSELSAAR:
	case E_DODSDATO:
		simple_end(s, k, line);
		text_reset(s);
		break;
	case E_VURDERING:
		element_vurdering_end(s);
		break;
	case E_PERSON:
		person_end(s);
		break;
	case E_INNSENDING:
		if (!s->seen_avsender)
			f002(s, line, ek_path[E_INNSENDING], NULL, 0,
			     "«Innsending» mangler elementet «Avsender»");
		break;
	default:
		break;
	}
}

static void text_error(struct vstate *s, enum ek k, const char *ch, size_t len)
{
	if (s->text_err[s->depth - 1])
		return;
	s->text_err[s->depth - 1] = true;
	unsigned long line = cur_line(s);
	if (ek_content(k) == C_EMPTY)
		f002(s, line, ek_path[k], ch, len,
		     "Elementet «%s» skal være tomt (bare attributter)", ek_name[k]);
	else
		f002(s, line, ek_path[k], ch, len, "Tekst er ikke tillatt direkte i «%s»",
		     ek_name[k]);
}

static void text_append(struct vstate *s, const char *ch, size_t len)
{
	if (s->text_len == 0 && !s->text_overflow) {
		/* leading whitespace: not kept (all simple types collapse or are
		 * trimmed), so padding cannot overflow the buffer */
		while (len && lex_is_ws((unsigned char)*ch)) {
			ch++;
			len--;
		}
		if (!len)
			return;
	}
	if (s->text_overflow) {
		return;
	}
	if (s->text_pending_ws) {
		/* content after whitespace that did not fit: inner whitespace in a
		 * value that is too long anyway */
		for (size_t i = 0; i < len; i++)
			if (!lex_is_ws((unsigned char)ch[i])) {
				s->text_overflow = true;
				return;
			}
		return;
	}
	if (s->text_len + len > MAX_TEXT) {
		bool all_ws = true;
		for (size_t i = 0; i < len; i++)
			if (!lex_is_ws((unsigned char)ch[i]))
				all_ws = false;
		if (all_ws) {
			s->text_pending_ws = true;
			return;
		}
		s->text_overflow = true;
		return;
	}
	memcpy(s->text + s->text_len, ch, len);
	s->text_len += len;
	s->text[s->text_len] = '\0';
}

static void on_chars(void *ud, const xmlChar *ch, int len)
{
	struct vstate *s = ud;
	if (s->stopped || s->skip_depth || s->depth == 0 || len <= 0)
		return;
	enum ek k = s->stack[s->depth - 1];
	switch (ek_content(k)) {
	case C_SIMPLE:
		text_append(s, (const char *)ch, (size_t)len);
		break;
	case C_ELEMENTS:
		for (int i = 0; i < len; i++)
			if (!lex_is_ws(ch[i])) {
				text_error(s, k, (const char *)ch + i, (size_t)(len - i));
				break;
			}
		break;
	case C_EMPTY:
		text_error(s, k, (const char *)ch, (size_t)len);
		break;
	}
}

static void on_cdata(void *ud, const xmlChar *ch, int len)
{
	struct vstate *s = ud;
	if (s->stopped || s->skip_depth || s->depth == 0 || len < 0)
		return;
	enum ek k = s->stack[s->depth - 1];
	if (ek_content(k) == C_SIMPLE)
		text_append(s, (const char *)ch, (size_t)len);
	else
		text_error(s, k, len ? (const char *)ch : "<![CDATA[]]>", len ? (size_t)len : 12);
}

static void on_doctype(void *ud, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
	(void)name;
	(void)ext;
	(void)sys;
	struct vstate *s = ud;
	if (s->stopped)
		return;
	msg(s, RULE_F001, cur_line(s), "/", NULL,
	    "Filen inneholder en dokumenttypedeklarasjon (DOCTYPE); det er ikke tillatt. Fjern DOCTYPE-linjen");
	stop(s);
}

static void on_error(void *ud, xmlErrorPtr e)
{
	struct vstate *s = ud;
	if (s->stopped || !e || e->level < XML_ERR_ERROR)
		return;
	if (e->code == XML_ERR_USER_STOP)
		return;
	char v[256];
	const char *m = e->message ? e->message : "";
	size_t n = strlen(m);
	while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
		n--;
	scrub_value(s, m, n, v, sizeof v);
	const char *text = "Filen er ikke velformet XML og kan ikke leses videre";
	if (e->code == XML_ERR_INVALID_CHAR || e->code == XML_ERR_INVALID_ENCODING ||
	    e->code == XML_ERR_UNSUPPORTED_ENCODING || e->code == XML_ERR_ENCODING_NAME)
		text =
		    "Filen har feil tegnkoding eller ugyldige tegn; bruk UTF-8 eller ISO-8859-1 som deklarert";
	else if (e->code == XML_ERR_DOCUMENT_END || e->code == XML_ERR_DOCUMENT_EMPTY ||
		 e->code == XML_ERR_TAG_NOT_FINISHED)
		text = "Filen er ufullstendig eller avkuttet (XML-en slutter for tidlig)";
	msg_raw(s, RULE_F001, s->in_person ? s->ref_display : "",
		e->line > 0 ? (unsigned long)e->line : cur_line(s),
		s->depth ? ek_path[s->stack[s->depth - 1]] : "/", text, v);
	stop(s);
}

/* ---------------------------------------------------------------------- */
/* input                                                                  */

static bool ascii_ieq(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

/* Checks the byte-order mark and the declared encoding in the first bytes.
 * Returns NULL when fine, else the F001 text. */
static const char *check_encoding(const unsigned char *b, size_t n, char *enc, size_t enclen)
{
	enc[0] = '\0';
	size_t i = 0;
	bool bom = false;
	if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
		i = 3;
		bom = true;
	} else if (n >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE))) {
		snprintf(enc, enclen, "UTF-16");
		return "Filen er kodet i UTF-16; bruk UTF-8 eller ISO-8859-1";
	} else if (n >= 2 && (b[0] == 0 || b[1] == 0)) {
		snprintf(enc, enclen, "UTF-16/UTF-32");
		return "Filen er kodet i UTF-16 eller UTF-32; bruk UTF-8 eller ISO-8859-1";
	}
	if (n - i < 5 || memcmp(b + i, "<?xml", 5) != 0)
		return NULL; /* no declaration: UTF-8 */
	const char *p = (const char *)b + i;
	const char *end = (const char *)b + n;
	const char *q = memchr(p, '>', (size_t)(end - p));
	if (!q)
		return NULL; /* let the parser complain */
	const char *e = p;
	while (e + 8 < q) {
		if (memcmp(e, "encoding", 8) == 0)
			break;
		e++;
	}
	if (e + 8 >= q)
		return NULL; /* no encoding declared: UTF-8 */
	e += 8;
	while (e < q && lex_is_ws((unsigned char)*e))
		e++;
	if (e >= q || *e != '=')
		return NULL;
	e++;
	while (e < q && lex_is_ws((unsigned char)*e))
		e++;
	if (e >= q || (*e != '"' && *e != '\''))
		return NULL;
	char quote = *e++;
	const char *v = e;
	while (e < q && *e != quote)
		e++;
	size_t vl = (size_t)(e - v);
	snprintf(enc, enclen, "%.*s", (int)(vl < 40 ? vl : 40), v);
	if (ascii_ieq(v, vl, "UTF-8") || ascii_ieq(v, vl, "UTF8"))
		return NULL;
	if (!bom && (ascii_ieq(v, vl, "ISO-8859-1") || ascii_ieq(v, vl, "ISO_8859-1") ||
		     ascii_ieq(v, vl, "ISO8859-1") || ascii_ieq(v, vl, "LATIN1") ||
		     ascii_ieq(v, vl, "LATIN-1")))
		return NULL;
	if (bom)
		return "Filen har UTF-8-merke (BOM), men deklarerer en annen tegnkoding";
	return "Tegnkodingen i XML-deklarasjonen er ikke tillatt; bruk UTF-8 eller ISO-8859-1";
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libxml(void)
{
	xmlInitParser();
	xmlSchemaInitTypes();
}

static void state_free(struct vstate *s)
{
	for (int i = 0; i < PV_COUNT; i++)
		vec_free(&s->pv[i]);
	/* refs as written may carry an ID (R106 refuses them, but they were
	 * read); wipe with explicit_bzero, which the compiler may not drop */
	if (s->ref)
		explicit_bzero(s->ref, s->ref_bufcap);
	free(s->ref);
	free(s->precs);
	if (s->ref_tab)
		explicit_bzero(s->ref_tab, s->ref_cap * sizeof *s->ref_tab);
	free(s->ref_tab);
	/* the fnr table with its keys is a reversible encoding of every
	 * national ID in the file: both are wiped (below, with the state) */
	if (s->fnr_tab)
		explicit_bzero(s->fnr_tab, s->fnr_cap * sizeof *s->fnr_tab);
	free(s->fnr_tab);
	if (s->refs)
		explicit_bzero(s->refs, s->refs_cap);
	free(s->refs);
}

/* Frees the state and wipes it: the current Fnr, the text buffer and the
 * fnr keys live in it. */
static void state_destroy(struct vstate *s)
{
	state_free(s);
	explicit_bzero(s, sizeof *s);
	free(s);
}

static void intern_names(struct vstate *s)
{
	xmlDictPtr d = s->ctxt->dict;
	for (int k = 1; k < E_COUNT; k++) {
		s->ename[k] = xmlDictLookup(d, (const xmlChar *)ek_name[k], -1);
		for (int j = 0; j < MAX_ATTRS && attr_specs[k][j].name; j++)
			s->aname[k][j] =
			    xmlDictLookup(d, (const xmlChar *)attr_specs[k][j].name, -1);
	}
	s->xsi_schemaLocation = xmlDictLookup(d, (const xmlChar *)"schemaLocation", -1);
	s->xsi_noNs = xmlDictLookup(d, (const xmlChar *)"noNamespaceSchemaLocation", -1);
}

static void random_keys(struct vstate *s)
{
	uint64_t k[2] = {0, 0};
	FILE *f = fopen("/dev/urandom", "rb");
	if (f) {
		if (fread(k, sizeof k, 1, f) != 1)
			k[0] = k[1] = 0;
		fclose(f);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->fnr_key0 = k[0] ^ (uint64_t)ts.tv_nsec;
	s->fnr_key1 = k[1] ^ ((uint64_t)(uintptr_t)s << 1);
	s->fnr_key2 = k[0] * 31 + k[1];
}

static bool past_deadline(const struct vstate *s)
{
	if (!s->p || s->p->deadline <= 0)
		return false;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 > s->p->deadline;
}

/* The engine: parses path, returns false only on an internal failure. */
static bool run(struct vstate *s, const char *path)
{
	pthread_once(&init_once, init_libxml);
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return false;
	gzbuffer(gz, 128 * 1024);
	char *buf = malloc(CHUNK_SIZE);
	if (!buf) {
		gzclose(gz);
		return false;
	}
	unsigned long long max = s->p ? s->p->max_bytes : 0;
	int n = gzread(gz, buf, CHUNK_SIZE);
	bool ok = true;
	if (n < 0) {
		int errnum = 0;
		const char *zm = gzerror(gz, &errnum);
		if (errnum == Z_ERRNO) {
			ok = false; /* unreadable file: internal */
		} else {
			msg(s, RULE_F001, 1, "/", zm,
			    "Filen er skadet og kan ikke pakkes ut (gzip)");
		}
		goto out;
	}
	s->bytes = (unsigned long long)n;
	if (n == 0) {
		msg(s, RULE_F001, 1, "/", NULL, "Filen er tom");
		goto out;
	}
	char enc[48];
	const char *enc_err =
	    check_encoding((const unsigned char *)buf, (size_t)n, enc, sizeof enc);
	if (enc_err) {
		msg(s, RULE_F001, 1, "/", enc, "%s", enc_err);
		goto out;
	}

	xmlSAXHandler sax;
	memset(&sax, 0, sizeof sax);
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = on_start;
	sax.endElementNs = on_end;
	sax.characters = on_chars;
	sax.ignorableWhitespace = on_chars;
	sax.cdataBlock = on_cdata;
	sax.internalSubset = on_doctype;
	sax.externalSubset = on_doctype;
	sax.serror = on_error;
	int first = n < 4 ? n : 4;
	s->ctxt = xmlCreatePushParserCtxt(&sax, s, buf, first, path);
	if (!s->ctxt) {
		ok = false;
		goto out;
	}
	/* NOENT: predefined entities and character references are replaced in
	 * attribute values, so a ref written "R&amp;D" is "R&D" as written, not
	 * libxml2's re-escaped "R&#38;D". No other entity can exist: a DOCTYPE
	 * stops the parser before any declaration is read. */
	xmlCtxtUseOptions(s->ctxt, XML_PARSE_NONET | XML_PARSE_NOENT);
	intern_names(s);
	const char *chunk = buf + first;
	int clen = n - first;
	for (;;) {
		if (s->peek && s->bytes > VALIDATE_PEEK_MAX_BYTES) {
			/* the header is not near the start: the worker's full pass,
			 * bounded by max_bytes, judges the file */
			snprintf(s->peek_err, sizeof s->peek_err,
				 "Innsending og Avsender står ikke i filens første %d byte",
				 VALIDATE_PEEK_MAX_BYTES);
			stop(s);
			break;
		}
		if (past_deadline(s)) {
			s->timed_out = true;
			ok = false;
			stop(s);
			break;
		}
		if (max && s->bytes > max) {
			char v[32];
			snprintf(v, sizeof v, "%llu", max);
			msg(s, RULE_F006, cur_line(s), "/", v,
			    "Filen er større enn grensen på %llu byte (utpakket); del den ikke opp, men kontakt registeret",
			    max);
			stop(s);
			break;
		}
		if (clen > 0 && xmlParseChunk(s->ctxt, chunk, clen, 0) != 0 && !s->stopped) {
			/* the error callback has reported it */
			stop(s);
		}
		if (s->stopped)
			break;
		n = gzread(gz, buf, CHUNK_SIZE);
		if (n < 0) {
			int errnum = 0;
			const char *zm = gzerror(gz, &errnum);
			if (errnum == Z_ERRNO) {
				ok = false;
			} else {
				msg(s, RULE_F001, cur_line(s), "/", zm,
				    "Filen er skadet og kan ikke pakkes ut (gzip)");
			}
			stop(s);
			break;
		}
		if (n == 0) {
			xmlParseChunk(s->ctxt, NULL, 0, 1);
			break;
		}
		s->bytes += (unsigned long long)n;
		chunk = buf;
		clen = n;
	}
	if (!s->stopped && !s->ctxt->wellFormed && !s->fatal)
		msg(s, RULE_F001, cur_line(s), "/", NULL, "Filen er ikke velformet XML");
	if (!s->stopped && !s->seen_root && !s->fatal)
		msg(s, RULE_F001, cur_line(s), "/", NULL, "Filen inneholder ikke noe XML-element");
	xmlFreeParserCtxt(s->ctxt);
	s->ctxt = NULL;
out:
	explicit_bzero(buf, CHUNK_SIZE); /* a chunk of the file: national IDs in clear */
	free(buf);
	gzclose(gz);
	return ok;
}

static bool setup(struct vstate *s, const struct validate_params *p)
{
	s->p = p;
	s->nidopt.test_mode = p ? p->test_mode : false;
	s->nidopt.allow_2032 = p ? p->allow_2032 : true;
	for (int i = 0; i < PV_COUNT; i++)
		s->pv[i].esz = pv_esz[i];
	random_keys(s);
	return true;
}

bool validate_file(const char *path, const struct validate_params *params,
		   const struct validate_sink *sink, struct report *r, struct validate_result *res)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct vstate *s = calloc(1, sizeof *s);
	if (!s)
		return false;
	s->sink = sink;
	s->r = r;
	s->res = res;
	bool ok = setup(s, params) && run(s, path);
	if (ok && !s->fatal && !s->internal_error && s->seen_root && !s->stopped) {
		struct report_summary *sum = report_summary(r);
		if (sum->persons == 0)
			msg(s, RULE_F006, 1, "/Innsending", NULL,
			    "Filen inneholder ingen personer; en innsending skal være et fullstendig uttrekk for årgangen");
	}
	if (!report_flush(r))
		ok = false;
	struct report_summary *sum = report_summary(r);
	if (sum->fatal) {
		/* nothing of a rejected file is loaded */
		sum->persons_loaded = 0;
		sum->persons_excluded = sum->persons;
		sum->registrations_loaded = 0;
		sum->registrations_excluded = sum->registrations;
	}
	if (s->internal_error)
		ok = false;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (res) {
		memset(res, 0, sizeof *res);
		res->header = s->hdr;
		res->header_ok = s->header_ok;
		res->bytes = s->bytes;
		res->timed_out = s->timed_out;
		res->seconds =
		    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	}
	state_destroy(s);
	return ok;
}

bool validate_peek_header(const char *path, struct v_header *h, char *err, size_t errlen)
{
	struct vstate *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "tomt for minne");
		return false;
	}
	s->peek = true;
	setup(s, NULL);
	bool ok = run(s, path);
	memset(h, 0, sizeof *h);
	*h = s->hdr;
	bool header = ok && s->seen_avsender && s->hdr.id[0] && s->hdr.aargang > 0 &&
		      s->hdr.kommunenummer[0] && !s->fatal;
	if (!ok)
		snprintf(err, errlen, "filen kan ikke leses");
	else if (!header)
		snprintf(err, errlen, "%s",
			 s->peek_err[0] ? s->peek_err
					: "Innsending og Avsender kunne ikke leses fra filen");
	state_destroy(s);
	return header;
}
