/*
 * kpr.h — the few definitions every module shares: attribute macros and
 * the version strings that go into feedback files and /healthz.
 * Module types live in their own headers; keep this one small.
 */
#ifndef KPR_H
#define KPR_H

#include <stdbool.h>
#include <stddef.h>

#define KPR_VERSION "0.1.0"
/* Bumped whenever a rule's logic or text changes: feedback files name it so a
 * municipality can tell which rule set judged its file. */
#define KPR_RULESET_VERSION "2025.3"

#define KPR_WUR               __attribute__((warn_unused_result))
#define KPR_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define KPR_UNUSED            __attribute__((unused))
#define KPR_ARRAY_LEN(a)      (sizeof(a) / sizeof((a)[0]))

/* The unit (SPEC §2 enhet) recorded for an element whose enhet R110
 * refused: how reports, figures and the register's queries name it. */
#define KPR_UNIT_UNKNOWN "(ukjent enhet)"

#endif
