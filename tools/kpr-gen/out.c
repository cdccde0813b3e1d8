/*
 * out.c — kpr-gen's output file: one large buffer the generator fills
 * directly, flushed with write(2) (through deflate for --gzip) and hashed
 * with SHA-256 on the way out, so the manifest's hash costs no second read;
 * and the text the generator writes, in the file's declared encoding.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"

#define ZBUF_SIZE (1u << 20)

static void out_fail(struct out *o, int err)
{
	if (!o->failed) {
		o->failed = true;
		o->err = err ? err : EIO;
	}
}

static void out_sink(struct out *o, const void *data, size_t n)
{
	const char *p = data;
	if (o->failed)
		return;
	if (EVP_DigestUpdate(o->sha, data, n) != 1) {
		out_fail(o, EIO);
		return;
	}
	o->bytes += n;
	while (n > 0) {
		ssize_t w = write(o->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			out_fail(o, errno);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void out_deflate(struct out *o, const char *data, size_t n, int flush)
{
	o->z.next_in = (Bytef *)(uintptr_t)data;
	o->z.avail_in = (uInt)n;
	do {
		o->z.next_out = o->zbuf;
		o->z.avail_out = ZBUF_SIZE;
		int rc = deflate(&o->z, flush);
		if (rc == Z_STREAM_ERROR) {
			out_fail(o, EIO);
			return;
		}
		out_sink(o, o->zbuf, ZBUF_SIZE - o->z.avail_out);
	} while (o->z.avail_out == 0);
}

static void out_flush(struct out *o)
{
	if (o->len == 0)
		return;
	o->raw_bytes += o->len;
	if (o->gzip)
		out_deflate(o, o->buf, o->len, Z_NO_FLUSH);
	else
		out_sink(o, o->buf, o->len);
	o->len = 0;
}

bool out_open(struct out *o, const char *path, bool gzip, char *buf)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->buf = buf;
	o->gzip = gzip;
	o->sha = EVP_MD_CTX_new();
	if (!o->sha || EVP_DigestInit_ex(o->sha, EVP_sha256(), NULL) != 1) {
		out_fail(o, ENOMEM);
		goto fail;
	}
	if (gzip) {
		o->zbuf = malloc(ZBUF_SIZE);
		/* 15 + 16: gzip wrapper; its header has mtime 0, so output is
		 * byte-identical run after run. */
		if (!o->zbuf ||
		    deflateInit2(&o->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
			free(o->zbuf);
			o->zbuf = NULL;
			out_fail(o, ENOMEM);
			goto fail;
		}
	}
	o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (o->fd < 0) {
		out_fail(o, errno);
		goto fail;
	}
	return true;
fail:
	out_abort(o);
	return false;
}

void out_reserve(struct out *o)
{
	if (OUT_BUF_SIZE - o->len < OUT_HEADROOM)
		out_flush(o);
}

void out_write(struct out *o, const char *s, size_t n)
{
	if (OUT_BUF_SIZE - o->len < n)
		out_flush(o);
	if (n > OUT_BUF_SIZE) {
		o->raw_bytes += n;
		if (o->gzip)
			out_deflate(o, s, n, Z_NO_FLUSH);
		else
			out_sink(o, s, n);
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

bool out_close(struct out *o, char sha_hex[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;

	out_flush(o);
	if (o->gzip && !o->failed)
		out_deflate(o, NULL, 0, Z_FINISH);
	if (!o->failed && EVP_DigestFinal_ex(o->sha, md, &mdlen) != 1)
		out_fail(o, EIO);
	if (o->fd >= 0 && close(o->fd) != 0)
		out_fail(o, errno);
	o->fd = -1;
	if (!o->failed) {
		for (unsigned i = 0; i < 32; i++) {
			sha_hex[2 * i] = hex[md[i] >> 4];
			sha_hex[2 * i + 1] = hex[md[i] & 15];
		}
		sha_hex[64] = '\0';
	}
	bool ok = !o->failed;
	out_abort(o);
	return ok;
}

void out_abort(struct out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->zbuf) {
		deflateEnd(&o->z);
		free(o->zbuf);
		o->zbuf = NULL;
	}
	EVP_MD_CTX_free(o->sha);
	o->sha = NULL;
}

/* The code point of the UTF-8 sequence at *s, advancing *s past it; a byte
 * that does not start a well-formed sequence (overlong, surrogate, past
 * U+10FFFF, cut short) is U+FFFD and only that byte is consumed. */
static unsigned long utf8_next(const unsigned char **s)
{
	const unsigned char *c = *s;
	int len = c[0] < 0xc2 ? 0 : c[0] < 0xe0 ? 2 : c[0] < 0xf0 ? 3 : c[0] < 0xf5 ? 4 : 0;
	unsigned long cp = len == 4 ? c[0] & 0x07u : len == 3 ? c[0] & 0x0fu : c[0] & 0x1fu;
	static const unsigned long min[5] = {0, 0, 0x80, 0x800, 0x10000};

	if (len == 0) {
		(*s)++;
		return 0xfffd;
	}
	for (int i = 1; i < len; i++) {
		if ((c[i] & 0xc0) != 0x80) {
			(*s)++;
			return 0xfffd;
		}
		cp = cp << 6 | (c[i] & 0x3fu);
	}
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		(*s)++;
		return 0xfffd;
	}
	*s += len;
	return cp;
}

char *out_text(char *p, const char *s, bool latin1)
{
	const unsigned char *c = (const unsigned char *)s;

	if (!latin1) {
		size_t n = strlen(s);
		memcpy(p, s, n);
		return p + n;
	}
	while (*c) {
		if (*c < 0x80) {
			*p++ = (char)*c++;
			continue;
		}
		unsigned long cp = utf8_next(&c);
		if (cp <= 0xff)
			*p++ = (char)cp;
		else
			p += sprintf(p, "&#%lu;", cp);
	}
	return p;
}
