/*
 * kpr-validate — the server's validation engine offline (SPEC §8): a
 * municipality or its vendor checks a submission before sending and gets the
 * same feedback file the server would produce, on stdout (the workbook,
 * --format xlsx, too: redirect it to a file).
 *
 *   kpr-validate [--aargang Y] [--kommune NNNN] [--format csv|xlsx|xml|html|json]
 *                [--test-mode] [--no-2032] [--max-bytes N] [--codes FILE]
 *                [--enhet NAME] [--quiet] FILE
 *
 * --enhet NAME: the same file limited to one unit (SPEC §6): its messages
 * plus those about the whole file, the exit code judged on those; a name no
 * element of the file carries (exact bytes, UTF-8) is an error (exit 2).
 * Exit: 0 ok, 1 warnings only, 2 errors or fatal, 3 usage or internal error.
 * Code lists: --codes, else $KPR_CONFIG_DIR, else ./config, else
 * <dir of the binary>/../config (build/kpr-validate in the repository).
 * Never prints a national ID: the report holds masked values only.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "codelist.h"
#include "feedback.h"
#include "files.h"
#include "report.h"
#include "validate.h"

enum { EXIT_OK = 0, EXIT_WARN = 1, EXIT_ERR = 2, EXIT_USAGE = 3 };

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Bruk: kpr-validate [valg] FIL\n"
	    "Kontrollerer en KPR-innsending (XML, eventuelt gzip) og skriver tilbakemeldingen til stdout.\n"
	    "\n"
	    "  --aargang Y        årgangen som er åpen for innsending (F005); standard: ikke kontrollert\n"
	    "  --kommune NNNN     kommunen du sender som (F003); standard: ikke kontrollert\n"
	    "  --format F         csv (standard), xlsx (Excel-arbeidsbok), xml, html eller json\n"
	    "  --test-mode        godta syntetiske testfødselsnumre (måned + 80)\n"
	    "  --no-2032          godta ikke fødselsnumre etter 2032-regelen\n"
	    "  --max-bytes N      største tillatte filstørrelse utpakket (F006); standard 2 GiB\n"
	    "  --codes FIL        kodelister (standard config/codelists.csv)\n"
	    "  --enhet NAVN       bare meldingene om denne enheten (skrevet nøyaktig som i filen)\n"
	    "                     og meldingene om hele filen\n"
	    "  --quiet            skriv ingen tilbakemelding, bare sluttkoden\n"
	    "  --stats            skriv fart og minnebruk til stderr\n"
	    "  --help             denne teksten\n"
	    "\n"
	    "Sluttkode: 0 ingen merknader, 1 bare advarsler, 2 feil eller kritiske feil, 3 bruksfeil.\n");
}

static bool file_exists(const char *p)
{
	return access(p, R_OK) == 0;
}

/* Finds config/<rel>: $KPR_CONFIG_DIR, ./config, <exe dir>/../config. */
static bool find_config(const char *rel, char *out, size_t outlen)
{
	char buf[PATH_MAX];
	const char *dir = files_find_data("KPR_CONFIG_DIR", "config", buf, sizeof buf);
	int w = snprintf(out, outlen, "%s/%s", dir, rel);
	return w > 0 && (size_t)w < outlen && file_exists(out);
}

/* Norwegian time with its offset, as the server shows it (SPEC §6), whatever
 * the machine's own zone is. */
static void now_iso(char *buf, size_t n)
{
	setenv("TZ", "Europe/Oslo", 1);
	tzset();
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%S%z", &tm);
	/* +0100 -> +01:00 */
	size_t l = strlen(buf);
	if (l >= 5 && l + 1 < n) {
		memmove(buf + l - 1, buf + l - 2, 3);
		buf[l - 2] = ':';
	}
}

/* The severity counts of one unit's file: the unit's messages and those
 * about the whole file (the file's counts less every unit's). False when
 * the report has no such unit. */
