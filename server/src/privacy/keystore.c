/*
 * keystore.c — the key directory: KEK files, wrapped pseudonym keys and the
 * re-identification public key (see keystore.h and docs/keys.md).
 *
 * Owns: key files, their permissions, wrapping and rotation.
 * Must not: print, log or return key material except to the caller that
 * asked to load a key; leave secrets in freed memory; overwrite a key file
 * except by an atomic, verified replacement during KEK rotation.
 */
#include "keystore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "files.h"
#include "hpke.h"

#define WRAPPED_FORMAT    "KPR-wrapped-key-v1"
#define WRAPPED_FILE_MAX  4096
#define FINGERPRINT_LABEL "KPR-key-fingerprint-v1"
#define GCM_NONCE         12
#define GCM_TAG           16

static __thread char errbuf[512];
static keystore_audit_fn audit_fn;
static void *audit_arg;

KPR_PRINTF(1, 2) static void set_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof errbuf, fmt, ap);
	va_end(ap);
}

const char *keystore_error(void)
{
	return errbuf[0] != '\0' ? errbuf : "no error";
}

void keystore_set_audit_hook(keystore_audit_fn fn, void *arg)
{
	audit_fn = fn;
	audit_arg = arg;
}

KPR_PRINTF(2, 3) static void audit(const char *event, const char *fmt, ...)
{
	if (audit_fn == NULL)
		return;
	char detail[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	audit_fn(audit_arg, event, detail);
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool from_hex(const char *s, unsigned char *out, size_t cap, size_t *n)
{
	size_t len = strlen(s);
	if (len % 2 != 0 || len / 2 > cap)
		return false;
	for (size_t i = 0; i < len / 2; i++) {
		int v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + (size_t)k];
			int d = c >= '0' && c <= '9'   ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10
						       : -1;
			if (d < 0)
				return false;
			v = v * 16 + d;
		}
		out[i] = (unsigned char)v;
	}
	*n = len / 2;
	return true;
}

static bool is_id(const char *s, size_t len)
{
	if (len != KEYSTORE_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

void keystore_fingerprint(const unsigned char *data, size_t len, char out[KEYSTORE_ID_LEN + 1])
{
	unsigned char md[32];
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	bool ok = m != NULL && EVP_DigestInit_ex(m, EVP_sha256(), NULL) > 0 &&
		  EVP_DigestUpdate(m, FINGERPRINT_LABEL, sizeof FINGERPRINT_LABEL) > 0 &&
		  EVP_DigestUpdate(m, data, len) > 0 && EVP_DigestFinal_ex(m, md, &mdlen) > 0;
	EVP_MD_CTX_free(m);
	if (!ok)
		memset(md, 0, sizeof md); /* allocation failure: a visibly bogus id */
	to_hex(md, KEYSTORE_ID_LEN / 2, out);
}

/* ---- files ---- */

static bool join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= cap) {
		set_error("path too long: %s/%s", dir, name);
		return false;
	}
	return true;
}

/* Writes dir/name durably (files_write_durable), the failure kept as this
 * module's error. */
static bool write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode,
		       bool replace)
{
	return files_write_durable(dir, name, data, len, mode, replace, errbuf, sizeof errbuf);
}

/* Opens a secret file for reading: regular, no symlink, no group/other
 * permissions. */
static int open_secret(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		set_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		set_error("%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((st->st_mode & 077) != 0) {
		set_error("%s: mode %04o grants group/other access; must be 0600 "
			  "(chmod 600, owned by the service user)",
			  path, (unsigned)(st->st_mode & 07777));
		close(fd);
		return -1;
	}
	return fd;
}

