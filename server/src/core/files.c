/*
 * files.c — see files.h.
 */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hex.h"

bool files_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		len -= (size_t)w;
	}
	return true;
}

bool files_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0;
	int e = errno;
	close(fd);
	errno = e;
	return ok;
}

bool files_write_durable(const char *dir, const char *name, const void *data, size_t len,
			 mode_t mode, bool replace, char *err, size_t errlen)
{
	char tmp[PATH_MAX], final[PATH_MAX], rnd[17];
	/* random, not the pid: a temporary file a crash left behind never
	 * blocks a later write by a process that got the same pid */
	if (!hex_random(rnd, 8)) {
		snprintf(err, errlen, "%s/%s: no randomness", dir, name);
		errno = EAGAIN;
		return false;
	}
	int a = snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%s", dir, name, rnd);
	int b = snprintf(final, sizeof final, "%s/%s", dir, name);
	if (a < 0 || (size_t)a >= sizeof tmp || b < 0 || (size_t)b >= sizeof final) {
		snprintf(err, errlen, "%s/%s: path too long", dir, name);
		errno = ENAMETOOLONG;
		return false;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return false;
	}
	bool ok = fchmod(fd, mode) == 0 && files_write_all(fd, data, len) && fsync(fd) == 0;
	int saved = errno;
	close(fd);
	if (ok) {
		ok = replace ? rename(tmp, final) == 0 : link(tmp, final) == 0;
		saved = errno;
	}
	if (!ok || !replace)
		unlink(tmp);
	if (!ok) {
		snprintf(err, errlen, "%s: %s", final, strerror(saved));
		errno = saved;
		return false;
	}
	if (!files_fsync_dir(dir)) {
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		return false;
	}
	return true;
}

char *files_read_all(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 0, n = 0;
	char *buf = NULL;
	for (;;) {
		if (n + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb = n < max + 1 ? realloc(buf, ncap) : NULL;
			if (!nb) {
				snprintf(err, errlen, "%s: %s", path,
					 n >= max + 1 ? "file too large" : "out of memory");
				break;
			}
			buf = nb, cap = ncap;
		}
		size_t want = cap - 1 - n;
		if (want > max + 1 - n)
			want = max + 1 - n;
		ssize_t r = read(fd, buf + n, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
			break;
		}
		if (r == 0) {
			close(fd);
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		n += (size_t)r;
		if (n > max) {
			snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
			break;
		}
	}
	close(fd);
	free(buf);
	return NULL;
}

const char *files_find_data(const char *env, const char *rel, char *buf, size_t len)
{
	const char *e = env ? getenv(env) : NULL;
	if (e && *e)
		return e;
	if (access(rel, R_OK) == 0)
		return rel;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
	if (!slash)
		return rel;
	*slash = '\0';
	static const char *const where[] = {"%s/../%s", "%s/%s"};
	for (size_t i = 0; i < 2; i++) {
		int w = snprintf(buf, len, where[i], exe, rel);
		if (w > 0 && (size_t)w < len && access(buf, R_OK) == 0)
			return buf;
	}
	return rel;
}

FILE *files_open_unlinked(const char *dir, const char *prefix)
{
	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	char tmpl[700];
	int w = snprintf(tmpl, sizeof tmpl, "%s/%s-XXXXXX", dir, prefix);
	if (w < 0 || (size_t)w >= sizeof tmpl) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	int fd = mkstemp(tmpl);
	if (fd < 0)
		return NULL;
	unlink(tmpl);
	FILE *f = fdopen(fd, "w+b");
	if (!f) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return f;
}
