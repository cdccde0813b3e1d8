/*
 * check_validate.c — the validation engine (validate.h): every F- and R-rule
 * made to fire and shown silent (one data-driven table), exclusion semantics
 * (what reaches the sink), retraction on duplicates, gzip and ISO-8859-1
 * input, hostile XML (DOCTYPE, billion laughs, external entities, deep
 * nesting) and the header peek.
 * National IDs used here are constructed from a date and an individual
 * number with computed control digits; none is a real person's number.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "check_main.h"
#include "codelist.h"
#include "nid.h"
#include "report.h"
#include "validate.h"

/* ---------------------------------------------------------------------- */
/* fixtures                                                               */

static char FNR_A[12], FNR_B[12], FNR_SYN[12], FNR_DNR[12], FNR_BADDATE[12], FNR_BADSUM[12];

/* First individual number from `ind` on that gives valid control digits. */
static void make_fnr(char out[12], const char *ddmmyy, int ind)
{
	for (;; ind++) {
		char d9[10];
		snprintf(d9, sizeof d9, "%.6s%03u", ddmmyy, (unsigned)ind % 1000u);
		char k[2];
		if (nid_control_digits(d9, k)) {
			memcpy(out, d9, 9);
			out[9] = k[0];
			out[10] = k[1];
			out[11] = '\0';
			return;
		}
	}
}

static struct codelist *codes;

static void setup_ids(void)
{
	make_fnr(FNR_A, "010170", 123);
	make_fnr(FNR_B, "150385", 234);
	make_fnr(FNR_SYN, "018170", 123);     /* month + 80: synthetic */
	make_fnr(FNR_DNR, "410170", 123);     /* day + 40: D-number */
	make_fnr(FNR_BADDATE, "310270", 123); /* 31 February */
	memcpy(FNR_BADSUM, FNR_A, 12);
	FNR_BADSUM[10] = FNR_BADSUM[10] == '9' ? '0' : (char)(FNR_BADSUM[10] + 1);
	if (!codes) {
		char err[256];
		const char *dir = getenv("KPR_CONFIG_DIR");
		char path[512];
		snprintf(path, sizeof path, "%s/codelists.csv", dir && *dir ? dir : "config");
		codes = codelist_load(path, err, sizeof err);
		if (!codes)
			fprintf(stderr, "check_validate: %s (run from the repository root)\n", err);
	}
}

#define VURD(dato)                                                                                                  \
	"<Vurdering dato=\"" dato "\">"                                                                             \
	"<Funksjon kode=\"1\" skaar=\"3\"/><Funksjon kode=\"2\" skaar=\"3\"/><Funksjon kode=\"3\" skaar=\"2\"/>"    \
	"<Funksjon kode=\"4\" skaar=\"3\"/><Funksjon kode=\"5\" skaar=\"2\"/><Funksjon kode=\"6\" skaar=\"4\"/>"    \
	"<Funksjon kode=\"7\" skaar=\"3\"/><Funksjon kode=\"8\" skaar=\"3\"/><Funksjon kode=\"9\" skaar=\"4\"/>"    \
	"<Funksjon kode=\"10\" skaar=\"1\"/><Funksjon kode=\"11\" skaar=\"2\"/><Funksjon kode=\"12\" skaar=\"4\"/>" \
	"<Funksjon kode=\"13\" skaar=\"1\"/><Funksjon kode=\"14\" skaar=\"2\"/><Funksjon kode=\"15\" skaar=\"3\"/>" \
	"<Funksjon kode=\"16\" skaar=\"1\"/><Funksjon kode=\"17\" skaar=\"1\"/></Vurdering>\n"

/* A Vurdering with the 16 first codes; the 17th is added by the case. */
#define VURD16                                                                                                      \
	"<Vurdering dato=\"2025-03-01\">"                                                                           \
	"<Funksjon kode=\"1\" skaar=\"3\"/><Funksjon kode=\"2\" skaar=\"3\"/><Funksjon kode=\"3\" skaar=\"2\"/>"    \
	"<Funksjon kode=\"4\" skaar=\"3\"/><Funksjon kode=\"5\" skaar=\"2\"/><Funksjon kode=\"6\" skaar=\"4\"/>"    \
	"<Funksjon kode=\"7\" skaar=\"3\"/><Funksjon kode=\"8\" skaar=\"3\"/><Funksjon kode=\"9\" skaar=\"4\"/>"    \
	"<Funksjon kode=\"10\" skaar=\"1\"/><Funksjon kode=\"11\" skaar=\"2\"/><Funksjon kode=\"12\" skaar=\"4\"/>" \
	"<Funksjon kode=\"13\" skaar=\"1\"/><Funksjon kode=\"14\" skaar=\"2\"/><Funksjon kode=\"15\" skaar=\"3\"/>" \
	"<Funksjon kode=\"16\" skaar=\"1\"/>"

#define TJ15 \
	"<Tjeneste type=\"15\" soknad=\"2025-01-20\" vedtak=\"2025-02-01\" start=\"2025-02-03\" slutt=\"2025-06-30\" timerPerUke=\"5.5\" timerMedFlere=\"7.0\"/>\n"
#define TJ21 \
	"<Tjeneste type=\"21\" soknad=\"2025-01-20\" vedtak=\"2025-02-01\" start=\"2025-02-03\" orgnr=\"974631091\"/>\n"
#define ERN         "<Ernaering risiko=\"2\" dato=\"2025-05-12\"/>\n"
#define ID          "<Fnr>@A@</Fnr><Kjonn>2</Kjonn>\n"
#define PERSON_OPEN "<Person ref=\"P1\">\n"
#define P(body)     PERSON_OPEN ID body "</Person>\n"
#define OK_PERSON   P(VURD("2025-03-01") TJ15)

#define ROOT_DEFAULT \
	"versjon=\"1.0\" id=\"3f1c0d2e-8a4b-4f7e-9a51-2b6c9e0f1a22\" opprettet=\"2026-01-05T09:12:00+01:00\" aargang=\"2025\""
#define AVS_DEFAULT \
	"<Avsender kommunenummer=\"0301\" fagsystem=\"Gerica\" fagsystemVersjon=\"7.4.1\"/>\n"

enum {
	F_TEST_MODE = 1,
	F_AUTH_1103 = 2,
	F_AUTH_0301 = 4,
	F_OPEN_2026 = 8,
	F_OPEN_2025 = 16,
	F_LATEST_X = 32,
	F_LATEST_NONE = 64,
	F_MAX_SMALL = 128,
	F_RAW = 256, /* body is the whole file */
};

struct vcase {
	const char *name;
	const char *root;     /* Innsending attributes; NULL: default */
	const char *avsender; /* NULL: default */
	const char *body;
	const char *rule;
	bool fires;
	int flags;
};

