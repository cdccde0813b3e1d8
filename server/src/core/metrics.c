/*
 * metrics.c — counters behind one mutex. The counts are low-rate (per
 * request, per job), so a lock is simpler than per-thread shards and costs
 * nothing measurable. Rendering follows the Prometheus text format 0.0.4:
 * each family once, HELP and TYPE first, its samples together.
 * It also reads the standard process_* gauges from /proc/self at scrape
 * time. Must not: take label values from input (only fixed sets), or read
 * the database or the configuration (the /metrics handler adds the database
 * and spool gauges itself).
 */
#include "metrics.h"

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERIES 512

struct series {
	char name[48];
	char labels[96];
	unsigned long long value;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct series series[MAX_SERIES];
static size_t nseries;

static const double job_buckets[] = {0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300};
#define NBUCKETS (sizeof job_buckets / sizeof job_buckets[0])
static unsigned long long job_bucket_counts[NBUCKETS];
static unsigned long long job_count;
static double job_sum;

static double start_time;

/* The final statuses a processed submission counts under in
 * kpr_submissions_total. Each is shown from the start (at 0), so increase()
 * sees the first one of a kind; "failed" is the server-side fault of SPEC §5. */
static const char *const submission_statuses[] = {"accepted", "accepted_with_errors", "rejected",
						  "validated", "failed"};

/* The counter families kprd knows. zero: shown as 0 before the first
 * increment, so a rate() has a starting point and a scrape shows the name. */
static const struct family {
	const char *name;
	const char *help;
	bool zero;
} families[] = {
    {"kpr_uploads_total", "Submission files received and safely spooled.", true},
    {"kpr_upload_bytes_total", "Bytes of submission files received, as sent (before gunzip).",
     true},
    {"kpr_records_processed_total",
     "Registrations read by the validator (each element inside a Person; each Funksjon counts).",
     true},
    {"kpr_submissions_total",
     "Submissions processed, by final status: accepted, accepted_with_errors, rejected (FATAL), "
     "validated (dry run), failed (the server could not process the file).",
     false},
    {"kpr_job_retries_total",
     "Job attempts that failed on the server's side and were queued again after a backoff, by "
     "fault (internal, local_io, disk_full, database, time_limit, spool_missing).",
     false},
    {"kpr_feedback_downloads_total", "Feedback files served (every format, every role).", true},
    {"kpr_validation_messages_total", "Validation messages by rule and severity.", false},
    {"kpr_http_requests_total",
     "HTTP requests by route and status (status 0: the client went away first).", false},
    {"kpr_db_errors_total",
     "Failed database statements by connection and SQLSTATE class (\"\": connection lost).", false},
    {"kpr_db_reconnects_total", "Database reconnects after a lost connection, by connection.",
     false},
};

static void add_locked(const char *name, const char *labels, unsigned long long d)
{
	for (size_t i = 0; i < nseries; i++) {
		if (!strcmp(series[i].name, name) && !strcmp(series[i].labels, labels)) {
			series[i].value += d;
			return;
		}
	}
	if (nseries == MAX_SERIES)
		return; /* bounded: label values come from fixed sets */
	snprintf(series[nseries].name, sizeof series[nseries].name, "%s", name);
	snprintf(series[nseries].labels, sizeof series[nseries].labels, "%s", labels);
	series[nseries].value = d;
	nseries++;
}

static void submission_labels(char *out, size_t outlen, const char *status);

__attribute__((constructor)) static void metrics_init(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	/* the series shown at 0 before their first increment */
	for (size_t i = 0; i < KPR_ARRAY_LEN(families); i++)
		if (families[i].zero)
			add_locked(families[i].name, "", 0);
	for (size_t i = 0; i < KPR_ARRAY_LEN(submission_statuses); i++) {
		char labels[96];
		submission_labels(labels, sizeof labels, submission_statuses[i]);
		add_locked("kpr_submissions_total", labels, 0);
	}
}

/* A label value as the exposition format wants it: \ " and newline escaped. */
static void escape_label(char *out, size_t outlen, const char *v)
{
	size_t o = 0;
	for (; v && *v && o + 3 < outlen; v++) {
		if (*v == '\\' || *v == '"') {
			out[o++] = '\\';
			out[o++] = *v;
		} else if (*v == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *v;
		}
	}
	out[o] = '\0';
}

static void submission_labels(char *out, size_t outlen, const char *status)
{
	char s[32];
	escape_label(s, sizeof s, status);
	snprintf(out, outlen, "status=\"%s\"", s);
}

void metrics_count_submission(const char *status)
{
	char labels[96];
	submission_labels(labels, sizeof labels, status);
	pthread_mutex_lock(&mu);
	add_locked("kpr_submissions_total", labels, 1);
	pthread_mutex_unlock(&mu);
}

void metrics_http_request(const char *route, unsigned status, bool completed)
{
	char labels[96], r[48];
	escape_label(r, sizeof r, route);
	snprintf(labels, sizeof labels, "route=\"%s\",status=\"%u\"", r, completed ? status : 0);
	pthread_mutex_lock(&mu);
	add_locked("kpr_http_requests_total", labels, 1);
	pthread_mutex_unlock(&mu);
}

void metrics_add(const char *name, unsigned long long delta)
{
	pthread_mutex_lock(&mu);
	add_locked(name, "", delta);
	pthread_mutex_unlock(&mu);
}

void metrics_add_labeled(const char *name, const char *labels, unsigned long long delta)
{
	pthread_mutex_lock(&mu);
	add_locked(name, labels ? labels : "", delta);
	pthread_mutex_unlock(&mu);
}

void metrics_count_rule(const char *rule, const char *severity, unsigned long long n)
{
	char labels[96], r[16], s[24];
	escape_label(r, sizeof r, rule);
	escape_label(s, sizeof s, severity);
	snprintf(labels, sizeof labels, "rule=\"%s\",severity=\"%s\"", r, s);
	pthread_mutex_lock(&mu);
	add_locked("kpr_validation_messages_total", labels, n);
	pthread_mutex_unlock(&mu);
}

void metrics_db_error(const char *db, const char *sqlstate)
{
	char labels[96], d[32], cls[3] = "";
	escape_label(d, sizeof d, db);
	/* the class (first two characters) keeps the label set small */
	if (sqlstate && strlen(sqlstate) >= 2 &&
	    strspn(sqlstate, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") >= 2) {
		cls[0] = sqlstate[0];
		cls[1] = sqlstate[1];
	}
	snprintf(labels, sizeof labels, "db=\"%s\",class=\"%s\"", d, cls);
	metrics_add_labeled("kpr_db_errors_total", labels, 1);
}

void metrics_db_reconnect(const char *db)
{
	char labels[64], d[32];
	escape_label(d, sizeof d, db);
	snprintf(labels, sizeof labels, "db=\"%s\"", d);
	metrics_add_labeled("kpr_db_reconnects_total", labels, 1);
}

void metrics_observe_job_seconds(double s)
{
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < NBUCKETS; i++)
		if (s <= job_buckets[i])
			job_bucket_counts[i]++;
	job_count++;
	job_sum += s;
	pthread_mutex_unlock(&mu);
}

void metrics_write_family(FILE *out, const char *name, const char *type, const char *help)
{
	/* HELP text escapes only backslash and newline */
	fprintf(out, "# HELP %s ", name);
	for (const char *c = help; *c; c++) {
		if (*c == '\\')
			fputs("\\\\", out);
		else if (*c == '\n')
			fputs("\\n", out);
		else
			fputc(*c, out);
	}
	fprintf(out, "\n# TYPE %s %s\n", name, type);
}

static void render_samples_locked(FILE *out, const char *name)
{
	for (size_t j = 0; j < nseries; j++) {
		if (strcmp(series[j].name, name))
			continue;
		if (series[j].labels[0])
			fprintf(out, "%s{%s} %llu\n", series[j].name, series[j].labels,
				series[j].value);
		else
			fprintf(out, "%s %llu\n", series[j].name, series[j].value);
	}
}

static const struct family *known_family(const char *name)
{
	for (size_t i = 0; i < KPR_ARRAY_LEN(families); i++)
		if (!strcmp(families[i].name, name))
			return &families[i];
	return NULL;
}

/* /proc/self/stat after the command name (which may hold spaces and
 * parentheses, so the fields start after the last ')'): field 3 (state) is
 * f[0], so field N is f[N - 3]. */
static bool read_proc_stat(unsigned long long f[22])
{
	char buf[1024];
	FILE *in = fopen("/proc/self/stat", "re");
	if (!in)
		return false;
	size_t n = fread(buf, 1, sizeof buf - 1, in);
	fclose(in);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return false;
	p += 3; /* past ") " and the one-letter state */
	f[0] = 0;
	for (int i = 1; i < 22; i++) {
		char *end;
		f[i] = strtoull(p, &end, 10);
		if (end == p)
			return false;
		p = end;
	}
	return true;
}

/* Open descriptors: the entries of /proc/self/fd less the one reading it. */
static long count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	long n = 0;
	int self = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (atoi(e->d_name) != self)
			n++;
	}
	closedir(d);
	return n;
}

