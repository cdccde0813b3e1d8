/*
 * kpr-gen — deterministic generator of realistic synthetic KPR submissions
 * (SPEC §8): one file per municipality, sized by population, optional fault
 * injection at given rates, and a manifest (JSON) that says what each file
 * holds and which refs were made faulty. Owns the command line, the
 * municipality and population lists, the worker threads and the manifest;
 * gen.c makes the files. Never prints a national ID: stdout and the
 * manifest carry counts and refs only.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "gen.h"
#include "kpr.h"

#define DEFAULT_PERSONS 360000.0
#define DEFAULT_AARGANG 2025

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: kpr-gen [options]\n"
	    "Writes synthetic KPR submissions (SPEC §2), one file per municipality:\n"
	    "DIR/<kommunenummer>-<aargang>.xml (or .xml.gz), and a JSON manifest.\n"
	    "\n"
	    "  --seed N            random seed (default 1); same seed, same bytes\n"
	    "  --aargang Y         reporting year 2007..2040 (default %d); opprettet is 2-9 Jan\n"
	    "                      of Y+1; the 2024 municipality list fits 2024 on\n"
	    "  --kommune NNNN[,..] only these municipalities\n"
	    "  --all               every municipality in the list (the default)\n"
	    "  --scale F           national volume factor (default 1 = %.0f persons,\n"
	    "                      > 10 million registrations); files keep their shares\n"
	    "  --persons N         exactly N persons in every file written (overrides sizing)\n"
	    "  --out DIR           output directory (default kpr-gen-out; created)\n"
	    "  --gzip              write .xml.gz\n"
	    "  --inject R=RATE,..  inject faults; RATE is the probability per applicable\n"
	    "                      record (see below); 1 forces a file rule\n"
	    "  --refs STYLE        Person/@ref: system (default; each care-records system's\n"
	    "                      counter, J-000123, P00001234, CD-0001234) or journal\n"
	    "                      (journal numbers: 1101-0000001 or 2024/123456-01, one shape\n"
	    "                      per municipality); the persons are the same either way\n"
	    "  --units N           Person/@enhet: each person in one of N units (N <= 60;\n"
	    "                      bydel, hjemmetjeneste sone, tildelingskontor ...), and one\n"
	    "                      service in five at a service site of its own\n"
	    "                      (Tjeneste/@enhet); by the person's ref, so the rest of\n"
	    "                      the file is as without --units; the names in the file's\n"
	    "                      encoding (Latin-1 in CosDoc's ISO-8859-1 files)\n"
	    "  --units auto        each municipality's own units, by its population: Oslo\n"
	    "                      its 15 bydeler (persons by bydel size) and 4 Sykehjemsetaten\n"
	    "                      institutions; >= 100,000 Hjemmetjenesten sone nord/sør/øst/\n"
	    "                      vest, <Name> helsehus and Sykehjemmet sentrum; 50,000-99,999\n"
	    "                      sone nord/sør, Tildelingskontoret and <Name> helsehus;\n"
	    "                      10,000-49,999 sone nord/sør; smaller ones no enhet at all.\n"
	    "                      Sites only on institution services (half of them); by the\n"
	    "                      ref as --units N, so the rest of the file is the same\n"
	    "  --resubmit F        a fraction F (0..1) of the municipalities also get a second,\n"
	    "                      later file DIR/<kommunenummer>-<aargang>-2.xml: the same\n"
	    "                      persons with faults drawn anew, its own id, opprettet 6\n"
	    "                      days later, @forrigeId the first file's id\n"
	    "  --manifest FILE     manifest path (default DIR/manifest.json)\n"
	    "  --kommuner FILE     municipality list, kommunenummer;kommunenavn;... with a\n"
	    "                      header (default config/kommuner-2024.csv)\n"
	    "  --population FILE   kommunenummer;kommunenavn;folketall (default\n"
	    "                      config/population-2024.csv)\n"
	    "  --codelists FILE    code lists (default config/codelists.csv when present):\n"
	    "                      only service types valid in the aargang are generated\n"
	    "  --threads N         worker threads (default 2); output does not depend on it\n"
	    "  -v, --verbose       one stdout line per file\n"
	    "  -h, --help\n"
	    "\n"
	    "National IDs are synthetic test numbers (month + 80) with valid control\n"
	    "digits, unique within a file; the validator must run in test mode.\n"
	    "A registration is any element inside a Person, each Funksjon counted on\n"
	    "its own (so a Vurdering is 18).\n"
	    "\n"
	    "Injectable rules (RATE applies to each person / Vurdering / Tjeneste /\n"
	    "Diagnose where the fault can be made; file rules are drawn once per file):\n",
	    DEFAULT_AARGANG, DEFAULT_PERSONS);
	static const char *scope[] = {"file",      "person",   "person",
				      "vurdering", "tjeneste", "diagnose"};
	for (int i = 0; i < INJ_COUNT; i++)
		fprintf(f, "  %s  %-9s %s\n", inj_defs[i].id, scope[inj_defs[i].scope],
			inj_defs[i].what);
	fprintf(f, "A person carries at most one injected fault, so each ref names one cause.\n"
		   "R105 repeats the ID of the previous clean person: the validator reports\n"
		   "both refs, the manifest the later one. R106 repeats the previous ref.\n"
		   "R110 gives the person, or one of its services, a unit the validator\n"
		   "refuses (a WARNING: loaded, the unit recorded as unknown): blank, 65-100\n"
		   "characters, a tab or line feed, or the person's own ID (11 digits, or\n"
		   "6 + 5 joined by ' ', '-' or '.'; a national-ID candidate in test mode);\n"
		   "with or without --units.\n"
		   "\n"
		   "Manifest (JSON, one file object per line): generator, version, seed,\n"
		   "aargang, scale, gzip, refs, units (N, or \"auto\"), resubmit, inject (the\n"
		   "rates), totals {files, persons, registrations, bytes, persons_error,\n"
		   "persons_warning, injected {rule: count}}, and files [{file, kommune,\n"
		   "kommunenavn, avsender, innsending (1, or 2 for a second file), id,\n"
		   "forrigeId, persons, registrations, bytes, sha256, units (distinct enhet\n"
		   "names written, R110's aside), expect, injected {rule: {count, refs: [...]}\n"
		   "or {count, note}}}]. For F001 the persons/registrations count the complete\n"
		   "Persons written before the cut. expect is what the server should make of\n"
		   "the file on its own (SPEC §3): status (rejected on a FATAL, else\n"
		   "accepted_with_errors on an ERROR, else accepted; a second file makes the\n"
		   "first superseded), persons_loaded, registrations_loaded, persons_error\n"
		   "(persons excluded whole or in part, both of a duplicate) and\n"
		   "persons_warning (persons with a WARNING only).\n");
}

/* ---- small CSV helpers ---- */

