/*
 * validate_input.c — reading a submission: plain or gzip through zlib in
 * CHUNK_SIZE chunks into libxml2's push parser; the byte-order mark and the
 * declared encoding (UTF-8 or ISO-8859-1) checked before parsing; the
 * decompressed size counted as it is produced (F006), so a gzip bomb stops
 * at the limit; the deadline; the peek limit.
 *
 * No DTD loading, no network; predefined entities and character references
 * are replaced (XML_PARSE_NOENT) and no other entity can exist.
 * Must not: keep a chunk after the run (it holds IDs in clear: wiped).
 */
#include "validate_state.h"

#include <libxml/parserInternals.h>
#include <libxml/xmlschemastypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "validate_lex.h"

static bool ascii_ieq(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

/* Checks the byte-order mark and the declared encoding in the first bytes.
 * Returns NULL when fine, else the F001 text. */
static const char *check_encoding(const unsigned char *b, size_t n, char *enc, size_t enclen)
{
	enc[0] = '\0';
	size_t i = 0;
	bool bom = false;
	if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
		i = 3;
		bom = true;
	} else if (n >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE))) {
		snprintf(enc, enclen, "UTF-16");
		return "Filen er kodet i UTF-16; bruk UTF-8 eller ISO-8859-1";
	} else if (n >= 2 && (b[0] == 0 || b[1] == 0)) {
		snprintf(enc, enclen, "UTF-16/UTF-32");
		return "Filen er kodet i UTF-16 eller UTF-32; bruk UTF-8 eller ISO-8859-1";
	}
	if (n - i < 5 || memcmp(b + i, "<?xml", 5) != 0)
		return NULL; /* no declaration: UTF-8 */
	const char *p = (const char *)b + i;
	const char *end = (const char *)b + n;
	const char *q = memchr(p, '>', (size_t)(end - p));
	if (!q)
		return NULL; /* let the parser complain */
	const char *e = p;
	while (e + 8 < q) {
		if (memcmp(e, "encoding", 8) == 0)
			break;
		e++;
	}
	if (e + 8 >= q)
		return NULL; /* no encoding declared: UTF-8 */
	e += 8;
	while (e < q && lex_is_ws((unsigned char)*e))
		e++;
	if (e >= q || *e != '=')
		return NULL;
	e++;
	while (e < q && lex_is_ws((unsigned char)*e))
		e++;
	if (e >= q || (*e != '"' && *e != '\''))
		return NULL;
	char quote = *e++;
	const char *v = e;
	while (e < q && *e != quote)
		e++;
	size_t vl = (size_t)(e - v);
	snprintf(enc, enclen, "%.*s", (int)(vl < 40 ? vl : 40), v);
	if (ascii_ieq(v, vl, "UTF-8") || ascii_ieq(v, vl, "UTF8"))
		return NULL;
	if (!bom && (ascii_ieq(v, vl, "ISO-8859-1") || ascii_ieq(v, vl, "ISO_8859-1") ||
		     ascii_ieq(v, vl, "ISO8859-1") || ascii_ieq(v, vl, "LATIN1") ||
		     ascii_ieq(v, vl, "LATIN-1")))
		return NULL;
	if (bom)
		return "Filen har UTF-8-merke (BOM), men deklarerer en annen tegnkoding";
	return "Tegnkodingen i XML-deklarasjonen er ikke tillatt; bruk UTF-8 eller ISO-8859-1";
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libxml(void)
{
	xmlInitParser();
	xmlSchemaInitTypes();
}

static bool past_deadline(const struct vstate *s)
{
	if (!s->p || s->p->deadline <= 0)
		return false;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 > s->p->deadline;
}

/* The next chunk of decompressed bytes: > 0, 0 at the end, -1 when the
 * gzip stream is corrupt (F001) or the file unreadable (*ok false). */
static int read_chunk(struct vstate *s, gzFile gz, char *buf, bool first, bool *ok)
{
	int n = gzread(gz, buf, CHUNK_SIZE);
	if (n >= 0)
		return n;
	int errnum = 0;
	const char *zm = gzerror(gz, &errnum);
	if (errnum == Z_ERRNO)
		*ok = false; /* unreadable file: internal */
	else
		val_msg(s, RULE_F001, first ? 1 : val_cur_line(s), "/", zm,
			"Filen er skadet og kan ikke pakkes ut (gzip)");
	return -1;
}

