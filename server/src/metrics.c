/*
 * metrics.c — counters behind one mutex. The counts are low-rate (per
 * request, per job), so a lock is simpler than per-thread shards and costs
 * nothing measurable.
 */
#include "metrics.h"

#include <pthread.h>
#include <string.h>

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

void metrics_http_request(const char *route, unsigned status, bool completed)
{
	char labels[96];
	snprintf(labels, sizeof labels, "route=\"%s\",status=\"%u\"", route,
		 completed ? status : 0);
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

void metrics_count_rule(const char *rule, const char *severity, unsigned long long n)
{
	char labels[96];
	snprintf(labels, sizeof labels, "rule=\"%s\",severity=\"%s\"", rule, severity);
	pthread_mutex_lock(&mu);
	add_locked("kpr_validation_messages_total", labels, n);
	pthread_mutex_unlock(&mu);
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

void metrics_render(FILE *out)
{
	pthread_mutex_lock(&mu);
	/* group by family so each family's samples are contiguous */
	for (size_t i = 0; i < nseries; i++) {
		bool first = true;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(series[j].name, series[i].name))
				first = false;
		if (!first)
			continue;
		fprintf(out, "# TYPE %s counter\n", series[i].name);
		for (size_t j = i; j < nseries; j++) {
			if (strcmp(series[j].name, series[i].name))
				continue;
			if (series[j].labels[0])
				fprintf(out, "%s{%s} %llu\n", series[j].name, series[j].labels,
					series[j].value);
			else
				fprintf(out, "%s %llu\n", series[j].name, series[j].value);
		}
	}
	fprintf(out, "# TYPE kpr_job_duration_seconds histogram\n");
	for (size_t i = 0; i < NBUCKETS; i++)
		fprintf(out, "kpr_job_duration_seconds_bucket{le=\"%g\"} %llu\n", job_buckets[i],
			job_bucket_counts[i]);
	fprintf(out, "kpr_job_duration_seconds_bucket{le=\"+Inf\"} %llu\n", job_count);
	fprintf(out, "kpr_job_duration_seconds_sum %g\n", job_sum);
	fprintf(out, "kpr_job_duration_seconds_count %llu\n", job_count);
	pthread_mutex_unlock(&mu);
}
