/*
 * spool.c — writing uploads durably. Runs on libmicrohttpd threads for the
 * chunk writes (plain buffered file I/O, never the database) and on a
 * dbpool thread for the commit (fsync can take a while).
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "failpoint.h"
#include "files.h"
#include "hex.h"
#include "log.h"

struct spool_file {
	char dir[4096];
	char tmp_path[4300];
	char final_path[4400];
	int fd;
	EVP_MD_CTX *md;
	uint64_t bytes;
	bool committed;
	bool kept;
	bool failed;
	unsigned char buf[1 << 16]; /* coalesces MHD's small chunks into larger writes */
	size_t buffered;
	struct spool_file *next_in_flight; /* committed by this process, not yet freed */
	bool in_flight;
};

/* Files this process is writing or has given their final name and not yet
 * released: the reconciler never touches them (a partial upload still
 * arriving, or a file whose row may be on its way). */
static pthread_mutex_t flight_mu = PTHREAD_MUTEX_INITIALIZER;
static struct spool_file *flight;

static void flight_add(struct spool_file *f)
{
	pthread_mutex_lock(&flight_mu);
	f->next_in_flight = flight;
	flight = f;
	f->in_flight = true;
	pthread_mutex_unlock(&flight_mu);
}

static void flight_remove(struct spool_file *f)
{
	if (!f->in_flight)
		return;
	pthread_mutex_lock(&flight_mu);
	for (struct spool_file **pp = &flight; *pp; pp = &(*pp)->next_in_flight)
		if (*pp == f) {
			*pp = f->next_in_flight;
			break;
		}
	f->in_flight = false;
	pthread_mutex_unlock(&flight_mu);
}

bool spool_in_flight(const char *name)
{
	bool found = false;
	pthread_mutex_lock(&flight_mu);
	for (const struct spool_file *f = flight; f && !found; f = f->next_in_flight) {
		const char *tmp = strrchr(f->tmp_path, '/');
		const char *fin = strrchr(f->final_path, '/');
		found = (tmp && !strcmp(tmp + 1, name)) || (fin && !strcmp(fin + 1, name));
	}
	pthread_mutex_unlock(&flight_mu);
	return found;
}

long long spool_free_bytes(const char *dir)
{
	struct statvfs sv;
	if (statvfs(dir, &sv) != 0)
		return -1;
	return (long long)sv.f_bavail * (long long)sv.f_frsize;
}

struct spool_file *spool_create(const char *dir, char *err, size_t errlen)
{
	struct spool_file *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->fd = -1;
	snprintf(f->dir, sizeof f->dir, "%s", dir);
	char incoming[4200];
	snprintf(incoming, sizeof incoming, "%s/incoming", dir);
	if (mkdir(incoming, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", incoming, strerror(errno));
		free(f);
		return NULL;
	}
	char name[32];
	if (!hex_random(name, 12)) {
		snprintf(err, errlen, "no randomness");
		free(f);
		return NULL;
	}
	snprintf(f->tmp_path, sizeof f->tmp_path, "%s/%s.part", incoming, name);
	flight_add(f); /* before the file exists: the reconciler never sees it unguarded */
	f->fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	f->md = EVP_MD_CTX_new();
	if (f->fd < 0 || !f->md || EVP_DigestInit_ex(f->md, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "%s: %s", f->tmp_path, strerror(errno));
		spool_free(f);
		return NULL;
	}
	return f;
}

static bool flush_buf(struct spool_file *f)
{
	size_t off = 0;
	while (off < f->buffered) {
		ssize_t w = write(f->fd, f->buf + off, f->buffered - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			log_warn("spool: write %s: %s", f->tmp_path, strerror(errno));
			f->failed = true;
			return false;
		}
		off += (size_t)w;
	}
	f->buffered = 0;
	return true;
}

bool spool_write(struct spool_file *f, const void *data, size_t len)
{
	if (f->failed)
		return false;
	if (EVP_DigestUpdate(f->md, data, len) != 1)
		return false;
	f->bytes += len;
	const unsigned char *p = data;
	while (len > 0) {
		size_t room = sizeof f->buf - f->buffered;
		size_t n = len < room ? len : room;
		memcpy(f->buf + f->buffered, p, n);
		f->buffered += n;
		p += n;
		len -= n;
		if (f->buffered == sizeof f->buf && !flush_buf(f))
			return false;
	}
	return true;
}

void spool_keep(struct spool_file *f)
{
	f->kept = true;
}

uint64_t spool_bytes(const struct spool_file *f)
{
	return f->bytes;
}

const char *spool_path(const struct spool_file *f)
{
	return f->committed ? f->final_path : f->tmp_path;
}

bool spool_commit(struct spool_file *f, const char *final_name, char sha256_hex[65])
{
	unsigned char md[32];
	unsigned int ml = 0;
	if (f->failed || !flush_buf(f) || EVP_DigestFinal_ex(f->md, md, &ml) != 1 || ml != 32)
		return false;
	hex_encode(md, 32, sha256_hex);
	if (fsync(f->fd) != 0) {
		log_error("spool: fsync %s: %s", f->tmp_path, strerror(errno));
		return false;
	}
	failpoint("upload.after_fsync");
	pthread_mutex_lock(&flight_mu); /* spool_in_flight reads the name */
	snprintf(f->final_path, sizeof f->final_path, "%s/%s", f->dir, final_name);
	pthread_mutex_unlock(&flight_mu);
	if (rename(f->tmp_path, f->final_path) != 0) {
		log_error("spool: rename to %s: %s", f->final_path, strerror(errno));
		return false;
	}
	f->committed = true;
	char incoming[4200];
	snprintf(incoming, sizeof incoming, "%s/incoming", f->dir);
	if (!files_fsync_dir(f->dir) || !files_fsync_dir(incoming)) {
		log_error("spool: fsync of directory %s failed: %s", f->dir, strerror(errno));
		return false;
	}
	failpoint("upload.after_rename");
	return true;
}

void spool_free(struct spool_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (!f->kept && f->tmp_path[0])
		unlink(f->committed ? f->final_path : f->tmp_path);
	flight_remove(f);       /* after the unlink: a kept file's row is committed by now */
	EVP_MD_CTX_free(f->md); /* OpenSSL cleanses the digest state */
	/* the coalescing buffer held the upload's last bytes, national IDs in
	 * clear; explicit_bzero, unlike a memset before free, is never dropped */
	explicit_bzero(f, sizeof *f);
	free(f);
}

int spool_sweep_incoming(const char *dir, int max_age_seconds)
{
	char incoming[4200];
	snprintf(incoming, sizeof incoming, "%s/incoming", dir);
	DIR *d = opendir(incoming);
	if (!d)
		return 0;
	int removed = 0;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".part"))
			continue;
		struct stat st;
		if (!spool_in_flight(e->d_name) && fstatat(dirfd(d), e->d_name, &st, 0) == 0 &&
		    now - st.st_mtime >= max_age_seconds && unlinkat(dirfd(d), e->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
