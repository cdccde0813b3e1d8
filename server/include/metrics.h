/*
 * metrics.h — process counters exposed at /metrics in the Prometheus text
 * format. Writers only increment; gauges that live in the database (queue
 * depth, submissions by status) are read by the /metrics handler itself.
 * Labels never carry a national ID, a token or a ref.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdio.h>

#include "kpr.h"

void metrics_http_request(const char *route, unsigned status, bool completed);
void metrics_add(const char *name, unsigned long long delta);
void metrics_observe_job_seconds(double seconds);
void metrics_count_rule(const char *rule, const char *severity, unsigned long long n);

/* Writes every process counter in the exposition format. */
void metrics_render(FILE *out);

#endif
