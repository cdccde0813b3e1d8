/*
 * check_xlsx.c — the feedback workbook (format=xlsx, SPEC §6) as bytes: a
 * valid zip (every entry's CRC checked, read here with zlib, not with the
 * library that wrote it) holding the parts Excel needs; the sheets in order
 * with frozen headings and filters; numbers as number cells, strings never
 * formulas; no national ID in any part; the messages continuing on
 * "Meldinger (2)" past the row limit (lowered by the test hook
 * feedback_xlsx_set_sheet_rows); the private temporary directory removed,
 * also on a write error.
 *
 * Reading the workbook back with an independent reader (openpyxl) and
 * comparing it with the CSV row by row is tests/xlsx/compare.py, run by
 * tests/integration/test_xlsx.sh; with KPR_XLSX_DUMP=DIR this suite also
 * writes its reports' workbooks and CSVs there for it (test_dump).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check_main.h"
#include "feedback.h"
#include "nid.h"
#include "report.h"

static const struct feedback_meta meta = {
    .submission_id = "3f1c0d2e-8a4b-4f7e-9a51-2b6c9e0f1a22",
    .innsending_id = "7d2a4c1e-0b3f-4e8a-9c6d-5f1e2a3b4c5d",
    .kommunenummer = "0301",
    .kommunenavn = "Oslo",
    .aargang = 2025,
    .status = "accepted_with_errors",
    .received_at = "2026-01-05T09:12:00+01:00",
    .processed_at = "2026-01-05 09:13:07.25+01",
    .sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    .bytes = 123456,
    .fagsystem = "Gerica",
    .fagsystem_versjon = "7.4.1",
};

/* ---------------------------------------------------------------------- */
/* Reports                                                                */

static void add(struct report *r, const char *rule, const char *ref, unsigned long line,
		const char *path, const char *text, const char *value)
{
	ck_assert(report_add(r, rule, ref, line, path, text, value));
}

/* A file-level warning, a merged message (lines 12, 40, 77), a formula-like
 * value, a negative number as text, a text with a newline. */
static struct report *sample_report(void)
{
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	add(r, "F007", "", 1, "/Innsending", "forrigeId stemmer ikke med siste innsending", NULL);
	ck_assert(report_flush(r));
	ck_assert(report_set_unit(r, "Bydel Frogner"));
	for (unsigned long line = 12; line <= 77; line += (line == 12 ? 28 : 37))
		add(r, "R103", "J-0001", line, "/Innsending/Person/Fnr",
		    "Ugyldig kontrollsiffer i fødselsnummer", "010170*****");
	ck_assert(report_flush(r));
	ck_assert(report_set_unit(r, "")); /* the persons below have no unit */
	add(r, "R108", "J;\"2\"", 100, "/Innsending/Person/Kjonn",
	    "Kjønn må være 1 eller 2; fikk <3> & \"x\"\nandre linje", "=SUM(A1:A9)");
	ck_assert(report_flush(r));
	add(r, "R304", "+47 æøå", 120, "/Innsending/Person/Tjeneste", "Timer per uke er negativ",
	    "-5");
	add(r, "R204", "+47 æøå", 130, "/Innsending/Person/Vurdering/Funksjon",
	    "Skår 9 er brukt for Toalett", "@9");
	ck_assert(report_flush(r));
	ck_assert(report_set_unit(r, NULL));
	struct report_unit *frogner = report_unit(r, "Bydel Frogner"), *none = report_unit(r, "");
	ck_assert(frogner && none);
	frogner->persons = frogner->persons_excluded = 1;
	none->persons = 3;
	none->persons_loaded = 2;
	none->persons_excluded = 1;
	struct report_summary *s = report_summary(r);
	s->persons = 4;
	s->registrations = 120;
	s->persons_loaded = 2;
	s->persons_excluded = 2;
	s->registrations_loaded = 100;
	s->registrations_excluded = 20;
	return r;
}

/* Control characters, malformed UTF-8, a rule missing from the catalogue. */
static struct report *hostile_report(void)
{
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	add(r, "F002", "a\x01\x7f", 3, "/Innsending/\xff\xfe", "tekst ]]> \r slutt\t\xc3",
	    "\xed\xa0\x80 surrogat");
	add(r, "R108", "=HYPERLINK(\"x\")", 4, "/Innsending/Person",
	    "linje\u2028skille og \"sitat\" \\ <b>&amp;</b> 'x'", "\t-1");
	ck_assert(report_flush(r));
	add(r, "R304", "\r\nref", 5, NULL, "ukjent regel\x1b[0m _x0041_", NULL);
	ck_assert(report_flush(r));
	return r;
}

