/*
 * check_feedback.c — the text feedback formats of SPEC §6 rendered from one
 * report: CSV bytes and quoting, XML validity against
 * config/xsd/tilbakemelding.xsd, HTML escaping and sections, JSON counts,
 * FATAL-only and empty reports, and that no national ID gets out. The
 * workbook (a zip) has its own suite, check_xlsx.c; the loops over every
 * format here skip it where they read the file as text.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "csv.h"
#include "feedback.h"
#include "nid.h"
#include "received.h"
#include "report.h"
#include "rules.h"

#define SHA           "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define TEXT_SPECIAL  "Kjønn må være 1 eller 2; fikk <3> & \"x\"\nandre linje"
#define VALUE_FORMULA "=SUM(A1:A9)"
#define REF_QUOTED    "J;\"2\""

static const struct feedback_meta meta_full = {
    .submission_id = "3f1c0d2e-8a4b-4f7e-9a51-2b6c9e0f1a22",
    .innsending_id = "7d2a4c1e-0b3f-4e8a-9c6d-5f1e2a3b4c5d",
    .kommunenummer = "0301",
    .kommunenavn = "Oslo",
    .aargang = 2025,
    .status = "accepted_with_errors",
    .received_at = "2026-01-05T09:12:00+01:00",
    .processed_at = "2026-01-05 09:13:07.25+01", /* PostgreSQL's timestamptz text */
    .sha256 = SHA,
    .bytes = 123456,
    .fagsystem = "Gerica",
    .fagsystem_versjon = "7.4.1",
    .dry_run = false,
};

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */

struct buf {
	char *data;
	size_t len;
};

static struct buf render(enum feedback_format f, const struct feedback_meta *m, struct report *r)
{
	struct buf b = {NULL, 0};
	FILE *mf = open_memstream(&b.data, &b.len);
	ck_assert_ptr_nonnull(mf);
	bool ok = feedback_write(mf, f, m, r);
	ck_assert_int_eq(fclose(mf), 0);
	ck_assert_msg(ok, "feedback_write(%s) failed", feedback_format_name(f));
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_gt(b.len, 0);
	ck_assert_uint_eq(strlen(b.data), b.len); /* no NUL inside */
	return b;
}

static bool has_digit_run(const char *s, size_t n, size_t run)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		k = (s[i] >= '0' && s[i] <= '9') ? k + 1 : 0;
		if (k >= run)
			return true;
	}
	return false;
}

static size_t count_occurrences(const char *hay, const char *needle)
{
	size_t c = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		c++;
	return c;
}

static void add(struct report *r, const char *rule, const char *ref, unsigned long line,
		const char *path, const char *text, const char *value)
{
	ck_assert(report_add(r, rule, ref, line, path, text, value));
}

/* A file-level warning, then four persons; person one's R103 message comes
 * three times and must be merged to lines 12, 40, 77. */
static struct report *sample_report(void)
{
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);

	add(r, "F007", "", 1, "/Innsending", "forrigeId stemmer ikke med siste innsending", NULL);
	ck_assert(report_flush(r));

	/* units as the validator sets them: the person's, a Tjeneste's own */
	ck_assert(report_set_unit(r, "Bydel Frogner"));
	for (unsigned long line = 12; line <= 77; line += (line == 12 ? 28 : 37))
		add(r, "R103", "J-0001", line, "/Innsending/Person/Fnr",
		    "Ugyldig kontrollsiffer i fødselsnummer", "010170*****");
	report_unit(r, "Bydel Frogner")->persons = 1;
	report_unit(r, "Bydel Frogner")->persons_excluded = 1;
	ck_assert(report_flush(r));

	ck_assert(report_set_unit(r, "")); /* a person without a unit */
	add(r, "R108", REF_QUOTED, 100, "/Innsending/Person/Kjonn", TEXT_SPECIAL, VALUE_FORMULA);
	report_unit(r, "")->persons = 2;
	report_unit(r, "")->persons_loaded = 1;
	report_unit(r, "")->persons_excluded = 1;
	ck_assert(report_flush(r));

	ck_assert(report_set_unit(r, "Frogner helsehus"));
	add(r, "R304", "+47 æøå", 120, "/Innsending/Person/Tjeneste", "Timer per uke er negativ",
	    "-5");
	report_unit(r, "Frogner helsehus")->services = 1;
	ck_assert(report_set_unit(r, REPORT_UNIT_UNKNOWN));
	add(r, "R204", "+47 æøå", 130, "/Innsending/Person/Vurdering/Funksjon",
	    "Skår 9 er brukt for Toalett", "@9");
	report_unit(r, REPORT_UNIT_UNKNOWN)->persons = 1;
	report_unit(r, REPORT_UNIT_UNKNOWN)->persons_loaded = 1;
	ck_assert(report_set_unit(r, NULL));
	ck_assert(report_flush(r));

	struct report_summary *s = report_summary(r);
	s->persons = 4;
	s->registrations = 120;
	s->persons_loaded = 2;
	s->persons_excluded = 2;
	s->registrations_loaded = 100;
	s->registrations_excluded = 20;
	return r;
}

static struct report *fatal_report(void)
{
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	add(r, "F001", "", 7, "/Innsending", "Filen er ikke velformet XML: uventet slutt på filen",
	    NULL);
	ck_assert(report_flush(r));
	ck_assert(report_summary(r)->fatal);
	return r;
}

/* A file of the repository: found from the working directory (the
 * repository root, or below it) or from the test binary in BUILD/tests/. */
static const char *repo_file(const char *rel)
{
	static char path[PATH_MAX + 64];
	static const char *ups[] = {"", "../", "../../"};
	for (size_t i = 0; i < KPR_ARRAY_LEN(ups); i++) {
		snprintf(path, sizeof(path), "%s%s", ups[i], rel);
		if (access(path, F_OK) == 0)
			return path;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(path, sizeof(path), "%s/../../%s", dirname(exe), rel);
		if (access(path, F_OK) == 0)
			return path;
	}
	ck_abort_msg("%s not found (run from the repository root)", rel);
	return NULL;
}

static const char *xsd_path(void)
{
	const char *env = getenv("KPR_FEEDBACK_XSD");
	return env != NULL ? env : repo_file("config/xsd/tilbakemelding.xsd");
}