/* An empty file or a wrong encoding is F001 before any parsing. */
static bool first_chunk_ok(struct vstate *s, const char *buf, int n)
{
	if (n == 0) {
		val_msg(s, RULE_F001, 1, "/", NULL, "Filen er tom");
		return false;
	}
	char enc[48];
	const char *enc_err =
	    check_encoding((const unsigned char *)buf, (size_t)n, enc, sizeof enc);
	if (enc_err) {
		val_msg(s, RULE_F001, 1, "/", enc, "%s", enc_err);
		return false;
	}
	return true;
}

/* The peek window, the deadline and the size limit, checked before each
 * chunk. True when the parse must stop (*ok false on a timeout). */
static bool limit_reached(struct vstate *s, bool *ok)
{
	unsigned long long max = s->p ? s->p->max_bytes : 0;
	if (s->peek && s->input.bytes > VALIDATE_PEEK_MAX_BYTES) {
		/* the header is not near the start: the worker's full pass,
		 * bounded by max_bytes, judges the file */
		snprintf(s->peek_err, sizeof s->peek_err,
			 "Innsending og Avsender står ikke i filens første %d byte",
			 VALIDATE_PEEK_MAX_BYTES);
	} else if (past_deadline(s)) {
		s->input.timed_out = true;
		*ok = false;
	} else if (max && s->input.bytes > max) {
		char v[32];
		snprintf(v, sizeof v, "%llu", max);
		val_msg(
		    s, RULE_F006, val_cur_line(s), "/", v,
		    "Filen er større enn grensen på %llu byte (utpakket); del den ikke opp, men kontakt registeret",
		    max);
	} else {
		return false;
	}
	val_stop(s);
	return true;
}

/* Feeds the parser chunk by chunk, the first one's rest (chunk, clen)
 * first. False on an internal failure. */
static bool parse_loop(struct vstate *s, gzFile gz, char *buf, const char *chunk, int clen)
{
	bool ok = true;
	for (;;) {
		if (limit_reached(s, &ok))
			break;
		if (clen > 0 && xmlParseChunk(s->parser.ctxt, chunk, clen, 0) != 0 && !s->stopped) {
			/* the error callback has reported it */
			val_stop(s);
		}
		if (s->stopped)
			break;
		int n = read_chunk(s, gz, buf, false, &ok);
		if (n < 0) {
			val_stop(s);
			break;
		}
		if (n == 0) {
			xmlParseChunk(s->parser.ctxt, NULL, 0, 1);
			break;
		}
		s->input.bytes += (unsigned long long)n;
		chunk = buf;
		clen = n;
	}
	return ok;
}

/* Parses the first chunk (buf, n) and the rest of gz. False on an
 * internal failure. */
static bool parse(struct vstate *s, gzFile gz, char *buf, int n, const char *path)
{
	xmlSAXHandler sax;
	val_sax_init(&sax);
	int first = n < 4 ? n : 4;
	s->parser.ctxt = xmlCreatePushParserCtxt(&sax, s, buf, first, path);
	if (!s->parser.ctxt)
		return false;
	/* NOENT: predefined entities and character references are replaced in
	 * attribute values, so a ref written "R&amp;D" is "R&D" as written, not
	 * libxml2's re-escaped "R&#38;D". No other entity can exist: a DOCTYPE
	 * stops the parser before any declaration is read. */
	xmlCtxtUseOptions(s->parser.ctxt, XML_PARSE_NONET | XML_PARSE_NOENT);
	val_intern_names(s);
	bool ok = parse_loop(s, gz, buf, buf + first, n - first);
	if (!s->stopped && !s->parser.ctxt->wellFormed && !s->fatal)
		val_msg(s, RULE_F001, val_cur_line(s), "/", NULL, "Filen er ikke velformet XML");
	if (!s->stopped && !s->header.seen_root && !s->fatal)
		val_msg(s, RULE_F001, val_cur_line(s), "/", NULL,
			"Filen inneholder ikke noe XML-element");
	xmlFreeParserCtxt(s->parser.ctxt);
	s->parser.ctxt = NULL;
	return ok;
}

/* The engine: parses path, returns false only on an internal failure. */
bool val_run(struct vstate *s, const char *path)
{
	pthread_once(&init_once, init_libxml);
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return false;
	gzbuffer(gz, 128 * 1024);
	char *buf = malloc(CHUNK_SIZE);
	if (!buf) {
		gzclose(gz);
		return false;
	}
	bool ok = true;
	int n = read_chunk(s, gz, buf, true, &ok);
	if (n >= 0) {
		s->input.bytes = (unsigned long long)n;
		if (first_chunk_ok(s, buf, n))
			ok = parse(s, gz, buf, n, path);
	}
	explicit_bzero(buf, CHUNK_SIZE); /* a chunk of the file: national IDs in clear */
	free(buf);
	gzclose(gz);
	return ok;
}