static char *trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	while (*s == ' ')
		s++;
	return s;
}

/* Splits line on ';' into at most max fields; returns the count. */
static int split(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;
	while (n < max) {
		fields[n++] = p;
		char *sc = strchr(p, ';');
		if (!sc)
			break;
		*sc = '\0';
		p = sc + 1;
	}
	return n;
}

static int col_index(char **h, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(trim(h[i]), name) == 0)
			return i;
	return -1;
}

static bool load_kommuner(const char *path, struct kommune **out, size_t *n_out)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "kpr-gen: %s: %s\n", path, strerror(errno));
		return false;
	}
	char line[1024];
	size_t n = 0, cap = 400;
	struct kommune *k = calloc(cap, sizeof(*k));
	bool header = true;
	unsigned long lineno = 0;
	while (k && fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = line;
		if (lineno == 1 && (unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb &&
		    (unsigned char)s[2] == 0xbf)
			s += 3;
		s = trim(s);
		if (!*s || *s == '#')
			continue;
		if (header) {
			header = false;
			if (strncmp(s, "kommunenummer", 13) == 0)
				continue;
		}
		char *fld[8];
		int nf = split(s, fld, 8);
		const char *nr = trim(fld[0]);
		if (strlen(nr) != 4 || strspn(nr, "0123456789") != 4) {
			fprintf(stderr, "kpr-gen: %s:%lu: not a kommunenummer: '%.8s'\n", path,
				lineno, nr);
			free(k);
			fclose(f);
			return false;
		}
		if (n == cap) {
			cap *= 2;
			struct kommune *nk = realloc(k, cap * sizeof(*k));
			if (!nk) {
				free(k);
				k = NULL;
				break;
			}
			k = nk;
		}
		memset(&k[n], 0, sizeof(k[n]));
		snprintf(k[n].nummer, sizeof(k[n].nummer), "%s", nr);
		snprintf(k[n].navn, sizeof(k[n].navn), "%s", nf > 1 ? trim(fld[1]) : "");
		n++;
	}
	fclose(f);
	if (!k) {
		fprintf(stderr, "kpr-gen: out of memory\n");
		return false;
	}
	if (n == 0) {
		fprintf(stderr, "kpr-gen: %s: no municipalities\n", path);
		free(k);
		return false;
	}
	*out = k;
	*n_out = n;
	return true;
}