static const struct vcase cases[] = {
    /* baseline */
    {"baseline F001", NULL, NULL, OK_PERSON, "F001", false, 0},
    {"baseline F002", NULL, NULL, OK_PERSON, "F002", false, 0},
    {"baseline R309", NULL, NULL, OK_PERSON, "R309", false, 0},
    /* F001 */
    {"F001 not well-formed", NULL, NULL, PERSON_OPEN ID "<Tjeneste type=\"15\">", "F001", true, 0},
    {"F001 mismatched tag", NULL, NULL, PERSON_OPEN ID "</Persn>", "F001", true, 0},
    {"F001 doctype", NULL, NULL,
     "<?xml version=\"1.0\"?><!DOCTYPE Innsending><Innsending xmlns=\"urn:no:kpr:innsending:1\" " ROOT_DEFAULT
     ">" AVS_DEFAULT OK_PERSON "</Innsending>",
     "F001", true, F_RAW},
    {"F001 windows-1252", NULL, NULL,
     "<?xml version=\"1.0\" encoding=\"windows-1252\"?><Innsending xmlns=\"urn:no:kpr:innsending:1\" " ROOT_DEFAULT
     ">" AVS_DEFAULT OK_PERSON "</Innsending>",
     "F001", true, F_RAW},
    {"F001 latin1 ok", NULL, NULL,
     "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Innsending xmlns=\"urn:no:kpr:innsending:1\" " ROOT_DEFAULT
     ">" AVS_DEFAULT OK_PERSON "</Innsending>",
     "F001", false, F_RAW},
    {"F001 undeclared entity", NULL, NULL, P("<Diagnose kodeverk=\"&foo;\" kode=\"A01\"/>"), "F001",
     true, 0},
    {"F001 truncated", NULL, NULL,
     "<Innsending xmlns=\"urn:no:kpr:innsending:1\" " ROOT_DEFAULT ">" AVS_DEFAULT OK_PERSON,
     "F001", true, F_RAW},
    /* F002 */
    {"F002 unknown element", NULL, NULL, P("<Hobby/>"), "F002", true, 0},
    {"F002 unknown attribute", NULL, NULL, P("<Koordinator kode=\"1\" farge=\"blå\"/>"), "F002",
     true, 0},
    {"F002 bad date", NULL, NULL, P("<Venteliste vedtak=\"2025-02-30\"/>"), "F002", true, 0},
    {"F002 date with zone", NULL, NULL, P("<Venteliste vedtak=\"2025-02-03Z\"/>"), "F002", true, 0},
    {"F002 date padded ok", NULL, NULL, P("<Venteliste vedtak=\" 2025-02-03 \"/>"), "F002", false,
     0},
    {"F002 missing required", NULL, NULL, P("<Heldogn svar=\"1\"/>"), "F002", true, 0},
    {"F002 Fnr after Kjonn", NULL, NULL,
     "<Person ref=\"P1\"><Kjonn>2</Kjonn><Fnr>@A@</Fnr></Person>", "F002", true, 0},
    {"F002 Kjonn not integer", NULL, NULL,
     "<Person ref=\"P1\"><Fnr>@A@</Fnr><Kjonn>K</Kjonn></Person>", "F002", true, 0},
    {"F002 Kjonn +02 is an integer", NULL, NULL,
     "<Person ref=\"P1\"><Fnr>@A@</Fnr><Kjonn> +02 </Kjonn></Person>", "F002", false, 0},
    {"F002 text in Person", NULL, NULL, P("hei"), "F002", true, 0},
    {"F002 text in empty element", NULL, NULL, P("<Koordinator kode=\"1\"> </Koordinator>"), "F002",
     true, 0},
    {"F002 comment in empty element ok", NULL, NULL,
     P("<Koordinator kode=\"1\"><!-- x --></Koordinator>"), "F002", false, 0},
    {"F002 Person before Avsender", NULL, "", OK_PERSON AVS_DEFAULT, "F002", true, 0},
    {"F002 wrong namespace", NULL, NULL,
     "<Innsending xmlns=\"urn:no:kpr:innsending:2\" " ROOT_DEFAULT ">" AVS_DEFAULT OK_PERSON
     "</Innsending>",
     "F002", true, F_RAW},
    {"F002 kommunenummer too long", NULL, "<Avsender kommunenummer=\"03011\" fagsystem=\"G\"/>",
     OK_PERSON, "F002", true, 0},
    {"F002 decimal", NULL, NULL, P("<Tjeneste type=\"4\" timerPerUke=\"1,5\"/>"), "F002", true, 0},
    {"F002 xsi:schemaLocation ok", NULL, NULL,
     "<Person ref=\"P1\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"a b\">" ID
	 VURD("2025-03-01") "</Person>",
     "F002", false, 0},
    /* F003 */
    {"F003 other kommune", NULL, NULL, OK_PERSON, "F003", true, F_AUTH_1103},
    {"F003 same kommune", NULL, NULL, OK_PERSON, "F003", false, F_AUTH_0301},
    /* F004 */
    {"F004 unknown kommune", NULL, "<Avsender kommunenummer=\"0399\" fagsystem=\"G\"/>", OK_PERSON,
     "F004", true, 0},
    {"F004 before 2024 list",
     "versjon=\"1.0\" id=\"x\" opprettet=\"2020-01-05T09:12:00Z\" aargang=\"2019\"", NULL,
     PERSON_OPEN ID "</Person>", "F004", true, 0},
    {"F004 valid kommune", NULL, NULL, OK_PERSON, "F004", false, 0},
    /* F005 */
    {"F005 closed", NULL, NULL, OK_PERSON, "F005", true, F_OPEN_2026},
    {"F005 open", NULL, NULL, OK_PERSON, "F005", false, F_OPEN_2025},
    {"F005 silences R-rules", NULL, NULL, P(TJ15), "R309", false, F_OPEN_2026},
    {"F003 silences R-rules", NULL, NULL, P(TJ15), "R309", false, F_AUTH_1103},
    /* F006 */
    {"F006 no person", NULL, NULL, "", "F006", true, 0},
    {"F006 too big", NULL, NULL, OK_PERSON OK_PERSON, "F006", true, F_MAX_SMALL},
    {"F006 persons", NULL, NULL, OK_PERSON, "F006", false, 0},
    /* F007 */
    {"F007 forrigeId missing", NULL, NULL, OK_PERSON, "F007", true, F_LATEST_X},
    {"F007 forrigeId matches",
     "versjon=\"1.0\" id=\"a\" forrigeId=\"x-1\" opprettet=\"2026-01-05T09:12:00+01:00\" aargang=\"2025\"",
     NULL, OK_PERSON, "F007", false, F_LATEST_X},
    {"F007 first submission", NULL, NULL, OK_PERSON, "F007", false, F_LATEST_NONE},
    {"F007 forrigeId but none",
     "versjon=\"1.0\" id=\"a\" forrigeId=\"x-1\" opprettet=\"2026-01-05T09:12:00+01:00\" aargang=\"2025\"",
     NULL, OK_PERSON, "F007", true, F_LATEST_NONE},
    /* R101 */
    {"R101 no Fnr", NULL, NULL,
     "<Person ref=\"P1\"><Kjonn>2</Kjonn>" VURD("2025-03-01") "</Person>", "R101", true, 0},
    {"R101 empty Fnr", NULL, NULL, "<Person ref=\"P1\"><Fnr> </Fnr><Kjonn>2</Kjonn></Person>",
     "R101", true, 0},
    {"R101 present", NULL, NULL, OK_PERSON, "R101", false, 0},
    /* R102 */
    {"R102 short", NULL, NULL, "<Person ref=\"P1\"><Fnr>0101701234</Fnr><Kjonn>2</Kjonn></Person>",
     "R102", true, 0},
    {"R102 letters", NULL, NULL,
     "<Person ref=\"P1\"><Fnr>0101701234X</Fnr><Kjonn>2</Kjonn></Person>", "R102", true, 0},
    {"R102 ok", NULL, NULL, OK_PERSON, "R102", false, 0},
    /* R103 */
    {"R103 checksum", NULL, NULL, "<Person ref=\"P1\"><Fnr>@BADSUM@</Fnr><Kjonn>2</Kjonn></Person>",
     "R103", true, 0},
    {"R103 ok", NULL, NULL, OK_PERSON, "R103", false, 0},
    /* R104 */
    {"R104 31 February", NULL, NULL,
     "<Person ref=\"P1\"><Fnr>@BADDATE@</Fnr><Kjonn>2</Kjonn></Person>", "R104", true, 0},
    {"R104 synthetic outside test mode", NULL, NULL,
     "<Person ref=\"P1\"><Fnr>@SYN@</Fnr><Kjonn>2</Kjonn></Person>", "R104", true, 0},
    {"R104 synthetic in test mode", NULL, NULL,
     "<Person ref=\"P1\"><Fnr>@SYN@</Fnr><Kjonn>2</Kjonn></Person>", "R104", false, F_TEST_MODE},
    {"R104 D-number", NULL, NULL, "<Person ref=\"P1\"><Fnr>@DNR@</Fnr><Kjonn>2</Kjonn></Person>",
     "R104", false, 0},
    /* R105 */
    {"R105 same ID twice", NULL, NULL,
     OK_PERSON "<Person ref=\"P2\"><Fnr>@A@</Fnr><Kjonn>2</Kjonn>" VURD("2025-03-01") "</Person>",
     "R105", true, 0},
    {"R105 different IDs", NULL, NULL,
     OK_PERSON "<Person ref=\"P2\"><Fnr>@B@</Fnr><Kjonn>2</Kjonn>" VURD("2025-03-01") "</Person>",
     "R105", false, 0},
    /* R106 */
    {"R106 no ref", NULL, NULL, "<Person>" ID VURD("2025-03-01") "</Person>", "R106", true, 0},
    {"R106 empty ref", NULL, NULL, "<Person ref=\"\">" ID VURD("2025-03-01") "</Person>", "R106",
     true, 0},
    {"R106 duplicate ref", NULL, NULL,
     OK_PERSON "<Person ref=\"P1\"><Fnr>@B@</Fnr><Kjonn>2</Kjonn>" VURD("2025-03-01") "</Person>",
     "R106", true, 0},
    {"R106 ref is an ID", NULL, NULL, "<Person ref=\"@B@\">" ID VURD("2025-03-01") "</Person>",
     "R106", true, 0},
    {"R106 ref too long", NULL, NULL,
     "<Person ref=\"12345678901234567890123456789012345678901234567890123456789012345\">" ID
     "</Person>",
     "R106", true, 0},
    {"R106 ref with a tab", NULL, NULL, "<Person ref=\"J&#9;1\">" ID "</Person>", "R106", true, 0},
    {"R106 blank ref", NULL, NULL, "<Person ref=\"  \">" ID "</Person>", "R106", true, 0},
    {"R106 ref with a space ok", NULL, NULL, "<Person ref=\"J 2025/17\">" ID "</Person>", "R106",
     false, 0},
    {"R106 ref with an ID inside", NULL, NULL, "<Person ref=\"J-@B@\">" ID "</Person>", "R106",
     true, 0},
    {"R106 ref with 13 digits ok", NULL, NULL, "<Person ref=\"2025000012345\">" ID "</Person>",
     "R106", false, 0},
    {"R106 ref ok", NULL, NULL, OK_PERSON, "R106", false, 0},
    /* R107 */
    {"R107 wrong year", NULL, NULL,
     "<Person ref=\"P1\">" ID "<Fodselsaar>1971</Fodselsaar></Person>", "R107", true, 0},
    {"R107 right year", NULL, NULL,
     "<Person ref=\"P1\">" ID "<Fodselsaar>1970</Fodselsaar></Person>", "R107", false, 0},
    /* R108 */
    {"R108 three", NULL, NULL, "<Person ref=\"P1\"><Fnr>@A@</Fnr><Kjonn>3</Kjonn></Person>", "R108",
     true, 0},
    {"R108 missing", NULL, NULL, "<Person ref=\"P1\"><Fnr>@A@</Fnr></Person>", "R108", true, 0},
    {"R108 ok", NULL, NULL, OK_PERSON, "R108", false, 0},
    /* R109 */
    {"R109 death before assessment", NULL, NULL,
     "<Person ref=\"P1\">" ID "<Dodsdato>2025-02-01</Dodsdato>" VURD("2025-03-01") "</Person>",
     "R109", true, 0},
    {"R109 death before service start", NULL, NULL,
     "<Person ref=\"P1\">" ID "<Dodsdato>2025-02-01</Dodsdato>" TJ15 "</Person>", "R109", true, 0},
    {"R109 death after the year", NULL, NULL,
     "<Person ref=\"P1\">" ID "<Dodsdato>2026-01-02</Dodsdato></Person>", "R109", true, 0},
    {"R109 death after everything", NULL, NULL,
     "<Person ref=\"P1\">" ID "<Dodsdato>2025-11-02</Dodsdato>" VURD("2025-03-01") TJ15 "</Person>",
     "R109", false, 0},
    /* R110: a bad enhet is recorded as unknown; the element still loads */
    {"R110 person unit fine", NULL, NULL,
     "<Person ref=\"P1\" enhet=\"Bydel Frogner\">" ID "</Person>", "R110", false, 0},
    {"R110 64 characters with æøå", NULL, NULL,
     "<Person ref=\"P1\" enhet=\"æøå4567890123456789012345678901234567890123456789012345678901234\">" ID
     "</Person>",
     "R110", false, 0},
    {"R110 service unit fine", NULL, NULL,
     "<Person ref=\"P1\">" ID
     "<Tjeneste type=\"6\" soknad=\"2025-01-20\" enhet=\"Frogner helsehus\"/></Person>",
     "R110", false, 0},
    {"R110 person unit blank", NULL, NULL, "<Person ref=\"P1\" enhet=\"  \">" ID "</Person>",
     "R110", true, 0},
    {"R110 person unit empty", NULL, NULL, "<Person ref=\"P1\" enhet=\"\">" ID "</Person>", "R110",
     true, 0},
    {"R110 person unit 65 characters", NULL, NULL,
     "<Person ref=\"P1\" enhet=\"æøå45678901234567890123456789012345678901234567890123456789012345\">" ID
     "</Person>",
     "R110", true, 0},
    {"R110 person unit control character", NULL, NULL,
     "<Person ref=\"P1\" enhet=\"Sone&#127;2\">" ID "</Person>", "R110", true, 0},
    {"R110 person unit national ID", NULL, NULL,
     "<Person ref=\"P1\" enhet=\"Sone @B@\">" ID "</Person>", "R110", true, 0},
    {"R110 service unit blank", NULL, NULL,
     "<Person ref=\"P1\" enhet=\"Bydel Frogner\">" ID
     "<Tjeneste type=\"6\" soknad=\"2025-01-20\" enhet=\" \"/></Person>",
     "R110", true, 0},
    {"R110 service unit national ID", NULL, NULL,
     "<Person ref=\"P1\">" ID "<Tjeneste type=\"6\" soknad=\"2025-01-20\" enhet=\"@B@\"/></Person>",
     "R110", true, 0},
    /* R201 */
    {"R201 score 7", NULL, NULL, P(VURD16 "<Funksjon kode=\"17\" skaar=\"7\"/></Vurdering>"),
     "R201", true, 0},
    {"R201 score 5", NULL, NULL, P(VURD16 "<Funksjon kode=\"17\" skaar=\"5\"/></Vurdering>"),
     "R201", false, 0},
    /* R202 */
    {"R202 16 codes", NULL, NULL, P(VURD16 "</Vurdering>"), "R202", true, 0},
    {"R202 code twice", NULL, NULL, P(VURD16 "<Funksjon kode=\"16\" skaar=\"5\"/></Vurdering>"),
     "R202", true, 0},
    {"R202 unknown code", NULL, NULL,
     P(VURD16 "<Funksjon kode=\"17\" skaar=\"5\"/><Funksjon kode=\"18\" skaar=\"5\"/></Vurdering>"),
     "R202", true, 0},
    {"R202 17 codes", NULL, NULL, OK_PERSON, "R202", false, 0},
    /* R203 */
    {"R203 after opprettet", NULL, NULL, P(VURD("2026-01-06")), "R203", true, 0},
    {"R203 after the year",
     "versjon=\"1.0\" id=\"a\" opprettet=\"2026-03-05T09:12:00+01:00\" aargang=\"2025\"", NULL,
     P(VURD("2026-01-06")), "R203", true, 0},
    {"R203 in the year", NULL, NULL, P(VURD("2025-12-31")), "R203", false, 0},
    /* R204 */
    {"R204 score 9 for Syn", NULL, NULL,
     P("<Vurdering dato=\"2025-03-01\">"
       "<Funksjon kode=\"1\" skaar=\"3\"/><Funksjon kode=\"2\" skaar=\"3\"/><Funksjon kode=\"3\" skaar=\"2\"/>"
       "<Funksjon kode=\"4\" skaar=\"3\"/><Funksjon kode=\"5\" skaar=\"2\"/><Funksjon kode=\"6\" skaar=\"4\"/>"
       "<Funksjon kode=\"7\" skaar=\"3\"/><Funksjon kode=\"8\" skaar=\"3\"/><Funksjon kode=\"9\" skaar=\"4\"/>"
       "<Funksjon kode=\"10\" skaar=\"1\"/><Funksjon kode=\"11\" skaar=\"2\"/><Funksjon kode=\"12\" skaar=\"4\"/>"
       "<Funksjon kode=\"13\" skaar=\"9\"/><Funksjon kode=\"14\" skaar=\"2\"/><Funksjon kode=\"15\" skaar=\"3\"/>"
       "<Funksjon kode=\"16\" skaar=\"1\"/><Funksjon kode=\"17\" skaar=\"1\"/></Vurdering>"),
     "R204", true, 0},
    {"R204 score 9 for kode 17", NULL, NULL,
     P(VURD16 "<Funksjon kode=\"17\" skaar=\"9\"/></Vurdering>"), "R204", false, 0},
    /* R301 */
    {"R301 unknown type", NULL, NULL,
     P(VURD("2025-03-01") "<Tjeneste type=\"99\" soknad=\"2025-01-20\"/>"), "R301", true, 0},
    {"R301 expired type", NULL, NULL,
     P(VURD("2025-03-01") "<Tjeneste type=\"10\" soknad=\"2025-01-20\"/>"), "R301", true, 0},

    {"R301 valid type", NULL, NULL, OK_PERSON, "R301", false, 0},
    /* R302 */
    {"R302 slutt before start", NULL, NULL,
     P(VURD(
	 "2025-03-01") "<Tjeneste type=\"4\" vedtak=\"2025-01-01\" start=\"2025-05-01\" slutt=\"2025-04-01\"/>"),
     "R302", true, 0},
    {"R302 vedtak before soknad", NULL, NULL,
     P(VURD(
	 "2025-03-01") "<Tjeneste type=\"4\" soknad=\"2025-02-01\" vedtak=\"2025-01-01\" start=\"2025-05-01\"/>"),
     "R302", true, 0},
    {"R302 in order", NULL, NULL, OK_PERSON, "R302", false, 0},
    /* R303 */
    {"R303 start after the year", NULL, NULL,
     P(VURD("2025-03-01") "<Tjeneste type=\"4\" vedtak=\"2025-12-01\" start=\"2026-01-02\"/>"),
     "R303", true, 0},
    {"R303 ended before the year", NULL, NULL,
     P(VURD(
	 "2025-03-01") "<Tjeneste type=\"4\" vedtak=\"2024-01-01\" start=\"2024-02-01\" slutt=\"2024-12-31\"/>"),
     "R303", true, 0},
    {"R303 spans the year", NULL, NULL,
     P(VURD(
	 "2025-03-01") "<Tjeneste type=\"4\" vedtak=\"2024-01-01\" start=\"2024-02-01\" slutt=\"2025-01-01\"/>"),
     "R303", false, 0},
    /* R304 */
    {"R304 169 hours", NULL, NULL,
     P(VURD(
	 "2025-03-01") "<Tjeneste type=\"15\" vedtak=\"2025-01-01\" start=\"2025-02-01\" timerPerUke=\"169\" timerMedFlere=\"169\"/>"),
     "R304", true, 0},
    {"R304 negative", NULL, NULL,
     P(VURD(
	 "2025-03-01") "<Tjeneste type=\"15\" vedtak=\"2025-01-01\" start=\"2025-02-01\" timerPerUke=\"-1\"/>"),
     "R304", true, 0},
    {"R304 168 hours", NULL, NULL,
     P(VURD(
	 "2025-03-01") "<Tjeneste type=\"15\" vedtak=\"2025-01-01\" start=\"2025-02-01\" timerPerUke=\"168.0\" timerMedFlere=\"168\"/>"),
     "R304", false, 0},
    /* R305 */
    {"R305 med flere below", NULL, NULL,
     P(VURD(
	 "2025-03-01") "<Tjeneste type=\"15\" vedtak=\"2025-01-01\" start=\"2025-02-01\" timerPerUke=\"5.5\" timerMedFlere=\"5.4\"/>"),
     "R305", true, 0},
    {"R305 equal", NULL, NULL,
     P(VURD(
	 "2025-03-01") "<Tjeneste type=\"15\" vedtak=\"2025-01-01\" start=\"2025-02-01\" timerPerUke=\"5.5\" timerMedFlere=\"5.5\"/>"),
     "R305", false, 0},
    /* R306 */
    {"R306 avslag with start", NULL, NULL,
     P(VURD(
	 "2025-03-01") "<Tjeneste type=\"4\" vedtak=\"2025-01-01\" start=\"2025-02-01\" avslag=\"true\"/>"),
     "R306", true, 0},
    {"R306 vedtak without start", NULL, NULL,
     P(VURD("2025-03-01") "<Tjeneste type=\"4\" soknad=\"2025-01-01\" vedtak=\"2025-02-01\"/>"),
     "R306", true, 0},
    {"R306 pending application", NULL, NULL,
     P(VURD("2025-03-01") "<Tjeneste type=\"4\" soknad=\"2025-01-01\"/>"), "R306", false, 0},
    {"R306 avslag", NULL, NULL,
     P(VURD(
	 "2025-03-01") "<Tjeneste type=\"4\" soknad=\"2025-01-01\" vedtak=\"2025-02-01\" avslag=\"true\"/>"),
     "R306", false, 0},
    /* R307 */
    {"R307 institution without orgnr", NULL, NULL,
     P(VURD("2025-03-01") ERN "<Tjeneste type=\"21\" vedtak=\"2025-01-01\" start=\"2025-02-01\"/>"),
     "R307", true, 0},
    {"R307 bad orgnr", NULL, NULL,
     P(VURD("2025-03-01") ERN
       "<Tjeneste type=\"21\" vedtak=\"2025-01-01\" start=\"2025-02-01\" orgnr=\"974631092\"/>"),
     "R307", true, 0},
    {"R307 good orgnr", NULL, NULL, P(VURD("2025-03-01") ERN TJ21), "R307", false, 0},
    /* R308 */
    {"R308 overlap", NULL, NULL,
     P(VURD("2025-03-01") TJ15
       "<Tjeneste type=\"15\" vedtak=\"2025-03-01\" start=\"2025-06-01\" slutt=\"2025-08-30\"/>"),
     "R308", true, 0},
    {"R308 handover", NULL, NULL,
     P(VURD("2025-03-01") TJ15
       "<Tjeneste type=\"15\" vedtak=\"2025-03-01\" start=\"2025-06-30\" slutt=\"2025-08-30\"/>"),
     "R308", false, 0},
    {"R308 other type", NULL, NULL,
     P(VURD("2025-03-01") TJ15 "<Tjeneste type=\"4\" vedtak=\"2025-03-01\" start=\"2025-06-01\"/>"),
     "R308", false, 0},
    /* R309 */
    {"R309 no assessment", NULL, NULL, P(TJ15), "R309", true, 0},
    {"R309 assessment last year", NULL, NULL, P(VURD("2024-11-01") TJ15), "R309", true, 0},
    {"R309 type 4 needs none", NULL, NULL,
     P("<Tjeneste type=\"4\" vedtak=\"2025-03-01\" start=\"2025-06-01\"/>"), "R309", false, 0},
    /* R310 */
    {"R310 old assessment", NULL, NULL,
     P(VURD("2024-01-10") "<Tjeneste type=\"4\" vedtak=\"2025-03-01\" start=\"2025-06-01\"/>"),
     "R310", true, 0},
    {"R310 recent assessment", NULL, NULL,
     P(VURD("2024-03-10") "<Tjeneste type=\"4\" vedtak=\"2025-03-01\" start=\"2025-06-01\"/>"),
     "R310", false, 0},
    /* R401 */
    {"R401 ICD-9", NULL, NULL, P("<Diagnose kodeverk=\"ICD-9\" kode=\"290\"/>"), "R401", true, 0},
    {"R401 ICD-10 malformed", NULL, NULL, P("<Diagnose kodeverk=\"ICD-10\" kode=\"F001\"/>"),
     "R401", true, 0},
    {"R401 ICPC-2 with decimals", NULL, NULL, P("<Diagnose kodeverk=\"ICPC-2\" kode=\"A01.1\"/>"),
     "R401", true, 0},
    {"R401 ICD-10 ok", NULL, NULL, P("<Diagnose kodeverk=\"ICD-10\" kode=\"F00.1\"/>"), "R401",
     false, 0},
    {"R401 ICPC-2 ok", NULL, NULL, P("<Diagnose kodeverk=\"ICPC-2\" kode=\"P70\"/>"), "R401", false,
     0},
    /* R402 */
    {"R402 no institution", NULL, NULL,
     P(VURD("2025-03-01") "<Legemiddelgjennomgang svar=\"1\" dato=\"2025-05-12\"/>"), "R402", true,
     0},
    {"R402 with institution", NULL, NULL,
     P(VURD("2025-03-01") ERN TJ21 "<Legemiddelgjennomgang svar=\"1\" dato=\"2025-05-12\"/>"),
     "R402", false, 0},
    /* R403 */
    {"R403 no nutrition", NULL, NULL, P(VURD("2025-03-01") TJ21), "R403", true, 0},
    {"R403 nutrition", NULL, NULL, P(VURD("2025-03-01") ERN TJ21), "R403", false, 0},
    /* R404 */
    {"R404 waiting while in long-term care", NULL, NULL,
     P(VURD("2025-03-01") ERN TJ21 "<Venteliste vedtak=\"2025-08-01\"/>"), "R404", true, 0},
    {"R404 waiting", NULL, NULL, P(VURD("2025-03-01") "<Venteliste vedtak=\"2025-08-01\"/>"),
     "R404", false, 0},
    /* R405 */
    {"R405 Heldogn 3", NULL, NULL, P("<Heldogn svar=\"3\" dato=\"2025-02-01\"/>"), "R405", true, 0},
    {"R405 Ernaering 0", NULL, NULL, P("<Ernaering risiko=\"0\" dato=\"2025-02-01\"/>"), "R405",
     true, 0},
    {"R405 IndividuellPlan 5", NULL, NULL, P("<IndividuellPlan kode=\"5\"/>"), "R405", true, 0},
    {"R405 Koordinator 4", NULL, NULL,
     P("<Koordinator kode=\"4\"/><Heldogn svar=\"2\" dato=\"2025-02-01\"/>"), "R405", false, 0},
};

