/*
 * rules.h — the rule catalogue (SPEC §3): id, severity, Norwegian title,
 * what it means and how to fix it. The one table the validator, the feedback
 * renderer and the generated docs/rules.md all read, so they cannot drift.
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

struct rule_def {
	const char *id; /* "R103" */
	enum severity severity;
	const char *title; /* short bokmål title: "Ugyldig kontrollsiffer i fødselsnummer" */
	const char *explanation; /* bokmål: what the rule checks and why */
	const char *fix;         /* bokmål: how the municipality fixes it */
};

extern const struct rule_def rules_catalogue[];
extern const size_t rules_catalogue_len;

const struct rule_def *rules_find(const char *id);

/* "FATAL", "ERROR", "WARNING", "INFO" */
const char *severity_name(enum severity s);
/* "Kritisk feil", "Feil", "Advarsel", "Informasjon" */
const char *severity_name_nb(enum severity s);

#endif