static ssize_t read_fd(int fd, void *buf, size_t cap)
{
	size_t got = 0;
	while (got < cap) {
		ssize_t r = read(fd, (char *)buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static void utc_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- file KEK backend ---- */

struct kek_file {
	unsigned char key[KEYSTORE_KEY_LEN];
};

static bool kek_file_wrap(const struct kek *kek, const unsigned char *aad, size_t aad_len,
			  const unsigned char *key, size_t key_len, unsigned char *out,
			  size_t *out_len)
{
	const struct kek_file *kf = kek->impl;
	if (key_len > KEK_WRAPPED_MAX - GCM_NONCE - GCM_TAG || aad_len > INT_MAX)
		return false;
	unsigned char *nonce = out, *ct = out + GCM_NONCE;
	if (RAND_bytes(nonce, GCM_NONCE) != 1)
		return false;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0;
	bool ok = c != NULL && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, kf->key, nonce) > 0 &&
		  EVP_EncryptUpdate(c, NULL, &len, aad, (int)aad_len) > 0 &&
		  EVP_EncryptUpdate(c, ct, &len, key, (int)key_len) > 0 &&
		  EVP_EncryptFinal_ex(c, ct + len, &fin) > 0 &&
		  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, ct + key_len) > 0;
	EVP_CIPHER_CTX_free(c);
	if (ok)
		*out_len = GCM_NONCE + key_len + GCM_TAG;
	return ok;
}

static bool kek_file_unwrap(const struct kek *kek, const unsigned char *aad, size_t aad_len,
			    const unsigned char *in, size_t in_len, unsigned char *key,
			    size_t *key_len)
{
	const struct kek_file *kf = kek->impl;
	if (in_len < GCM_NONCE + GCM_TAG || in_len > KEK_WRAPPED_MAX || aad_len > INT_MAX)
		return false;
	size_t n = in_len - GCM_NONCE - GCM_TAG;
	unsigned char tag[GCM_TAG];
	memcpy(tag, in + in_len - GCM_TAG, GCM_TAG);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0;
	bool ok = c != NULL && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, kf->key, in) > 0 &&
		  EVP_DecryptUpdate(c, NULL, &len, aad, (int)aad_len) > 0 &&
		  EVP_DecryptUpdate(c, key, &len, in + GCM_NONCE, (int)n) > 0 &&
		  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) > 0 &&
		  EVP_DecryptFinal_ex(c, key + len, &fin) > 0;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		OPENSSL_cleanse(key, n);
		return false;
	}
	*key_len = n;
	return true;
}

static void kek_file_destroy(struct kek *kek)
{
	OPENSSL_clear_free(kek->impl, sizeof(struct kek_file));
	OPENSSL_clear_free(kek, sizeof *kek);
}

void kek_free(struct kek *kek)
{
	if (kek != NULL)
		kek->destroy(kek);
}

static struct kek *kek_file_from_key(const unsigned char key[KEYSTORE_KEY_LEN])
{
	struct kek *kek = OPENSSL_zalloc(sizeof *kek);
	struct kek_file *kf = OPENSSL_zalloc(sizeof *kf);
	if (kek == NULL || kf == NULL) {
		OPENSSL_free(kek);
		OPENSSL_free(kf);
		set_error("out of memory");
		return NULL;
	}
	memcpy(kf->key, key, KEYSTORE_KEY_LEN);
	keystore_fingerprint(key, KEYSTORE_KEY_LEN, kek->id);
	kek->alg = "AES-256-GCM";
	kek->wrap = kek_file_wrap;
	kek->unwrap = kek_file_unwrap;
	kek->destroy = kek_file_destroy;
	kek->impl = kf;
	return kek;
}

struct kek *kek_file_open(const char *path)
{
	struct stat st;
	int fd = open_secret(path, &st);
	if (fd < 0)
		return NULL;
	unsigned char key[KEYSTORE_KEY_LEN + 1];
	ssize_t n = read_fd(fd, key, sizeof key);
	close(fd);
	if (n != KEYSTORE_KEY_LEN) {
		OPENSSL_cleanse(key, sizeof key);
		set_error("%s: a KEK file holds exactly %d bytes", path, KEYSTORE_KEY_LEN);
		return NULL;
	}
	struct kek *kek = kek_file_from_key(key);
	OPENSSL_cleanse(key, sizeof key);
	if (kek == NULL)
		return NULL;
	/* The file name must name this key: a swapped or copied file is caught. */
	const char *base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	char want[64];
	snprintf(want, sizeof want, "kek-%s.key", kek->id);
	if (strcmp(base, want) != 0) {
		set_error("%s: file name does not match the key inside (its id is %s)", path,
			  kek->id);
		kek_free(kek);
		return NULL;
	}
	return kek;
}

struct kek *kek_file_create(const char *dir)
{
	unsigned char key[KEYSTORE_KEY_LEN];
	if (RAND_priv_bytes(key, sizeof key) != 1) {
		set_error("random generator failed");
		return NULL;
	}
	struct kek *kek = kek_file_from_key(key);
	char name[64];
	if (kek != NULL) {
		snprintf(name, sizeof name, "kek-%s.key", kek->id);
		if (!write_file(dir, name, key, sizeof key, 0600, false)) {
			kek_free(kek);
			kek = NULL;
		}
	}
	OPENSSL_cleanse(key, sizeof key);
	return kek;
}