/* Parses b strictly (no network, no entities) and validates it. */
static xmlDocPtr xml_valid_doc(const struct buf *b)
{
	xmlDocPtr doc = xmlReadMemory(b->data, (int)b->len, "feedback.xml", NULL, XML_PARSE_NONET);
	ck_assert_msg(doc != NULL, "feedback XML is not well-formed");

	xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd_path());
	ck_assert_ptr_nonnull(pc);
	xmlSchemaPtr schema = xmlSchemaParse(pc);
	ck_assert_msg(schema != NULL, "tilbakemelding.xsd does not parse");
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
	ck_assert_ptr_nonnull(vc);
	int rc = xmlSchemaValidateDoc(vc, doc);
	ck_assert_msg(rc == 0, "feedback XML is not valid against the XSD (rc %d):\n%s", rc,
		      b->data);
	xmlSchemaFreeValidCtxt(vc);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pc);
	return doc;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	}
	return NULL;
}

static void ck_prop(xmlNodePtr n, const char *name, const char *want)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	ck_assert_msg(v != NULL, "attribute %s missing", name);
	ck_assert_str_eq((const char *)v, want);
	xmlFree(v);
}

static void ck_text(xmlNodePtr n, const char *want)
{
	xmlChar *v = xmlNodeGetContent(n);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq((const char *)v, want);
	xmlFree(v);
}

static json_t *json_parse(const struct buf *b)
{
	json_error_t err;
	json_t *j = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &err);
	ck_assert_msg(j != NULL, "JSON does not parse: %s (line %d)", err.text, err.line);
	return j;
}

static json_int_t jint(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);
	if (path2 != NULL)
		v = json_object_get(v, path2);
	ck_assert_msg(json_is_integer(v), "%s.%s not an integer", path1, path2 ? path2 : "");
	return json_integer_value(v);
}

/* ---------------------------------------------------------------------- */
/* Format names                                                           */

START_TEST(test_format_names)
{
	enum feedback_format f;
	static const char *names[] = {"csv", "xml", "html", "json", "xlsx"};
	for (int i = 0; i < FEEDBACK_FORMAT_COUNT; i++) {
		ck_assert(feedback_format_parse(names[i], &f));
		ck_assert_int_eq(f, i);
		ck_assert_str_eq(feedback_format_name(f), names[i]);
		ck_assert_str_eq(feedback_extension(f), names[i]);
	}
	ck_assert(feedback_format_parse("CSV", &f) && f == FEEDBACK_CSV);
	ck_assert(!feedback_format_parse("pdf", &f));
	ck_assert(!feedback_format_parse("", &f));
	ck_assert(!feedback_format_parse(NULL, &f));
	ck_assert_str_eq(feedback_content_type(FEEDBACK_CSV), "text/csv; charset=utf-8");
	ck_assert_str_eq(feedback_content_type(FEEDBACK_XML), "application/xml");
	ck_assert_str_eq(feedback_content_type(FEEDBACK_HTML), "text/html; charset=utf-8");
	ck_assert_str_eq(feedback_content_type(FEEDBACK_JSON), "application/json");
	ck_assert_str_eq(feedback_content_type(FEEDBACK_XLSX),
			 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
	ck_assert_ptr_null(feedback_format_name(FEEDBACK_FORMAT_COUNT));
}
END_TEST

/* ---------------------------------------------------------------------- */
/* CSV                                                                    */

START_TEST(test_csv_bom_header_crlf)
{
	struct report *r = sample_report();
	struct buf b = render(FEEDBACK_CSV, &meta_full, r);
	static const char head[] =
	    "\xEF\xBB\xBFregel;alvorlighet;ref;linje;element;melding;verdi;enhet\r\n";

	ck_assert_msg(strncmp(b.data, head, strlen(head)) == 0, "BOM or header wrong");
	/* every LF ends a CRLF record, except the one inside the quoted text */
	size_t lf = count_occurrences(b.data, "\n"), crlf = count_occurrences(b.data, "\r\n");
	ck_assert_uint_eq(lf, crlf + 1);
	ck_assert_uint_eq(crlf, 1 + 5); /* header + 5 merged messages */
	ck_assert_ptr_nonnull(strstr(b.data, "\r\nF007;Advarsel;;1;/Innsending;"
					     "forrigeId stemmer ikke med siste innsending;;\r\n"));
	free(b.data);
	report_free(r);
}
END_TEST

START_TEST(test_csv_merged_lines_and_severity)
{
	struct report *r = sample_report();
	struct buf b = render(FEEDBACK_CSV, &meta_full, r);
	ck_assert_ptr_nonnull(
	    strstr(b.data, "\r\nR103;Feil;J-0001;12, 40, 77;/Innsending/Person/Fnr;"
			   "Ugyldig kontrollsiffer i fødselsnummer;010170*****;Bydel Frogner\r\n"));
	ck_assert_uint_eq(count_occurrences(b.data, "R103;"), 1);
	free(b.data);
	report_free(r);
}
END_TEST

START_TEST(test_csv_quoting_and_injection)
{
	struct report *r = sample_report();
	struct buf b = render(FEEDBACK_CSV, &meta_full, r);
	/* ; and " quoted (RFC 4180, quotes doubled), newline kept inside quotes,
	 * a formula value gets an apostrophe */
	ck_assert_ptr_nonnull(
	    strstr(b.data, "\r\nR108;Feil;\"J;\"\"2\"\"\";100;/Innsending/Person/Kjonn;"
			   "\"Kjønn må være 1 eller 2; fikk <3> & \"\"x\"\"\nandre linje\";"
			   "'=SUM(A1:A9);\r\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "\r\nR304;Feil;'+47 æøå;120;"));
	ck_assert_ptr_nonnull(strstr(b.data, ";Timer per uke er negativ;'-5;Frogner helsehus\r\n"));
	ck_assert_ptr_nonnull(
	    strstr(b.data, ";Skår 9 er brukt for Toalett;'@9;(ukjent enhet)\r\n"));
	/* no field starts with a formula character */
	ck_assert_ptr_null(strstr(b.data, ";="));
	ck_assert_ptr_null(strstr(b.data, ";+"));
	ck_assert_ptr_null(strstr(b.data, ";-"));
	ck_assert_ptr_null(strstr(b.data, ";@"));
	free(b.data);
	report_free(r);
}
END_TEST

/* The one CSV field writer (csv.h), as the reminder list uses it: the same
 * quoting and formula guard as the feedback CSV, the value not masked. */
static char *csv_one(const char *s)
{
	char *data = NULL;
	size_t len = 0;
	FILE *mf = open_memstream(&data, &len);
	ck_assert_ptr_nonnull(mf);
	ck_assert(csv_field_write(mf, s));
	ck_assert_int_eq(fclose(mf), 0);
	return data;
}

START_TEST(test_csv_field_writer)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"Oslo", "Oslo"},
	    {NULL, ""},
	    {"", ""},
	    {"Nord-Fron", "Nord-Fron"}, /* only a leading character is guarded */
	    {"=SUM(A1:A9)", "'=SUM(A1:A9)"},
	    {"+47", "'+47"},
	    {"-5", "'-5"},
	    {"@cmd", "'@cmd"},
	    {"\tx", "'\tx"},
	    {"\rx", "\"'\rx\""},
	    {"a;b", "\"a;b\""},
	    {"si \"hei\"", "\"si \"\"hei\"\"\""},
	    {"to\nlinjer", "\"to\nlinjer\""},
	    {"=HYPERLINK(\"https://x.invalid\";\"klikk\")",
	     "\"'=HYPERLINK(\"\"https://x.invalid\"\";\"\"klikk\"\")\""},
	    {"Bø i \xff\x01Telemark", "Bø i \xef\xbf\xbd\xef\xbf\xbdTelemark"},
	    {"01017012345", "01017012345"}, /* as given: masking is the caller's */
	};
	for (size_t i = 0; i < KPR_ARRAY_LEN(cases); i++) {
		char *got = csv_one(cases[i].in);
		ck_assert_msg(strcmp(got, cases[i].out) == 0, "case %zu: got «%s», want «%s»", i,
			      got, cases[i].out);
		free(got);
	}
	FILE *full = fopen("/dev/full", "w");
	if (full != NULL) {
		setvbuf(full, NULL, _IONBF, 0);
		ck_assert(!csv_field_write(full, "x"));
		fclose(full);
	}
}
END_TEST

