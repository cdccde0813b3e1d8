/*
 * rules_md.h — renders the rule catalogue (server/include/rules.def) as Markdown:
 * the text of docs/rules.md. Header-only so that both the kpr-rules tool and
 * tests/unit/check_rules.c (which fails when docs/rules.md has drifted from
 * the catalogue) use the very same renderer.
 * Include it in exactly one translation unit per program.
 */
#ifndef KPR_RULES_MD_H
#define KPR_RULES_MD_H

#include <ctype.h>
#include <stdio.h>

/* Relative paths: the tool builds even where -Iserver/include is not given. */
#include "../../server/include/kpr.h"
#include "../../server/include/rules.h"

/* Table cells: '|' would end the cell. Catalogue texts hold no newlines. */
static void rules_md_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else
			fputc(*s, out);
	}
}

static const char *rules_md_effect(enum severity s)
{
	switch (s) {
	case SEV_FATAL:
		return "Hele filen avvises. Ingenting lastes, og forrige godkjente "
		       "innsending gjelder fortsatt.";
	case SEV_ERROR:
		return "Det minste elementet som inneholder feilen (Person, Vurdering, "
		       "Tjeneste, Diagnose, ...), lastes ikke. Resten av filen lastes.";
	case SEV_WARNING:
		return "Lastes, men rapporteres.";
	case SEV_INFO:
		return "Bare til orientering.";
	case SEV_COUNT:
		break;
	}
	return "";
}

/* Writes the whole document; deterministic (no dates, no host names). */
static void rules_md_write(FILE *out)
{
	fputs("<!-- Generert fra regelkatalogen i server/include/rules.def av build/kpr-rules.\n"
	      "     Ikke rediger denne filen for hånd: endre rules.def og kjør\n"
	      "     tools/gen-rules-md. Testen check_rules feiler hvis filen er utdatert. -->\n\n",
	      out);
	fputs("# Kontrollregler for innsending til KPR\n\n", out);
	fprintf(out,
		"Regelsett %s, %zu regler. Hver melding i tilbakemeldingen oppgir "
		"regel, alvorlighetsgrad, `ref`, linjenummer, element og en forklaring. "
		"Fødselsnummer vises aldri i klartekst, bare maskert (`010170*****`): "
		"i all fritekst (ref, verdier) maskeres sifrene etter det sjette i alt som "
		"kan være et fødselsnummer (11 siffer på rad, eller 6 + 5 siffer med ett "
		"mellomrom, - eller . mellom, med gyldige kontrollsiffer og dato); alt annet "
		"vises nøyaktig slik det er skrevet. Id-er (innsendingens id, forrigeId) "
		"vises alltid i sin helhet.\n\n",
		KPR_RULESET_VERSION, rules_catalogue_len);

	fputs("## Alvorlighetsgrader\n\n", out);
	fputs("| Nivå | Kode | Virkning |\n|---|---|---|\n", out);
	for (int s = 0; s < SEV_COUNT; s++)
		fprintf(out, "| %s | %s | %s |\n", severity_name_nb((enum severity)s),
			severity_name((enum severity)s), rules_md_effect((enum severity)s));
	fputs("\nEn person med feil i identiteten (R101–R105) utelates i sin helhet.\n\n", out);

	fputs("## Oversikt\n\n", out);
	fputs("| Regel | Nivå | Hva |\n|---|---|---|\n", out);
	for (size_t i = 0; i < rules_catalogue_len; i++) {
		const struct rule_def *r = &rules_catalogue[i];
		fputs("| [", out);
		fputs(r->id, out);
		fputs("](#", out);
		for (const char *p = r->id; *p; p++)
			fputc(tolower((unsigned char)*p), out);
		fprintf(out, ") | %s | ", severity_name_nb(r->severity));
		rules_md_cell(out, r->title);
		fputs(" |\n", out);
	}

	fputs("\n## Reglene\n", out);
	for (size_t i = 0; i < rules_catalogue_len; i++) {
		const struct rule_def *r = &rules_catalogue[i];
		fputs("\n<a id=\"", out);
		for (const char *p = r->id; *p; p++)
			fputc(tolower((unsigned char)*p), out);
		fprintf(out, "\"></a>\n### %s – %s\n\n", r->id, r->title);
		fprintf(out, "**Nivå:** %s (%s)\n\n", severity_name_nb(r->severity),
			severity_name(r->severity));
		fprintf(out, "**Hva kontrolleres:** %s\n\n", r->explanation);
		fprintf(out, "**Slik retter dere det:** %s\n", r->fix);
	}
}

#endif