static bool load_population(const char *path, struct kommune *k, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "kpr-gen: %s: %s\n", path, strerror(errno));
		return false;
	}
	char line[1024];
	int col_nr = 0, col_pop = -1;
	bool header = true;
	unsigned long lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *fld[8];
		int nf = split(s, fld, 8);
		if (header) {
			header = false;
			col_nr = col_index(fld, nf, "kommunenummer");
			col_pop = col_index(fld, nf, "folketall");
			if (col_nr < 0 || col_pop < 0) {
				fprintf(
				    stderr,
				    "kpr-gen: %s:%lu: header needs kommunenummer and folketall\n",
				    path, lineno);
				fclose(f);
				return false;
			}
			continue;
		}
		if (col_nr >= nf || col_pop >= nf)
			continue;
		const char *nr = trim(fld[col_nr]);
		for (size_t i = 0; i < n; i++)
			if (strcmp(k[i].nummer, nr) == 0)
				k[i].population = strtol(fld[col_pop], NULL, 10);
	}
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (k[i].population <= 0) {
			fprintf(stderr, "kpr-gen: %s: no population for %s; assuming 5000\n", path,
				k[i].nummer);
			k[i].population = 5000;
		}
	return true;
}

static int iso_to_int(const char *s)
{
	int y, m, d;
	if (sscanf(s, "%d-%d-%d", &y, &m, &d) != 3)
		return -1;
	return y * 10000 + m * 100 + d;
}

/* Service types valid in the årgang, from config/codelists.csv when it has a
 * tjenestetype list; else the SPEC §2 list. */
static bool load_types(struct gen_config *cfg, const char *path, bool required)
{
	static const int spec_types[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  11, 14, 15, 17,
					 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29};
	static const int spec_inst[] = {8, 17, 18, 19, 20, 21, 22, 25};
	memset(cfg->type_valid, 0, sizeof(cfg->type_valid));
	memset(cfg->type_institution, 0, sizeof(cfg->type_institution));

	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f && required) {
		fprintf(stderr, "kpr-gen: %s: %s\n", path, strerror(errno));
		return false;
	}
	int found = 0;
	if (f) {
		char line[2048];
		int c_list = -1, c_code = -1, c_from = -1, c_to = -1, c_inst = -1;
		bool header = true;
		int y0 = cfg->aargang * 10000 + 101, y1 = cfg->aargang * 10000 + 1231;
		while (fgets(line, sizeof(line), f)) {
			char *s = line;
			if ((unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb)
				s += 3;
			s = trim(s);
			if (!*s || *s == '#')
				continue;
			char *fld[12];
			int nf = split(s, fld, 12);
			if (header) {
				header = false;
				c_list = col_index(fld, nf, "liste");
				c_code = col_index(fld, nf, "kode");
				c_from = col_index(fld, nf, "gyldig_fra");
				c_to = col_index(fld, nf, "gyldig_til");
				c_inst = col_index(fld, nf, "institusjon");
				if (c_list < 0 || c_code < 0)
					break;
				continue;
			}
			if (c_list >= nf || c_code >= nf ||
			    strcmp(trim(fld[c_list]), "tjenestetype") != 0)
				continue;
			int code = atoi(fld[c_code]);
			if (code <= 0 || code >= GEN_MAX_TYPE)
				continue;
			int from = c_from >= 0 && c_from < nf ? iso_to_int(trim(fld[c_from])) : -1;
			int to = c_to >= 0 && c_to < nf ? iso_to_int(trim(fld[c_to])) : -1;
			if (from < 0)
				from = 0;
			if (to < 0)
				to = 99991231;
			found++;
			if (from <= y1 && to >= y0) {
				cfg->type_valid[code] = true;
				const char *in =
				    c_inst >= 0 && c_inst < nf ? trim(fld[c_inst]) : "";
				cfg->type_institution[code] =
				    strcmp(in, "1") == 0 || strcmp(in, "true") == 0 ||
				    strcmp(in, "ja") == 0 || strcmp(in, "j") == 0 ||
				    strcmp(in, "x") == 0 || strcmp(in, "yes") == 0;
			}
		}
		fclose(f);
	}
	if (!found) {
		for (size_t i = 0; i < KPR_GEN_LEN(spec_types); i++)
			cfg->type_valid[spec_types[i]] = true;
		for (size_t i = 0; i < KPR_GEN_LEN(spec_inst); i++)
			cfg->type_institution[spec_inst[i]] = true;
	}
	return true;
}

