/*
 * files.h — whole-file reads and durable writes, written once: a file that
 * must survive a crash is written to a temporary name, fsync'd, renamed (or
 * linked) into place, and its directory fsync'd.
 */
#ifndef FILES_H
#define FILES_H

#include <stdio.h>
#include <sys/types.h>

#include "kpr.h"

/* Writes all of buf to fd, retrying after EINTR and short writes. */
bool files_write_all(int fd, const void *buf, size_t len) KPR_WUR;
/* fsync of a directory: makes the names in it durable. */
bool files_fsync_dir(const char *dir) KPR_WUR;
/* Writes dir/name durably with the given mode: a temporary file in dir,
 * fsync, then rename() (replace: true) or link() (false: fails if the
 * name exists), then fsync of dir. False with errno and, in err, a message
 * naming the file. */
bool files_write_durable(const char *dir, const char *name, const void *data, size_t len,
			 mode_t mode, bool replace, char *err, size_t errlen) KPR_WUR;
/* The whole file, NUL-terminated (len without the NUL), at most max bytes;
 * NULL with a message naming the file. The caller frees it. */
char *files_read_all(const char *path, size_t max, size_t *len, char *err, size_t errlen) KPR_WUR;

/* A private temporary file in dir ($TMPDIR or /tmp when NULL or empty),
 * opened "w+b" and unlinked at once, so it is gone when closed, even after
 * a crash. NULL with errno on failure. */
FILE *files_open_unlinked(const char *dir, const char *prefix) KPR_WUR;

/* Where the tools find their data (sql/, config/, a file in config/):
 * $env when it is set; else rel when it exists from the working directory;
 * else next to the installed or built binary, <exe dir>/../rel, then
 * <exe dir>/rel; else rel as given. buf holds a path made here. */
const char *files_find_data(const char *env, const char *rel, char *buf, size_t len);

#endif
