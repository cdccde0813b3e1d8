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

/* Adds one message for one line; merging with an identical message of the
 * same person happens inside. Copies every string. */
bool report_add_rule(struct report *r, enum rule_id rule, const char *ref, unsigned long line,
		     const char *path, const char *text, const char *value) KPR_WUR;
/* The same by printable id ("R103"); false when no rule has that id. */
bool report_add(struct report *r, const char *rule, const char *ref, unsigned long line,
		const char *path, const char *text, const char *value) KPR_WUR;
/* Called by the validator when a Person ends: merges and spills its messages. */
bool report_flush(struct report *r) KPR_WUR;

struct report_summary *report_summary(struct report *r);
const struct report_summary *report_summary_const(const struct report *r);

/* Number of merged messages for rule id (after report_flush). */
unsigned long report_rule_count(const struct report *r, const char *rule_id);

/* Calls fn for every merged message in file order; stops and returns false
 * when fn does. The vmsg and its strings live only during the call. */
typedef bool (*report_visit_fn)(void *ctx, const struct vmsg *m);
bool report_foreach(struct report *r, report_visit_fn fn, void *ctx) KPR_WUR;

#endif