static bool parse_inject(struct gen_config *cfg, const char *spec)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			fprintf(stderr, "kpr-gen: --inject: '%s' is not RULE=RATE\n", tok);
			return false;
		}
		*eq = '\0';
		char *end;
		double rate = strtod(eq + 1, &end);
		if (*end || rate < 0 || rate > 1) {
			fprintf(stderr, "kpr-gen: --inject: %s: rate must be 0..1\n", tok);
			return false;
		}
		int i;
		for (i = 0; i < INJ_COUNT; i++)
			if (strcasecmp(inj_defs[i].id, trim(tok)) == 0)
				break;
		if (i == INJ_COUNT) {
			fprintf(stderr, "kpr-gen: --inject: no injectable rule '%s' (see --help)\n",
				tok);
			return false;
		}
		cfg->rate[i] = rate;
		if (rate > 0)
			cfg->any_inject = true;
	}
	return true;
}

static bool mkdir_p(const char *dir)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) != 0 && errno != EEXIST)
				return false;
			*s = '/';
		}
	return mkdir(p, 0755) == 0 || errno == EEXIST;
}

/* ---- sizing ---- */

/* KPR users per inhabitant: lower in the big cities (younger), higher in
 * small rural municipalities (older), so Oslo ends near 10% of the volume. */
static double user_weight(long pop)
{
	double f = pop >= 200000  ? 0.75
		   : pop >= 50000 ? 0.92
		   : pop >= 10000 ? 1.0
		   : pop >= 3000  ? 1.12
		   : pop >= 1000  ? 1.3
				  : 1.6;
	return (double)pop * f;
}

static void size_all(struct kommune *k, size_t n, double total)
{
	double w = 0;
	for (size_t i = 0; i < n; i++)
		w += user_weight(k[i].population);
	/* identity cells from the shares (so the same at any --scale): at
	 * least one each, the scale s trimmed until all fit in the 1000 */
	int s = 1000, sum;
	do {
		sum = 0;
		for (size_t i = 0; i < n; i++) {
			int c = (int)((double)s * user_weight(k[i].population) / w);
			sum += c < 1 ? 1 : c;
		}
	} while (sum > 1000 && --s > 1);
	int lo = 0;
	for (size_t i = 0; i < n; i++) {
		double share = user_weight(k[i].population) / w;
		double p = total * share;
		k[i].persons = p < 1 ? 1 : (unsigned long)(p + 0.5);
		int c = (int)((double)s * share);
		k[i].cell_lo = lo % 1000;
		k[i].cell_count = c < 1 ? 1 : c;
		lo += k[i].cell_count;
	}
}

/* ---- second files ---- */

static uint64_t resubmit_key(uint64_t seed, const char *nummer)
{
	uint64_t x = seed ^ gen_hash_str(nummer) ^ 0x6a09e667f3bcc909ULL;
	return splitmix64(&x);
}

static uint64_t key_seed;
static int by_key(const void *a, const void *b)
{
	uint64_t ka = resubmit_key(key_seed, ((const struct kommune *)a)->nummer);
	uint64_t kb = resubmit_key(key_seed, ((const struct kommune *)b)->nummer);
	return ka < kb ? -1 : ka > kb;
}

/* Appends, after the n first files in sel, the municipalities that send a
 * second file: round(n * fraction) of them, those with the lowest key
 * derived from the seed and the kommunenummer, in that key order. Returns
 * how many. */
static size_t pick_second(struct kommune *sel, size_t n, uint64_t seed, double fraction)
{
	size_t m = (size_t)((double)n * fraction + 0.5);
	if (m == 0)
		return 0;
	memcpy(sel + n, sel, n * sizeof(*sel));
	key_seed = seed;
	qsort(sel + n, n, sizeof(*sel), by_key);
	return m;
}

/* ---- threads ---- */

struct job {
	const struct gen_config *cfg;
	const struct kommune *all;
	size_t n_all;
	const size_t *order; /* indexes into sel, biggest first */
	const struct kommune *sel;
	struct file_result *res;
	size_t n_sel;
	atomic_size_t next;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		if (i >= j->n_sel)
			return NULL;
		size_t s = j->order[i];
		gen_kommune(j->cfg, &j->sel[s], j->all, j->n_all, &j->res[s]);
	}
}