/* ---------------------------------------------------------------------- */
/* XML                                                                    */

START_TEST(test_xml_valid_and_content)
{
	struct report *r = sample_report();
	struct buf b = render(FEEDBACK_XML, &meta_full, r);
	xmlDocPtr doc = xml_valid_doc(&b);
	xmlNodePtr root = xmlDocGetRootElement(doc);

	ck_assert_str_eq((const char *)root->name, "Tilbakemelding");
	ck_assert_ptr_nonnull(root->ns);
	ck_assert_str_eq((const char *)root->ns->href, "urn:no:kpr:tilbakemelding:1");
	ck_prop(root, "status", "accepted_with_errors");
	ck_prop(root, "kommunenummer", "0301");
	ck_prop(root, "aargang", "2025");
	ck_prop(root, "sha256", SHA);
	ck_prop(root, "behandlet", "2026-01-05T09:13:07.25+01:00");
	ck_prop(root, "programversjon", KPR_VERSION);
	ck_prop(root, "regelsett", KPR_RULESET_VERSION);

	const struct report_summary *s = report_summary(r);
	xmlNodePtr sum = child(root, "Sammendrag");
	ck_assert_ptr_nonnull(sum);
	ck_prop(sum, "personer", "4");
	ck_prop(sum, "personerUtelatt", "2");
	char num[32];
	snprintf(num, sizeof(num), "%lu", s->by_severity[SEV_ERROR]);
	ck_prop(sum, "feil", num);
	ck_prop(sum, "meldinger", "5");

	/* per-rule counts: R103 three occurrences merged into one message */
	int nrules = 0;
	bool saw_r103 = false;
	for (xmlNodePtr c = child(root, "Regler")->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		nrules++;
		xmlChar *id = xmlGetProp(c, (const xmlChar *)"id");
		if (strcmp((const char *)id, "R103") == 0) {
			saw_r103 = true;
			ck_prop(c, "antall", "3");
			ck_prop(c, "meldinger", "1");
			ck_prop(c, "alvorlighet", "ERROR");
			ck_assert_ptr_nonnull(child(c, "Tittel"));
		}
		xmlFree(id);
	}
	ck_assert_int_eq(nrules, 5);
	ck_assert(saw_r103);

	/* messages round-trip exactly, newline and special characters included */
	int nmsg = 0;
	bool saw_special = false, saw_merged = false;
	for (xmlNodePtr c = child(root, "Meldinger")->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		nmsg++;
		xmlChar *rule = xmlGetProp(c, (const xmlChar *)"regel");
		if (strcmp((const char *)rule, "R108") == 0) {
			saw_special = true;
			ck_prop(c, "ref", REF_QUOTED);
			ck_prop(c, "linjer", "100");
			ck_text(child(c, "Tekst"), TEXT_SPECIAL);
			ck_text(child(c, "Verdi"), VALUE_FORMULA); /* no CSV guard in XML */
		} else if (strcmp((const char *)rule, "R103") == 0) {
			saw_merged = true;
			ck_prop(c, "linjer", "12 40 77");
			ck_prop(c, "ref", "J-0001");
			ck_prop(c, "element", "/Innsending/Person/Fnr");
		} else if (strcmp((const char *)rule, "F007") == 0) {
			ck_assert(!xmlHasProp(c, (const xmlChar *)"ref"));
			ck_assert_ptr_null(child(c, "Verdi"));
		}
		xmlFree(rule);
	}
	ck_assert_int_eq(nmsg, 5);
	ck_assert(saw_special && saw_merged);

	xmlFreeDoc(doc);
	free(b.data);
	report_free(r);
}
END_TEST