/* ---- wrapped pseudonym keys ---- */

struct wrapped {
	int version;
	char fingerprint[KEYSTORE_ID_LEN + 1];
	char kek_id[KEYSTORE_ID_LEN + 1];
	char alg[32];
	char created[32];
	unsigned char blob[KEK_WRAPPED_MAX];
	size_t blob_len;
};

/* Everything that names the key is bound into the wrap, so a wrapped key
 * cannot be relabelled (another version, purpose or KEK) unnoticed. */
static int wrap_aad(const struct wrapped *w, char *out, size_t cap)
{
	return snprintf(out, cap, "%s\npurpose=pseudonym\nversion=%d\nfingerprint=%s\nkek=%s\n",
			WRAPPED_FORMAT, w->version, w->fingerprint, w->kek_id);
}

static bool wrapped_write(const char *dir, struct wrapped *w, bool replace)
{
	char blob_hex[2 * KEK_WRAPPED_MAX + 1], text[WRAPPED_FILE_MAX], name[64];
	to_hex(w->blob, w->blob_len, blob_hex);
	int n = snprintf(text, sizeof text,
			 "# KPR wrapped pseudonym key. Do not edit; see docs/keys.md.\n"
			 "format: %s\npurpose: pseudonym\nversion: %d\nfingerprint: %s\n"
			 "kek: %s\nalg: %s\ncreated: %s\nwrapped: %s\n",
			 WRAPPED_FORMAT, w->version, w->fingerprint, w->kek_id, w->alg, w->created,
			 blob_hex);
	snprintf(name, sizeof name, "pseudonym-%d.wrapped", w->version);
	return n > 0 && (size_t)n < sizeof text &&
	       write_file(dir, name, text, (size_t)n, 0600, replace);
}

static bool wrapped_read(const char *path, struct wrapped *w)
{
	memset(w, 0, sizeof *w);
	struct stat st;
	int fd = open_secret(path, &st);
	if (fd < 0)
		return false;
	char text[WRAPPED_FILE_MAX + 1];
	ssize_t n = read_fd(fd, text, WRAPPED_FILE_MAX);
	close(fd);
	if (n < 0 || n == WRAPPED_FILE_MAX) {
		set_error("%s: unreadable or too large", path);
		return false;
	}
	text[n] = '\0';
	bool have_format = false, have_purpose = false, have_version = false, have_wrapped = false;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *colon = strchr(line, ':');
		if (colon == NULL || colon[1] != ' ') {
			set_error("%s: malformed line", path);
			return false;
		}
		*colon = '\0';
		const char *k = line, *v = colon + 2;
		if (strcmp(k, "format") == 0) {
			have_format = strcmp(v, WRAPPED_FORMAT) == 0;
		} else if (strcmp(k, "purpose") == 0) {
			have_purpose = strcmp(v, "pseudonym") == 0;
		} else if (strcmp(k, "version") == 0) {
			char *end;
			long ver = strtol(v, &end, 10);
			have_version = *end == '\0' && ver >= 1 && ver <= INT_MAX;
			w->version = (int)ver;
		} else if (strcmp(k, "fingerprint") == 0 && is_id(v, strlen(v))) {
			strcpy(w->fingerprint, v);
		} else if (strcmp(k, "kek") == 0 && is_id(v, strlen(v))) {
			strcpy(w->kek_id, v);
		} else if (strcmp(k, "alg") == 0 && strlen(v) < sizeof w->alg) {
			strcpy(w->alg, v);
		} else if (strcmp(k, "created") == 0 && strlen(v) < sizeof w->created) {
			strcpy(w->created, v);
		} else if (strcmp(k, "wrapped") == 0) {
			have_wrapped = from_hex(v, w->blob, sizeof w->blob, &w->blob_len);
		}
	}
	if (!have_format || !have_purpose || !have_version || !have_wrapped ||
	    w->fingerprint[0] == '\0' || w->kek_id[0] == '\0') {
		set_error("%s: not a %s pseudonym key file (missing or bad fields)", path,
			  WRAPPED_FORMAT);
		return false;
	}
	return true;
}