static const struct kommune *sort_base;
static int by_persons_desc(const void *a, const void *b)
{
	unsigned long pa = sort_base[*(const size_t *)a].persons;
	unsigned long pb = sort_base[*(const size_t *)b].persons;
	if (pa != pb)
		return pa > pb ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* ---- manifest ---- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static const char *expect_status(const struct file_result *x)
{
	return x->has_fatal ? "rejected" : x->has_error ? "accepted_with_errors" : "accepted";
}

static bool write_manifest(const char *path, const struct gen_config *cfg, double scale,
			   double resubmit, const struct kommune *sel,
			   const struct file_result *res, size_t n)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%.4000s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "kpr-gen: %s: %s\n", tmp, strerror(errno));
		return false;
	}
	unsigned long long persons = 0, regs = 0, bytes = 0, p_err = 0, p_warn = 0;
	unsigned long tot[INJ_COUNT] = {0};
	for (size_t i = 0; i < n; i++) {
		p_err += res[i].persons_error;
		p_warn += res[i].persons_warning;
		persons += res[i].persons;
		regs += res[i].registrations;
		bytes += res[i].bytes;
		for (int r = 0; r < INJ_COUNT; r++)
			tot[r] += res[i].inj.count[r];
	}
	fprintf(
	    f,
	    "{\"generator\": \"kpr-gen\", \"version\": \"%s\", \"seed\": %llu, \"aargang\": %d, "
	    "\"scale\": %g, \"gzip\": %s, \"refs\": \"%s\", \"units\": ",
	    KPR_VERSION, (unsigned long long)cfg->seed, cfg->aargang, scale,
	    cfg->gzip ? "true" : "false", cfg->refs == REFS_JOURNAL ? "journal" : "system");
	/* N, as --units N, or "auto" */
	if (cfg->units_auto)
		fprintf(f, "\"auto\"");
	else
		fprintf(f, "%d", cfg->units);
	fprintf(f, ", \"resubmit\": %g,\n", resubmit);
	fprintf(
	    f,
	    " \"registrations_counted\": \"every element inside a Person, each Funksjon on its own\",\n");
	fprintf(f, " \"inject\": {");
	bool first = true;
	for (int r = 0; r < INJ_COUNT; r++)
		if (cfg->rate[r] > 0) {
			fprintf(f, "%s\"%s\": %g", first ? "" : ", ", inj_defs[r].id, cfg->rate[r]);
			first = false;
		}
	fprintf(f,
		"},\n \"totals\": {\"files\": %zu, \"persons\": %llu, \"registrations\": %llu, "
		"\"bytes\": %llu, \"persons_error\": %llu, \"persons_warning\": %llu, "
		"\"injected\": {",
		n, persons, regs, bytes, p_err, p_warn);
	first = true;
	for (int r = 0; r < INJ_COUNT; r++)
		if (tot[r]) {
			fprintf(f, "%s\"%s\": %lu", first ? "" : ", ", inj_defs[r].id, tot[r]);
			first = false;
		}
	fprintf(f, "}},\n \"files\": [\n");
	for (size_t i = 0; i < n; i++) {
		const struct file_result *x = &res[i];
		fprintf(f, "  {\"file\": ");
		json_str(f, x->file);
		fprintf(f, ", \"kommune\": \"%s\", \"kommunenavn\": ", sel[i].nummer);
		json_str(f, sel[i].navn);
		fprintf(f,
			", \"avsender\": \"%s\", \"innsending\": %d, \"id\": \"%s\", "
			"\"forrigeId\": \"%s\", \"persons\": %lu, \"registrations\": %llu, "
			"\"bytes\": %llu, \"sha256\": \"%s\", \"units\": %d, "
			"\"expect\": {\"status\": \"%s\", "
			"\"persons_loaded\": %lu, \"registrations_loaded\": %llu, "
			"\"persons_error\": %lu, \"persons_warning\": %lu}, \"injected\": {",
			x->avsender, x->innsending, x->id, x->forrige, x->persons, x->registrations,
			x->bytes, x->sha256, x->units, expect_status(x), x->persons_loaded,
			x->registrations_loaded, x->persons_error, x->persons_warning);
		first = true;
		for (int r = 0; r < INJ_COUNT; r++) {
			if (!x->inj.count[r])
				continue;
			fprintf(f, "%s\"%s\": {\"count\": %lu", first ? "" : ", ", inj_defs[r].id,
				x->inj.count[r]);
			first = false;
			if (inj_defs[r].scope == SCOPE_FILE) {
				fprintf(f, ", \"note\": ");
				json_str(f, x->inj.note[r]);
			} else {
				fprintf(f, ", \"refs\": [");
				const char *s = x->inj.refs[r] ? x->inj.refs[r] : "";
				bool fr = true;
				while (*s) {
					const char *c = strchr(s, ',');
					size_t len = c ? (size_t)(c - s) : strlen(s);
					char ref[64];
					snprintf(ref, sizeof(ref), "%.*s", (int)len, s);
					fputs(fr ? "" : ", ", f);
					json_str(f, ref);
					fr = false;
					s += len + (c ? 1 : 0);
				}
				fputc(']', f);
			}
			fputc('}', f);
		}
		fprintf(f, "}}%s\n", i + 1 < n ? "," : "");
	}
	fprintf(f, " ]}\n");
	if (fflush(f) != 0 || ferror(f)) {
		fprintf(stderr, "kpr-gen: %s: %s\n", tmp, strerror(errno));
		fclose(f);
		return false;
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		fprintf(stderr, "kpr-gen: rename %s: %s\n", path, strerror(errno));
		return false;
	}
	return true;
}

