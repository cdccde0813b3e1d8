/*
 * log.h — levelled logging to stderr (journald picks it up), one line per
 * event: time, level, context id (request or job), message.
 * Debug output is gated inside the macro so its arguments cost nothing when
 * off. Callers pass pseudonyms or masked values, never a national ID.
 */
#ifndef LOG_H
#define LOG_H

#include "kpr.h"

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern enum log_level log_current_level;

bool log_level_parse(const char *s, enum log_level *out) KPR_WUR;
void log_set_level(enum log_level l);

/* ctx is the request or job id ("-" when none). */
void log_write(enum log_level l, const char *ctx, const char *fmt, ...) KPR_PRINTF(3, 4);

#define log_ctx(lvl, ctx, ...)                                \
	do {                                                  \
		if ((lvl) <= log_current_level)               \
			log_write((lvl), (ctx), __VA_ARGS__); \
	} while (0)

#define log_error(...) log_ctx(LOG_LVL_ERROR, "-", __VA_ARGS__)
#define log_warn(...)  log_ctx(LOG_LVL_WARN, "-", __VA_ARGS__)
#define log_info(...)  log_ctx(LOG_LVL_INFO, "-", __VA_ARGS__)
#define log_debug(...) log_ctx(LOG_LVL_DEBUG, "-", __VA_ARGS__)

#define rlog_error(id, ...) log_ctx(LOG_LVL_ERROR, (id), __VA_ARGS__)
#define rlog_warn(id, ...)  log_ctx(LOG_LVL_WARN, (id), __VA_ARGS__)
#define rlog_info(id, ...)  log_ctx(LOG_LVL_INFO, (id), __VA_ARGS__)
#define rlog_debug(id, ...) log_ctx(LOG_LVL_DEBUG, (id), __VA_ARGS__)

#endif