START_TEST(test_xml_hostile_strings_stay_valid)
{
	/* malformed UTF-8, control characters, a lone CR and ]]> must not break
	 * well-formedness or validity */
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	add(r, "F002", "a\x01\x7f", 3, "/Innsending/\xff\xfe", "tekst ]]> \r slutt\t\xc3",
	    "\xed\xa0\x80 surrogat");
	ck_assert(report_flush(r));
	struct feedback_meta m = meta_full;
	m.status = "no-such-status";
	m.processed_at = "not a time";
	m.sha256 = "xyz";
	m.kommunenummer = "<03&01>";
	struct buf b = render(FEEDBACK_XML, &m, r);
	xmlDocPtr doc = xml_valid_doc(&b);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	ck_prop(root, "status", "rejected"); /* derived from the report */
	ck_prop(root, "kommunenummer", "<03&01>");
	ck_assert(!xmlHasProp(root, (const xmlChar *)"behandlet"));
	ck_assert(!xmlHasProp(root, (const xmlChar *)"sha256"));
	xmlNodePtr msg = child(child(root, "Meldinger"), "Melding");
	ck_text(child(msg, "Tekst"), "tekst ]]> \r slutt\t\xef\xbf\xbd");
	xmlFreeDoc(doc);
	free(b.data);

	b = render(FEEDBACK_JSON, &m, r);
	ck_assert_ptr_nonnull(strstr(b.data, "\"ref\":\"a\\u0001\\u007f\""));
	json_t *j = json_parse(&b);
	json_t *msg0 = json_array_get(json_object_get(j, "messages"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(msg0, "ref")), "a\x01\x7f");
	ck_assert_str_eq(json_string_value(json_object_get(msg0, "value")),
			 "\xef\xbf\xbd\xef\xbf\xbd"
			 "\xef\xbf\xbd surrogat");
	json_decref(j);
	free(b.data);

	b = render(FEEDBACK_HTML, &m, r);
	ck_assert_ptr_nonnull(strstr(b.data, "&lt;03&amp;01&gt;"));
	ck_assert_ptr_nonnull(strstr(b.data, "tekst ]]&gt;   slutt\t\xef\xbf\xbd"));
	free(b.data);
	report_free(r);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* HTML                                                                   */

START_TEST(test_html_escaping_and_sections)
{
	struct report *r = sample_report();
	struct buf b = render(FEEDBACK_HTML, &meta_full, r);

	ck_assert(strncmp(b.data, "<!DOCTYPE html>\n<html lang=\"nb\">", 32) == 0);
	ck_assert_ptr_nonnull(strstr(b.data, "<meta charset=\"utf-8\">"));
	ck_assert_ptr_nonnull(strstr(b.data, "@media print"));
	/* escaping */
	ck_assert_ptr_nonnull(strstr(b.data, "Kjønn må være 1 eller 2; fikk &lt;3&gt; &amp; "
					     "&quot;x&quot;\nandre linje"));
	ck_assert_ptr_nonnull(strstr(b.data, "J;&quot;2&quot;"));
	ck_assert_ptr_null(strstr(b.data, "<3>"));
	/* self-contained: nothing fetched, nothing run */
	ck_assert_ptr_null(strstr(b.data, "<script"));
	ck_assert_ptr_null(strstr(b.data, "<link"));
	ck_assert_ptr_null(strstr(b.data, "src="));
	ck_assert_ptr_null(strstr(b.data, "url("));
	ck_assert_ptr_null(strstr(b.data, "http://"));
	ck_assert_ptr_null(strstr(b.data, "https://"));
	/* header, status, summary, per-rule table, details */
	ck_assert_ptr_nonnull(strstr(b.data, "0301 Oslo"));
	ck_assert_ptr_nonnull(strstr(b.data, meta_full.submission_id));
	ck_assert_ptr_nonnull(strstr(b.data, SHA));
	ck_assert_ptr_nonnull(strstr(b.data, "2026-01-05 09:12:00 +01:00"));
	ck_assert_ptr_nonnull(strstr(b.data, "regelsett " KPR_RULESET_VERSION));
	ck_assert_ptr_nonnull(strstr(b.data, "Status: Godkjent med feil"));
	ck_assert_ptr_nonnull(strstr(b.data, "Hva gjør dere nå?"));
	ck_assert_ptr_nonnull(strstr(b.data, "<h2>Sammendrag</h2>"));
	ck_assert_ptr_nonnull(strstr(b.data, "Personer i filen</th><td class=\"num\">4<"));
	ck_assert_ptr_nonnull(strstr(b.data, "Registreringer utelatt</th><td class=\"num\">20<"));
	ck_assert_ptr_nonnull(strstr(b.data, "<h2>Meldinger per regel</h2>"));
	ck_assert_ptr_nonnull(strstr(b.data, "<h2>Alle meldinger</h2>"));
	ck_assert_ptr_nonnull(strstr(b.data, "12, 40, 77"));
	/* the per-rule table carries the catalogue's title and fix */
	const struct rule_def *d = rules_find("R103");
	ck_assert_ptr_nonnull(d);
	char row[256];
	snprintf(row, sizeof(row),
		 "<tr><td>R103</td><td><span class=\"sev sev-ERROR\">%s</span>"
		 "</td><td class=\"num\">3</td>",
		 severity_name_nb(SEV_ERROR));
	ck_assert_msg(strstr(b.data, row) != NULL, "per-rule row for R103 missing");
	ck_assert(d->title == NULL || strchr(d->title, '<') != NULL ||
		  strchr(d->title, '&') != NULL || strstr(b.data, d->title) != NULL);
	/* status, summary, received, per unit, per rule, details; in the
	 * details the whole file's messages and one group per unit with
	 * messages, each on a page of its own when printed */
	ck_assert_uint_eq(count_occurrences(b.data, "<section"), 11);
	ck_assert_ptr_nonnull(strstr(b.data, "<section class=\"received\">\n<h2>Mottatt</h2>"));
	ck_assert_uint_eq(count_occurrences(b.data, "<section class=\"enhet\">"), 4);
	ck_assert_ptr_nonnull(strstr(b.data, "section.enhet{break-before:page"));
	ck_assert_ptr_nonnull(strstr(b.data, "<h2>Per enhet</h2>"));
	ck_assert_ptr_nonnull(strstr(b.data,
				     "<tr><th scope=\"row\">Bydel Frogner</th>"
				     "<td class=\"num\">1</td><td class=\"num\">0</td>"
				     "<td class=\"num\">1</td><td class=\"num\">0</td>"
				     "<td class=\"num\">3</td><td class=\"num\">0</td></tr>"));
	ck_assert_ptr_nonnull(strstr(b.data, "<h3>Meldinger om hele filen (1)</h3>"));
	ck_assert_ptr_nonnull(strstr(b.data, "<h3>Enhet: Bydel Frogner (1)</h3>"));
	ck_assert_ptr_nonnull(strstr(b.data, "<h3>Enhet: (uten enhet) (1)</h3>"));
	/* groups in unit order: named units, then none, then unknown */
	ck_assert(strstr(b.data, "Enhet: Frogner helsehus") <
		  strstr(b.data, "Enhet: (uten enhet)"));
	ck_assert(strstr(b.data, "Enhet: (uten enhet)") < strstr(b.data, "Enhet: (ukjent enhet)"));
	free(b.data);
	report_free(r);
}
END_TEST

START_TEST(test_html_caps_details)
{
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	unsigned long n = FEEDBACK_HTML_MAX_ROWS + 5;
	for (unsigned long i = 0; i < n; i++) {
		char ref[32];
		snprintf(ref, sizeof(ref), "J-%lu", i);
		add(r, "R108", ref, 10 + i, "/Innsending/Person/Kjonn", "Ugyldig kjønn", "3");
		ck_assert(report_flush(r));
	}
	struct feedback_meta m = meta_full;
	struct buf b = render(FEEDBACK_HTML, &m, r);
	ck_assert_ptr_nonnull(strstr(b.data, "Tabellen viser de første 10\xc2\xa0"
					     "000 av "
					     "10\xc2\xa0"
					     "005 meldinger"));
	ck_assert_uint_eq(count_occurrences(b.data, "<tr><td>R108</td>"),
			  1 + FEEDBACK_HTML_MAX_ROWS);
	ck_assert_ptr_nonnull(strstr(b.data, "5 meldinger er ikke vist her"));
	ck_assert_ptr_nonnull(strstr(b.data, "</html>\n"));
	free(b.data);

	b = render(FEEDBACK_CSV, &m, r);
	ck_assert_uint_eq(count_occurrences(b.data, "\r\n"), 1 + n);
	free(b.data);
	report_free(r);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* JSON                                                                   */

START_TEST(test_json_counts)
{
	struct report *r = sample_report();
	struct buf b = render(FEEDBACK_JSON, &meta_full, r);
	json_t *j = json_parse(&b);
	const struct report_summary *s = report_summary(r);

	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "submission"), "status")),
	    "accepted_with_errors");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "submission"), "sha256")), SHA);
	ck_assert_int_eq(jint(j, "submission", "aargang"), 2025);
	ck_assert_int_eq(jint(j, "summary", "persons"), 4);
	ck_assert_int_eq(jint(j, "summary", "registrations_excluded"), 20);
	ck_assert_int_eq(jint(j, "summary", "messages"), 5);
	json_t *bysev = json_object_get(json_object_get(j, "summary"), "by_severity");
	ck_assert_int_eq(json_integer_value(json_object_get(bysev, "ERROR")),
			 (json_int_t)s->by_severity[SEV_ERROR]);
	ck_assert_int_eq(json_integer_value(json_object_get(bysev, "WARNING")),
			 (json_int_t)s->by_severity[SEV_WARNING]);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "program"), "ruleset")),
	    KPR_RULESET_VERSION);

	json_t *rules = json_object_get(j, "rules");
	ck_assert_uint_eq(json_array_size(rules), 5);
	size_t i;
	json_t *v;
	json_int_t total = 0;
	json_array_foreach(rules, i, v)
	{
		total += json_integer_value(json_object_get(v, "count"));
		if (strcmp(json_string_value(json_object_get(v, "rule")), "R103") == 0) {
			ck_assert_int_eq(json_integer_value(json_object_get(v, "count")), 3);
			ck_assert_int_eq(json_integer_value(json_object_get(v, "messages")), 1);
			ck_assert_str_eq(json_string_value(json_object_get(v, "severity")),
					 "ERROR");
			ck_assert_str_eq(json_string_value(json_object_get(v, "title")),
					 rules_find("R103")->title);
		}
	}
	ck_assert_int_eq(total, 7);

	json_t *msgs = json_object_get(j, "messages");
	ck_assert_uint_eq(json_array_size(msgs), 5);
	json_t *first = json_array_get(msgs, 0);
	ck_assert_str_eq(json_string_value(json_object_get(first, "rule")), "F007");
	ck_assert_str_eq(json_string_value(json_object_get(first, "ref")), "");
	ck_assert(json_is_null(json_object_get(first, "value")));
	json_t *merged = json_array_get(msgs, 1);
	json_t *lines = json_object_get(merged, "lines");
	ck_assert_uint_eq(json_array_size(lines), 3);
	ck_assert_int_eq(json_integer_value(json_array_get(lines, 2)), 77);
	json_t *special = json_array_get(msgs, 2);
	ck_assert_str_eq(json_string_value(json_object_get(special, "text")), TEXT_SPECIAL);
	ck_assert_str_eq(json_string_value(json_object_get(special, "ref")), REF_QUOTED);
	ck_assert_str_eq(json_string_value(json_object_get(special, "value")), VALUE_FORMULA);
	ck_assert_str_eq(json_string_value(json_object_get(special, "path")),
			 "/Innsending/Person/Kjonn");
	json_decref(j);
	free(b.data);
	report_free(r);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Every format                                                           */

