/*
 * csv.h — one field of a CSV file, written the same way by every CSV kprd
 * serves: the feedback CSV (feedback.h) and the reminder list of
 * GET /api/v1/progress/missing.csv. Files are UTF-8 with a BOM, ';'-separated
 * with CRLF records, so Excel opens them right; the caller writes those.
 *
 * A field is quoted per RFC 4180 (quotes doubled) when it holds ; " CR or LF.
 * Against CSV/formula injection a field starting with = + - @ TAB or CR gets
 * a leading apostrophe, which Excel and LibreOffice show as text: "-5" reads
 * "'-5", "=SUM(A1)" reads "'=SUM(A1)". Malformed UTF-8 and control
 * characters other than TAB, CR and LF become U+FFFD.
 *
 * The value is written as given: masking for display (SPEC §3) is the
 * caller's choice (the feedback CSV masks every field before this).
 */
#ifndef CSV_H
#define CSV_H

#include <stdio.h>

#include "kpr.h"

#define CSV_UTF8_BOM "\xEF\xBB\xBF"

/* Writes one field (NULL: an empty one); false on a write error. */
bool csv_field_write(FILE *out, const char *s) KPR_WUR;

#endif
