/*
 * received.h — what was received (SPEC §6, "Mottatt"): the figures a
 * municipality checks its extract against before it reads the errors.
 *
 * The figures count what the register keeps of the file: persons loaded
 * (not excluded), and of those the accepted elements, exactly the rows the
 * loader writes. So this year's figures and the previous årgang's, which
 * the server reads from the register (store_received.h), are the same
 * measure. For each unit (a person under its own, a service under its own
 * or its person's, an assessment and a diagnosis under its person's) and for
 * the whole file:
 *   persons; persons with an assessment; per service type the services, the
 *   persons with one, the services with hours per week, their total and
 *   median hours; per diagnosis code system the diagnoses and the persons
 *   with one.
 * Hours are the stored value: timerPerUke rounded to tenths as the loader
 * writes it (received_hours_tenths). The median is the conventional one
 * (the mean of the two middle values for an even count, as PostgreSQL's
 * percentile_cont(0.5)), exact from a histogram of the tenths.
 *
 * Bounded memory: at most RECEIVED_MAX_UNITS named units get figures of
 * their own, the rest share an "other units" row; histograms (sparse: one
 * entry per distinct value) share a budget of RECEIVED_HIST_BUDGET entries,
 * past which a unit's median is not computed (shown as unknown). The whole
 * file's medians are always exact.
 *
 * A person retracted after delivery (R105/R106 at a later duplicate) leaves
 * the figures again: each delivered person's contribution is appended to
 * an unlinked temporary file, and received_retract reads it back.
 */
#ifndef RECEIVED_H
#define RECEIVED_H

#include <stdint.h>

#include "kpr.h"

#define RECEIVED_MAX_UNITS   500
#define RECEIVED_HIST_BUDGET 2000000UL
/* The change, in per cent, beyond which a figure is flagged (default of
 * the configuration's feedback.received_change_threshold_percent). */
#define RECEIVED_DEFAULT_THRESHOLD 20

/* Figures of one service type within one unit (or the whole file). */
struct received_service {
	int type;
	char *name;          /* code list name, NULL when not known */
	unsigned long count; /* services */
	unsigned long persons;
	unsigned long with_hours; /* services with timerPerUke */
	unsigned long long hours_tenths;
	long long median_centi; /* hours × 100; -1: not known */
	/* the histogram of the tenths (current figures only) */
	struct received_hist *hist;
};

struct received_diag {
	char kodeverk[16];
	unsigned long count;
	unsigned long persons;
};

/* One unit's figures, or the whole file's. */
struct received_unit {
	char *enhet; /* as written; "" none; KPR_UNIT_UNKNOWN; NULL: whole file or other */
	bool other;  /* the units past RECEIVED_MAX_UNITS */
	unsigned long persons;
	unsigned long persons_assessed;
	struct received_service *svc; /* sorted by type */
	size_t n_svc, cap_svc;
	struct received_diag *diag; /* sorted by kodeverk */
	size_t n_diag, cap_diag;
};

/* A set of figures: the current file's or the previous årgang's. */
struct received_figures {
	struct received_unit whole;
	struct received_unit **units; /* named, "" and unknown; then other */
	size_t n_units, cap_units;
	struct received_unit *other; /* NULL until a unit past the cap */
	void *index;                 /* name -> unit (received.c) */
};

void received_figures_init(struct received_figures *f);
void received_figures_clear(struct received_figures *f);
/* The unit's row, created empty when new; the other row past the cap.
 * NULL when out of memory. */
struct received_unit *received_figures_unit(struct received_figures *f, const char *enhet);
/* The unit's row when there is one (the other row is not found by name). */
const struct received_unit *received_figures_find(const struct received_figures *f,
						  const char *enhet);
/* The type's entry in u, created when new; NULL when out of memory. */
struct received_service *received_unit_service(struct received_unit *u, int type);
struct received_diag *received_unit_diag(struct received_unit *u, const char *kodeverk);
/* The units sorted as the feedback shows them (named by name, then "",
 * KPR_UNIT_UNKNOWN, other last). */
void received_figures_sort(struct received_figures *f);
/* That order, as a qsort comparator of const struct received_unit *. */
int received_unit_cmp(const void *a, const void *b);

/* ---- the current file: fed by the validator ------------------------------ */

struct received;
struct codelist;