START_TEST(test_fatal_only_every_format)
{
	struct report *r = fatal_report();
	struct feedback_meta m = {.processed_at = "2026-01-05T10:00:00Z", .status = "rejected"};

	struct buf b = render(FEEDBACK_CSV, &m, r);
	ck_assert_ptr_nonnull(strstr(b.data, "\r\nF001;Kritisk feil;;7;/Innsending;Filen er ikke "
					     "velformet XML: uventet slutt på filen;;\r\n"));
	free(b.data);

	b = render(FEEDBACK_XML, &m, r);
	xmlDocPtr doc = xml_valid_doc(&b);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	ck_prop(root, "status", "rejected");
	ck_assert(!xmlHasProp(root, (const xmlChar *)"kommunenummer"));
	ck_assert(!xmlHasProp(root, (const xmlChar *)"aargang"));
	ck_prop(child(root, "Sammendrag"), "kritiskeFeil", "1");
	ck_prop(child(root, "Sammendrag"), "personerLastet", "0");
	xmlFreeDoc(doc);
	free(b.data);

	b = render(FEEDBACK_HTML, &m, r);
	ck_assert_ptr_nonnull(strstr(b.data, "Status: Avvist"));
	ck_assert_ptr_nonnull(strstr(b.data, "Ingenting fra denne filen er lastet inn"));
	ck_assert_ptr_nonnull(strstr(b.data, "uventet slutt på filen"));
	ck_assert_ptr_nonnull(strstr(b.data, "<span class=\"sev sev-FATAL\">Kritisk feil</span>"));
	ck_assert_ptr_nonnull(strstr(b.data, "ukjent"));
	free(b.data);

	b = render(FEEDBACK_JSON, &m, r);
	json_t *j = json_parse(&b);
	ck_assert(json_is_true(json_object_get(json_object_get(j, "summary"), "fatal")));
	ck_assert(json_is_null(json_object_get(json_object_get(j, "submission"), "kommunenummer")));
	ck_assert(json_is_null(json_object_get(json_object_get(j, "submission"), "aargang")));
	ck_assert_uint_eq(json_array_size(json_object_get(j, "messages")), 1);
	json_decref(j);
	free(b.data);

	/* no status given: derived from the report */
	m.status = NULL;
	b = render(FEEDBACK_HTML, &m, r);
	ck_assert_ptr_nonnull(strstr(b.data, "Status: Avvist"));
	free(b.data);
	m.dry_run = true;
	b = render(FEEDBACK_HTML, &m, r);
	ck_assert_ptr_nonnull(strstr(b.data, "Status: Validert (prøvekjøring)"));
	ck_assert_ptr_nonnull(strstr(b.data, "ville filen blitt avvist"));
	free(b.data);
	report_free(r);
}
END_TEST

