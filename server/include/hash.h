/*
 * hash.h — FNV-1a over a NUL-terminated string: the hash of the small
 * in-memory tables keyed by a name (units in report.c and received.c).
 * Not for anything an attacker could use to flood one bucket at scale:
 * those tables are bounded (REPORT_MAX_UNITS, RECEIVED_MAX_UNITS).
 */
#ifndef HASH_H
#define HASH_H

#include <stdint.h>

static inline uint32_t hash_fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

#endif