/* Unwraps w with kek and checks the key against its recorded fingerprint. */
static bool wrapped_unwrap(const struct wrapped *w, const struct kek *kek,
			   unsigned char key[KEYSTORE_KEY_LEN])
{
	char aad[256], fp[KEYSTORE_ID_LEN + 1];
	int aad_len = wrap_aad(w, aad, sizeof aad);
	unsigned char buf[KEK_WRAPPED_MAX];
	size_t len = 0;
	if (strcmp(kek->id, w->kek_id) != 0) {
		set_error("pseudonym key %d is wrapped by KEK %s, not %s", w->version, w->kek_id,
			  kek->id);
		return false;
	}
	if (!kek->unwrap(kek, (const unsigned char *)aad, (size_t)aad_len, w->blob, w->blob_len,
			 buf, &len) ||
	    len != KEYSTORE_KEY_LEN) {
		OPENSSL_cleanse(buf, sizeof buf);
		set_error("pseudonym key %d does not unwrap with KEK %s (wrong KEK or damaged "
			  "file)",
			  w->version, kek->id);
		return false;
	}
	keystore_fingerprint(buf, len, fp);
	if (strcmp(fp, w->fingerprint) != 0) {
		OPENSSL_cleanse(buf, sizeof buf);
		set_error("pseudonym key %d: fingerprint mismatch after unwrap", w->version);
		return false;
	}
	memcpy(key, buf, KEYSTORE_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof buf);
	return true;
}

static bool wrapped_seal(struct wrapped *w, const struct kek *kek,
			 const unsigned char key[KEYSTORE_KEY_LEN])
{
	keystore_fingerprint(key, KEYSTORE_KEY_LEN, w->fingerprint);
	strcpy(w->kek_id, kek->id);
	snprintf(w->alg, sizeof w->alg, "%s", kek->alg);
	utc_now(w->created);
	char aad[256];
	int aad_len = wrap_aad(w, aad, sizeof aad);
	if (!kek->wrap(kek, (const unsigned char *)aad, (size_t)aad_len, key, KEYSTORE_KEY_LEN,
		       w->blob, &w->blob_len)) {
		set_error("wrapping with KEK %s failed", kek->id);
		return false;
	}
	return true;
}

static struct kek *open_kek_by_id(const char *dir, const char *id)
{
	char name[64], path[PATH_MAX];
	snprintf(name, sizeof name, "kek-%s.key", id);
	if (!join(path, sizeof path, dir, name))
		return NULL;
	return kek_file_open(path);
}

/* Calls fn for every file in dir named <prefix><middle><suffix>, with the
 * middle part. */
static bool scan_dir(const char *dir, const char *prefix, const char *suffix,
		     bool (*fn)(void *arg, const char *name, const char *middle, size_t mlen),
		     void *arg)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		set_error("%s: %s", dir, strerror(errno));
		return false;
	}
	size_t pl = strlen(prefix), sl = strlen(suffix);
	bool ok = true;
	struct dirent *e;
	while (ok && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n <= pl + sl || strncmp(e->d_name, prefix, pl) != 0 ||
		    strcmp(e->d_name + n - sl, suffix) != 0)
			continue;
		ok = fn(arg, e->d_name, e->d_name + pl, n - pl - sl);
	}
	closedir(d);
	return ok;
}

