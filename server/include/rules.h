/*
 * rules.h — the rule catalogue (SPEC §3): id, severity, Norwegian title,
 * what it means and how to fix it. The one table the validator, the feedback
 * renderer and the generated docs/rules.md all read, so they cannot drift.
 * The rules themselves are listed once, in rules.def: it expands here into
 * enum rule_id and in rules.c into the catalogue, indexed by that enum. The
 * validator names rules by the enum (a typo does not compile); the report,
 * feedback files, metrics and docs show the string id ("R105").
 */
#ifndef RULES_H
#define RULES_H

#include "kpr.h"

enum severity {
	SEV_FATAL = 0, /* Kritisk feil: the whole file is rejected */
	SEV_ERROR,     /* Feil: the smallest enclosing element is not loaded */
	SEV_WARNING,   /* Advarsel: loaded, reported */
	SEV_INFO,      /* Informasjon: reported only */
	SEV_COUNT
};

/* RULE_F001 … RULE_R405, in id order; rules_catalogue[RULE_R103] is R103. */
enum rule_id {
#define RULE(id, severity, title, explanation, fix) RULE_##id,
#include "rules.def"
#undef RULE
	RULE_COUNT
};

struct rule_def {
	const char *id; /* "R103" */
	enum severity severity;
	const char *title; /* short bokmål title: "Ugyldig kontrollsiffer i fødselsnummer" */
	const char *explanation; /* bokmål: what the rule checks and why */
	const char *fix;         /* bokmål: how the municipality fixes it */
};

/* Indexed by enum rule_id, sorted by id; rules_catalogue_len == RULE_COUNT. */
extern const struct rule_def rules_catalogue[RULE_COUNT];
extern const size_t rules_catalogue_len;

/* The rule's entry; id must be a valid enum value (asserted). */
const struct rule_def *rules_get(enum rule_id id);
/* The printable id: rules_id_str(RULE_R105) is "R105". */
const char *rules_id_str(enum rule_id id);
/* A printable id ("R105") to its entry or enum; NULL / false when unknown. */
const struct rule_def *rules_find(const char *id);
bool rules_id_parse(const char *id, enum rule_id *out) KPR_WUR;

/* "FATAL", "ERROR", "WARNING", "INFO" */
const char *severity_name(enum severity s);
/* "Kritisk feil", "Feil", "Advarsel", "Informasjon" */
const char *severity_name_nb(enum severity s);

#endif