/* n messages of one line each, one person each. */
static struct report *many_report(unsigned long n)
{
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	for (unsigned long i = 0; i < n; i++) {
		char ref[32];
		snprintf(ref, sizeof ref, "J-%06lu", i + 1);
		add(r, "R108", ref, 10 + i * 7, "/Innsending/Person/Kjonn",
		    "Kjønn må være 1 eller 2", "3");
		ck_assert(report_flush(r));
	}
	report_summary(r)->persons = n;
	report_summary(r)->persons_excluded = n;
	return r;
}

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

/* ---------------------------------------------------------------------- */
/* A small zip reader (zlib's raw inflate; every CRC checked)             */

struct buf {
	char *data;
	size_t len;
};

struct part {
	char name[128];
	char *data; /* NUL-terminated */
	size_t len;
};

struct zip {
	struct part v[64];
	size_t n;
};

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

static void zip_read(const struct buf *b, struct zip *z)
{
	const unsigned char *d = (const unsigned char *)b->data;
	size_t eocd = 0;
	bool found = false;

	memset(z, 0, sizeof(*z));
	ck_assert_uint_ge(b->len, 22);
	ck_assert_msg(memcmp(d, "PK\x03\x04", 4) == 0, "not a zip: no local header first");
	for (size_t i = b->len - 22 + 1; i-- > 0 && b->len - i <= 22 + 65535;) {
		if (le32(d + i) == 0x06054b50) {
			eocd = i, found = true;
			break;
		}
	}
	ck_assert_msg(found, "not a zip: no end of central directory");
	size_t entries = le16(d + eocd + 10), cd = le32(d + eocd + 16);
	ck_assert_uint_le(entries, KPR_ARRAY_LEN(z->v));
	for (size_t e = 0, p = cd; e < entries; e++) {
		ck_assert_uint_le(p + 46, b->len);
		ck_assert_uint_eq(le32(d + p), 0x02014b50);
		unsigned method = le16(d + p + 10);
		uint32_t crc = le32(d + p + 16);
		size_t csize = le32(d + p + 20), usize = le32(d + p + 24);
		size_t nlen = le16(d + p + 28), xlen = le16(d + p + 30), clen = le16(d + p + 32);
		size_t local = le32(d + p + 42);
		struct part *pt = &z->v[z->n++];
		ck_assert_uint_lt(nlen, sizeof pt->name);
		memcpy(pt->name, d + p + 46, nlen);
		ck_assert_uint_le(local + 30, b->len);
		ck_assert_uint_eq(le32(d + local), 0x04034b50);
		size_t start = local + 30 + le16(d + local + 26) + le16(d + local + 28);
		ck_assert_uint_le(start + csize, b->len);
		pt->data = malloc(usize + 1);
		ck_assert_ptr_nonnull(pt->data);
		if (method == 0) {
			ck_assert_uint_eq(csize, usize);
			memcpy(pt->data, d + start, usize);
		} else {
			ck_assert_uint_eq(method, 8);
			z_stream s = {0};
			ck_assert_int_eq(inflateInit2(&s, -15), Z_OK);
			s.next_in = (Bytef *)(d + start);
			s.avail_in = (uInt)csize;
			s.next_out = (Bytef *)pt->data;
			s.avail_out = (uInt)usize;
			ck_assert_int_eq(inflate(&s, Z_FINISH), Z_STREAM_END);
			ck_assert_uint_eq(s.total_out, usize);
			inflateEnd(&s);
		}
		pt->data[usize] = '\0';
		pt->len = usize;
		ck_assert_msg(crc32(0, (const Bytef *)pt->data, (uInt)usize) == crc, "%s: CRC",
			      pt->name);
		p += 46 + nlen + xlen + clen;
	}
}

static void zip_free(struct zip *z)
{
	for (size_t i = 0; i < z->n; i++)
		free(z->v[i].data);
}

