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
/* One submission processed to its final status ("accepted", "rejected",
 * "failed", ...): kpr_submissions_total{status="..."}. */
void metrics_count_submission(const char *status);
/* A counter with labels, e.g. ("kpr_db_errors_total", "db=\"vault\""): label
 * values must come from fixed sets (route names, statuses, rule ids). */
void metrics_add_labeled(const char *name, const char *labels, unsigned long long delta);
/* Database health, by connection label ("register/http", "register/worker",
 * "vault"): a failed statement (SQLSTATE class, "" for a lost connection)
 * and a reconnect after a lost connection. */
void metrics_db_error(const char *db, const char *sqlstate);
void metrics_db_reconnect(const char *db);
/* Writes "# HELP" and "# TYPE" lines for a family rendered outside this
 * module (the database gauges of the /metrics handler). */
void metrics_write_family(FILE *out, const char *name, const char *type, const char *help);

/* Writes every process counter, and the standard process_* gauges (memory,
 * CPU, descriptors, start time), in the exposition format. */
void metrics_render(FILE *out);

#endif
