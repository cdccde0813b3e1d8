/*
 * validate_state.h — the validator's internal state and the functions its
 * files share; private to server/src/validation/validate*.c (validate.h is
 * the public interface).
 *
 * The engine is split by job, in the order a file flows through it:
 *   validate_input.c    reading (plain or gzip), the encoding check, the
 *                       push-parser loop, the size and time limits
 *   validate_sax.c      the SAX callbacks: element stack, ordering, text,
 *                       dispatch to the checks below, parse errors
 *   validate_schema.c   the structure mirrored from config/xsd/innsending.xsd:
 *                       element and attribute tables, lexical types
 *   validate_header.c   Innsending and Avsender (F003–F005, F007), code lists
 *   validate_element.c  the rules of one element (R2xx, R3xx, R401, R405)
 *   validate_person.c   the person working set, the identity rules (R101–R109)
 *                       and handing an accepted person to the sink
 *   validate_cross.c    rules across a person's elements (R308–R310, R402–R404)
 *   validate_dedup.c    duplicate refs and national IDs (R105/R106), retraction
 *   validate_msg.c      messages: masking values, F002 counting, stopping
 *   validate.c          the public entry points and the state's life cycle
 *
 * Must not: be included outside server/src/validation/ (and its unit test).
 */
#ifndef VALIDATE_STATE_H
#define VALIDATE_STATE_H

#include <libxml/parser.h>
#include <stdint.h>

#include "nid.h"
#include "report.h"
#include "rules.h"
#include "validate.h"

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

/* ---- the schema: elements, content, attributes ------------------------- */

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

extern const char *const val_ek_name[E_COUNT]; /* "Fnr" */
extern const char *const val_ek_path[E_COUNT]; /* "/Innsending/Person/Fnr" */

enum content { C_ELEMENTS, C_SIMPLE, C_EMPTY };

enum lex_type { T_STRING, T_INTEGER, T_DECIMAL, T_BOOLEAN, T_DATO, T_AAR, T_DATETIME };

struct attr_spec {
	const char *name;
	enum lex_type type;
	bool required;
	int minlen, maxlen; /* T_STRING: characters; -1 none */
};

#define MAX_ATTRS 10
extern const struct attr_spec val_attr_specs[E_COUNT][MAX_ATTRS + 1];

/* An attribute (or simple content) as read and, when well-typed, parsed. */
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

/* ---- the person working set ------------------------------------------- */

/* What becomes of one element of the working set. */
enum elem_status {
	ELEM_ACCEPTED = 0, /* handed to the sink with its person */
	ELEM_EXCLUDED = 1, /* an ERROR excludes it; the person may still load */
	ELEM_BROKEN = 2,   /* structurally broken (F002): no rule judges it */
};

/* A growable array of T plus a status byte (enum elem_status) per element. */
struct vec {
	void *d;
	unsigned char *st;
	unsigned long *regs; /* registrations of the element (Vurdering: 1 + Funksjon) */
	size_t n, cap, esz;
};

#define VEC_AT(v, T, i) (&((T *)(v)->d)[i])

enum pv { PV_VURD, PV_TJ, PV_DIAG, PV_HELD, PV_LMG, PV_ERN, PV_IP, PV_KOORD, PV_VL, PV_COUNT };

/* Where a Person's children have got to: Fnr, Kjonn, Fodselsaar and
 * Dodsdato come first, in that order, at most once each; the rest follow
 * in any order. */
enum person_phase {
	PHASE_START = 0,
	PHASE_FNR,
	PHASE_KJONN,
	PHASE_FODSELSAAR,
	PHASE_DODSDATO,
	PHASE_REST,
};

/* ---- duplicate detection ---------------------------------------------- */

/* Person records for duplicate detection: one per Person, for the file.
 * Duplicate detection costs about 40-90 bytes per person: a 20-byte record,
 * the ref as written and the person's unit (so later messages about it
 * carry its unit), an 8-byte slot in each of two open-addressing tables
 * kept at most 70 % full. */
