/*
 * rules.c — the rule catalogue (SPEC §3): every rule's id, severity and the
 * bokmål texts that feedback files and docs/rules.md show a municipality.
 *
 * Owns: the one table, expanded from the X-macro list in rules.def (where
 * the texts are) and indexed by enum rule_id. The validator names rules by
 * the enum, the feedback renderer looks up title/explanation/fix by string
 * id, and tools/kpr-rules generates docs/rules.md from it (check_rules fails
 * when the committed document differs), so wording changes in exactly one
 * place. Must not: contain logic; a changed text or severity bumps
 * KPR_RULESET_VERSION (kpr.h).
 *
 * The list is sorted by id (checked by the unit test), so the enum order is
 * the id order and rules_find can binary-search the table.
 */
#include "rules.h"

#include <assert.h>
#include <string.h>

const struct rule_def rules_catalogue[RULE_COUNT] = {
#define RULE(id, severity, title, explanation, fix) \
	[RULE_##id] = {#id, severity, title, explanation, fix},
#include "rules.def"
#undef RULE
};

const size_t rules_catalogue_len = KPR_ARRAY_LEN(rules_catalogue);

const struct rule_def *rules_get(enum rule_id id)
{
	assert((unsigned)id < RULE_COUNT);
	return &rules_catalogue[id];
}

const char *rules_id_str(enum rule_id id)
{
	return rules_get(id)->id;
}

bool rules_id_parse(const char *id, enum rule_id *out)
{
	const struct rule_def *r = rules_find(id);
	if (!r)
		return false;
	*out = (enum rule_id)(r - rules_catalogue);
	return true;
}

const struct rule_def *rules_find(const char *id)
{
	if (id == NULL)
		return NULL;
	size_t lo = 0, hi = rules_catalogue_len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(rules_catalogue[mid].id, id);
		if (c == 0)
			return &rules_catalogue[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *severity_name(enum severity s)
{
	switch (s) {
	case SEV_FATAL:
		return "FATAL";
	case SEV_ERROR:
		return "ERROR";
	case SEV_WARNING:
		return "WARNING";
	case SEV_INFO:
		return "INFO";
	case SEV_COUNT:
		break;
	}
	return "UNKNOWN";
}

const char *severity_name_nb(enum severity s)
{
	switch (s) {
	case SEV_FATAL:
		return "Kritisk feil";
	case SEV_ERROR:
		return "Feil";
	case SEV_WARNING:
		return "Advarsel";
	case SEV_INFO:
		return "Informasjon";
	case SEV_COUNT:
		break;
	}
	return "Ukjent";
}