/* ---------------------------------------------------------------------- */
/* running                                                                */

static void expand(const char *in, char *out, size_t n)
{
	static const struct {
		const char *tok;
		const char *val;
	} subst[] = {{"@A@", FNR_A},
		     {"@B@", FNR_B},
		     {"@SYN@", FNR_SYN},
		     {"@DNR@", FNR_DNR},
		     {"@BADDATE@", FNR_BADDATE},
		     {"@BADSUM@", FNR_BADSUM}};
	size_t o = 0;
	while (*in && o + 1 < n) {
		bool done = false;
		if (*in == '@') {
			for (size_t i = 0; i < sizeof subst / sizeof subst[0]; i++) {
				size_t tl = strlen(subst[i].tok);
				if (strncmp(in, subst[i].tok, tl) == 0) {
					size_t vl = strlen(subst[i].val);
					if (o + vl + 1 < n) {
						memcpy(out + o, subst[i].val, vl);
						o += vl;
					}
					in += tl;
					done = true;
					break;
				}
			}
		}
		if (!done)
			out[o++] = *in++;
	}
	out[o] = '\0';
}

static void build_doc(const struct vcase *c, char *out, size_t n)
{
	char tmp[32768];
	if (c->flags & F_RAW)
		snprintf(tmp, sizeof tmp, "%s", c->body);
	else
		snprintf(
		    tmp, sizeof tmp,
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Innsending xmlns=\"urn:no:kpr:innsending:1\" %s>\n%s%s</Innsending>\n",
		    c->root ? c->root : ROOT_DEFAULT, c->avsender ? c->avsender : AVS_DEFAULT,
		    c->body);
	expand(tmp, out, n);
}