START_TEST(test_empty_report_every_format)
{
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	report_summary(r)->persons = 3;
	report_summary(r)->persons_loaded = 3;
	struct feedback_meta m = meta_full;
	m.status = "accepted";

	struct buf b = render(FEEDBACK_CSV, &m, r);
	ck_assert_str_eq(b.data,
			 "\xEF\xBB\xBFregel;alvorlighet;ref;linje;element;melding;verdi;enhet\r\n");
	free(b.data);
	b = render(FEEDBACK_XML, &m, r);
	xmlFreeDoc(xml_valid_doc(&b));
	free(b.data);
	b = render(FEEDBACK_HTML, &m, r);
	ck_assert_ptr_nonnull(strstr(b.data, "Status: Godkjent"));
	ck_assert_ptr_nonnull(strstr(b.data, "Ingen meldinger."));
	free(b.data);
	b = render(FEEDBACK_JSON, &m, r);
	json_t *j = json_parse(&b);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "messages")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "rules")), 0);
	json_decref(j);
	free(b.data);
	report_free(r);
}
END_TEST

START_TEST(test_no_national_id_in_any_format)
{
	struct report *r = sample_report();
	struct report *rf = fatal_report();
	for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++) {
		if (f == FEEDBACK_XLSX)
			continue; /* a zip: check_xlsx.c reads its parts */
		struct buf b = render((enum feedback_format)f, &meta_full, r);
		ck_assert_msg(!has_digit_run(b.data, b.len, 11), "11 digits in %s",
			      feedback_format_name((enum feedback_format)f));
		ck_assert_ptr_nonnull(strstr(b.data, "010170*****"));
		free(b.data);
		b = render((enum feedback_format)f, &meta_full, rf);
		ck_assert(!has_digit_run(b.data, b.len, 11));
		free(b.data);
	}
	report_free(rf);
	report_free(r);
}
END_TEST

/* A valid national ID made here from a date (control digits computed). */
static void make_id(char out[12], const char *ddmmyy)
{
	for (int ind = 100;; ind++) {
		char d9[10], k[2];
		snprintf(d9, sizeof d9, "%.6s%03u", ddmmyy, (unsigned)ind % 1000u);
		if (nid_control_digits(d9, k)) {
			snprintf(out, 12, "%.9s%c%c", d9, k[0], k[1]);
			return;
		}
	}
}

/* A report and metadata holding a valid national ID (*id_out) in every
 * field, in several shapes, beside a UUID and a ref that only look alike. */
static struct report *unmasked_report(struct feedback_meta *m, const char **id_out)
{
	static char id[12], ref[64], text[200], value[64], fag[64];
	make_id(id, "150385");
	snprintf(ref, sizeof ref, "J-%s", id);
	snprintf(text, sizeof text,
		 "ref %.6s %s; innsending 00000000-0000-4000-8000-000001234567, "
		 "journal 1101-0000001, %.6s.%s",
		 id, id + 6, id, id + 6);
	snprintf(value, sizeof value, "9%s9", id);
	snprintf(fag, sizeof fag, "Gerica %s", id);
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	add(r, "R106", ref, 5, "/Innsending/Person", text, value);
	ck_assert(report_flush(r));
	m->fagsystem = fag;
	m->innsending_id = "kommune-0301-2025-00000012345678"; /* an identifier: in full */
	*id_out = id;
	return r;
}

START_TEST(test_unmasked_id_is_masked_anyway)
{
	/* a caller bug must not leak an ID: every candidate (SPEC §3) in every
	 * field is masked again; everything else is shown as written */
	const char *id;
	struct feedback_meta m = meta_full;
	struct report *r = unmasked_report(&m, &id);
	for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++) {
		if (f == FEEDBACK_XLSX)
			continue; /* a zip: check_xlsx.c reads its parts */
		struct buf b = render((enum feedback_format)f, &m, r);
		const char *name = feedback_format_name((enum feedback_format)f);
		ck_assert_msg(!strstr(b.data, id + 6), "ID digits in %s", name);
		ck_assert_ptr_nonnull(strstr(b.data, "J-150385*****"));
		ck_assert_ptr_nonnull(strstr(b.data, "ref 150385 *****"));
		ck_assert_ptr_nonnull(strstr(b.data, "9150385*****9"));
		ck_assert_msg(strstr(b.data, "00000000-0000-4000-8000-000001234567") != NULL,
			      "UUID masked in %s", name);
		ck_assert_ptr_nonnull(strstr(b.data, "1101-0000001"));
		if (f != FEEDBACK_CSV) { /* the CSV is the list of messages only */
			ck_assert_ptr_nonnull(strstr(b.data, "Gerica 150385*****"));
			ck_assert_msg(strstr(b.data, m.innsending_id) != NULL,
				      "identifier masked in %s", name);
		}
		if (f == FEEDBACK_XML)
			xmlFreeDoc(xml_valid_doc(&b));
		free(b.data);
	}
	report_free(r);
}
END_TEST

START_TEST(test_write_error_reported)
{
	FILE *full = fopen("/dev/full", "w");
	if (full == NULL)
		return; /* not on this system */
	struct report *r = sample_report();
	for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++) {
		errno = 0;
		ck_assert(!feedback_write(full, (enum feedback_format)f, &meta_full, r));
		ck_assert_int_ne(errno, 0);
		clearerr(full);
	}
	fclose(full);
	report_free(r);
}
END_TEST

/* Each attempt's files are named by its token; files from before tokens
 * keep their old names; a path that does not fit is refused, not cut. */
