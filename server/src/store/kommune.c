/*
 * kommune.c — reads of the municipality table (store_kommune.h).
 */
#include "store_kommune.h"

#include <stdio.h>

static const struct db_stmt st_name = {"ingest_kommunenavn",
				       "SELECT navn FROM kpr.kommune WHERE kommunenummer = $1", 1};

bool store_kommune_name(struct db *db, const char *kommunenummer, char *out, size_t outlen,
			bool *found)
{
	const char *p[] = {kommunenummer};
	out[0] = '\0';
	*found = false;
	PGresult *r = db_exec(db, &st_name, p, NULL);
	if (!r)
		return false;
	if (PQntuples(r) == 1) {
		snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
		*found = true;
	}
	PQclear(r);
	return true;
}