struct prec {
	uint32_t ref_off;  /* the ref as written (up to 256 bytes) in refs */
	uint32_t unit_off; /* the person's unit as messages carry it, in refs */
	uint32_t line;     /* saturated */
	uint32_t regs;     /* registrations handed to the sink */
	uint8_t delivered, retracted;
	uint64_t received; /* its contribution to the figures (received.h) */
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

/* ---- the state -------------------------------------------------------- */

/* The SAX parser, its interned names, the element stack and the text of
 * the current simple-content element. */
struct vparser {
	xmlParserCtxtPtr ctxt;
	const xmlChar *ename[E_COUNT];
	const xmlChar *aname[E_COUNT][MAX_ATTRS];
	const xmlChar *xsi_schemaLocation, *xsi_noNs;
	const xmlChar *ns_interned;

	enum ek stack[MAX_DEPTH + 1];
	unsigned long stack_line[MAX_DEPTH + 1];
	bool text_err[MAX_DEPTH + 1];
	int depth;
	unsigned long skip_depth;

	char text[MAX_TEXT + 1];
	size_t text_len;
	bool text_overflow, text_pending_ws;
};

/* Innsending and Avsender, and the årgang's bounds. */
struct vheader {
	bool seen_root, seen_avsender, header_ok;
	struct v_header hdr;
	char y_start[V_DATE_LEN], y_end[V_DATE_LEN]; /* "" when aargang unknown */
	char opprettet_date[V_DATE_LEN];
};

/* The code lists as valid for the file's årgang. */
struct vcodes {
	bool tj_valid[256], tj_inst[256];
	bool funk_valid[V_FUNKSJON_COUNT + 1];
	bool skaar_valid[100];
	bool icd10_ok, icpc2_ok;
};

/* The Vurdering being read. */
struct vvurd {
	unsigned char count[V_FUNKSJON_COUNT + 1];
	long bad_codes[8];
	size_t n_bad;
	unsigned long nfunk;
};

/* The Person being read: identity, working set, verdict. */
struct vperson {
	bool active;
	enum person_phase phase;
	unsigned long line;
	char *ref;
	size_t ref_len, ref_bufcap;
	bool has_ref;
	char ref_display[MAX_REF_SHOWN + 8];
	bool ref_idlike;
	/* Person/@enhet as written ("" absent), or unknown after R110; and the
	 * unit of the Tjeneste being read (its own, else the person's) */
	char enhet[V_ENHET_LEN];
	bool enhet_unknown;
	char tj_enhet[V_ENHET_LEN];
	bool tj_enhet_unknown;
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
	unsigned long ident_regs; /* Fnr, Kjonn, Fodselsaar, Dodsdato elements */
	unsigned long regs;       /* every element inside the Person */
	unsigned long elems;
	bool excluded, broken, too_big;
	struct vec pv[PV_COUNT];
	struct vvurd vurd;
};

/* Every person of the file, for R105/R106. */
struct vdedup {
	struct prec *precs;
	size_t n_precs, cap_precs;
	char *refs;
	size_t refs_len, refs_cap;
	struct ref_slot *ref_tab;
	size_t ref_cap, ref_used; /* power of two */
	uint64_t *fnr_tab;
	size_t fnr_cap, fnr_used;
	uint64_t fnr_key0, fnr_key1, fnr_key2;
};

struct vinput {
	unsigned long long bytes; /* decompressed bytes read */
	bool timed_out;           /* validate_params.deadline passed */
};

struct vstate {
	const struct validate_params *p;
	const struct validate_sink *sink;
	struct report *r;
	struct validate_result *res;
	struct nid_options nidopt;

	/* peek mode: stop after Avsender, first fatal message to peek_err */
	bool peek;
	char peek_err[256];

	bool stopped, internal_error, fatal;
	/* F003/F004/F005: the file is not the sender's, or not for an open
	 * årgang. Per-record R-rules would judge it against the wrong year or
	 * municipality, so only the structure is still checked and reported. */
	bool header_fatal;
	unsigned long n_f002;

