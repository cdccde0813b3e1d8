/*
 * store_feedback_unit.h — which unit's feedback files are which
 * (kpr.feedback_unit, SPEC §6 ?enhet=NAME): the final transaction of a
 * processing attempt records the numbers of the files it wrote
 * (feedback_path's unit), a download looks a unit's name up, exactly as
 * written. Stores only unit names that passed R110 (never a candidate).
 */
#ifndef STORE_FEEDBACK_UNIT_H
#define STORE_FEEDBACK_UNIT_H

#include <stddef.h>

#include "db.h"
#include "kpr.h"

/* Final transaction: names[0..count) are the submission's named units in
 * file order; the first with_files get numbers 1..with_files, the rest
 * none. Replaces any earlier processing's rows. */
enum db_tx_status store_feedback_units_replace(struct db *db, const char *sub_id,
					       const char *const *names, size_t count,
					       size_t with_files) KPR_WUR;

/* The number of unit enhet's files for the submission (*n 0: the unit got
 * none, the file had too many units); *found false: no such unit. False on
 * a database failure. */
bool store_feedback_unit_find(struct db *db, const char *sub_id, const char *enhet, unsigned *n,
			      bool *found) KPR_WUR;

#endif
