/*
 * validate.h — the streaming validation engine (SPEC §2, §3).
 * Reads one submission file (plain or gzip, UTF-8 or ISO-8859-1) with the
 * libxml2 reader, never building a document tree, applies F001–F007 and
 * every R-rule, adds messages to a report, and hands each person — with
 * only its accepted elements — to a sink as soon as the Person element ends,
 * so the worker can pipe records into COPY without holding the file.
 * Memory: one person's working set plus what duplicate detection needs
 * (a keyed hash per national ID and per ref: about 40-70 bytes per person).
 *
 * Semantics where SPEC §3 leaves room (tests/unit/check_validate.c pins them):
 *  - Structure (F002) is checked in code, mirroring config/xsd/innsending.xsd;
 *    tests/integration/test_xsd_differential.sh proves the two agree. Known,
 *    deliberate differences: xsi:type is always F002; declared encodings other
 *    than UTF-8/ISO-8859-1 and any DOCTYPE are F001 (SPEC §2).
 *  - After F002 the file is still read to the end (up to 100 F002 messages) so
 *    the municipality sees every problem; F001 and F006 stop at once. After
 *    F003/F004/F005 only the structure is checked: per-record R-rules would
 *    judge the file against the wrong municipality or year.
 *  - Nothing reaches the sink once a FATAL is known; the worker rolls back what
 *    it loaded before that. The summary of a fatal file says nothing loaded.
 *  - ERROR excludes: the whole person for R101-R106 and R108 (and a person
 *    with F002 inside); the Vurdering for R201, R202, R203; the Tjeneste for
 *    R301-R306; the Diagnose for R401; the element for R405.
 *  - Fnr is trimmed of XML whitespace; an empty Fnr is R101.
 *  - R106 also covers a ref of more than 64 characters, with control
 *    characters, or carrying a national-ID candidate (SPEC §3's masking rule,
 *    nid_has_candidate: such a ref is masked in every message). Refs are
 *    compared, retracted and handed to the sink exactly as written; only
 *    messages carry the masked display form.
 *  - An orgnr carrying a candidate, or longer than fits, is R307 and is not
 *    stored (v_tjeneste.orgnr "").
 *  - R105/R106: every duplicate after the first is reported with both refs
 *    and excluded; the first is reported too and retracted (sink->retract)
 *    if it was delivered.
 *  - R307 asks for orgnr only on a started, not refused institution service
 *    (code list flag); an orgnr that is present is always checked.
 *  - R308: same type, both started and accepted; periods overlap when one
 *    starts before the other ends (a handover on the same day is not one).
 *  - R309/R402/R403 look at accepted services with a start that are active in
 *    the årgang; R310 compares the latest accepted Vurdering with the latest
 *    vedtak of an accepted service; R404: a type 21 stay covering the
 *    Venteliste vedtak date.
 *  - R110: an enhet (Person or Tjeneste) that is blank, longer than 64
 *    characters, holds control characters or a national-ID candidate is
 *    recorded as unknown; the element is loaded. Messages carry the unit of
 *    the element they concern (report.h): a Tjeneste's own, else its
 *    Person's; REPORT_UNIT_UNKNOWN after R110; none (NULL) outside a Person.
 *  - Line numbers are where the element's start tag begins.
 */
#ifndef VALIDATE_H
#define VALIDATE_H

#include "codelist.h"
#include "kpr.h"
#include "report.h"

#define V_DATE_LEN       11  /* "YYYY-MM-DD" + NUL; "" when absent */
#define V_ENHET_LEN      257 /* an enhet of up to 64 characters (UTF-8) + NUL */
#define V_FUNKSJON_COUNT 17

struct v_vurdering {
	char dato[V_DATE_LEN];
	unsigned char skaar[V_FUNKSJON_COUNT]; /* skaar[k-1] for Funksjon kode k */
	unsigned long line;
};

struct v_tjeneste {
	int type;
	char soknad[V_DATE_LEN], vedtak[V_DATE_LEN], start[V_DATE_LEN], slutt[V_DATE_LEN];
	bool avslag;
	bool has_timer_per_uke, has_timer_med_flere;
	double timer_per_uke, timer_med_flere;
	char orgnr[72]; /* as written, up to 64 characters in 71 bytes; "" when absent,
			 * an ID candidate or longer (R307) */
	/* The unit: the Tjeneste's own enhet as written, else its person's;
	 * "" when neither has one or when it is unknown (enhet_unknown: R110
	 * refused the one that applies). */
	char enhet[V_ENHET_LEN];
	bool enhet_unknown;
	unsigned long line;
};