/* ---- main ---- */

/* A default config path that is not there relative to the working
 * directory is looked up next to the binary (build/kpr-gen -> config/). */
static const char *default_path(const char *rel, char *buf, size_t len)
{
	return files_find_data(NULL, rel, buf, len);
}

static bool parse_ulong(const char *s, unsigned long long *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return s[0] && !*end && !errno && s[0] != '-';
}

int main(int argc, char **argv)
{
	struct gen_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.seed = 1;
	cfg.aargang = DEFAULT_AARGANG;
	cfg.out_dir = "kpr-gen-out";
	double scale = 1.0;
	unsigned long long persons_each = 0;
	const char *kommune_arg = NULL, *manifest = NULL;
	const char *kommuner_path = "config/kommuner-2024.csv";
	const char *pop_path = "config/population-2024.csv";
	const char *codes_path = "config/codelists.csv";
	bool codes_required = false, verbose = false;
	int threads = 2;
	double resubmit = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long long u;
#define NEED_ARG()                                                         \
	do {                                                               \
		if (!v) {                                                  \
			fprintf(stderr, "kpr-gen: %s needs a value\n", a); \
			return 2;                                          \
		}                                                          \
		i++;                                                       \
	} while (0)
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--seed") == 0) {
			NEED_ARG();
			if (!parse_ulong(v, &u)) {
				fprintf(stderr, "kpr-gen: --seed: not a number\n");
				return 2;
			}
			cfg.seed = u;
		} else if (strcmp(a, "--aargang") == 0) {
			NEED_ARG();
			/* births up to 2039 only: later ones need the 2032 rule */
			if (!parse_ulong(v, &u) || u < 2007 || u > 2040) {
				fprintf(
				    stderr,
				    "kpr-gen: --aargang: a year 2007..2040 (IPLOS began in 2007)\n");
				return 2;
			}
			cfg.aargang = (int)u;
		} else if (strcmp(a, "--kommune") == 0) {
			NEED_ARG();
			kommune_arg = v;
		} else if (strcmp(a, "--all") == 0) {
			kommune_arg = NULL;
		} else if (strcmp(a, "--scale") == 0) {
			NEED_ARG();
			char *end;
			scale = strtod(v, &end);
			if (*end || !(scale > 0) || scale > 100) {
				fprintf(stderr, "kpr-gen: --scale: a number > 0\n");
				return 2;
			}
		} else if (strcmp(a, "--persons") == 0) {
			NEED_ARG();
			if (!parse_ulong(v, &u) || u > 10000000) {
				fprintf(stderr, "kpr-gen: --persons: 0..10000000\n");
				return 2;
			}
			persons_each = u ? u : 0;
			if (!u) {
				fprintf(
				    stderr,
				    "kpr-gen: --persons 0: use --inject F006=1 for an empty file\n");
				return 2;
			}
		} else if (strcmp(a, "--out") == 0) {
			NEED_ARG();
			cfg.out_dir = v;
		} else if (strcmp(a, "--gzip") == 0) {
			cfg.gzip = true;
		} else if (strcmp(a, "--inject") == 0) {
			NEED_ARG();
			if (!parse_inject(&cfg, v))
				return 2;
		} else if (strcmp(a, "--refs") == 0) {
			NEED_ARG();
			if (strcmp(v, "system") == 0)
				cfg.refs = REFS_SYSTEM;
			else if (strcmp(v, "journal") == 0)
				cfg.refs = REFS_JOURNAL;
			else {
				fprintf(stderr, "kpr-gen: --refs: system or journal\n");
				return 2;
			}
		} else if (strcmp(a, "--units") == 0) {
			NEED_ARG();
			char *end;
			long n = strtol(v, &end, 10);
			cfg.units_auto = strcmp(v, "auto") == 0;
			if (cfg.units_auto)
				n = 0;
			else if (*end || n < 0 || n > 60) {
				fprintf(stderr, "kpr-gen: --units: 0 to 60, or auto\n");
				return 2;
			}
			cfg.units = (int)n;
		} else if (strcmp(a, "--resubmit") == 0) {
			NEED_ARG();
			char *end;
			resubmit = strtod(v, &end);
			if (*end || !(resubmit >= 0 && resubmit <= 1)) {
				fprintf(stderr, "kpr-gen: --resubmit: a fraction 0..1\n");
				return 2;
			}
		} else if (strcmp(a, "--manifest") == 0) {
			NEED_ARG();
			manifest = v;
		} else if (strcmp(a, "--kommuner") == 0) {
			NEED_ARG();
			kommuner_path = v;
		} else if (strcmp(a, "--population") == 0) {
			NEED_ARG();
			pop_path = v;
		} else if (strcmp(a, "--codelists") == 0) {
			NEED_ARG();
			codes_path = v;
			codes_required = true;
		} else if (strcmp(a, "--threads") == 0) {
			NEED_ARG();
			if (!parse_ulong(v, &u) || u < 1 || u > 64) {
				fprintf(stderr, "kpr-gen: --threads: 1..64\n");
				return 2;
			}
			threads = (int)u;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			verbose = true;
		} else {
			fprintf(stderr, "kpr-gen: unknown argument '%s' (see --help)\n", a);
			return 2;
		}