/* The process gauges every Prometheus dashboard knows, under the names the
 * official client libraries give them. */
static void render_process(FILE *out)
{
	metrics_write_family(out, "process_start_time_seconds", "gauge",
			     "Start time of the process since the Unix epoch, in seconds.");
	fprintf(out, "process_start_time_seconds %.3f\n", start_time);
	unsigned long long f[22];
	if (read_proc_stat(f)) {
		long ticks = sysconf(_SC_CLK_TCK);
		long page = sysconf(_SC_PAGESIZE);
		metrics_write_family(out, "process_cpu_seconds_total", "counter",
				     "Total user and system CPU time spent, in seconds.");
		fprintf(out, "process_cpu_seconds_total %.2f\n",
			(double)(f[14 - 3] + f[15 - 3]) / (double)(ticks > 0 ? ticks : 100));
		metrics_write_family(out, "process_virtual_memory_bytes", "gauge",
				     "Virtual memory size, in bytes.");
		fprintf(out, "process_virtual_memory_bytes %llu\n", f[23 - 3]);
		metrics_write_family(out, "process_resident_memory_bytes", "gauge",
				     "Resident memory size, in bytes.");
		fprintf(out, "process_resident_memory_bytes %llu\n",
			f[24 - 3] * (unsigned long long)(page > 0 ? page : 4096));
	}
	long fds = count_open_fds();
	if (fds >= 0) {
		metrics_write_family(out, "process_open_fds", "gauge",
				     "Number of open file descriptors.");
		fprintf(out, "process_open_fds %ld\n", fds);
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		metrics_write_family(out, "process_max_fds", "gauge",
				     "Maximum number of open file descriptors (soft limit).");
		if (rl.rlim_cur == RLIM_INFINITY)
			fputs("process_max_fds +Inf\n", out);
		else
			fprintf(out, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
}

void metrics_render(FILE *out)
{
	metrics_write_family(out, "kpr_build_info", "gauge", "kprd version and rule-set version.");
	fprintf(out, "kpr_build_info{version=\"%s\",ruleset=\"%s\"} 1\n", KPR_VERSION,
		KPR_RULESET_VERSION);
	render_process(out);

	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < KPR_ARRAY_LEN(families); i++) {
		const struct family *f = &families[i];
		metrics_write_family(out, f->name, "counter", f->help);
		render_samples_locked(out, f->name);
	}
	/* families added by a writer this table does not know yet, each once */
	for (size_t i = 0; i < nseries; i++) {
		if (known_family(series[i].name))
			continue;
		bool first = true;
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(series[j].name, series[i].name) != 0;
		if (!first)
			continue;
		metrics_write_family(out, series[i].name, "counter", "kprd counter.");
		render_samples_locked(out, series[i].name);
	}
	metrics_write_family(
	    out, "kpr_job_duration_seconds", "histogram",
	    "Time to process one submission job (validate, load, feedback), in seconds.");
	for (size_t i = 0; i < NBUCKETS; i++)
		fprintf(out, "kpr_job_duration_seconds_bucket{le=\"%g\"} %llu\n", job_buckets[i],
			job_bucket_counts[i]);
	fprintf(out, "kpr_job_duration_seconds_bucket{le=\"+Inf\"} %llu\n", job_count);
	fprintf(out, "kpr_job_duration_seconds_sum %.6f\n", job_sum);
	fprintf(out, "kpr_job_duration_seconds_count %llu\n", job_count);
	pthread_mutex_unlock(&mu);
}