static bool unit_counts(struct report *r, const char *enhet, unsigned long out[SEV_COUNT])
{
	if (!report_has_unit(r, enhet))
		return false;
	const struct report_unit **units;
	long n = report_units(r, &units);
	if (n < 0)
		return true; /* out of memory: keep the file's counts */
	for (long i = 0; i < n; i++)
		for (int sev = 0; sev < SEV_COUNT; sev++)
			out[sev] -= units[i]->by_severity[sev];
	free(units);
	struct report_unit *u = report_unit(r, enhet);
	for (int sev = 0; u && sev < SEV_COUNT; sev++)
		out[sev] += u->by_severity[sev];
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"aargang", required_argument, NULL, 'a'}, {"kommune", required_argument, NULL, 'k'},
	    {"format", required_argument, NULL, 'f'},  {"test-mode", no_argument, NULL, 't'},
	    {"no-2032", no_argument, NULL, 'n'},       {"max-bytes", required_argument, NULL, 'm'},
	    {"codes", required_argument, NULL, 'c'},   {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},          {"stats", no_argument, NULL, 's'},
	    {"enhet", required_argument, NULL, 'e'},   {NULL, 0, NULL, 0},
	};
	struct validate_params p;
	memset(&p, 0, sizeof p);
	p.allow_2032 = true;
	p.max_bytes = 2ULL << 30;
	enum feedback_format fmt = FEEDBACK_CSV;
	const char *codes_path = NULL;
	const char *enhet = NULL;
	bool quiet = false, stats = false;
	int c;
	while ((c = getopt_long(argc, argv, "a:k:f:tnm:c:qhe:", opts, NULL)) != -1) {
		switch (c) {
		case 'a': {
			char *end;
			long y = strtol(optarg, &end, 10);
			if (*end || y < 1900 || y > 9999) {
				fprintf(stderr, "kpr-validate: ugyldig årgang: %s\n", optarg);
				return EXIT_USAGE;
			}
			p.aargang_open_min = p.aargang_open_max = (int)y;
			break;
		}
		case 'k':
			if (strlen(optarg) != 4 || strspn(optarg, "0123456789") != 4) {
				fprintf(stderr,
					"kpr-validate: kommunenummer må være fire sifre: %s\n",
					optarg);
				return EXIT_USAGE;
			}
			p.auth_kommune = optarg;
			break;
		case 'f':
			if (!feedback_format_parse(optarg, &fmt)) {
				fprintf(
				    stderr,
				    "kpr-validate: ukjent format: %s (csv, xlsx, xml, html, json)\n",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			p.test_mode = true;
			break;
		case 'n':
			p.allow_2032 = false;
			break;
		case 'm': {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || errno || v == 0) {
				fprintf(stderr, "kpr-validate: ugyldig --max-bytes: %s\n", optarg);
				return EXIT_USAGE;
			}
			p.max_bytes = v;
			break;
		}
		case 'c':
			codes_path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'e':
			enhet = optarg;
			break;
		case 's':
			stats = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *file = argv[optind];
	if (!file_exists(file)) {
		fprintf(stderr, "kpr-validate: kan ikke lese %s: %s\n", file, strerror(errno));
		return EXIT_USAGE;
	}

	char codes_buf[PATH_MAX];
	if (!codes_path) {
		if (!find_config("codelists.csv", codes_buf, sizeof codes_buf)) {
			fprintf(
			    stderr,
			    "kpr-validate: finner ikke config/codelists.csv (bruk --codes eller KPR_CONFIG_DIR)\n");
			return EXIT_USAGE;
		}
		codes_path = codes_buf;
	}

	char err[512];
	struct codelist *codes = codelist_load(codes_path, err, sizeof err);
	if (!codes) {
		fprintf(stderr, "kpr-validate: %s\n", err);
		return EXIT_USAGE;
	}
	p.codes = codes;

	struct report *r = report_new(NULL);
	if (!r) {
		fprintf(stderr, "kpr-validate: kan ikke lage midlertidig fil: %s\n",
			strerror(errno));
		codelist_free(codes);
		return EXIT_USAGE;
	}
	struct validate_result res;
	memset(&res, 0, sizeof res);
	if (!validate_file(file, &p, NULL, r, &res)) {
		fprintf(stderr, "kpr-validate: intern feil under kontrollen av %s\n", file);
		report_free(r);
		codelist_free(codes);
		return EXIT_USAGE;
	}
	const struct report_summary *sum = report_summary_const(r);
	if (stats) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		double secs = res.seconds > 0 ? res.seconds : 1e-9;
		fprintf(
		    stderr,
		    "kpr-validate: %llu bytes in %.3f s (%.1f MB/s), %lu persons, %lu registrations (%.0f/s), peak RSS %.1f MiB\n",
		    res.bytes, res.seconds, (double)res.bytes / 1e6 / secs, sum->persons,
		    sum->registrations, (double)sum->registrations / secs,
		    (double)ru.ru_maxrss / 1024.0);
	}
	unsigned long shown[SEV_COUNT];
	memcpy(shown, sum->by_severity, sizeof shown);
	if (enhet && !unit_counts(r, enhet, shown)) {
		char masked[1024];
		size_t n = strlen(enhet);
		struct nid_options nid = {.test_mode = true, .allow_2032 = true};
		(void)nid_mask_text(enhet, n < 512 ? n : 512, &nid, masked, sizeof masked);
		fprintf(
		    stderr,
		    "kpr-validate: enheten «%s» finnes ikke i filen (navnet må skrives nøyaktig "
		    "som i attributtet enhet)\n",
		    masked);
		report_free(r);
		codelist_free(codes);
		return EXIT_ERR;
	}
	int rc = EXIT_OK;
	if (sum->fatal || shown[SEV_FATAL] || shown[SEV_ERROR])
		rc = EXIT_ERR;
	else if (shown[SEV_WARNING])
		rc = EXIT_WARN;

	if (!quiet) {
		char processed[40];
		now_iso(processed, sizeof processed);
		const struct codelist_entry *k =
		    res.header.kommunenummer[0] && res.header.aargang > 0
			? codelist_find(codes, "kommune", res.header.kommunenummer,
					res.header.aargang)
			: NULL;
		struct feedback_meta m;
		memset(&m, 0, sizeof m);
		m.innsending_id = res.header.id[0] ? res.header.id : NULL;
		m.kommunenummer = res.header.kommunenummer[0] ? res.header.kommunenummer : NULL;
		m.kommunenavn = k ? k->name : NULL;
		m.aargang = res.header.aargang;
		m.status = "validated";
		m.processed_at = processed;
		m.bytes = res.bytes;
		m.fagsystem = res.header.fagsystem[0] ? res.header.fagsystem : NULL;
		m.fagsystem_versjon =
		    res.header.fagsystem_versjon[0] ? res.header.fagsystem_versjon : NULL;
		m.dry_run = true;
		struct nid_options nid = {.test_mode = p.test_mode, .allow_2032 = p.allow_2032};
		m.nid = &nid;
		m.enhet = enhet;
		if (fmt == FEEDBACK_XLSX && isatty(STDOUT_FILENO)) {
			/* a workbook is binary: it goes to a file, not a terminal */
			fprintf(stderr, "kpr-validate: arbeidsboken (xlsx) skrives ikke til en "
					"terminal; send den til en fil: > tilbakemelding.xlsx\n");
			rc = EXIT_USAGE;
		} else if (!feedback_write(stdout, fmt, &m, r) || fflush(stdout) != 0) {
			fprintf(stderr, "kpr-validate: kan ikke skrive tilbakemeldingen: %s\n",
				strerror(errno));
			rc = EXIT_USAGE;
		}
	}
	report_free(r);
	codelist_free(codes);
	return rc;
}
