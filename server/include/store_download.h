/*
 * store_download.h — feedback downloads: a municipality's are counted
 * (kpr.feedback_download, shown to staff in the progress API), a staff
 * member's are audited (kpr.audit_staff_download), each with its unit. Both are sent at most
 * once (db_exec_once): a download that cannot be recorded is not served.
 */
#ifndef STORE_DOWNLOAD_H
#define STORE_DOWNLOAD_H

#include "db.h"
#include "kpr.h"

/* enhet: the unit of a unit's file (SPEC §6 ?enhet=), NULL the whole file;
 * both record it (the audit only a unit kpr.feedback_unit names for the
 * submission, migration 0013) */
bool store_download_count(struct db *db, const char *sub_id, const char *format, const char *enhet,
			  long long token_id) KPR_WUR;
bool store_download_audit(struct db *db, const char *sub_id, const char *format, const char *enhet,
			  long long token_id) KPR_WUR;

#endif