struct v_diagnose {
	char kodeverk[8]; /* "ICD-10" | "ICPC-2" */
	char kode[8];
	unsigned long line;
};

/* Heldogn, Legemiddelgjennomgang (svar) and Ernaering (risiko): code 1|2 + date */
struct v_svar {
	int kode;
	char dato[V_DATE_LEN];
	unsigned long line;
};

/* IndividuellPlan, Koordinator: code 1..4 */
struct v_kode {
	int kode;
	unsigned long line;
};

struct v_venteliste {
	char vedtak[V_DATE_LEN];
	unsigned long line;
};

/* One accepted person. Arrays hold only accepted elements. Valid only
 * during the sink call. `fnr` is the clear national ID: the sink must turn
 * it into a pseudonym and vault entry and never store, log or copy it. */
struct v_person {
	const char *ref;
	/* Person/@enhet as written; "" when absent or unknown (enhet_unknown:
	 * R110 refused it, so it must not be stored; SPEC §3) */
	const char *enhet;
	bool enhet_unknown;
	unsigned long line;
	char fnr[12];
	int kjonn;             /* 1 | 2 */
	int fodselsaar;        /* from the file, or decoded from the ID when absent */
	bool fodselsaar_given; /* Fodselsaar was in the file (a registration) */
	char dodsdato[V_DATE_LEN];
	const struct v_vurdering *vurderinger;
	size_t n_vurderinger;
	const struct v_tjeneste *tjenester;
	size_t n_tjenester;
	const struct v_diagnose *diagnoser;
	size_t n_diagnoser;
	const struct v_svar *heldogn;
	size_t n_heldogn;
	const struct v_svar *legemiddel;
	size_t n_legemiddel;
	const struct v_svar *ernaering;
	size_t n_ernaering;
	const struct v_kode *individuell_plan;
	size_t n_individuell_plan;
	const struct v_kode *koordinator;
	size_t n_koordinator;
	const struct v_venteliste *venteliste;
	size_t n_venteliste;
	unsigned long registrations; /* accepted registrations, each Funksjon on its own */
};

struct validate_sink {
	/* An accepted person; return false to abort (I/O error in the loader). */
	bool (*person)(void *ctx, const struct v_person *p);
	/* A person already delivered must be excluded after all (R105/R106 found
	 * at a later duplicate). May be called more than once for one ref. */
	bool (*retract)(void *ctx, const char *ref);
	void *ctx;
};

struct v_header {
	char id[257];         /* Innsending/@id (1-64 characters, UTF-8) */
	char forrige_id[257]; /* "" when absent */
	char opprettet[40];
	int aargang;
	char versjon[16];
	char kommunenummer[8];
	char fagsystem[257];         /* up to 64 characters, UTF-8 */
	char fagsystem_versjon[129]; /* up to 32 characters */
};

struct validate_params {
	const struct codelist *codes; /* tjenestetype, kommune, ... */
	const char *auth_kommune;     /* F003; NULL: not checked (offline) */
	int aargang_open_min;         /* F005: open range; 0/0: any */
	int aargang_open_max;
	const char *latest_submission_id; /* F007; NULL: not checked; "" = none yet */
	bool test_mode;                   /* R104: synthetic numbers accepted */
	bool allow_2032;                  /* R103 */
	unsigned long long max_bytes;     /* F006: limit on the (decompressed) XML */
	double deadline; /* CLOCK_MONOTONIC seconds; past it validation stops (0: none) */
};

/* validate_peek_header reads at most this much decompressed XML: a gzip of
 * whitespace before the root element must not hold a thread for long. */
#define VALIDATE_PEEK_MAX_BYTES (1 << 20)

struct validate_result {
	struct v_header header;
	bool header_ok; /* header fields were read */
	double seconds;
	unsigned long long bytes; /* XML bytes parsed (after gunzip) */
	bool timed_out;           /* stopped at validate_params.deadline (returns false) */
};

/* Validates path. Returns false only on an internal failure (out of memory,
 * sink abort, unreadable file); every problem with the file's content is a
 * message in the report, FATAL ones with report_summary(r)->fatal set. */
bool validate_file(const char *path, const struct validate_params *params,
		   const struct validate_sink *sink, struct report *r,
		   struct validate_result *res) KPR_WUR;

/* Reads just the Innsending and Avsender attributes (for idempotency at
 * upload time). False when they cannot be read; err says why. */
bool validate_peek_header(const char *path, struct v_header *h, char *err, size_t errlen) KPR_WUR;

#endif