#undef NEED_ARG
	}

	char kbuf[4200], pbuf[4200], cbuf[4200];
	if (strcmp(kommuner_path, "config/kommuner-2024.csv") == 0)
		kommuner_path = default_path(kommuner_path, kbuf, sizeof(kbuf));
	if (strcmp(pop_path, "config/population-2024.csv") == 0)
		pop_path = default_path(pop_path, pbuf, sizeof(pbuf));
	if (!codes_required)
		codes_path = default_path(codes_path, cbuf, sizeof(cbuf));

	struct kommune *all = NULL;
	size_t n_all = 0;
	if (!load_kommuner(kommuner_path, &all, &n_all))
		return 1;
	if (!load_population(pop_path, all, n_all) ||
	    !load_types(&cfg, codes_path, codes_required)) {
		free(all);
		return 1;
	}
	size_all(all, n_all, DEFAULT_PERSONS * scale);

	/* the selection, in list order */
	/* room for a second file of every municipality */
	struct kommune *sel = calloc(2 * n_all, sizeof(*sel));
	size_t n_sel = 0;
	if (!sel) {
		free(all);
		return 1;
	}
	if (kommune_arg) {
		char buf[4096];
		snprintf(buf, sizeof(buf), "%s", kommune_arg);
		for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
		     t = strtok_r(NULL, ",", &save)) {
			size_t i;
			for (i = 0; i < n_all; i++)
				if (strcmp(all[i].nummer, trim(t)) == 0)
					break;
			if (i == n_all) {
				fprintf(stderr, "kpr-gen: --kommune %.8s: not in %s\n", t,
					kommuner_path);
				free(all);
				free(sel);
				return 2;
			}
			if (n_sel < n_all)
				sel[n_sel++] = all[i];
		}
	} else {
		memcpy(sel, all, n_all * sizeof(*sel));
		n_sel = n_all;
	}
	if (persons_each)
		for (size_t i = 0; i < n_sel; i++)
			sel[i].persons = (unsigned long)persons_each;
	size_t n_first = n_sel, n_second = pick_second(sel, n_first, cfg.seed, resubmit);
	n_sel += n_second;

	/* date strings from 1 Jan (aargang - 12) to 31 Dec (aargang + 2) */
	cfg.date_base = gen_days_from_civil(cfg.aargang - 12, 1, 1);
	cfg.date_count = gen_days_from_civil(cfg.aargang + 2, 12, 31) - cfg.date_base + 1;
	char *dates = malloc((size_t)cfg.date_count * 10 + 1);
	struct file_result *res = calloc(n_sel, sizeof(*res));
	for (size_t i = 0; res && i < n_sel; i++)
		res[i].innsending = i < n_first ? 1 : 2;
	size_t *order = calloc(n_sel, sizeof(*order));
	if (!dates || !res || !order) {
		fprintf(stderr, "kpr-gen: out of memory\n");
		return 1;
	}
	for (int i = 0; i < cfg.date_count; i++) {
		int y, m, d;
		char tmp[16];
		gen_civil_from_days(cfg.date_base + i, &y, &m, &d);
		snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
		memcpy(dates + (size_t)i * 10, tmp, 10);
	}
	cfg.dates = dates;

	if (!mkdir_p(cfg.out_dir)) {
		fprintf(stderr, "kpr-gen: %s: %s\n", cfg.out_dir, strerror(errno));
		return 1;
	}
	char manifest_buf[4200];
	if (!manifest) {
		snprintf(manifest_buf, sizeof(manifest_buf), "%.4000s/manifest.json", cfg.out_dir);
		manifest = manifest_buf;
	}

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < n_sel; i++)
		order[i] = i;
	sort_base = sel;
	qsort(order, n_sel, sizeof(*order), by_persons_desc);

	struct job job = {.cfg = &cfg,
			  .all = all,
			  .n_all = n_all,
			  .order = order,
			  .sel = sel,
			  .res = res,
			  .n_sel = n_sel};
	atomic_init(&job.next, 0);
	if ((size_t)threads > n_sel)
		threads = (int)n_sel;
	pthread_t tid[64];
	int started = 0;
	for (int t = 1; t < threads; t++) {
		if (pthread_create(&tid[started], NULL, worker, &job) != 0)
			break;
		started++;
	}
	worker(&job);
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	int rc = 0;
	unsigned long long persons = 0, regs = 0, bytes = 0, raw = 0;
	unsigned long tot[INJ_COUNT] = {0};
	for (size_t i = 0; i < n_sel; i++) {
		if (!res[i].ok) {
			fprintf(stderr, "kpr-gen: %s: %s\n", sel[i].nummer, res[i].error);
			rc = 1;
			continue;
		}
		persons += res[i].persons;
		regs += res[i].registrations;
		bytes += res[i].bytes;
		raw += res[i].raw_bytes;
		for (int r = 0; r < INJ_COUNT; r++)
			tot[r] += res[i].inj.count[r];
		if (verbose)
			printf("%s\t%lu persons\t%llu registrations\t%llu bytes\n", res[i].file,
			       res[i].persons, res[i].registrations, res[i].bytes);
	}
	if (rc == 0 && !write_manifest(manifest, &cfg, scale, resubmit, sel, res, n_sel))
		rc = 1;
	if (rc == 0) {
		printf("kpr-gen: %zu file%s in %s (seed %llu, aargang %d): %llu persons, %llu "
		       "registrations, %.1f MB",
		       n_sel, n_sel == 1 ? "" : "s", cfg.out_dir, (unsigned long long)cfg.seed,
		       cfg.aargang, persons, regs, (double)bytes / 1e6);
		if (cfg.gzip)
			printf(" (%.1f MB XML)", (double)raw / 1e6);
		printf(", %.1f s\n", secs);
		if (cfg.any_inject) {
			printf("kpr-gen: injected");
			for (int r = 0; r < INJ_COUNT; r++)
				if (cfg.rate[r] > 0)
					printf(" %s=%lu", inj_defs[r].id, tot[r]);
			printf("\n");
			unsigned long long pe = 0, pw = 0;
			for (size_t i = 0; i < n_sel; i++) {
				pe += res[i].persons_error;
				pw += res[i].persons_warning;
			}
			printf(
			    "kpr-gen: persons with an error %llu (%.2f%%), with a warning only %llu "
			    "(%.2f%%)\n",
			    pe, persons ? 100.0 * (double)pe / (double)persons : 0.0, pw,
			    persons ? 100.0 * (double)pw / (double)persons : 0.0);
		}
		if (n_second)
			printf("kpr-gen: %zu municipalit%s send a second file\n", n_second,
			       n_second == 1 ? "y" : "ies");
		printf("kpr-gen: manifest %s\n", manifest);
	}
	for (size_t i = 0; i < n_sel; i++)
		inj_log_free(&res[i].inj);
	free(res);
	free(order);
	free(dates);
	free(sel);
	free(all);
	return rc;
}