static char *write_tmp(const void *data, size_t len)
{
	char *path = strdup("/tmp/check_validate-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq((int)write(fd, data, len), (int)len);
	close(fd);
	return path;
}

/* what the sink saw */
#define MAX_SEEN 16
struct seen {
	int persons;
	char refs[MAX_SEEN][80];
	size_t n_tj[MAX_SEEN], n_vurd[MAX_SEEN], n_diag[MAX_SEEN];
	unsigned long regs[MAX_SEEN];
	int fodselsaar[MAX_SEEN];
	int retracts;
	char retracted[MAX_SEEN][80];
	char orgnr[MAX_SEEN][80]; /* of the first Tjeneste */
	char enhet[MAX_SEEN][80];
	bool enhet_unknown[MAX_SEEN];
	char tj_enhet[MAX_SEEN][2][V_ENHET_LEN]; /* of the first two Tjenester */
	bool tj_unknown[MAX_SEEN][2];
};

static bool sink_person(void *ctx, const struct v_person *p)
{
	struct seen *s = ctx;
	if (s->persons < MAX_SEEN) {
		snprintf(s->refs[s->persons], sizeof s->refs[0], "%s", p->ref);
		s->n_tj[s->persons] = p->n_tjenester;
		s->n_vurd[s->persons] = p->n_vurderinger;
		s->n_diag[s->persons] = p->n_diagnoser;
		s->regs[s->persons] = p->registrations;
		s->fodselsaar[s->persons] = p->fodselsaar;
		snprintf(s->orgnr[s->persons], sizeof s->orgnr[0], "%s",
			 p->n_tjenester ? p->tjenester[0].orgnr : "");
		snprintf(s->enhet[s->persons], sizeof s->enhet[0], "%s", p->enhet);
		s->enhet_unknown[s->persons] = p->enhet_unknown;
		for (size_t i = 0; i < 2 && i < p->n_tjenester; i++) {
			snprintf(s->tj_enhet[s->persons][i], sizeof s->tj_enhet[0][0], "%s",
				 p->tjenester[i].enhet);
			s->tj_unknown[s->persons][i] = p->tjenester[i].enhet_unknown;
		}
	}
	s->persons++;
	return true;
}

static bool sink_retract(void *ctx, const char *ref)
{
	struct seen *s = ctx;
	if (s->retracts < MAX_SEEN)
		snprintf(s->retracted[s->retracts], sizeof s->retracted[0], "%s", ref);
	s->retracts++;
	return true;
}

static void params_for(int flags, struct validate_params *p)
{
	memset(p, 0, sizeof *p);
	p->codes = codes;
	p->allow_2032 = true;
	p->test_mode = flags & F_TEST_MODE;
	if (flags & F_AUTH_1103)
		p->auth_kommune = "1103";
	if (flags & F_AUTH_0301)
		p->auth_kommune = "0301";
	if (flags & F_OPEN_2026)
		p->aargang_open_min = p->aargang_open_max = 2026;
	if (flags & F_OPEN_2025)
		p->aargang_open_min = p->aargang_open_max = 2025;
	if (flags & F_LATEST_X)
		p->latest_submission_id = "x-1";
	if (flags & F_LATEST_NONE)
		p->latest_submission_id = "";
	p->max_bytes = (flags & F_MAX_SMALL) ? 600 : 0;
}

/* Runs the validator on data; returns the report (caller frees). */
static struct report *run_data(const void *data, size_t len, int flags, struct seen *seen,
			       struct validate_result *res)
{
	char *path = write_tmp(data, len);
	struct validate_params p;
	params_for(flags, &p);
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	struct validate_sink sink = {sink_person, sink_retract, seen};
	struct validate_result res0;
	ck_assert(validate_file(path, &p, &sink, r, res ? res : &res0));
	unlink(path);
	free(path);
	return r;
}

static struct report *run_doc(const char *doc, int flags, struct seen *seen)
{
	return run_data(doc, strlen(doc), flags, seen, NULL);
}

struct dump_ctx {
	char buf[8192];
	size_t len;
};

static bool dump_msg(void *ctx, const struct vmsg *m)
{
	struct dump_ctx *d = ctx;
	if (d->len < sizeof d->buf - 200)
		d->len += (size_t)snprintf(d->buf + d->len, sizeof d->buf - d->len,
					   "  %s %s line %lu %s: %s [%s]\n", m->rule, m->ref,
					   m->lines[0], m->path, m->text, m->value ? m->value : "");
	return true;
}

static void dump(struct report *r, char *out, size_t n)
{
	struct dump_ctx *d = calloc(1, sizeof *d);
	ck_assert(report_foreach(r, dump_msg, d));
	snprintf(out, n, "%s", d->buf);
	free(d);
}

/* Units: each message carries the unit of the element it concerns (a
 * Tjeneste's own, else its Person's, unknown after R110, none about the
 * whole file), R105/R106 about an earlier person carry that person's unit,
 * the sink gets the units, and the per-unit counts follow. */
struct unit_msgs {
	int n;
	char line[64][160];
};

static bool unit_msg(void *ctx, const struct vmsg *m)
{
	struct unit_msgs *u = ctx;
	if (u->n < 64)
		snprintf(u->line[u->n++], sizeof u->line[0], "%s %s %lu %s", m->rule, m->ref,
			 m->lines[0], m->enhet ? (m->enhet[0] ? m->enhet : "\"\"") : "NULL");
	return true;
}

static bool has_line(const struct unit_msgs *u, const char *want)
{
	for (int i = 0; i < u->n; i++)
		if (strcmp(u->line[i], want) == 0)
			return true;
	return false;
}

#define TJ305(extra)                                                                              \
	"<Tjeneste type=\"15\" soknad=\"2025-01-20\" vedtak=\"2025-02-01\" start=\"2025-02-03\" " \
	"timerPerUke=\"5.5\" timerMedFlere=\"2.0\"" extra "/>\n"

START_TEST(test_units)
{
	setup_ids();
	char doc[65536];
	struct vcase c = {
	    "units",
	    "versjon=\"1.0\" id=\"3f1c0d2e-8a4b-4f7e-9a51-2b6c9e0f1a22\" "
	    "forrigeId=\"x-0\" opprettet=\"2026-01-05T09:12:00+01:00\" aargang=\"2025\"",
	    NULL,
	    /* line 4: P1, unit A; its services: one of its own (line 7), one not (8) */
	    "<Person ref=\"P1\" enhet=\"Bydel A\">\n" ID VURD("2025-03-01") TJ305(" enhet=\"Sted X\"") TJ305(
		"") "</Person>\n"
		    /* P2: no unit, excluded (no Kjonn) */
		    "<Person ref=\"P2\"><Fnr>@B@</Fnr>\n" TJ305(
			"") "</Person>\n"
			    /* P3: a national ID in its unit: unknown */
			    "<Person ref=\"P3\" enhet=\"Sone @B@\"><Fnr>@DNR@</Fnr><Kjonn>2</Kjonn>\n" VURD(
				"2025-03-01")
				TJ305(
				    "") "</Person>\n"
					/* P1 again, unit C: R106 at both, the first about Bydel A */
					"<Person ref=\"P1\" enhet=\"Bydel C\"><Fnr>@SYN@</Fnr><Kjonn>2</Kjonn></Person>\n",
	    "R110", true, 0};
	build_doc(&c, doc, sizeof doc);
	struct seen seen;
	memset(&seen, 0, sizeof seen);
	struct report *r = run_doc(doc, F_TEST_MODE | F_LATEST_X, &seen);
	struct unit_msgs *u = calloc(1, sizeof *u);
	ck_assert(report_foreach(r, unit_msg, u));
	char all[64 * 160 + 1] = "";
	for (int i = 0; i < u->n; i++) {
		strcat(all, u->line[i]);
		strcat(all, "\n");
	}
	/* F007 is about the whole file */
	ck_assert_msg(has_line(u, "F007  2 NULL"), "%s", all);
	/* P1: a Tjeneste's own unit, else the person's */
	ck_assert_msg(has_line(u, "R305 P1 7 Sted X"), "%s", all);
	ck_assert_msg(has_line(u, "R305 P1 8 Bydel A"), "%s", all);
	/* P2: none */
	ck_assert_msg(has_line(u, "R108 P2 10 \"\""), "%s", all);
	ck_assert_msg(has_line(u, "R305 P2 11 \"\""), "%s", all);
	/* P3: unknown, for the R110 itself and what its Tjeneste gets */
	ck_assert_msg(has_line(u, "R110 P3 13 (ukjent enhet)"), "%s", all);
	ck_assert_msg(has_line(u, "R305 P3 15 (ukjent enhet)"), "%s", all);
	/* R106: each person's own unit, also the one added later about P1 */
	ck_assert_msg(has_line(u, "R106 P1 4 Bydel A"), "%s", all);
	ck_assert_msg(has_line(u, "R106 P1 17 Bydel C"), "%s", all);
	ck_assert_msg(!strstr(all, FNR_B), "national ID in a unit: %s", all);
	char msgs[8192];
	dump(r, msgs, sizeof msgs);
	ck_assert_msg(!strstr(msgs, FNR_B), "national ID in a message: %s", msgs);

	/* the sink: P1 (later retracted) and P3 */
	ck_assert_int_eq(seen.persons, 2);
	ck_assert_str_eq(seen.refs[0], "P1");
	ck_assert_str_eq(seen.enhet[0], "Bydel A");
	ck_assert(!seen.enhet_unknown[0]);
	ck_assert_str_eq(seen.refs[1], "P3");
	ck_assert_str_eq(seen.enhet[1], "");
	ck_assert(seen.enhet_unknown[1]);
	ck_assert_int_eq(seen.retracts, 1);

	/* per-unit counts */
	struct report_unit *a = report_unit(r, "Bydel A");
	ck_assert_uint_eq(a->persons, 1);
	ck_assert_uint_eq(a->persons_loaded, 0); /* retracted at the duplicate */
	ck_assert_uint_eq(a->persons_excluded, 1);
	ck_assert_uint_eq(a->services, 1);
	ck_assert_uint_eq(a->by_severity[SEV_ERROR], 2); /* R305 line 27, R106 */
	struct report_unit *x = report_unit(r, "Sted X");
	ck_assert_uint_eq(x->persons, 0);
	ck_assert_uint_eq(x->services, 1);
	ck_assert_uint_eq(x->by_severity[SEV_ERROR], 1);
	struct report_unit *k = report_unit(r, REPORT_UNIT_UNKNOWN);
	ck_assert_uint_eq(k->persons, 1);
	ck_assert_uint_eq(k->persons_loaded, 1);
	ck_assert_uint_eq(k->by_severity[SEV_WARNING], 1);
	ck_assert_uint_eq(report_unit(r, "")->persons_excluded, 1);
	ck_assert(report_has_unit(r, "Bydel C"));
	ck_assert(!report_has_unit(r, "Bydel B"));
	free(u);
	report_free(r);
}
END_TEST

/* A Tjeneste with a good unit of its own under a person whose unit R110
 * refused: its own counts; and the sink gets each service's unit. */
START_TEST(test_units_service_own)
{
	setup_ids();
	char doc[65536];
	struct vcase c = {
	    "units2",
	    NULL,
	    NULL,
	    "<Person ref=\"P1\" enhet=\"&#9;\">" ID VURD(
		"2025-03-01") "<Tjeneste type=\"6\" soknad=\"2025-01-20\" enhet=\"Sone 2\"/>"
			      "<Tjeneste type=\"6\" soknad=\"2025-01-21\"/></Person>\n",
	    "R110",
	    true,
	    0};
	build_doc(&c, doc, sizeof doc);
	struct seen seen;
	memset(&seen, 0, sizeof seen);
	struct report *r = run_doc(doc, 0, &seen);
	ck_assert_uint_eq(report_rule_count(r, "R110"), 1);
	ck_assert_int_eq(seen.persons, 1);
	ck_assert(seen.enhet_unknown[0]);
	ck_assert_str_eq(seen.tj_enhet[0][0], "Sone 2");
	ck_assert(!seen.tj_unknown[0][0]);
	ck_assert_str_eq(seen.tj_enhet[0][1], "");
	ck_assert(seen.tj_unknown[0][1]);
	report_free(r);
}
END_TEST

START_TEST(test_rule_table)
{
	setup_ids();
	ck_assert_ptr_nonnull(codes);
	const struct vcase *c = &cases[_i];
	char *doc = malloc(65536);
	build_doc(c, doc, 65536);
	struct seen seen;
	memset(&seen, 0, sizeof seen);
	struct report *r = run_doc(doc, c->flags, &seen);
	unsigned long n = report_rule_count(r, c->rule);
	char msgs[8192];
	dump(r, msgs, sizeof msgs);
	ck_assert_msg((n > 0) == c->fires, "case '%s': %s %s (count %lu); messages:\n%s", c->name,
		      c->rule, c->fires ? "did not fire" : "fired", n, msgs);
	/* never an ID in clear in any message */
	ck_assert_msg(!strstr(msgs, FNR_A) && !strstr(msgs, FNR_B),
		      "case '%s': national ID in a message", c->name);
	report_free(r);
	free(doc);
}
END_TEST

/* The baseline file produces no message at all. */
START_TEST(test_baseline_clean)
{
	setup_ids();
	struct vcase c = {"clean", NULL, NULL, OK_PERSON, "F001", false, 0};
	char doc[65536];
	build_doc(&c, doc, sizeof doc);
	struct seen seen;
	memset(&seen, 0, sizeof seen);
	struct report *r = run_doc(doc, 0, &seen);
	const struct report_summary *s = report_summary_const(r);
	char msgs[8192];
	dump(r, msgs, sizeof msgs);
	ck_assert_msg(s->by_severity[SEV_FATAL] + s->by_severity[SEV_ERROR] +
			      s->by_severity[SEV_WARNING] + s->by_severity[SEV_INFO] ==
			  0,
		      "messages:\n%s", msgs);
	ck_assert_int_eq(seen.persons, 1);
	ck_assert_str_eq(seen.refs[0], "P1");
	ck_assert_uint_eq(s->persons, 1);
	/* Fnr, Kjonn, Vurdering + 17 Funksjon, Tjeneste */
	ck_assert_uint_eq(s->registrations, 21);
	ck_assert_uint_eq(s->registrations_loaded, 21);
	ck_assert_uint_eq(seen.regs[0], 21);
	ck_assert_int_eq(seen.fodselsaar[0], 1970); /* derived from the ID */
	report_free(r);
}
END_TEST

/* The SPEC example fixture: valid against the XSD, only the expected notes. */
START_TEST(test_spec_fixture)
{
	setup_ids();
	struct validate_params p;
	params_for(0, &p);
	struct report *r = report_new(NULL);
	struct validate_result res;
	ck_assert(validate_file("tests/fixtures/spec-example.xml", &p, NULL, r, &res));
	ck_assert(res.header_ok);
	ck_assert_str_eq(res.header.kommunenummer, "0301");
	ck_assert_int_eq(res.header.aargang, 2025);
	ck_assert_str_eq(res.header.fagsystem, "Gerica");
	ck_assert_uint_eq(report_rule_count(r, "F002"), 0);
	ck_assert(!report_summary(r)->fatal);
	report_free(r);
}
END_TEST

/* ERROR excludes the smallest enclosing element; the rest is loaded. */
START_TEST(test_exclusion)
{
	setup_ids();
	char doc[65536];
	struct vcase c = {
	    "excl",
	    NULL,
	    NULL,
	    P(VURD("2025-03-01") VURD16
	      "<Funksjon kode=\"17\" skaar=\"7\"/></Vurdering>" TJ15
	      "<Tjeneste type=\"99\" vedtak=\"2025-01-01\" start=\"2025-02-01\"/>"
	      "<Diagnose kodeverk=\"ICD-10\" kode=\"F00.1\"/><Diagnose kodeverk=\"ICD-10\" kode=\"F0\"/>")
	    /* identity failure: the whole person goes */
	    "<Person ref=\"P2\"><Fnr>@BADSUM@</Fnr><Kjonn>2</Kjonn>" TJ15 "</Person>"
	    /* Kjonn wrong: the whole person goes */
	    "<Person ref=\"P3\"><Fnr>@B@</Fnr><Kjonn>9</Kjonn>" TJ15 "</Person>",
	    "R201",
	    true,
	    0};
	build_doc(&c, doc, sizeof doc);
	struct seen seen;
	memset(&seen, 0, sizeof seen);
	struct report *r = run_doc(doc, 0, &seen);
	ck_assert_int_eq(seen.persons, 1);
	ck_assert_str_eq(seen.refs[0], "P1");
	ck_assert_uint_eq(seen.n_vurd[0], 1);
	ck_assert_uint_eq(seen.n_tj[0], 1);
	ck_assert_uint_eq(seen.n_diag[0], 1);
	const struct report_summary *s = report_summary_const(r);
	ck_assert_uint_eq(s->persons, 3);
	ck_assert_uint_eq(s->persons_loaded, 1);
	ck_assert_uint_eq(s->persons_excluded, 2);
	/* P1: Fnr Kjonn + 2*(1+17) + 2 Tjeneste + 2 Diagnose = 42; loaded: 2 + 18 + 1 + 1 = 22 */
	ck_assert_uint_eq(seen.regs[0], 22);
	ck_assert_uint_eq(s->registrations, 42 + 3 + 3);
	ck_assert_uint_eq(s->registrations_loaded, 22);
	ck_assert_uint_eq(s->registrations_excluded, 20 + 6);
	ck_assert_uint_eq(report_rule_count(r, "R103"), 1);
	ck_assert_uint_eq(report_rule_count(r, "R108"), 1);
	ck_assert_uint_eq(report_rule_count(r, "R301"), 1);
	ck_assert_uint_eq(report_rule_count(r, "R401"), 1);
	report_free(r);
}
END_TEST

/* R105/R106 at a later duplicate retract the earlier person; both reported. */
START_TEST(test_retract)
{
	setup_ids();
	char doc[65536];
	struct vcase c = {
	    "dup",
	    NULL,
	    NULL,
	    "<Person ref=\"P1\"><Fnr>@A@</Fnr><Kjonn>2</Kjonn>" VURD(
		"2025-03-01") "</Person>\n"
			      "<Person ref=\"P2\"><Fnr>@B@</Fnr><Kjonn>1</Kjonn>" VURD(
				  "2025-03-01") "</Person>\n"
						"<Person ref=\"P3\"><Fnr>@A@</Fnr><Kjonn>2</Kjonn>" VURD(
						    "2025-03-01") "</Person>\n"
								  "<Person ref=\"P2\"><Fnr>@DNR@</Fnr><Kjonn>2</Kjonn>" VURD(
								      "2025-03-01") "</Person>\n",
	    "R105",
	    true,
	    0};
	build_doc(&c, doc, sizeof doc);
	struct seen seen;
	memset(&seen, 0, sizeof seen);
	struct report *r = run_doc(doc, 0, &seen);
	ck_assert_int_eq(seen.persons, 2); /* P1 and P2 delivered, then retracted */
	ck_assert_int_eq(seen.retracts, 2);
	ck_assert_str_eq(seen.retracted[0], "P1");
	ck_assert_str_eq(seen.retracted[1], "P2");
	const struct report_summary *s = report_summary_const(r);
	ck_assert_uint_eq(s->persons_loaded, 0);
	ck_assert_uint_eq(s->persons_excluded, 4);
	ck_assert_uint_eq(s->registrations_loaded, 0);
	/* both persons of each pair reported */
	ck_assert_uint_eq(report_rule_count(r, "R105"), 2);
	ck_assert_uint_eq(report_rule_count(r, "R106"), 2);
	char msgs[8192];
	dump(r, msgs, sizeof msgs);
	/* file order: the message about P1 (line of P1) comes before P2's */
	char *p1 = strstr(msgs, "R105 P1");
	char *p3 = strstr(msgs, "R105 P3");
	ck_assert_msg(p1 && p3 && p1 < p3, "order:\n%s", msgs);
	ck_assert_msg(strstr(p1, "P3") != NULL, "message lists both refs:\n%s", msgs);
	ck_assert(!strstr(msgs, FNR_A));
	report_free(r);
}
END_TEST

/* Identity is not display (SPEC §2, §3): refs of every real-world shape are
 * compared, retracted and handed over exactly as written; only an ID
 * candidate is refused and masked. */
struct ref_msg {
	const char *rule;
	char ref[300];
	char value[300];
	int n;
};

static bool find_msg(void *ctx, const struct vmsg *m)
{
	struct ref_msg *f = ctx;
	if (strcmp(m->rule, f->rule) == 0 && f->n++ == 0) {
		snprintf(f->ref, sizeof f->ref, "%s", m->ref);
		snprintf(f->value, sizeof f->value, "%s", m->value ? m->value : "");
	}
	return true;
}

static void person_doc(char *out, size_t n, const char *const *refs, const char *const *fnrs,
		       size_t count, const char *extra)
{
	char body[32768] = "";
	size_t o = 0;
	for (size_t i = 0; i < count; i++)
		o += (size_t)snprintf(
		    body + o, sizeof body - o,
		    "<Person ref=\"%s\"><Fnr>%s</Fnr><Kjonn>2</Kjonn>%s</Person>\n", refs[i],
		    fnrs[i], i == 0 && extra ? extra : "");
	snprintf(out, n,
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Innsending "
		 "xmlns=\"urn:no:kpr:innsending:1\" %s>\n%s%s</Innsending>\n",
		 ROOT_DEFAULT, AVS_DEFAULT, body);
}

START_TEST(test_refs_as_written)
{
	setup_ids();
	static char fnr[12][12];
	const char *fp[12];
	for (int i = 0; i < 12; i++) {
		char date[8];
		snprintf(date, sizeof date, "%02d0170", i + 1);
		make_fnr(fnr[i], date, 100);
		fp[i] = fnr[i];
	}
	char doc[65536];
	struct seen seen;

	/* journal numbers: municipality + running number; near-duplicates */
	const char *journal[] = {"1101-0000000",
				 "1101-0000001",
				 "1101-0000002",
				 "1101-0000003",
				 "2024/123456-01",
				 "2024/123457-01",
				 "123456789012",
				 "J 2025/17",
				 "\xc3\xa6\xc3\xb8\xc3\xa5-\xc3\x85se",
				 "3f1c0d2e-8a4b-4f7e-9a51-2b6c9e0f1a22"};
	person_doc(doc, sizeof doc, journal, fp, 10, NULL);
	memset(&seen, 0, sizeof seen);
	struct report *r = run_doc(doc, 0, &seen);
	char msgs[8192];
	dump(r, msgs, sizeof msgs);
	ck_assert_msg(report_rule_count(r, "R106") == 0, "false R106:\n%s", msgs);
	ck_assert_int_eq(seen.persons, 10);
	for (int i = 0; i < 10; i++)
		ck_assert_str_eq(seen.refs[i], journal[i]);
	report_free(r);

	/* SPEC's case: the 1st and 3rd share an ID; both excluded, the first
	 * retracted by its ref as written, and the messages show refs verbatim */
	const char *three[] = {"2024/123456-01", "2024/223456-02", "2024/323456-03"};
	const char *tf[] = {fnr[0], fnr[1], fnr[0]};
	person_doc(doc, sizeof doc, three, tf, 3, NULL);
	memset(&seen, 0, sizeof seen);
	r = run_doc(doc, 0, &seen);
	ck_assert_int_eq(seen.persons, 2);
	ck_assert_int_eq(seen.retracts, 1);
	ck_assert_str_eq(seen.retracted[0], "2024/123456-01");
	ck_assert_uint_eq(report_summary_const(r)->persons_loaded, 1);
	ck_assert_uint_eq(report_summary_const(r)->persons_excluded, 2);
	struct ref_msg f = {.rule = "R105"};
	ck_assert(report_foreach(r, find_msg, &f));
	ck_assert_int_eq(f.n, 2);
	ck_assert_str_eq(f.ref, "2024/123456-01");
	report_free(r);

	/* a 64-character ref of two-byte letters is shown whole */
	char longref[200] = "";
	for (int i = 0; i < 64; i++)
		strcat(longref, "\xc3\xa6");
	const char *lr[] = {longref};
	person_doc(doc, sizeof doc, lr, fp, 1, "<Diagnose kodeverk=\"ICD-10\" kode=\"X\"/>");
	memset(&seen, 0, sizeof seen);
	r = run_doc(doc, 0, &seen);
	f = (struct ref_msg){.rule = "R401"};
	ck_assert(report_foreach(r, find_msg, &f));
	ck_assert_int_eq(f.n, 1);
	ck_assert_str_eq(f.ref, longref);
	report_free(r);

	/* escaped characters are the characters written: "R&amp;D" is "R&D" */
	const char *esc[] = {"R&amp;D &lt;1&gt; &#38;&quot;"};
	person_doc(doc, sizeof doc, esc, fp, 1, NULL);
	memset(&seen, 0, sizeof seen);
	r = run_doc(doc, 0, &seen);
	ck_assert_int_eq(seen.persons, 1);
	ck_assert_str_eq(seen.refs[0], "R&D <1> &\"");
	report_free(r);
}
END_TEST

START_TEST(test_ref_and_orgnr_candidates)
{
	setup_ids();
	char doc[65536], ref[64], masked[64];
	/* an ID with a separator inside a ref: refused and masked */
	snprintf(ref, sizeof ref, "J %.6s-%s", FNR_B, FNR_B + 6);
	snprintf(masked, sizeof masked, "J %.6s-*****", FNR_B);
	const char *refs[] = {ref};
	const char *fnrs[] = {FNR_A};
	person_doc(doc, sizeof doc, refs, fnrs, 1, NULL);
	struct seen seen;
	memset(&seen, 0, sizeof seen);
	struct report *r = run_doc(doc, 0, &seen);
	ck_assert_int_eq(seen.persons, 0);
	struct ref_msg f = {.rule = "R106"};
	ck_assert(report_foreach(r, find_msg, &f));
	ck_assert_int_eq(f.n, 1);
	ck_assert_str_eq(f.ref, masked);
	char msgs[8192];
	dump(r, msgs, sizeof msgs);
	ck_assert_msg(!strstr(msgs, FNR_B + 6), "ID digits shown:\n%s", msgs);
	report_free(r);

	/* an orgnr carrying an ID: R307, the service loaded, the orgnr not */
	char tj[512];
	snprintf(tj, sizeof tj,
		 "<Tjeneste type=\"21\" soknad=\"2025-01-20\" vedtak=\"2025-02-01\" "
		 "start=\"2025-02-03\" orgnr=\"%s\"/>" ERN,
		 FNR_B);
	const char *r1[] = {"P1"};
	person_doc(doc, sizeof doc, r1, fnrs, 1, tj);
	memset(&seen, 0, sizeof seen);
	r = run_doc(doc, 0, &seen);
	ck_assert_int_eq(seen.persons, 1);
	ck_assert_uint_eq(seen.n_tj[0], 1);
	ck_assert_str_eq(seen.orgnr[0], "");
	f = (struct ref_msg){.rule = "R307"};
	ck_assert(report_foreach(r, find_msg, &f));
	ck_assert_int_eq(f.n, 1);
	ck_assert(strstr(f.value, "*****") != NULL);
	report_free(r);

	/* an invalid orgnr that is no ID is stored as written */
	snprintf(tj, sizeof tj,
		 "<Tjeneste type=\"21\" soknad=\"2025-01-20\" vedtak=\"2025-02-01\" "
		 "start=\"2025-02-03\" orgnr=\"97463109X\"/>" ERN);
	person_doc(doc, sizeof doc, r1, fnrs, 1, tj);
	memset(&seen, 0, sizeof seen);
	r = run_doc(doc, 0, &seen);
	ck_assert_str_eq(seen.orgnr[0], "97463109X");
	ck_assert_uint_eq(report_rule_count(r, "R307"), 1);
	report_free(r);

	/* up to 64 characters are stored as written, a 65th is not */
	char o64[200] = "", o65[200];
	for (int i = 0; i < 32; i++)
		strcat(o64, "Ax");
	snprintf(o65, sizeof o65, "%sy", o64);
	const char *orgs[] = {o64, o65};
	for (int k = 0; k < 2; k++) {
		snprintf(tj, sizeof tj,
			 "<Tjeneste type=\"21\" soknad=\"2025-01-20\" vedtak=\"2025-02-01\" "
			 "start=\"2025-02-03\" orgnr=\"%s\"/>" ERN,
			 orgs[k]);
		person_doc(doc, sizeof doc, r1, fnrs, 1, tj);
		memset(&seen, 0, sizeof seen);
		r = run_doc(doc, 0, &seen);
		ck_assert_str_eq(seen.orgnr[0], k == 0 ? o64 : "");
		ck_assert_uint_eq(report_rule_count(r, "R307"), 1);
		report_free(r);
	}
}
END_TEST

START_TEST(test_gzip)
{
	setup_ids();
	char doc[65536];
	struct vcase c = {"gz", NULL, NULL, OK_PERSON OK_PERSON, "R106", true, 0};
	build_doc(&c, doc, sizeof doc);
	char path[] = "/tmp/check_validate-gz-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	gzFile gz = gzdopen(fd, "wb");
	ck_assert_int_eq(gzwrite(gz, doc, (unsigned)strlen(doc)), (int)strlen(doc));
	gzclose(gz);
	struct validate_params p;
	params_for(0, &p);
	struct report *r = report_new(NULL);
	struct validate_result res;
	ck_assert(validate_file(path, &p, NULL, r, &res));
	ck_assert_uint_eq(res.bytes, strlen(doc));
	ck_assert_uint_eq(report_summary(r)->persons, 2);
	ck_assert_uint_eq(report_rule_count(r, "R106"), 2);
	ck_assert(!report_summary(r)->fatal);
	report_free(r);

	/* a gzip bomb stops at max_bytes */
	gz = gzopen(path, "wb9");
	const char *head =
	    "<Innsending xmlns=\"urn:no:kpr:innsending:1\" " ROOT_DEFAULT ">" AVS_DEFAULT "<!--";
	gzwrite(gz, head, (unsigned)strlen(head));
	static char zeros[1 << 16];
	memset(zeros, ' ', sizeof zeros);
	for (int i = 0; i < 512; i++) /* 32 MiB of spaces, ~32 KiB on disk */
		gzwrite(gz, zeros, sizeof zeros);
	gzclose(gz);
	p.max_bytes = 1 << 20;
	r = report_new(NULL);
	ck_assert(validate_file(path, &p, NULL, r, &res));
	ck_assert_uint_eq(report_rule_count(r, "F006"), 1);
	ck_assert_uint_le(res.bytes, (2 << 20));
	ck_assert(report_summary(r)->fatal);
	report_free(r);

	/* a corrupt gzip is F001 */
	FILE *f = fopen(path, "r+b");
	fseek(f, 20, SEEK_SET);
	fputs("garbage garbage garbage", f);
	fclose(f);
	r = report_new(NULL);
	ck_assert(validate_file(path, &p, NULL, r, &res));
	ck_assert_uint_eq(report_rule_count(r, "F001"), 1);
	report_free(r);
	unlink(path);
}
END_TEST

START_TEST(test_latin1)
{
	setup_ids();
	char doc[65536];
	struct vcase c = {
	    "latin1",
	    NULL,
	    NULL,
	    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Innsending xmlns=\"urn:no:kpr:innsending:1\" " ROOT_DEFAULT
	    "><Avsender kommunenummer=\"0301\" fagsystem=\"Gr\xf8nn\"/>"
	    "<Person ref=\"J\xe6\xf8\xe5-1\">" ID VURD("2025-03-01") "</Person></Innsending>",
	    "F001",
	    false,
	    F_RAW};
	build_doc(&c, doc, sizeof doc);
	struct seen seen;
	memset(&seen, 0, sizeof seen);
	struct validate_result res;
	struct report *r = run_data(doc, strlen(doc), 0, &seen, &res);
	ck_assert(!report_summary(r)->fatal);
	ck_assert_int_eq(seen.persons, 1);
	ck_assert_str_eq(seen.refs[0], "J\xc3\xa6\xc3\xb8\xc3\xa5-1"); /* UTF-8 */
	ck_assert_str_eq(res.header.fagsystem, "Gr\xc3\xb8nn");
	report_free(r);

	/* the same bytes declared UTF-8: not proper UTF-8 */
	memset(&seen, 0, sizeof seen);
	char *decl = strstr(doc, "ISO-8859-1");
	memcpy(decl, "UTF-8\"    ", 10);
	r = run_data(doc, strlen(doc), 0, &seen, NULL);
	ck_assert_uint_eq(report_rule_count(r, "F001"), 1);
	report_free(r);
}
END_TEST

START_TEST(test_hostile)
{
	setup_ids();
	struct seen seen;
	/* billion laughs: stopped at the DOCTYPE, nothing expanded */
	const char *bl =
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
	    "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	    "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	    "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	    "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	    "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	    "]>\n<Innsending xmlns=\"urn:no:kpr:innsending:1\" versjon=\"&lol9;\"/>\n";
	memset(&seen, 0, sizeof seen);
	struct report *r = run_doc(bl, 0, &seen);
	ck_assert_uint_eq(report_rule_count(r, "F001"), 1);
	ck_assert_uint_eq(report_rule_count(r, "F002"), 0);
	ck_assert(report_summary(r)->fatal);
	report_free(r);

	/* external entity */
	const char *xxe =
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n"
	    "<Innsending xmlns=\"urn:no:kpr:innsending:1\" versjon=\"&e;\"/>\n";
	r = run_doc(xxe, 0, &seen);
	ck_assert_uint_eq(report_rule_count(r, "F001"), 1);
	report_free(r);

	/* deep nesting: bounded, one F002, no crash */
	size_t depth = 100000;
	char *deep = malloc(depth * 7 + 4096);
	char *o = deep;
	o += sprintf(o, "<Innsending xmlns=\"urn:no:kpr:innsending:1\" " ROOT_DEFAULT
			">" AVS_DEFAULT "<Person ref=\"P\">");
	for (size_t i = 0; i < depth; i++)
		o += sprintf(o, "<a>");
	for (size_t i = 0; i < depth; i++)
		o += sprintf(o, "</a>");
	o += sprintf(o, "</Person></Innsending>");
	memset(&seen, 0, sizeof seen);
	r = run_data(deep, (size_t)(o - deep), 0, &seen, NULL);
	ck_assert(report_summary(r)->fatal);
	ck_assert_int_eq(seen.persons, 0);
	report_free(r);
	free(deep);

	/* a huge attribute value: bounded, reported */
	size_t big = 200000;
	char *ha = malloc(big + 4096);
	o = ha;
	o += sprintf(o,
		     "<Innsending xmlns=\"urn:no:kpr:innsending:1\" " ROOT_DEFAULT ">" AVS_DEFAULT
		     "<Person ref=\"P\"><Fnr>%s</Fnr><Kjonn>1</Kjonn><Koordinator kode=\"",
		     FNR_A);
	memset(o, '1', big);
	o += big;
	o += sprintf(o, "\"/></Person></Innsending>");
	r = run_data(ha, (size_t)(o - ha), 0, &seen, NULL);
	ck_assert(report_summary(r)->fatal);
	report_free(r);
	free(ha);
}
END_TEST

