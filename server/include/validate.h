/*
 * validate.h — the streaming validation engine (SPEC §2, §3).
 * Reads one submission file (plain or gzip, UTF-8 or ISO-8859-1) with the
 * libxml2 reader, never building a document tree, applies F001–F007 and
 * every R-rule, adds messages to a report, and hands each person — with
 * only its accepted elements — to a sink as soon as the Person element ends,
 * so the worker can pipe records into COPY without holding the file.
 * Memory: one person's working set plus what duplicate detection needs
 * (a hash per national ID and per ref).
 */
#ifndef VALIDATE_H
#define VALIDATE_H

#include "codelist.h"
#include "kpr.h"
#include "report.h"

#define V_DATE_LEN 11   /* "YYYY-MM-DD" + NUL; "" when absent */
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
	char orgnr[16]; /* "" when absent */
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
	unsigned long line;
	char fnr[12];
	int kjonn;       /* 1 | 2 */
	int fodselsaar;  /* from the file, or decoded from the ID when absent */
	char dodsdato[V_DATE_LEN];
	const struct v_vurdering *vurderinger; size_t n_vurderinger;
	const struct v_tjeneste *tjenester;    size_t n_tjenester;
	const struct v_diagnose *diagnoser;    size_t n_diagnoser;
	const struct v_svar *heldogn;          size_t n_heldogn;
	const struct v_svar *legemiddel;       size_t n_legemiddel;
	const struct v_svar *ernaering;        size_t n_ernaering;
	const struct v_kode *individuell_plan; size_t n_individuell_plan;
	const struct v_kode *koordinator;      size_t n_koordinator;
	const struct v_venteliste *venteliste; size_t n_venteliste;
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
	char id[257];           /* Innsending/@id (1-64 characters, UTF-8) */
	char forrige_id[257];   /* "" when absent */
	char opprettet[40];
	int aargang;
	char versjon[16];
	char kommunenummer[8];
	char fagsystem[257];         /* up to 64 characters, UTF-8 */
	char fagsystem_versjon[129]; /* up to 32 characters */
};

struct validate_params {
	const struct codelist *codes;   /* tjenestetype, kommune, ... */
	const char *auth_kommune;       /* F003; NULL: not checked (offline) */
	int aargang_open_min;           /* F005: open range; 0/0: any */
	int aargang_open_max;
	const char *latest_submission_id; /* F007; NULL: not checked; "" = none yet */
	bool test_mode;                 /* R104: synthetic numbers accepted */
	bool allow_2032;                /* R103 */
	unsigned long long max_bytes;   /* F006: limit on the (decompressed) XML */
	const char *xsd_path;           /* the submission XSD (config/xsd/innsending.xsd) */
};

struct validate_result {
	struct v_header header;
	bool header_ok;                 /* header fields were read */
	double seconds;
	unsigned long long bytes;       /* XML bytes parsed (after gunzip) */
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