START_TEST(test_feedback_path)
{
	const char *id = "0b7e4c2a-9d1f-4e33-8a55-1c2d3e4f5a6b";
	const char *tok = "00112233445566778899aabbccddeeff";
	char p[200];
	ck_assert(feedback_path(p, sizeof p, "/var/fb", id, tok, 0, FEEDBACK_JSON));
	ck_assert_str_eq(p, "/var/fb/0b7e4c2a-9d1f-4e33-8a55-1c2d3e4f5a6b."
			    "00112233445566778899aabbccddeeff.json");
	ck_assert(feedback_path(p, sizeof p, "/var/fb", id, "", 0, FEEDBACK_CSV));
	ck_assert_str_eq(p, "/var/fb/0b7e4c2a-9d1f-4e33-8a55-1c2d3e4f5a6b.csv");
	ck_assert(feedback_path(p, sizeof p, "/var/fb", id, NULL, 0, FEEDBACK_HTML));
	ck_assert_str_eq(p, "/var/fb/0b7e4c2a-9d1f-4e33-8a55-1c2d3e4f5a6b.html");
	/* one unit's file: the unit's number after the token */
	ck_assert(feedback_path(p, sizeof p, "/var/fb", id, tok, 1, FEEDBACK_CSV));
	ck_assert_str_eq(p, "/var/fb/0b7e4c2a-9d1f-4e33-8a55-1c2d3e4f5a6b."
			    "00112233445566778899aabbccddeeff.u1.csv");
	ck_assert(feedback_path(p, sizeof p, "/var/fb", id, tok, 500, FEEDBACK_XLSX));
	ck_assert_str_eq(p, "/var/fb/0b7e4c2a-9d1f-4e33-8a55-1c2d3e4f5a6b."
			    "00112233445566778899aabbccddeeff.u500.xlsx");
	/* no unit files before tokens */
	ck_assert(!feedback_path(p, sizeof p, "/var/fb", id, "", 1, FEEDBACK_CSV));
	ck_assert(!feedback_path(p, sizeof p, "/var/fb", id, NULL, 2, FEEDBACK_CSV));
	char small[60];
	ck_assert(!feedback_path(small, sizeof small, "/var/fb", id, tok, 0, FEEDBACK_XML));
	/* fits whole, not with the unit: refused, not cut */
	char exact
	    [sizeof "/var/fb/0b7e4c2a-9d1f-4e33-8a55-1c2d3e4f5a6b.00112233445566778899aabbccddeeff.xml"];
	ck_assert(feedback_path(exact, sizeof exact, "/var/fb", id, tok, 0, FEEDBACK_XML));
	ck_assert(!feedback_path(exact, sizeof exact, "/var/fb", id, tok, 7, FEEDBACK_XML));
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Golden output: every format, byte for byte                             */

/* The files under tests/fixtures/feedback-golden/ pin every byte of every
 * format for a few reports, so a change of layout or escaping, meant or
 * not, shows here. The program and rule-set versions are written as
 * @KPR_VERSION@ and @KPR_RULESET_VERSION@ there, so a release does not
 * change them. After a deliberate change of the output, regenerate with
 * KPR_UPDATE_GOLDEN=1 build/tests/check_feedback and read the diff. */
#define GOLDEN_DIR "tests/fixtures/feedback-golden"

static struct report *hostile_report(void)
{
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	add(r, "F002", "a\x01\x7f", 3, "/Innsending/\xff\xfe", "tekst ]]> \r slutt\t\xc3",
	    "\xed\xa0\x80 surrogat");
	add(r, "R108", "=HYPERLINK(\"x\")", 4, "/Innsending/Person",
	    "linje\u2028skille \u2029 og \"sitat\" \\ <b>&amp;</b> 'x'", "\t-1");
	ck_assert(report_flush(r));
	add(r, "R304", "\r\nref", 5, NULL, "ukjent regel\x1b[0m", NULL);
	ck_assert(report_flush(r));
	return r;
}

enum golden_case {
	G_SAMPLE,
	G_DRY_RUN,
	G_FATAL_OFFLINE,
	G_HOSTILE,
	G_UNMASKED,
	G_EMPTY,
	G_COMPARED,
	G_COUNT
};

static const char *const golden_names[G_COUNT] = {"sample",   "dry-run", "fatal-offline", "hostile",
						  "unmasked", "empty",   "compared"};

/* What was received, beside a previous årgang: the sample report with
 * three delivered persons in two units, compared with figures where a
 * unit is gone, one figure is within the threshold and one beyond it. */
static struct received_compare golden_cmp;

static void golden_person(struct report *r, const char *enhet, int type, double hours,
			  const char *kodeverk)
{
	struct received *rc = report_received(r);
	uint64_t h;
	ck_assert(received_person_begin(rc, enhet, false, hours > 5));
	ck_assert(received_person_service(rc, type, hours >= 0, hours, enhet, false));
	ck_assert(received_person_diagnosis(rc, kodeverk));
	ck_assert(received_person_end(rc, NULL, 2025, &h));
}

static struct report *compared_report(struct feedback_meta *m)
{
	struct report *r = sample_report();
	golden_person(r, "Bydel Frogner", 15, 3.5, "ICD-10");
	golden_person(r, "Bydel Frogner", 15, 6.0, "ICPC-2");
	golden_person(r, "Bydel Gamle Oslo", 6, -1, "ICD-10");
	received_compare_clear(&golden_cmp);
	received_compare_init(&golden_cmp);
	golden_cmp.state = RECEIVED_PREV_COMPARED;
	golden_cmp.aargang = 2024;
	snprintf(golden_cmp.submission_id, sizeof golden_cmp.submission_id,
		 "0b7e3f52-1c1d-4a51-9d57-5a3b1f0e2c44");
	struct received_figures *f = &golden_cmp.prev;
	f->whole.persons = 4;
	f->whole.persons_assessed = 1;
	struct received_service *s = received_unit_service(&f->whole, 15);
	s->count = s->persons = s->with_hours = 2;
	s->hours_tenths = 90;
	s->median_centi = 450;
	struct received_unit *u = received_figures_unit(f, "Bydel Frogner");
	u->persons = 2;
	u = received_figures_unit(f, "Bydel Sagene");
	u->persons = 2;
	received_figures_sort(f);
	m->received = &golden_cmp;
	return r;
}

static struct report *golden_input(enum golden_case c, struct feedback_meta *m)
{
	*m = meta_full;
	switch (c) {
	case G_SAMPLE:
		return sample_report();
	case G_DRY_RUN:
		m->status = NULL;
		m->dry_run = true;
		m->received_at = NULL;
		return sample_report();
	case G_FATAL_OFFLINE:
		*m = (struct feedback_meta){.processed_at = "2026-01-05T10:00:00Z"};
		return fatal_report();
	case G_HOSTILE:
		m->status = "no-such-status";
		m->processed_at = "not a time";
		m->sha256 = "XYZ";
		m->kommunenummer = "<03&01>";
		m->kommunenavn = "\"Oslo\" & 'omegn'\n";
		m->fagsystem_versjon = NULL;
		m->aargang = 20250;
		return hostile_report();
	case G_UNMASKED: {
		const char *id;
		return unmasked_report(m, &id);
	}
	case G_COMPARED:
		return compared_report(m);
	default: {
		struct report *r = report_new(NULL);
		ck_assert_ptr_nonnull(r);
		report_summary(r)->persons = 1234567;
		report_summary(r)->persons_loaded = 1234567;
		m->status = "accepted";
		m->sha256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
		return r;
	}
	}
}

/* Replaces every occurrence of from in b (NUL-terminated) by to. */
static void buf_replace(struct buf *b, const char *from, const char *to)
{
	size_t nf = strlen(from), nt = strlen(to), k = count_occurrences(b->data, from);
	char *out = malloc(b->len + k * nt + 1), *w = out;
	ck_assert_ptr_nonnull(out);
	for (const char *p = b->data, *q; p != NULL; p = q ? q + nf : NULL) {
		q = strstr(p, from);
		size_t n = q ? (size_t)(q - p) : strlen(p);
		memcpy(w, p, n), w += n;
		if (q)
			memcpy(w, to, nt), w += nt;
	}
	*w = '\0';
	free(b->data);
	b->data = out;
	b->len = (size_t)(w - out);
}

static void golden_check(const char *name, enum feedback_format f, struct buf *b)
{
	char rel[128];
	snprintf(rel, sizeof rel, GOLDEN_DIR "/%s.%s", name, feedback_extension(f));
	buf_replace(b, KPR_VERSION, "@KPR_VERSION@");
	buf_replace(b, KPR_RULESET_VERSION, "@KPR_RULESET_VERSION@");
	if (getenv("KPR_UPDATE_GOLDEN") != NULL) {
		char path[PATH_MAX + 64];
		snprintf(path, sizeof path, "%s/%s.%s", repo_file(GOLDEN_DIR), name,
			 feedback_extension(f));
		FILE *w = fopen(path, "wb");
		ck_assert_msg(w != NULL, "cannot write %s", path);
		ck_assert_uint_eq(fwrite(b->data, 1, b->len, w), b->len);
		ck_assert_int_eq(fclose(w), 0);
		return;
	}
	FILE *fp = fopen(repo_file(rel), "rb");
	ck_assert_msg(fp != NULL, "cannot read %s", rel);
	char *want = malloc(b->len + 2);
	ck_assert_ptr_nonnull(want);
	size_t n = fread(want, 1, b->len + 1, fp);
	fclose(fp);
	size_t i = 0;
	while (i < n && i < b->len && want[i] == b->data[i])
		i++;
	ck_assert_msg(i == n && n == b->len,
		      "%s differs from the golden file at byte %zu (%zu bytes, want %zu):\n"
		      "got  «%.60s»\nwant «%.60s»",
		      rel, i, b->len, n, b->data + i, i < n ? want + i : "");
	free(want);
}

START_TEST(test_golden_every_format)
{
	for (int c = 0; c < G_COUNT; c++) {
		struct feedback_meta m;
		struct report *r = golden_input((enum golden_case)c, &m);
		for (int f = 0; f < FEEDBACK_FORMAT_COUNT; f++) {
			if (f == FEEDBACK_XLSX)
				continue; /* a zip with its creation time: check_xlsx.c */
			struct buf b = render((enum feedback_format)f, &m, r);
			golden_check(golden_names[c], (enum feedback_format)f, &b);
			free(b.data);
		}
		report_free(r);
	}
}
END_TEST

/* One unit's file: its messages plus those about the whole file, in every
 * format; an unknown unit is refused (ENOENT), not an empty file. */
START_TEST(test_unit_filter_every_format)
{
	struct report *r = sample_report();
	struct feedback_meta m = meta_full;
	m.enhet = "Bydel Frogner";

	struct buf b = render(FEEDBACK_CSV, &m, r);
	ck_assert_uint_eq(count_occurrences(b.data, "\r\n"), 1 + 2);
	ck_assert_ptr_nonnull(strstr(b.data, "\r\nF007;"));
	ck_assert_ptr_nonnull(strstr(b.data, ";010170*****;Bydel Frogner\r\n"));
	ck_assert_ptr_null(strstr(b.data, "R304"));
	free(b.data);

	b = render(FEEDBACK_JSON, &m, r);
	ck_assert_ptr_nonnull(strstr(b.data, "\"unit_filter\":\"Bydel Frogner\""));
	ck_assert_uint_eq(count_occurrences(b.data, "\"kind\":"), 1);
	ck_assert_ptr_nonnull(strstr(b.data, "\"enhet\":\"Bydel Frogner\"}"));
	ck_assert_ptr_nonnull(strstr(b.data, "\"by_severity\":{\"FATAL\":0,\"ERROR\":3,"
					     "\"WARNING\":1,\"INFO\":0}},"));
	free(b.data);

	b = render(FEEDBACK_XML, &m, r);
	xmlDocPtr doc = xml_valid_doc(&b);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	ck_prop(root, "enhet", "Bydel Frogner");
	xmlFreeDoc(doc);
	ck_assert_uint_eq(count_occurrences(b.data, "<Melding "), 2);
	free(b.data);

	b = render(FEEDBACK_HTML, &m, r);
	ck_assert_ptr_nonnull(strstr(b.data, "gjelder bare enheten «Bydel Frogner»"));
	ck_assert_uint_eq(count_occurrences(b.data, "<section class=\"enhet\">"), 1);
	ck_assert_ptr_null(strstr(b.data, "Timer per uke er negativ"));
	free(b.data);

	/* the filter does not stay on the report */
	b = render(FEEDBACK_CSV, &meta_full, r);
	ck_assert_uint_eq(count_occurrences(b.data, "\r\n"), 1 + 5);
	free(b.data);

	m.enhet = "Bydel Grorud";
	char *data = NULL;
	size_t len = 0;
	FILE *mf = open_memstream(&data, &len);
	errno = 0;
	ck_assert(!feedback_write(mf, FEEDBACK_CSV, &m, r));
	ck_assert_int_eq(errno, ENOENT);
	fclose(mf);
	free(data);
	report_free(r);
}
END_TEST

static Suite *feedback_suite(void)
{
	Suite *s = suite_create("feedback");
	TCase *tc = tcase_create("formats");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_format_names);
	tcase_add_test(tc, test_feedback_path);
	tcase_add_test(tc, test_csv_bom_header_crlf);
	tcase_add_test(tc, test_unit_filter_every_format);
	tcase_add_test(tc, test_csv_merged_lines_and_severity);
	tcase_add_test(tc, test_csv_quoting_and_injection);
	tcase_add_test(tc, test_csv_field_writer);
	tcase_add_test(tc, test_xml_valid_and_content);
	tcase_add_test(tc, test_xml_hostile_strings_stay_valid);
	tcase_add_test(tc, test_html_escaping_and_sections);
	tcase_add_test(tc, test_html_caps_details);
	tcase_add_test(tc, test_json_counts);
	tcase_add_test(tc, test_fatal_only_every_format);
	tcase_add_test(tc, test_empty_report_every_format);
	tcase_add_test(tc, test_no_national_id_in_any_format);
	tcase_add_test(tc, test_unmasked_id_is_masked_anyway);
	tcase_add_test(tc, test_write_error_reported);
	tcase_add_test(tc, test_golden_every_format);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(feedback_suite)