static bool parse_version(const char *s, size_t len, int *out)
{
	if (len == 0 || len > 9 || s[0] == '0')
		return false;
	int v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool max_version_cb(void *arg, const char *name, const char *m, size_t mlen)
{
	(void)name;
	int v, *max = arg;
	if (parse_version(m, mlen, &v) && v > *max)
		*max = v;
	return true;
}

bool keystore_load_pseudonym_key_version(const char *dir, int version,
					 struct keystore_pseudonym_key *out)
{
	char name[64], path[PATH_MAX];
	snprintf(name, sizeof name, "pseudonym-%d.wrapped", version);
	if (!join(path, sizeof path, dir, name))
		return false;
	struct wrapped w;
	if (!wrapped_read(path, &w))
		return false;
	if (w.version != version) {
		set_error("%s: file says version %d", path, w.version);
		return false;
	}
	struct kek *kek = open_kek_by_id(dir, w.kek_id);
	if (kek == NULL)
		return false;
	bool ok = wrapped_unwrap(&w, kek, out->key);
	kek_free(kek);
	if (!ok)
		return false;
	out->version = version;
	strcpy(out->fingerprint, w.fingerprint);
	strcpy(out->kek_id, w.kek_id);
	return true;
}

bool keystore_load_pseudonym_key(const char *dir, struct keystore_pseudonym_key *out)
{
	int max = 0;
	if (!scan_dir(dir, "pseudonym-", ".wrapped", max_version_cb, &max))
		return false;
	if (max == 0) {
		set_error("%s: no pseudonym key (run kprctl keys init)", dir);
		return false;
	}
	return keystore_load_pseudonym_key_version(dir, max, out);
}

void keystore_pseudonym_key_wipe(struct keystore_pseudonym_key *k)
{
	if (k != NULL)
		OPENSSL_cleanse(k, sizeof *k);
}

/* ---- re-identification key ---- */

struct reid_scan {
	int count;
	char name[NAME_MAX + 1];
	char id[KEYSTORE_ID_LEN + 1];
};

static bool reid_cb(void *arg, const char *name, const char *m, size_t mlen)
{
	struct reid_scan *rs = arg;
	if (!is_id(m, mlen))
		return true;
	rs->count++;
	snprintf(rs->name, sizeof rs->name, "%s", name);
	memcpy(rs->id, m, KEYSTORE_ID_LEN);
	rs->id[KEYSTORE_ID_LEN] = '\0';
	return true;
}

static bool read_reid_public(const char *path, unsigned char pk[32], char id[KEYSTORE_ID_LEN + 1])
{
	BIO *bio = BIO_new_file(path, "r");
	EVP_PKEY *key = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	size_t len = 32;
	bool ok = key != NULL && EVP_PKEY_is_a(key, "X25519") &&
		  EVP_PKEY_get_raw_public_key(key, pk, &len) > 0 && len == 32;
	EVP_PKEY_free(key);
	if (!ok) {
		set_error("%s: not a PEM X25519 public key", path);
		return false;
	}
	keystore_fingerprint(pk, 32, id);
	return true;
}

bool keystore_load_reid_public(const char *dir, unsigned char pk[32], char id[KEYSTORE_ID_LEN + 1])
{
	struct reid_scan rs = {0};
	if (!scan_dir(dir, "reid-", ".pub", reid_cb, &rs))
		return false;
	if (rs.count != 1) {
		set_error(rs.count == 0 ? "%s: no re-identification public key (reid-<id>.pub)"
					: "%s: more than one reid-<id>.pub; move retired ones out",
			  dir);
		return false;
	}
	char path[PATH_MAX];
	if (!join(path, sizeof path, dir, rs.name) || !read_reid_public(path, pk, id))
		return false;
	if (strcmp(id, rs.id) != 0) {
		set_error("%s: file name does not match the key inside (its id is %s)", path, id);
		return false;
	}
	return true;
}

bool keystore_load_reid_private(const char *path, unsigned char sk[32],
				char id[KEYSTORE_ID_LEN + 1])
{
	struct stat st;
	int fd = open_secret(path, &st);
	if (fd < 0)
		return false;
	BIO *bio = BIO_new_fd(fd, BIO_CLOSE);
	EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	if (bio == NULL)
		close(fd);
	BIO_free(bio);
	size_t len = 32;
	unsigned char pk[32];
	bool ok = key != NULL && EVP_PKEY_is_a(key, "X25519") &&
		  EVP_PKEY_get_raw_private_key(key, sk, &len) > 0 && len == 32 &&
		  hpke_public_from_private(sk, pk);
	EVP_PKEY_free(key);
	if (!ok) {
		OPENSSL_cleanse(sk, 32);
		set_error("%s: not a PEM X25519 private key", path);
		return false;
	}
	keystore_fingerprint(pk, 32, id);
	return true;
}

/* Writes the private key PEM to path (must not exist) and the public key
 * PEM to dir/reid-<id>.pub. */
static bool reid_create(const char *dir, const char *private_key_out, char id[KEYSTORE_ID_LEN + 1])
{
	unsigned char sk[32], pk[32];
	if (!hpke_keypair_generate(sk, pk)) {
		set_error("X25519 key generation failed");
		return false;
	}
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
	OPENSSL_cleanse(sk, sizeof sk);
	if (key == NULL) {
		set_error("X25519 key import failed");
		return false;
	}
	keystore_fingerprint(pk, 32, id);

	bool ok = false;
	BIO *priv = BIO_new(BIO_s_secmem());
	BIO *pub = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	char name[64];
	if (priv == NULL || pub == NULL ||
	    PEM_write_bio_PrivateKey(priv, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_PUBKEY(pub, key) != 1) {
		set_error("PEM encoding failed");
		goto out;
	}
	/* Private key first: if it cannot be written, no public key is left
	 * behind that nobody could decrypt for. */
	int fd = open(private_key_out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		set_error("%s: %s (the private key file must not exist yet)", private_key_out,
			  strerror(errno));
		goto out;
	}
	len = BIO_get_mem_data(priv, &data);
	ok = fchmod(fd, 0600) == 0 && len > 0 && files_write_all(fd, data, (size_t)len) &&
	     fsync(fd) == 0;
	close(fd);
	if (!ok) {
		set_error("%s: write failed", private_key_out);
		unlink(private_key_out);
		goto out;
	}
	len = BIO_get_mem_data(pub, &data);
	snprintf(name, sizeof name, "reid-%s.pub", id);
	ok = write_file(dir, name, data, (size_t)len, 0644, false);
out:
	BIO_free(priv); /* secure memory BIO: cleansed */
	BIO_free(pub);
	EVP_PKEY_free(key);
	return ok;
}

/* ---- init ---- */

static bool any_key_cb(void *arg, const char *name, const char *m, size_t mlen)
{
	(void)name;
	(void)m;
	(void)mlen;
	*(bool *)arg = true;
	return true;
}

static bool dir_has_keys(const char *dir, bool *has)
{
	*has = false;
	return scan_dir(dir, "kek-", ".key", any_key_cb, has) &&
	       scan_dir(dir, "pseudonym-", ".wrapped", any_key_cb, has) &&
	       scan_dir(dir, "reid-", ".pub", any_key_cb, has);
}

bool keystore_init(const char *dir, const char *private_key_out, struct keystore_init_result *res)
{
	errbuf[0] = '\0';
	memset(res, 0, sizeof *res);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		set_error("%s: %s", dir, strerror(errno));
		return false;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		set_error("%s: not a directory", dir);
		return false;
	}
	if ((st.st_mode & 022) != 0) {
		set_error("%s: writable by group/other (mode %04o); use 0700", dir,
			  (unsigned)(st.st_mode & 07777));
		return false;
	}
	bool has = false;
	if (!dir_has_keys(dir, &has))
		return false;
	if (has) {
		set_error("%s already holds keys; refusing to create new ones (use "
			  "kprctl keys status)",
			  dir);
		return false;
	}
	/* The private key must not land beside the keys it protects against. */
	char *copy = strdup(private_key_out), dir_real[PATH_MAX], out_real[PATH_MAX];
	bool same = copy != NULL && realpath(dir, dir_real) != NULL &&
		    realpath(dirname(copy), out_real) != NULL && strcmp(dir_real, out_real) == 0;
	free(copy);
	if (same) {
		set_error("%s: the private key must not be written into the key directory",
			  private_key_out);
		return false;
	}
	if (!reid_create(dir, private_key_out, res->reid_id))
		return false;

	struct kek *kek = kek_file_create(dir);
	if (kek == NULL)
		return false;
	unsigned char key[KEYSTORE_KEY_LEN];
	struct wrapped w = {.version = 1};
	bool ok = RAND_priv_bytes(key, sizeof key) == 1;
	if (!ok)
		set_error("random generator failed");
	ok = ok && wrapped_seal(&w, kek, key) && wrapped_write(dir, &w, false);
	OPENSSL_cleanse(key, sizeof key);
	if (ok) {
		strcpy(res->kek_id, kek->id);
		res->pseudonym_version = 1;
		strcpy(res->pseudonym_fingerprint, w.fingerprint);
		audit("keys.init", "kek=%s pseudonym_version=1 pseudonym_fp=%s reid=%s",
		      res->kek_id, res->pseudonym_fingerprint, res->reid_id);
	}
	kek_free(kek);
	return ok;
}

/* ---- KEK rotation ---- */

struct rotate_state {
	const char *dir;
	struct keystore_pseudonym_key keys[64];
	size_t n;
	char old_ids[64][KEYSTORE_ID_LEN + 1];
	size_t n_old;
	bool failed;
};

static bool rotate_collect_cb(void *arg, const char *name, const char *m, size_t mlen)
{
	(void)name;
	struct rotate_state *rs = arg;
	int v;
	if (!parse_version(m, mlen, &v))
		return true;
	if (rs->n == KPR_ARRAY_LEN(rs->keys)) {
		set_error("too many pseudonym key versions");
		return false;
	}
	struct keystore_pseudonym_key *k = &rs->keys[rs->n];
	if (!keystore_load_pseudonym_key_version(rs->dir, v, k))
		return false;
	rs->n++;
	size_t i = 0;
	while (i < rs->n_old && strcmp(rs->old_ids[i], k->kek_id) != 0)
		i++;
	if (i == rs->n_old) {
		memcpy(rs->old_ids[i], k->kek_id, sizeof rs->old_ids[i]);
		rs->n_old = i + 1;
	}
	return true;
}

bool keystore_rotate_kek(const char *dir, char old_id[KEYSTORE_ID_LEN + 1],
			 char new_id[KEYSTORE_ID_LEN + 1])
{
	errbuf[0] = '\0';
	old_id[0] = new_id[0] = '\0';
	struct rotate_state *rs = OPENSSL_zalloc(sizeof *rs);
	if (rs == NULL) {
		set_error("out of memory");
		return false;
	}
	rs->dir = dir;
	bool ok = scan_dir(dir, "pseudonym-", ".wrapped", rotate_collect_cb, rs);
	if (ok && rs->n == 0) {
		set_error("%s: no pseudonym key to re-wrap", dir);
		ok = false;
	}
	struct kek *kek = ok ? kek_file_create(dir) : NULL;
	ok = ok && kek != NULL;
	/* Each file is replaced atomically; a crash part-way leaves every key
	 * wrapped by either the old or the new KEK, and both KEK files exist. */
	for (size_t i = 0; ok && i < rs->n; i++) {
		struct wrapped w = {.version = rs->keys[i].version};
		ok = wrapped_seal(&w, kek, rs->keys[i].key) && wrapped_write(dir, &w, true);
	}
	/* Verify from disk before the old KEKs go. */
	for (size_t i = 0; ok && i < rs->n; i++) {
		struct keystore_pseudonym_key check;
		ok = keystore_load_pseudonym_key_version(dir, rs->keys[i].version, &check) &&
		     strcmp(check.kek_id, kek->id) == 0 &&
		     CRYPTO_memcmp(check.key, rs->keys[i].key, KEYSTORE_KEY_LEN) == 0;
		keystore_pseudonym_key_wipe(&check);
		if (!ok && errbuf[0] == '\0')
			set_error("verification after re-wrap failed");
	}
	for (size_t i = 0; ok && i < rs->n_old; i++) {
		char name[64], path[PATH_MAX];
		snprintf(name, sizeof name, "kek-%s.key", rs->old_ids[i]);
		if (strcmp(rs->old_ids[i], kek->id) != 0 && join(path, sizeof path, dir, name) &&
		    unlink(path) != 0) {
			set_error("%s: %s (re-wrap done; remove the old KEK by hand)", path,
				  strerror(errno));
			ok = false;
		}
	}
	if (ok && !files_fsync_dir(dir)) {
		set_error("%s: fsync: %s", dir, strerror(errno));
		ok = false;
	}
	if (ok) {
		strcpy(old_id, rs->old_ids[0]);
		strcpy(new_id, kek->id);
		audit("keys.rotate_kek", "old_kek=%s new_kek=%s pseudonym_keys=%zu%s", old_id,
		      new_id, rs->n, rs->n_old > 1 ? " (several old KEKs)" : "");
	}
	kek_free(kek);
	OPENSSL_clear_free(rs, sizeof *rs);
	return ok;
}

/* ---- status ---- */

struct status_list {
	const char *dir;
	struct keystore_item *items;
	size_t n, cap;
};

static struct keystore_item *status_add(struct status_list *sl, enum keystore_item_kind kind,
					const char *name)
{
	if (sl->n == sl->cap) {
		size_t cap = sl->cap ? sl->cap * 2 : 8;
		struct keystore_item *p = realloc(sl->items, cap * sizeof *p);
		if (p == NULL) {
			set_error("out of memory");
			return NULL;
		}
		sl->items = p;
		sl->cap = cap;
	}
	struct keystore_item *it = &sl->items[sl->n++];
	memset(it, 0, sizeof *it);
	it->kind = kind;
	snprintf(it->file, sizeof it->file, "%s", name);
	return it;
}

static bool status_kek_cb(void *arg, const char *name, const char *m, size_t mlen)
{
	struct status_list *sl = arg;
	struct keystore_item *it = status_add(sl, KEYSTORE_ITEM_KEK, name);
	if (it == NULL)
		return false;
	if (is_id(m, mlen))
		memcpy(it->id, m, KEYSTORE_ID_LEN);
	char path[PATH_MAX];
	struct kek *kek = join(path, sizeof path, sl->dir, name) ? kek_file_open(path) : NULL;
	it->ok = kek != NULL;
	if (kek == NULL)
		snprintf(it->problem, sizeof it->problem, "%.159s", keystore_error());
	kek_free(kek);
	return true;
}

static bool status_pseudonym_cb(void *arg, const char *name, const char *m, size_t mlen)
{
	struct status_list *sl = arg;
	int v;
	if (!parse_version(m, mlen, &v))
		return true;
	struct keystore_item *it = status_add(sl, KEYSTORE_ITEM_PSEUDONYM_KEY, name);
	if (it == NULL)
		return false;
	it->version = v;
	char path[PATH_MAX];
	struct wrapped w;
	if (!join(path, sizeof path, sl->dir, name) || !wrapped_read(path, &w)) {
		snprintf(it->problem, sizeof it->problem, "%.159s", keystore_error());
		return true;
	}
	strcpy(it->id, w.fingerprint);
	strcpy(it->kek_id, w.kek_id);
	snprintf(it->created, sizeof it->created, "%s", w.created);
	struct keystore_pseudonym_key k;
	it->ok = keystore_load_pseudonym_key_version(sl->dir, v, &k);
	keystore_pseudonym_key_wipe(&k);
	if (!it->ok)
		snprintf(it->problem, sizeof it->problem, "%.159s", keystore_error());
	return true;
}

static bool status_reid_cb(void *arg, const char *name, const char *m, size_t mlen)
{
	struct status_list *sl = arg;
	if (!is_id(m, mlen))
		return true;
	struct keystore_item *it = status_add(sl, KEYSTORE_ITEM_REID_PUBLIC, name);
	if (it == NULL)
		return false;
	char path[PATH_MAX], id[KEYSTORE_ID_LEN + 1];
	unsigned char pk[32];
	memcpy(it->id, m, KEYSTORE_ID_LEN);
	if (!join(path, sizeof path, sl->dir, name) || !read_reid_public(path, pk, id))
		snprintf(it->problem, sizeof it->problem, "%.159s", keystore_error());
	else if (strcmp(id, it->id) != 0)
		snprintf(it->problem, sizeof it->problem,
			 "file name does not match the key inside (its id is %s)", id);
	else
		it->ok = true;
	return true;
}

static int item_cmp(const void *a, const void *b)
{
	const struct keystore_item *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return strcmp(x->file, y->file);
}

bool keystore_status(const char *dir, struct keystore_item **items, size_t *n)
{
	errbuf[0] = '\0';
	struct status_list sl = {.dir = dir};
	bool ok = scan_dir(dir, "kek-", ".key", status_kek_cb, &sl) &&
		  scan_dir(dir, "pseudonym-", ".wrapped", status_pseudonym_cb, &sl) &&
		  scan_dir(dir, "reid-", ".pub", status_reid_cb, &sl);
	if (!ok) {
		free(sl.items);
		return false;
	}
	/* A KEK that wraps nothing is worth a note (left over from a failed
	 * rotation, or a copy from elsewhere). */
	for (size_t i = 0; i < sl.n; i++) {
		if (sl.items[i].kind != KEYSTORE_ITEM_KEK || !sl.items[i].ok)
			continue;
		bool used = false;
		for (size_t j = 0; j < sl.n; j++)
			if (sl.items[j].kind == KEYSTORE_ITEM_PSEUDONYM_KEY &&
			    strcmp(sl.items[j].kek_id, sl.items[i].id) == 0)
				used = true;
		if (!used)
			snprintf(sl.items[i].problem, sizeof sl.items[i].problem,
				 "note: wraps no pseudonym key in this directory");
	}
	qsort(sl.items, sl.n, sizeof *sl.items, item_cmp);
	*items = sl.items;
	*n = sl.n;
	return true;
}

void keystore_status_free(struct keystore_item *items)
{
	free(items);
}
