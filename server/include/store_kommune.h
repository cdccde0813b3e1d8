/*
 * store_kommune.h — reference data: the municipalities (kpr.kommune).
 */
#ifndef STORE_KOMMUNE_H
#define STORE_KOMMUNE_H

#include <stddef.h>

#include "db.h"
#include "kpr.h"

/* The municipality's name; *found false (out "") when it has none. */
bool store_kommune_name(struct db *db, const char *kommunenummer, char *out, size_t outlen,
			bool *found) KPR_WUR;

#endif
