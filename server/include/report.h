/*
 * report.h — the validation messages of one file and its summary counts.
 * The validator adds messages as it streams; identical messages of one
 * person scope (same ref, rule and text — and path and value, so a merged
 * message never hides a different value) are merged with their line numbers.
 * Messages are spilled to an unlinked temporary file so memory stays bounded
 * whatever the file holds; per-rule and per-severity counts stay in memory.
 * The feedback renderer iterates the messages in file order (by first line),
 * also those added later about an earlier person (R105/R106).
 * Never put a national ID in any field: values are masked by the caller
 * (nid_mask) before they reach a report.
 *
 * Units (SPEC §2 enhet): every message carries the unit of the element it
 * concerns, taken from the report's current unit (report_set_unit, set by
 * the validator as it enters a Person or Tjeneste), so the report_add call
 * sites need not name it. Per-unit counts are kept for at most
 * REPORT_MAX_UNITS distinct units; the rest are counted together in one
 * "other units" row (struct report_unit.enhet NULL), which the feedback
 * says. A filter (report_set_filter) limits iteration to one unit's
 * messages plus those about the whole file.
 */
#ifndef REPORT_H
#define REPORT_H

#include "kpr.h"
#include "rules.h"

struct vmsg {
	const char *rule; /* "R103" — must exist in rules_catalogue */
	enum severity severity;
	const char *ref;            /* Person/@ref, "" when none (file-level) */
	const unsigned long *lines; /* sorted ascending, at least one */
	size_t nlines;
	const char *path;  /* "/Innsending/Person/Tjeneste" */
	const char *text;  /* bokmål message */
	const char *value; /* offending value (masked if an ID), NULL if none */
	/* The unit of the element concerned: a Tjeneste's own, else its
	 * Person's, as written; "" when that element has none;
	 * REPORT_UNIT_UNKNOWN when R110 refused it; NULL for a message about
	 * the whole file. */
	const char *enhet;
};

/* The unit recorded for an element whose enhet R110 refused. It cannot be
 * mistaken for a name as written only by a unit spelt exactly so, which
 * then shares its row. */
#define REPORT_UNIT_UNKNOWN KPR_UNIT_UNKNOWN
/* Distinct units counted one by one; the rest share one "other" row. */
#define REPORT_MAX_UNITS 10000

/* The counts of one unit. A person counts under its own unit, a Tjeneste
 * under its own (or its person's); messages under the unit they carry. */
struct report_unit {
	const char *enhet; /* as in struct vmsg ("" none, REPORT_UNIT_UNKNOWN);
			    * NULL: the row of the units past REPORT_MAX_UNITS */
	unsigned long persons;
	unsigned long persons_loaded;
	unsigned long persons_excluded;
	unsigned long services;               /* Tjeneste elements seen */
	unsigned long by_severity[SEV_COUNT]; /* message occurrences, as in the summary */
};

struct report_summary {
	unsigned long persons;        /* Person elements seen */
	unsigned long registrations;  /* elements inside Persons, each Funksjon on its own */
	unsigned long persons_loaded; /* persons handed to the loader (not excluded whole) */
	unsigned long persons_excluded;
	unsigned long registrations_loaded;
	unsigned long registrations_excluded;
	unsigned long by_severity[SEV_COUNT]; /* message counts (merged message = 1 per line) */
	bool fatal;                           /* any FATAL message: nothing may be loaded */
};

struct report;

/* tmpdir: where the spill file goes (NULL: $TMPDIR or /tmp). */
struct report *report_new(const char *tmpdir) KPR_WUR;
void report_free(struct report *r);

/* Adds one message for one line, about the current unit; merging with an
 * identical message (same ref, unit, rule, text, path, value) of the same
 * person happens inside. Copies every string. */
bool report_add_rule(struct report *r, enum rule_id rule, const char *ref, unsigned long line,
		     const char *path, const char *text, const char *value) KPR_WUR;
/* The same by printable id ("R103"); false when no rule has that id. */
bool report_add(struct report *r, const char *rule, const char *ref, unsigned long line,
		const char *path, const char *text, const char *value) KPR_WUR;
/* The unit the following messages concern (copied); NULL: the whole file
 * (the state of a new report). */
bool report_set_unit(struct report *r, const char *enhet) KPR_WUR;
const char *report_current_unit(const struct report *r); /* NULL: the whole file */

/* The counts of unit enhet (not NULL), created at zero when new; the
 * "other units" row once REPORT_MAX_UNITS are known. Valid until the next
 * call that may add a unit. NULL only when out of memory. */
struct report_unit *report_unit(struct report *r, const char *enhet);

/* Every unit row, sorted by name (units with a name first, then "" and
 * REPORT_UNIT_UNKNOWN, the "other" row last); with a filter set only that
 * unit's row. *out is malloc'ed (free it); returns the number of rows,
 * or -1 when out of memory. */
long report_units(struct report *r, const struct report_unit ***out) KPR_WUR;
/* True when more than REPORT_MAX_UNITS units were seen. */
bool report_units_capped(const struct report *r);
/* True when some message or count carries unit enhet (exact bytes). */
bool report_has_unit(const struct report *r, const char *enhet);

/* Limits report_foreach and report_units to one unit's messages plus those
 * about the whole file (NULL: everything again). False, and no filter set,
 * when no message or count carries that unit. */
bool report_set_filter(struct report *r, const char *enhet) KPR_WUR;
const char *report_filter(const struct report *r); /* NULL: none */

/* Called by the validator when a Person ends: merges and spills its messages. */
bool report_flush(struct report *r) KPR_WUR;

struct report_summary *report_summary(struct report *r);
/* What was received (received.h): the figures of the persons delivered to
 * the loader, kept with the report. */
struct received *report_received(struct report *r);
const struct report_summary *report_summary_const(const struct report *r);

/* Number of merged messages for rule id (after report_flush). */
unsigned long report_rule_count(const struct report *r, const char *rule_id);

/* Calls fn for every merged message in file order (only those the filter
 * lets through); stops and returns false when fn does. The vmsg and its
 * strings live only during the call. */
typedef bool (*report_visit_fn)(void *ctx, const struct vmsg *m);
bool report_foreach(struct report *r, report_visit_fn fn, void *ctx) KPR_WUR;

/* Calls fn for the messages whose unit is exactly enhet (NULL: those about
 * the whole file only), in file order, whatever filter is set. */
bool report_foreach_unit(struct report *r, const char *enhet, report_visit_fn fn,
			 void *ctx) KPR_WUR;

#endif
