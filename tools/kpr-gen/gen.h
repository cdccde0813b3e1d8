/*
 * gen.h — kpr-gen's internal interface: the PRNG, the buffered output file
 * (plain or gzip, hashed with SHA-256 as it is written), the injection rule
 * table and the per-municipality generator. Local to tools/kpr-gen.
 * Nothing here ever prints a national ID: the manifest and stdout carry
 * refs and counts only.
 */
#ifndef KPR_GEN_H
#define KPR_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <zlib.h>

#define KPR_GEN_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- PRNG: splitmix64 for seeding, xoshiro256** for the streams ---- */

struct rng {
	uint64_t s[4];
};

static inline uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n); n > 0 (Lemire's multiply-shift, bias < 2^-32). */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]; hi >= lo. */
static inline int rng_range(struct rng *r, int lo, int hi)
{
	return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

static inline double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline bool rng_chance(struct rng *r, double p)
{
	return rng_unit(r) < p;
}

/* FNV-1a, to derive per-municipality streams from the seed. */
static inline uint64_t gen_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* ---- buffered output ---- */

#define OUT_BUF_SIZE (4u << 20)
/* Room guaranteed before each Person is written: far above the largest
 * person the generator makes (a few KB), so emitters need no bound checks. */
#define OUT_HEADROOM (64u << 10)

struct out {
	int fd;
	bool gzip;
	bool failed;
	int err; /* errno of the first failure */
	z_stream z;
	unsigned char *zbuf;
	EVP_MD_CTX *sha;
	char *buf;
	size_t len;
	unsigned long long bytes;     /* bytes written to the file */
	unsigned long long raw_bytes; /* XML bytes before compression */
};

/* Opens path for writing (truncates). buf must hold OUT_BUF_SIZE bytes. */
bool out_open(struct out *o, const char *path, bool gzip, char *buf)
    __attribute__((warn_unused_result));
/* Makes sure at least OUT_HEADROOM bytes are free at buf + len. */
void out_reserve(struct out *o);
void out_write(struct out *o, const char *s, size_t n);
/* Flushes, finishes gzip, closes, and gives the file's SHA-256 (hex). */
bool out_close(struct out *o, char sha_hex[65]) __attribute__((warn_unused_result));
/* Frees resources after a failure without finishing the file. */
void out_abort(struct out *o);
/* Writes the UTF-8 text s at p in the file's declared encoding: as is for
 * UTF-8; for ISO-8859-1 (latin1) U+0080..U+00FF as one byte and any other
 * non-ASCII character, or a malformed byte (as U+FFFD), as a character
 * reference. Returns the end; needs at most 8 bytes per byte of s. */
char *out_text(char *p, const char *s, bool latin1);

/* ---- injection rules ---- */

enum inj_scope {
	SCOPE_FILE = 0,
	SCOPE_IDENTITY, /* R101–R105: at most one per person */
	SCOPE_PERSON,
	SCOPE_VURDERING,
	SCOPE_TJENESTE,
	SCOPE_DIAGNOSE,
};

enum inj_rule {
	INJ_F001 = 0,
	INJ_F002,
	INJ_F003,
	INJ_F004,
	INJ_F005,
	INJ_F006,
	INJ_F007,
	INJ_R101,
	INJ_R102,
	INJ_R103,
	INJ_R104,
	INJ_R105,
	INJ_R106,
	INJ_R107,
	INJ_R108,
	INJ_R109,
	INJ_R110,
	INJ_R201,
	INJ_R202,
	INJ_R203,
	INJ_R204,
	INJ_R301,
	INJ_R302,
	INJ_R303,
	INJ_R304,
	INJ_R305,
	INJ_R306,
	INJ_R307,
	INJ_R308,
	INJ_R309,
	INJ_R310,
	INJ_R401,
	INJ_R402,
	INJ_R403,
	INJ_R404,
	INJ_R405,
	INJ_COUNT
};

/* SPEC §3 severities, so the manifest can say what the server should load:
 * FATAL rejects the file, ERROR excludes the smallest enclosing element
 * (the whole person for identity, ref and Kjonn), WARNING loads. */
enum inj_level {
	LEVEL_FATAL = 0,
	LEVEL_ERROR,
	LEVEL_WARNING,
};

struct inj_def {
	const char *id;
	enum inj_scope scope;
	enum inj_level level;
	const char *what; /* for --help */
};

extern const struct inj_def inj_defs[INJ_COUNT];

/* Per file: how many times each rule was injected and into which refs. */
struct inj_log {
	unsigned long count[INJ_COUNT];
	char *refs[INJ_COUNT]; /* comma-separated, malloc'd, NULL when none */
	size_t refs_len[INJ_COUNT];
	size_t refs_cap[INJ_COUNT];
	char note[INJ_COUNT][64]; /* file rules: what was done ("kommunenummer 3101") */
};

void inj_log_free(struct inj_log *l);

/* ---- configuration and one municipality ---- */

#define GEN_MAX_TYPE 64

/* Person/@ref shapes: each care-records system's own counter (the
 * default), or journal numbers as archives write them. */
enum ref_style {
	REFS_SYSTEM = 0,
	REFS_JOURNAL, /* "1101-0000001" or "2024/123456-01", one shape per municipality */
};

struct gen_config {
	uint64_t seed;
	int aargang;
	bool gzip;
	const char *out_dir;
	double rate[INJ_COUNT];
	bool any_inject;
	enum ref_style refs;
	int units;       /* 0: no enhet; N: Person/@enhet from N unit names, some
		    * services at a site of their own (Tjeneste/@enhet) */
	bool units_auto; /* --units auto: each municipality's own units (units.c);
			  * units is 0 then */
	/* Service types valid for the årgang, and which are institution
	 * services (from config/codelists.csv when present, else SPEC §2). */
	bool type_valid[GEN_MAX_TYPE];
	bool type_institution[GEN_MAX_TYPE];
	/* Date strings "YYYY-MM-DD" for every day from date_base on. */
	int date_base; /* days since 1970-01-01 of 1 Jan (aargang - 12) */
	int date_count;
	const char *dates; /* date_count * 10 bytes, not NUL-terminated */
};

struct kommune {
	char nummer[8];
	char navn[96];
	long population;
	unsigned long persons; /* persons to generate */
	/* The identity cells this municipality draws from first: a cell is a
	 * pair of individual numbers (one per sex, 250 pairs per century) and
	 * a birth day modulo 4, so 1000 cells, shared out in proportion to the
	 * national size. Disjoint slices mean one person seldom turns up in
	 * two municipalities (it still happens when a slice is full). */
	int cell_lo, cell_count;
};

/* --units auto: the units of one municipality (SPEC §2 enhet), by its
 * population: Oslo's 15 bydeler, a few home-care zones in the larger
 * municipalities, none in the small ones. Person units come first in name[],
 * then the service sites (institutions). Names are UTF-8, at most 64
 * characters, without XML special characters. */
#define UNITS_AUTO_MAX 24
struct unit_set {
	int n_person, n_site;
	unsigned weight[UNITS_AUTO_MAX]; /* person units' relative sizes */
	unsigned weight_sum;
	char name[UNITS_AUTO_MAX][72];
};

void units_auto_build(const struct kommune *k, struct unit_set *u);
/* The index in name[] of the person unit for the hash h, or -1 when the
 * municipality has none. */
int units_auto_person(const struct unit_set *u, unsigned long h);
/* The index in name[] of the service site for the hash h, or -1 for none:
 * half the hashes name one, when the municipality has sites. */
int units_auto_site(const struct unit_set *u, unsigned long h);

struct file_result {
	int innsending; /* input: 1, or 2 for a municipality's later, second file */
	char file[64];
	char id[40];      /* Innsending/@id */
	char forrige[40]; /* @forrigeId written, "" when none */
	char avsender[8]; /* kommunenummer written in Avsender (differs under F003/F004) */
	unsigned long persons;
	unsigned long long registrations;
	unsigned long long bytes;     /* file size */
	unsigned long long raw_bytes; /* XML bytes (same as bytes unless gzip) */
	char sha256[65];
	int units; /* distinct enhet names written (R110's bad ones aside) */
	struct inj_log inj;
	/* What the server should make of the file (SPEC §3), from the faults
	 * injected: persons and registrations loaded, persons with an ERROR
	 * (excluded whole or in part, R105/R106 partners included) and with a
	 * WARNING only, and whether a FATAL or an ERROR was injected. */
	unsigned long persons_loaded;
	unsigned long long registrations_loaded;
	unsigned long persons_error, persons_warning;
	bool has_fatal, has_error;
	bool ok;
	char error[160];
};

/* Generates the file of one municipality (with all other municipalities
 * given for F003); res->innsending (1 or 2) says which of its files.
 * Deterministic in (cfg->seed, k->nummer, res->innsending, cfg). The
 * second file holds the same persons (a corrected extract: its faults are
 * drawn anew), a later opprettet, its own id and @forrigeId naming the
 * first. */
void gen_kommune(const struct gen_config *cfg, const struct kommune *k, const struct kommune *all,
		 size_t n_all, struct file_result *res);

int gen_days_from_civil(int y, int m, int d);
void gen_civil_from_days(int z, int *y, int *m, int *d);

#endif