	struct vparser parser;
	struct vheader header;
	struct vcodes codes;
	struct vperson person;
	struct vdedup dedup;
	struct vinput input;
};

/* ---- shared functions ------------------------------------------------- */

static inline bool date_set(const char *d)
{
	return d && d[0];
}

/* validate_msg.c */
void val_stop(struct vstate *s);
void val_scrub_text(const struct vstate *s, const char *v, size_t len, size_t max_shown, char *out,
		    size_t outlen);
void val_scrub_value(const struct vstate *s, const char *v, size_t len, char *out, size_t outlen);
void val_show_identifier(const char *v, char *out, size_t outlen);
void val_msg_raw(struct vstate *s, enum rule_id rule, const char *ref, unsigned long line,
		 const char *path, const char *text, const char *value);
void val_msg(struct vstate *s, enum rule_id rule, unsigned long line, const char *path,
	     const char *value, const char *fmt, ...) KPR_PRINTF(6, 7);
void val_msgv(struct vstate *s, enum rule_id rule, unsigned long line, const char *path,
	      const char *v, size_t vlen, const char *fmt, ...) KPR_PRINTF(7, 8);
void val_f002(struct vstate *s, unsigned long line, const char *path, const char *v, size_t vlen,
	      const char *fmt, ...) KPR_PRINTF(6, 7);

/* Units (R110 and the unit messages carry): the person's unit key as the
 * report keeps it (NULL outside a Person), a Tjeneste's, and setting the
 * report's current unit (an internal error stops the parse). */
const char *val_person_unit(const struct vstate *s);
const char *val_tj_unit(const struct v_tjeneste *t);
void val_set_unit(struct vstate *s, const char *unit);
/* R110 on one enhet value; true when it is usable as written. */
bool val_unit_check(struct vstate *s, const char *v, size_t len, unsigned long line,
		    const char *path);
/* Before a Tjeneste's attributes are checked: its unit from its raw
 * attributes, made current. */
void val_unit_tjeneste_begin(struct vstate *s, int nb_attrs, const xmlChar **attrs,
			     unsigned long line);

/* validate_schema.c */
enum content val_ek_content(enum ek k);
enum lex_type val_simple_type(enum ek k);
const char *val_type_text(enum lex_type t);
bool val_lex_check(enum lex_type t, struct attr_val *v, int minlen, int maxlen);
bool val_check_attrs(struct vstate *s, enum ek k, unsigned long line, int nb_attrs,
		     const xmlChar **attrs, struct attr_val *out);
enum ek val_classify(struct vstate *s, enum ek parent, const xmlChar *lname);
void val_intern_names(struct vstate *s);

/* validate_header.c */
void val_copy_attr(char *dst, size_t dstlen, const struct attr_val *a);
void val_header_innsending(struct vstate *s, const struct attr_val *a, unsigned long line);
void val_header_avsender(struct vstate *s, const struct attr_val *a, unsigned long line);

/* validate_element.c */
void val_element_vurdering_begin(struct vstate *s, const struct attr_val *a, unsigned long line,
				 bool ok);
void val_element_funksjon(struct vstate *s, const struct attr_val *a, unsigned long line, bool ok);
void val_element_vurdering_end(struct vstate *s);
void val_element_tjeneste(struct vstate *s, const struct attr_val *a, unsigned long line, bool ok);
void val_element_diagnose(struct vstate *s, const struct attr_val *a, unsigned long line, bool ok);
void val_element_svar(struct vstate *s, enum ek k, const struct attr_val *a, unsigned long line,
		      bool ok);
void val_element_kode(struct vstate *s, enum ek k, const struct attr_val *a, unsigned long line,
		      bool ok);
void val_element_venteliste(struct vstate *s, const struct attr_val *a, unsigned long line,
			    bool ok);

/* validate_person.c */
void val_person_init(struct vstate *s);
void val_person_free(struct vstate *s);
void *val_person_push(struct vstate *s, struct vec *v);
void val_person_begin(struct vstate *s, const struct attr_val *ref, const struct attr_val *enhet,
		      unsigned long line);
void val_person_end(struct vstate *s);

/* validate_cross.c */
void val_person_cross_rules(struct vstate *s);

/* validate_dedup.c */
void val_dedup_init(struct vstate *s);
void val_dedup_free(struct vstate *s);
bool val_dedup_person(struct vstate *s, bool ref_usable, bool nid_ok, const char *masked, long *me);

/* validate_sax.c */
void val_sax_init(xmlSAXHandler *sax);
unsigned long val_cur_line(struct vstate *s);

/* validate_input.c */
bool val_run(struct vstate *s, const char *path);

#endif