START_TEST(test_peek)
{
	setup_ids();
	char doc[65536];
	struct vcase c = {"peek", NULL, NULL, OK_PERSON "<broken", "F001", true, 0};
	build_doc(&c, doc, sizeof doc);
	char *path = write_tmp(doc, strlen(doc));
	struct v_header h;
	char err[256];
	ck_assert(validate_peek_header(path, &h, err, sizeof err));
	ck_assert_str_eq(h.id, "3f1c0d2e-8a4b-4f7e-9a51-2b6c9e0f1a22");
	ck_assert_str_eq(h.kommunenummer, "0301");
	ck_assert_str_eq(h.fagsystem_versjon, "7.4.1");
	ck_assert_str_eq(h.opprettet, "2026-01-05T09:12:00+01:00");
	ck_assert_int_eq(h.aargang, 2025);
	unlink(path);
	free(path);

	const char *bad = "<Innsending xmlns=\"urn:no:kpr:innsending:1\"><Avsender/></Innsending>";
	path = write_tmp(bad, strlen(bad));
	ck_assert(!validate_peek_header(path, &h, err, sizeof err));
	ck_assert(err[0]);
	unlink(path);
	free(path);
}
END_TEST

/* Line numbers: the line where the element starts; merged messages. */
START_TEST(test_lines_and_merge)
{
	setup_ids();
	char doc[65536];
	struct vcase c = {
	    "lines",
	    NULL,
	    NULL,
	    "<Person ref=\"P1\">\n<Fnr>@A@</Fnr>\n<Kjonn>2</Kjonn>\n" VURD(
		"2025-03-01") "<Heldogn svar=\"3\"\n dato=\"2025-02-01\"/>\n<Heldogn svar=\"3\" dato=\"2025-02-01\"/>\n</Person>\n",
	    "R405",
	    true,
	    0};
	build_doc(&c, doc, sizeof doc);
	struct seen seen;
	memset(&seen, 0, sizeof seen);
	struct report *r = run_doc(doc, 0, &seen);
	ck_assert_uint_eq(report_rule_count(r, "R405"), 1); /* merged */
	ck_assert_uint_eq(report_summary(r)->by_severity[SEV_ERROR], 2);
	char msgs[8192];
	dump(r, msgs, sizeof msgs);
	/* header is lines 1-3, Person at 4, Vurdering at 7, Heldogn at 8 and 10 */
	ck_assert_msg(strstr(msgs, "R405 P1 line 8 ") != NULL, "%s", msgs);
	report_free(r);
}
END_TEST

static Suite *validate_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("rules");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_rule_table, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, test_baseline_clean);
	tcase_add_test(tc, test_spec_fixture);
	suite_add_tcase(s, tc);
	TCase *tc2 = tcase_create("engine");
	tcase_set_timeout(tc2, 60);
	tcase_add_test(tc2, test_exclusion);
	tcase_add_test(tc2, test_retract);
	tcase_add_test(tc2, test_units);
	tcase_add_test(tc2, test_units_service_own);
	tcase_add_test(tc2, test_refs_as_written);
	tcase_add_test(tc2, test_ref_and_orgnr_candidates);
	tcase_add_test(tc2, test_gzip);
	tcase_add_test(tc2, test_latin1);
	tcase_add_test(tc2, test_hostile);
	tcase_add_test(tc2, test_peek);
	tcase_add_test(tc2, test_lines_and_merge);
	suite_add_tcase(s, tc2);
	return s;
}

KPR_CHECK_MAIN(validate_suite)