/* tmpdir: where the contributions go (NULL: $TMPDIR or /tmp). */
struct received *received_new(const char *tmpdir) KPR_WUR;
void received_free(struct received *rc);
/* Adds a delivered person, told in steps: begin (its unit; whether it has
 * an assessment), each accepted service (its type, timerPerUke when given,
 * its unit: its own, else its person's) and diagnosis (its code system),
 * then end. Strings must stay valid until received_person_end. *handle
 * names the person's contribution for received_retract; codes/year give
 * the service type names (codes NULL: none). */
bool received_person_begin(struct received *rc, const char *enhet, bool enhet_unknown,
			   bool assessed) KPR_WUR;
bool received_person_service(struct received *rc, int type, bool has_hours, double hours,
			     const char *enhet, bool enhet_unknown) KPR_WUR;
bool received_person_diagnosis(struct received *rc, const char *kodeverk) KPR_WUR;
bool received_person_end(struct received *rc, const struct codelist *codes, int year,
			 uint64_t *handle) KPR_WUR;
/* Takes a delivered person out again. */
bool received_retract(struct received *rc, uint64_t handle) KPR_WUR;
/* The figures, medians computed and units sorted; valid until the next
 * received_person_end/received_retract/received_free. NULL when out of memory. */
const struct received_figures *received_figures(struct received *rc);
/* True when some unit's median could not be computed (budget). */
bool received_hist_exhausted(const struct received *rc);
/* Test hook: histogram entries left for units (RECEIVED_HIST_BUDGET). */
void received_set_hist_budget(struct received *rc, unsigned long entries);

/* timerPerUke as stored (the loader's "%.1f"), in tenths. */
long received_hours_tenths(double hours);

/* ---- the comparison with the previous årgang (server only) -------------- */

enum received_prev_state {
	RECEIVED_PREV_NOT_ASKED = 0, /* offline: kpr-validate has no register */
	RECEIVED_PREV_COMPARED,      /* the previous årgang's current submission */
	RECEIVED_PREV_NONE,          /* no accepted submission for it */
	RECEIVED_PREV_NEW_NUMBER,    /* the number did not exist then (merger, split) */
	RECEIVED_PREV_UNAVAILABLE,   /* the register could not be asked */
};

struct received_compare {
	enum received_prev_state state;
	int aargang;            /* the previous årgang */
	char submission_id[40]; /* its current submission (COMPARED) */
	struct received_figures prev;
	int threshold_percent; /* flag a change beyond ± this */
};

void received_compare_init(struct received_compare *c);
void received_compare_clear(struct received_compare *c);
const char *received_prev_state_code(enum received_prev_state s);

/* ---- the rows every format shows ----------------------------------------- */

enum received_key {
	RECEIVED_PERSONS,
	RECEIVED_PERSONS_ASSESSED,
	RECEIVED_SERVICES,         /* of .type */
	RECEIVED_SERVICE_PERSONS,  /* of .type */
	RECEIVED_HOURS_TOTAL,      /* of .type, decimals 1 (only for a type with hours) */
	RECEIVED_HOURS_MEDIAN,     /* of .type, decimals 2 */
	RECEIVED_DIAGNOSES,        /* of .kodeverk */
	RECEIVED_DIAGNOSIS_PERSONS /* of .kodeverk */
};

struct received_row {
	const struct received_unit *unit; /* NULL: the whole file */
	const char *enhet;                /* the unit's name as written, NULL: whole file/other */
	bool other;
	enum received_key key;
	const char *key_code; /* "personer", "tjenester", ... (machine formats) */
	const char *label;    /* "Personer", "Tjenester", ... */
	int type;             /* service type, 0 none */
	const char *type_name;
	const char *kodeverk; /* NULL none */
	int decimals;         /* 0 counts, 1 hours, 2 median */
	bool has_value;       /* false: median not known */
	long long value;      /* × 10^decimals */
	bool has_prev;
	long long prev;
	bool has_change; /* prev > 0 */
	double change_percent;
	bool flagged; /* beyond the threshold, or from 0 to more, or to 0 */
};

/* Calls fn for every row: the whole file's first (not with a unit filter),
 * then each unit's, in the order received_figures_sort gives; with a
 * comparison, units and figures only the previous årgang had are rows too
 * (with 0 now). enhet: limit to one unit (NULL: all). Stops when fn
 * returns false and returns false. */
typedef bool (*received_row_fn)(void *ctx, const struct received_row *row);
bool received_rows(const struct received_figures *cur, const struct received_compare *cmp,
		   const char *enhet, received_row_fn fn, void *ctx) KPR_WUR;

/* A value as text: "12", "12.5", "3.25" (decimals fixed); buf ≥ 32. */
void received_value_text(long long v, int decimals, char *buf, size_t len);

#endif
