/*
 * validate_sax.c — the SAX2 callbacks: the element stack, the order of a
 * Person's children (enum person_phase), simple-content text, the dispatch
 * of each element to its checks, and libxml2's errors as F001.
 *
 * Hardening: a DOCTYPE stops the parser at its first callback, before any
 * internal subset or entity is parsed (F001); depth and text sizes are
 * bounded; an unknown element's whole subtree is skipped.
 *
 * Must not: hold more than the current element's text.
 */
#include "validate_state.h"

#include <stdio.h>
#include <string.h>

#include "validate_lex.h"

unsigned long val_cur_line(struct vstate *s)
{
	return (unsigned long)xmlSAX2GetLineNumber(s->parser.ctxt);
}

/* The line where the current start tag begins (the parser sits at its end). */
static unsigned long start_line(struct vstate *s)
{
	xmlParserInputPtr in = s->parser.ctxt->input;
	if (!in || !in->cur || !in->base)
		return val_cur_line(s);
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

static bool ns_ok(struct vstate *s, const xmlChar *uri)
{
	if (!uri)
		return false;
	if (uri == s->parser.ns_interned)
		return true;
	if (strcmp((const char *)uri, NS_URI) == 0) {
		s->parser.ns_interned = uri;
		return true;
	}
	return false;
}

static void text_reset(struct vstate *s)
{
	s->parser.text_len = 0;
	s->parser.text_overflow = false;
	s->parser.text_pending_ws = false;
}

/* Counts the element in the current person; a person over
 * MAX_PERSON_ELEMENTS is fatal and the rest of it skipped. */
static bool start_counted(struct vstate *s)
{
	if (!s->person.active)
		return true;
	s->person.regs++;
	if (++s->person.elems <= MAX_PERSON_ELEMENTS)
		return true;
	/* a hostile person: reported at its end (F006); nothing more kept */
	s->person.too_big = true;
	s->fatal = true;
	s->parser.skip_depth = 1;
	return false;
}

/* An element the schema does not allow here (F002): a wrong root stops
 * the parse, anything else is skipped with its subtree. */
static void start_unknown(struct vstate *s, enum ek parent, const xmlChar *lname,
			  const xmlChar *uri, unsigned long line)
{
	char qn[200];
	if (uri && strcmp((const char *)uri, NS_URI) != 0)
		snprintf(qn, sizeof qn, "{%s}%s", (const char *)uri, (const char *)lname);
	else if (!uri)
		snprintf(qn, sizeof qn, "%s (uten navnerom %s)", (const char *)lname, NS_URI);
	else
		snprintf(qn, sizeof qn, "%s", (const char *)lname);
	if (parent == E_NONE) {
		val_f002(s, line, "/", NULL, 0,
			 "Rotelementet må være «Innsending» i navnerommet %s, ikke «%s»", NS_URI,
			 qn);
		val_stop(s);
		return;
	}
	val_f002(s, line, val_ek_path[parent], NULL, 0, "Elementet «%s» er ikke tillatt i «%s»", qn,
		 val_ek_name[parent]);
	s->parser.skip_depth = 1;
}

static enum person_phase person_phase_of(enum ek k)
{
	switch (k) {
	case E_FNR:
		return PHASE_FNR;
	case E_KJONN:
		return PHASE_KJONN;
	case E_FODSELSAAR:
		return PHASE_FODSELSAAR;
	case E_DODSDATO:
		return PHASE_DODSDATO;
	default:
		return PHASE_REST;
	}
}

/* The order of children: Avsender once, before the persons; a Person's
 * identity elements once each, in order, before the rest. */
static bool start_in_order(struct vstate *s, enum ek parent, enum ek k)
{
	if (parent == E_INNSENDING) {
		if (k != E_AVSENDER)
			return s->header.seen_avsender;
		bool first = !s->header.seen_avsender;
		s->header.seen_avsender = true;
		return first;
	}
	if (parent == E_PERSON) {
		enum person_phase phase = person_phase_of(k);
		if (phase != PHASE_REST && phase <= s->person.phase)
			return false;
		s->person.phase = phase;
	}
	return true;
}

static void order_error(struct vstate *s, enum ek k, unsigned long line)
{
	if (k == E_PERSON)
		val_f002(s, line, val_ek_path[k], NULL, 0,
			 "«Avsender» må komme først i «Innsending», før personene");
	else
		val_f002(
		    s, line, val_ek_path[k], NULL, 0,
		    "Elementet «%s» står på feil plass eller forekommer mer enn én gang (rekkefølgen i Person er Fnr, Kjonn, Fodselsaar, Dodsdato, deretter de andre)",
		    val_ek_name[k]);
	s->parser.skip_depth = 1;
}

static bool stack_push(struct vstate *s, enum ek k, unsigned long line)
{
	if (s->parser.depth >= MAX_DEPTH) {
		val_stop(s);
		return false;
	}
	s->parser.stack[s->parser.depth] = k;
	s->parser.stack_line[s->parser.depth] = line;
	s->parser.text_err[s->parser.depth] = false;
	s->parser.depth++;
	text_reset(s);
	return true;
}

/* An identity element (Fnr, Kjonn, Fodselsaar, Dodsdato) starts; its
 * value is read at its end (simple_end). */
static void start_identity(struct vstate *s, enum ek k, unsigned long line)
{
	switch (k) {
	case E_FNR:
		s->person.has_fnr = true;
		s->person.fnr_line = line;
		break;
	case E_KJONN:
		s->person.has_kjonn = true;
		s->person.kjonn_line = line;
		break;
	case E_FODSELSAAR:
		s->person.fodselsaar_line = line;
		break;
	default:
		s->person.dodsdato_line = line;
		break;
	}
	s->person.ident_regs++;
}

/* Hands a well-placed element with its attributes to its checks; ok is
 * false when an attribute is wrong (F002 already reported). */
static void start_dispatch(struct vstate *s, enum ek k, const struct attr_val *a,
			   unsigned long line, bool ok)
{
	switch (k) {
	case E_INNSENDING:
		s->header.seen_root = true;
		val_header_innsending(s, a, line);
		break;
	case E_AVSENDER:
		val_header_avsender(s, a, line);
		if (s->peek)
			val_stop(s);
		break;
	case E_PERSON:
		val_person_begin(s, &a[0], &a[1], line);
		if (!ok)
			s->person.broken = true;
		break;
	case E_FNR:
	case E_KJONN:
	case E_FODSELSAAR:
	case E_DODSDATO:
		start_identity(s, k, line);
		break;
	case E_VURDERING:
		val_element_vurdering_begin(s, a, line, ok);
		break;
	case E_FUNKSJON:
		val_element_funksjon(s, a, line, ok);
		break;
	case E_TJENESTE:
		val_element_tjeneste(s, a, line, ok);
		break;
	case E_DIAGNOSE:
		val_element_diagnose(s, a, line, ok);
		break;
	case E_HELDOGN:
	case E_LEGEMIDDEL:
	case E_ERNAERING:
		val_element_svar(s, k, a, line, ok);
		break;
	case E_INDPLAN:
	case E_KOORDINATOR:
		val_element_kode(s, k, a, line, ok);
		break;
	case E_VENTELISTE:
		val_element_venteliste(s, a, line, ok);
		break;
	default:
		break;
	}
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
	if (s->parser.skip_depth) {
		if (++s->parser.skip_depth > MAX_DEPTH)
			val_stop(s);
		return;
	}
	enum ek parent = s->parser.depth ? s->parser.stack[s->parser.depth - 1] : E_NONE;
	unsigned long line = start_line(s);
	if (!start_counted(s))
		return;
	enum ek k = ns_ok(s, uri) ? val_classify(s, parent, lname) : E_NONE;
	if (k == E_NONE) {
		start_unknown(s, parent, lname, uri, line);
		return;
	}
	if (val_ek_content(parent) == C_ELEMENTS && s->parser.depth > 0 &&
	    !start_in_order(s, parent, k)) {
		order_error(s, k, line);
		return;
	}
	if (!stack_push(s, k, line))
		return;

	struct attr_val a[MAX_ATTRS];
	for (int j = 0; j < MAX_ATTRS && val_attr_specs[k][j].name; j++) {
		a[j].present = a[j].bad = false;
		a[j].v = NULL;
		a[j].len = 0;
	}
	if (k == E_TJENESTE) /* its messages carry its own unit */
		val_unit_tjeneste_begin(s, nb_attrs, attrs, line);
	bool ok = val_check_attrs(s, k, line, nb_attrs, attrs, a);
	start_dispatch(s, k, a, line, ok);
	if (k == E_TJENESTE)
		val_set_unit(s, val_person_unit(s));
}

static void simple_end(struct vstate *s, enum ek k, unsigned long line)
{
	const char *v = s->parser.text;
	size_t n = s->parser.text_len;
	if (k == E_FNR) {
		lex_trim(&v, &n);
		s->person.fnr_overflow = s->parser.text_overflow;
		if (n >= sizeof s->person.fnr) {
			s->person.fnr_overflow = true;
			n = sizeof s->person.fnr - 1;
		}
		memcpy(s->person.fnr, v, n);
		s->person.fnr[n] = '\0';
		s->person.fnr_len = n;
		/* an empty Fnr is R101 */
		if (n == 0 && !s->parser.text_overflow)
			s->person.has_fnr = false;
		memset(s->parser.text, 0, s->parser.text_len);
		return;
	}
	struct attr_val a;
	memset(&a, 0, sizeof a);
	a.v = v;
	a.len = n;
	enum lex_type t = val_simple_type(k);
	bool ok = !s->parser.text_overflow && val_lex_check(t, &a, -1, -1);
	if (!ok) {
		val_f002(s, line, val_ek_path[k], v, n, "Innholdet i «%s» er ikke %s",
			 val_ek_name[k], val_type_text(t));
		if (k == E_KJONN)
			s->person.kjonn_broken = true;
		return;
	}
	switch (k) {
	case E_KJONN:
		s->person.kjonn = a.i;
		break;
	case E_FODSELSAAR:
		s->person.fodselsaar = (int)a.i;
		s->person.has_fodselsaar = true;
		break;
	case E_DODSDATO:
		memcpy(s->person.dodsdato, a.date, V_DATE_LEN);
		s->person.has_dodsdato = true;
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
	if (s->parser.skip_depth) {
		s->parser.skip_depth--;
		return;
	}
	if (s->parser.depth == 0)
		return;
	s->parser.depth--;
	enum ek k = s->parser.stack[s->parser.depth];
	unsigned long line = s->parser.stack_line[s->parser.depth];
	switch (k) {
	case E_FNR:
	case E_KJONN:
	case E_FODSELSAAR:
	case E_DODSDATO:
		simple_end(s, k, line);
		text_reset(s);
		break;
	case E_VURDERING:
		val_element_vurdering_end(s);
		break;
	case E_PERSON:
		val_person_end(s);
		break;
	case E_INNSENDING:
		if (!s->header.seen_avsender)
			val_f002(s, line, val_ek_path[E_INNSENDING], NULL, 0,
				 "«Innsending» mangler elementet «Avsender»");
		break;
	default:
		break;
	}
}

static void text_error(struct vstate *s, enum ek k, const char *ch, size_t len)
{
	if (s->parser.text_err[s->parser.depth - 1])
		return;
	s->parser.text_err[s->parser.depth - 1] = true;
	unsigned long line = val_cur_line(s);
	if (val_ek_content(k) == C_EMPTY)
		val_f002(s, line, val_ek_path[k], ch, len,
			 "Elementet «%s» skal være tomt (bare attributter)", val_ek_name[k]);
	else
		val_f002(s, line, val_ek_path[k], ch, len, "Tekst er ikke tillatt direkte i «%s»",
			 val_ek_name[k]);
}

static void text_append(struct vstate *s, const char *ch, size_t len)
{
	if (s->parser.text_len == 0 && !s->parser.text_overflow) {
		/* leading whitespace: not kept (all simple types collapse or are
		 * trimmed), so padding cannot overflow the buffer */
		while (len && lex_is_ws((unsigned char)*ch)) {
			ch++;
			len--;
		}
		if (!len)
			return;
	}
	if (s->parser.text_overflow) {
		return;
	}
	if (s->parser.text_pending_ws) {
		/* content after whitespace that did not fit: inner whitespace in a
		 * value that is too long anyway */
		for (size_t i = 0; i < len; i++)
			if (!lex_is_ws((unsigned char)ch[i])) {
				s->parser.text_overflow = true;
				return;
			}
		return;
	}
	if (s->parser.text_len + len > MAX_TEXT) {
		bool all_ws = true;
		for (size_t i = 0; i < len; i++)
			if (!lex_is_ws((unsigned char)ch[i]))
				all_ws = false;
		if (all_ws) {
			s->parser.text_pending_ws = true;
			return;
		}
		s->parser.text_overflow = true;
		return;
	}
	memcpy(s->parser.text + s->parser.text_len, ch, len);
	s->parser.text_len += len;
	s->parser.text[s->parser.text_len] = '\0';
}

static void on_chars(void *ud, const xmlChar *ch, int len)
{
	struct vstate *s = ud;
	if (s->stopped || s->parser.skip_depth || s->parser.depth == 0 || len <= 0)
		return;
	enum ek k = s->parser.stack[s->parser.depth - 1];
	switch (val_ek_content(k)) {
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
	if (s->stopped || s->parser.skip_depth || s->parser.depth == 0 || len < 0)
		return;
	enum ek k = s->parser.stack[s->parser.depth - 1];
	if (val_ek_content(k) == C_SIMPLE)
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
	val_msg(
	    s, RULE_F001, val_cur_line(s), "/", NULL,
	    "Filen inneholder en dokumenttypedeklarasjon (DOCTYPE); det er ikke tillatt. Fjern DOCTYPE-linjen");
	val_stop(s);
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
	val_scrub_value(s, m, n, v, sizeof v);
	const char *text = "Filen er ikke velformet XML og kan ikke leses videre";
	if (e->code == XML_ERR_INVALID_CHAR || e->code == XML_ERR_INVALID_ENCODING ||
	    e->code == XML_ERR_UNSUPPORTED_ENCODING || e->code == XML_ERR_ENCODING_NAME)
		text =
		    "Filen har feil tegnkoding eller ugyldige tegn; bruk UTF-8 eller ISO-8859-1 som deklarert";
	else if (e->code == XML_ERR_DOCUMENT_END || e->code == XML_ERR_DOCUMENT_EMPTY ||
		 e->code == XML_ERR_TAG_NOT_FINISHED)
		text = "Filen er ufullstendig eller avkuttet (XML-en slutter for tidlig)";
	val_msg_raw(s, RULE_F001, s->person.active ? s->person.ref_display : "",
		    e->line > 0 ? (unsigned long)e->line : val_cur_line(s),
		    s->parser.depth ? val_ek_path[s->parser.stack[s->parser.depth - 1]] : "/", text,
		    v);
	val_stop(s);
}

void val_sax_init(xmlSAXHandler *sax)
{
	memset(sax, 0, sizeof *sax);
	sax->initialized = XML_SAX2_MAGIC;
	sax->startElementNs = on_start;
	sax->endElementNs = on_end;
	sax->characters = on_chars;
	sax->ignorableWhitespace = on_chars;
	sax->cdataBlock = on_cdata;
	sax->internalSubset = on_doctype;
	sax->externalSubset = on_doctype;
	sax->serror = on_error;
}