static const char *part(const struct zip *z, const char *name)
{
	for (size_t i = 0; i < z->n; i++) {
		if (strcmp(z->v[i].name, name) == 0)
			return z->v[i].data;
	}
	ck_abort_msg("part %s missing", name);
	return NULL;
}

static struct buf render(enum feedback_format f, const struct feedback_meta *m, struct report *r)
{
	struct buf b = {NULL, 0};
	FILE *mf = open_memstream(&b.data, &b.len);
	ck_assert_ptr_nonnull(mf);
	bool ok = feedback_write(mf, f, m, r);
	ck_assert_int_eq(fclose(mf), 0);
	ck_assert_msg(ok, "feedback_write(%s) failed", feedback_format_name(f));
	return b;
}

static void workbook(struct report *r, const struct feedback_meta *m, struct zip *z)
{
	struct buf b = render(FEEDBACK_XLSX, m, r);
	zip_read(&b, z);
	free(b.data);
}

/* ---------------------------------------------------------------------- */

START_TEST(test_format_name)
{
	enum feedback_format f;
	ck_assert(feedback_format_parse("xlsx", &f) && f == FEEDBACK_XLSX);
	ck_assert(feedback_format_parse("XLSX", &f) && f == FEEDBACK_XLSX);
	ck_assert_str_eq(feedback_format_name(FEEDBACK_XLSX), "xlsx");
	ck_assert_str_eq(feedback_extension(FEEDBACK_XLSX), "xlsx");
	ck_assert_str_eq(feedback_content_type(FEEDBACK_XLSX),
			 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
}
END_TEST

START_TEST(test_parts_and_sheets)
{
	struct report *r = sample_report();
	struct zip z;
	workbook(r, &meta, &z);
	static const char *const parts[] = {
	    "[Content_Types].xml",
	    "_rels/.rels",
	    "xl/workbook.xml",
	    "xl/_rels/workbook.xml.rels",
	    "xl/styles.xml",
	    "xl/worksheets/sheet1.xml",
	    "xl/worksheets/sheet2.xml",
	    "xl/worksheets/sheet3.xml",
	    "xl/worksheets/sheet4.xml",
	    "xl/worksheets/sheet5.xml",
	    "docProps/core.xml",
	};
	for (size_t i = 0; i < KPR_ARRAY_LEN(parts); i++)
		(void)part(&z, parts[i]);
	ck_assert_uint_eq(z.n, 13); /* and theme1.xml, app.xml; no sixth sheet */

	/* the sheets in order, by name */
	const char *wb = part(&z, "xl/workbook.xml");
	const char *s1 = strstr(wb, "name=\"Sammendrag\""), *s2 = strstr(wb, "name=\"Per regel\"");
	const char *s3 = strstr(wb, "name=\"Per enhet\""), *s4 = strstr(wb, "name=\"Mottatt\"");
	const char *s5 = strstr(wb, "name=\"Meldinger\"");
	ck_assert_msg(s1 && s2 && s3 && s4 && s5 && s1 < s2 && s2 < s3 && s3 < s4 && s4 < s5,
		      "sheets: %s", wb);

	/* every sheet: heading row frozen; the lists filtered over every row */
	for (int i = 1; i <= 5; i++) {
		char name[64];
		snprintf(name, sizeof name, "xl/worksheets/sheet%d.xml", i);
		const char *s = part(&z, name);
		ck_assert_msg(strstr(s, "ySplit=\"1\"") && strstr(s, "state=\"frozen\""),
			      "%s: not frozen", name);
		ck_assert_msg(strstr(s, "<cols>"), "%s: columns not sized", name);
		ck_assert_msg(strstr(s, "<f>") == NULL, "%s: a formula", name);
	}
	ck_assert_ptr_null(strstr(part(&z, "xl/worksheets/sheet1.xml"), "<autoFilter"));
	ck_assert_ptr_nonnull(
	    strstr(part(&z, "xl/worksheets/sheet2.xml"), "<autoFilter ref=\"A1:E"));
	ck_assert_ptr_nonnull(
	    strstr(part(&z, "xl/worksheets/sheet3.xml"), "<autoFilter ref=\"A1:F3\"/>"));

	/* what was received: its headings, and the whole file's persons first */
	const char *recv = part(&z, "xl/worksheets/sheet4.xml");
	ck_assert_ptr_nonnull(strstr(recv, "<t>Forrige årgang</t>"));
	ck_assert_ptr_nonnull(strstr(recv, "<t>Hele fila</t>"));
	ck_assert_ptr_nonnull(strstr(recv, "<t>Personer</t>"));
	ck_assert_ptr_nonnull(strstr(recv, "<autoFilter"));

	const char *msg = part(&z, "xl/worksheets/sheet5.xml");
	/* heading + 5 merged messages */
	ck_assert_ptr_nonnull(strstr(msg, "<autoFilter ref=\"A1:H6\"/>"));
	ck_assert_ptr_nonnull(strstr(msg, "<t>Regel</t>"));
	ck_assert_ptr_nonnull(strstr(msg, "<t>Alvorlighet</t>"));
	ck_assert_ptr_nonnull(strstr(msg, "<t>Enhet</t>"));
	/* a single line number is a number cell, merged ones the CSV's text */
	ck_assert_ptr_nonnull(strstr(msg, "<c r=\"D2\"><v>1</v></c>"));
	ck_assert_ptr_nonnull(strstr(msg, "<c r=\"D4\"><v>100</v></c>"));
	ck_assert_ptr_nonnull(strstr(msg, "<t>12, 40, 77</t>"));
	/* strings as strings: no apostrophe, no formula */
	ck_assert_ptr_nonnull(strstr(msg, "<t>=SUM(A1:A9)</t>"));
	ck_assert_ptr_nonnull(strstr(msg, "<t>-5</t>"));
	ck_assert_ptr_nonnull(strstr(msg, "<t>J;\"2\"</t>"));
	ck_assert_ptr_nonnull(strstr(msg, "fikk &lt;3&gt; &amp;"));
	ck_assert_ptr_nonnull(strstr(msg, "<t>Feil</t>"));
	ck_assert_ptr_nonnull(strstr(msg, "<t>Advarsel</t>"));

	/* per rule: counted occurrences, as numbers (R103: three lines) */
	const char *rules = part(&z, "xl/worksheets/sheet2.xml");
	ck_assert_ptr_nonnull(strstr(rules, "<t>R103</t>"));
	ck_assert_ptr_nonnull(strstr(rules, "<v>3</v>"));
	/* per unit: the named unit first, then the persons without one; the
	 * message sheet names each message's unit */
	const char *units = part(&z, "xl/worksheets/sheet3.xml");
	const char *fr = strstr(units, "<t>Bydel Frogner</t>"),
		   *no = strstr(units, "<t>(uten enhet)</t>");
	ck_assert(fr && no && fr < no);
	ck_assert_ptr_nonnull(strstr(units, "<v>3</v>"));
	ck_assert_ptr_nonnull(strstr(part(&z, "xl/worksheets/sheet5.xml"), "<t>Bydel Frogner</t>"));
	/* the summary: identifiers in full, the årgang as a number */
	const char *sum = part(&z, "xl/worksheets/sheet1.xml");
	ck_assert_ptr_nonnull(strstr(sum, meta.submission_id));
	ck_assert_ptr_nonnull(strstr(sum, meta.innsending_id));
	ck_assert_ptr_nonnull(strstr(sum, "<v>2025</v>"));
	ck_assert_ptr_nonnull(strstr(sum, "<v>123456</v>"));
	ck_assert_ptr_nonnull(strstr(sum, "<t>0301 Oslo</t>"));
	ck_assert_ptr_nonnull(strstr(sum, "<t>2026-01-05 09:13:07 +01:00</t>"));
	ck_assert_ptr_nonnull(strstr(sum, "<t>Godkjent med feil</t>"));
	ck_assert_ptr_nonnull(strstr(sum, "<t>Gerica versjon 7.4.1</t>"));
	zip_free(&z);
	report_free(r);
}
END_TEST

START_TEST(test_hostile_strings)
{
	struct report *r = hostile_report();
	struct zip z;
	workbook(r, &meta, &z);
	const char *msg = part(&z, "xl/worksheets/sheet5.xml");
	/* control characters and malformed bytes: U+FFFD, never raw */
	ck_assert_ptr_null(strchr(msg, '\x01'));
	ck_assert_ptr_null(strchr(msg, '\x1b'));
	ck_assert_ptr_null(strstr(msg, "\xff"));
	ck_assert_ptr_nonnull(strstr(msg, "a\xEF\xBF\xBD\xEF\xBF\xBD"));
	ck_assert_ptr_nonnull(strstr(msg, "<t>=HYPERLINK(\"x\")</t>"));
	ck_assert_ptr_null(strstr(msg, "<f>"));
	/* a CR in Excel's escape; a literal "_x0041_" escaped so it is not read as "A" */
	ck_assert_ptr_nonnull(strstr(msg, "<t>_x000D_\nref</t>"));
	ck_assert_ptr_nonnull(strstr(msg, " _x005F_x0041_</t>"));
	/* a rule missing from the catalogue still gets its row */
	ck_assert_ptr_nonnull(strstr(part(&z, "xl/worksheets/sheet2.xml"), "<t>R304</t>"));
	zip_free(&z);
	report_free(r);
}
END_TEST

START_TEST(test_no_national_id)
{
	char id[12], ref[64], text[200], value[64], fag[64];
	make_id(id, "150385");
	snprintf(ref, sizeof ref, "J-%s", id);
	snprintf(text, sizeof text, "ref %.6s %s; innsending 00000000-0000-4000-8000-000001234567",
		 id, id + 6);
	snprintf(value, sizeof value, "9%s9", id);
	snprintf(fag, sizeof fag, "Gerica %s", id);
	struct report *r = report_new(NULL);
	ck_assert_ptr_nonnull(r);
	add(r, "R106", ref, 5, "/Innsending/Person", text, value);
	ck_assert(report_flush(r));
	struct feedback_meta m = meta;
	m.fagsystem = fag;
	m.kommunenavn = id;

	struct zip z;
	workbook(r, &m, &z);
	/* the ID's last five digits nowhere, in no part */
	for (size_t i = 0; i < z.n; i++)
		ck_assert_msg(strstr(z.v[i].data, id + 6) == NULL, "ID digits in %s", z.v[i].name);
	const char *msg = part(&z, "xl/worksheets/sheet5.xml");
	ck_assert_ptr_nonnull(strstr(msg, "J-150385*****"));
	ck_assert_ptr_nonnull(strstr(msg, "ref 150385 *****"));
	ck_assert_ptr_nonnull(strstr(msg, "9150385*****9"));
	ck_assert_ptr_nonnull(strstr(msg, "00000000-0000-4000-8000-000001234567"));
	ck_assert_ptr_nonnull(strstr(part(&z, "xl/worksheets/sheet1.xml"), "Gerica 150385*****"));
	zip_free(&z);
	report_free(r);
}
END_TEST

START_TEST(test_messages_continue_on_next_sheet)
{
	/* 10 messages, 4 rows a sheet (heading + 3): Meldinger, (2), (3), (4) */
	struct report *r = many_report(10);
	struct zip z;
	feedback_xlsx_set_sheet_rows(4);
	struct buf b = render(FEEDBACK_XLSX, &meta, r);
	feedback_xlsx_set_sheet_rows(0);
	zip_read(&b, &z);
	free(b.data);
	const char *wb = part(&z, "xl/workbook.xml");
	const char *p = strstr(wb, "name=\"Meldinger\"");
	ck_assert_ptr_nonnull(p);
	for (int i = 2; i <= 4; i++) {
		char name[64];
		snprintf(name, sizeof name, "name=\"Meldinger (%d)\"", i);
		const char *q = strstr(wb, name);
		ck_assert_msg(q != NULL && q > p, "%s missing or out of order", name);
		p = q;
	}
	ck_assert_ptr_null(strstr(wb, "Meldinger (5)"));
	for (int i = 5; i <= 8; i++) {
		char name[64];
		snprintf(name, sizeof name, "xl/worksheets/sheet%d.xml", i);
		const char *s = part(&z, name);
		ck_assert_msg(strstr(s, "ySplit=\"1\""), "%s not frozen", name);
		ck_assert_ptr_nonnull(strstr(s, "<t>Regel</t>"));
		ck_assert_ptr_nonnull(strstr(s, i < 8 ? "<autoFilter ref=\"A1:H4\"/>"
						      : "<autoFilter ref=\"A1:H2\"/>"));
	}
	/* the messages in order across the sheets: J-000001 .. J-000010 */
	ck_assert_ptr_nonnull(strstr(part(&z, "xl/worksheets/sheet5.xml"), "J-000003"));
	ck_assert_ptr_nonnull(strstr(part(&z, "xl/worksheets/sheet6.xml"), "J-000004"));
	ck_assert_ptr_nonnull(strstr(part(&z, "xl/worksheets/sheet8.xml"), "J-000010"));
	ck_assert_ptr_null(strstr(part(&z, "xl/worksheets/sheet8.xml"), "J-000009"));
	zip_free(&z);

	/* exactly full: no empty sheet after it */
	struct report *r3 = many_report(3);
	feedback_xlsx_set_sheet_rows(4);
	b = render(FEEDBACK_XLSX, &meta, r3);
	feedback_xlsx_set_sheet_rows(0);
	zip_read(&b, &z);
	free(b.data);
	ck_assert_ptr_null(strstr(part(&z, "xl/workbook.xml"), "Meldinger (2)"));
	zip_free(&z);
	report_free(r3);
	report_free(r);
}
END_TEST

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

START_TEST(test_private_tmpdir_removed)
{
	char tmp[] = "/tmp/check-xlsx-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	const char *old = getenv("TMPDIR");
	char *saved = old ? strdup(old) : NULL;
	setenv("TMPDIR", tmp, 1);

	struct report *r = sample_report();
	struct buf b = render(FEEDBACK_XLSX, &meta, r);
	free(b.data);
	ck_assert_uint_eq(dir_entries(tmp), 0);

	FILE *full = fopen("/dev/full", "w");
	if (full != NULL) {
		errno = 0;
		ck_assert(!feedback_write(full, FEEDBACK_XLSX, &meta, r));
		ck_assert_int_ne(errno, 0);
		fclose(full);
		ck_assert_uint_eq(dir_entries(tmp), 0);
	}

	/* no usable temporary directory: an error, not a crash */
	setenv("TMPDIR", "/nonexistent/kpr", 1);
	FILE *out = tmpfile();
	ck_assert_ptr_nonnull(out);
	errno = 0;
	ck_assert(!feedback_write(out, FEEDBACK_XLSX, &meta, r));
	ck_assert_int_ne(errno, 0);
	fclose(out);

	if (saved)
		setenv("TMPDIR", saved, 1);
	else
		unsetenv("TMPDIR");
	free(saved);
	ck_assert_int_eq(rmdir(tmp), 0);
	report_free(r);
}
END_TEST

/* KPR_XLSX_DUMP=DIR: the workbook and the CSV of each report, for
 * tests/xlsx/compare.py (tests/integration/test_xlsx.sh). */
START_TEST(test_dump)
{
	const char *dir = getenv("KPR_XLSX_DUMP");
	if (dir == NULL)
		return;
	static const char *const names[] = {"sample", "hostile", "split"};
	for (size_t i = 0; i < KPR_ARRAY_LEN(names); i++) {
		struct report *r = i == 0   ? sample_report()
				   : i == 1 ? hostile_report()
					    : many_report(25);
		if (i == 2)
			feedback_xlsx_set_sheet_rows(10);
		for (int f = 0; f < 2; f++) {
			enum feedback_format fmt = f ? FEEDBACK_XLSX : FEEDBACK_CSV;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s.%s", dir, names[i],
				 feedback_extension(fmt));
			FILE *out = fopen(path, "wb");
			ck_assert_msg(out != NULL, "cannot write %s", path);
			ck_assert(feedback_write(out, fmt, &meta, r));
			ck_assert_int_eq(fclose(out), 0);
		}
		feedback_xlsx_set_sheet_rows(0);
		report_free(r);
	}
}
END_TEST

static Suite *xlsx_suite(void)
{
	Suite *s = suite_create("xlsx");
	TCase *tc = tcase_create("workbook");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_format_name);
	tcase_add_test(tc, test_parts_and_sheets);
	tcase_add_test(tc, test_hostile_strings);
	tcase_add_test(tc, test_no_national_id);
	tcase_add_test(tc, test_messages_continue_on_next_sheet);
	tcase_add_test(tc, test_private_tmpdir_removed);
	tcase_add_test(tc, test_dump);
	suite_add_tcase(s, tc);
	return s;
}

KPR_CHECK_MAIN(xlsx_suite)
