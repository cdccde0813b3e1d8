/*
 * units.c — kpr-gen's --units auto: the units (SPEC §2 enhet) a
 * municipality of its size would report. Oslo reports by its 15 bydeler,
 * and Sykehjemsetaten runs its nursing homes; a larger municipality splits
 * home care into zones and has a helsehus; a medium one two zones; a small
 * one reports no units at all. The choice depends on the municipality
 * alone, and the picks on hashes of the person's ref (gen.c), so the rest
 * of a file is the same as without units. Draws nothing at random.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

/* population thresholds: at or above LARGE a few zones and sites, at or
 * above MEDIUM two zones, below it no units */
#define UNITS_LARGE  50000L
#define UNITS_BIG    100000L
#define UNITS_MEDIUM 10000L

/* Oslo's bydeler with their population in thousands (about 2024), so a
 * bigger bydel gets more persons. */
static const struct {
	const char *name;
	unsigned thousands;
} OSLO_BYDELER[] = {
    {"Bydel Gamle Oslo", 62},     {"Bydel Grünerløkka", 65}, {"Bydel Sagene", 46},
    {"Bydel St. Hanshaugen", 40}, {"Bydel Frogner", 60},     {"Bydel Ullern", 36},
    {"Bydel Vestre Aker", 52},    {"Bydel Nordre Aker", 54}, {"Bydel Bjerke", 35},
    {"Bydel Grorud", 28},         {"Bydel Stovner", 34},     {"Bydel Alna", 50},
    {"Bydel Østensjø", 52},       {"Bydel Nordstrand", 54},  {"Bydel Søndre Nordstrand", 39},
};

/* Oslo's institutions are run by an agency, not by the bydeler */
static const char *const OSLO_SITES[] = {
    "Sykehjemsetaten Lille Tøyen sykehjem",
    "Sykehjemsetaten Økernhjemmet",
    "Sykehjemsetaten Manglerudhjemmet",
    "Sykehjemsetaten Stovnerskogen sykehjem",
};

static const char *const ZONES[] = {
    "Hjemmetjenesten sone nord",
    "Hjemmetjenesten sone sør",
    "Hjemmetjenesten sone øst",
    "Hjemmetjenesten sone vest",
};

static void add(struct unit_set *u, const char *name, unsigned weight, bool site)
{
	int i = u->n_person + u->n_site;
	if (i >= UNITS_AUTO_MAX)
		return;
	snprintf(u->name[i], sizeof(u->name[i]), "%s", name);
	if (site) {
		u->n_site++;
		return;
	}
	u->weight[i] = weight;
	u->weight_sum += weight;
	u->n_person++;
}

/* "<name> helsehus": the municipality's name as listed, up to a Sami or
 * Kven form after " - ", without characters XML would need escaped, cut at a
 * character boundary so the unit stays within 64 bytes (so 64 characters). */
static void add_named_site(struct unit_set *u, const char *navn, const char *suffix)
{
	char buf[72];
	size_t n = 0, room = 64 - strlen(suffix);
	const char *end = strstr(navn, " - ");
	for (const char *c = navn; *c && c != end && n < room; c++)
		if ((unsigned char)*c >= 0x20 && !strchr("&<>\"", *c))
			buf[n++] = *c;
	if (n > 0) { /* the last character whole, or gone */
		size_t j = n - 1;
		while (j > 0 && ((unsigned char)buf[j] & 0xc0) == 0x80)
			j--;
		unsigned char lead = (unsigned char)buf[j];
		size_t len = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
		if (j + len > n)
			n = j;
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	if (n == 0) {
		add(u, "Helsehuset", 0, true);
		return;
	}
	snprintf(buf + n, sizeof(buf) - n, "%s", suffix);
	add(u, buf, 0, true);
}

void units_auto_build(const struct kommune *k, struct unit_set *u)
{
	memset(u, 0, sizeof(*u));
	if (strcmp(k->nummer, "0301") == 0) {
		for (size_t i = 0; i < KPR_GEN_LEN(OSLO_BYDELER); i++)
			add(u, OSLO_BYDELER[i].name, OSLO_BYDELER[i].thousands, false);
		for (size_t i = 0; i < KPR_GEN_LEN(OSLO_SITES); i++)
			add(u, OSLO_SITES[i], 0, true);
	} else if (k->population >= UNITS_BIG) {
		for (size_t i = 0; i < KPR_GEN_LEN(ZONES); i++)
			add(u, ZONES[i], 1, false);
		add_named_site(u, k->navn, " helsehus");
		add(u, "Sykehjemmet sentrum", 0, true);
	} else if (k->population >= UNITS_LARGE) {
		add(u, ZONES[0], 3, false);
		add(u, ZONES[1], 3, false);
		/* those with no home care yet: an application, omsorgsstønad */
		add(u, "Tildelingskontoret", 1, false);
		add_named_site(u, k->navn, " helsehus");
	} else if (k->population >= UNITS_MEDIUM) {
		add(u, ZONES[0], 1, false);
		add(u, ZONES[1], 1, false);
	}
}

/* MurmurHash3's finaliser: FNV-1a's low bits follow the low bits of the
 * ref's bytes and the salt, so a test of h % 2 on one salt would fix the
 * parity of another; mixed, every bit depends on all of them. */
static unsigned long mix(unsigned long h)
{
	uint64_t x = h;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return (unsigned long)x;
}

int units_auto_person(const struct unit_set *u, unsigned long h)
{
	if (u->n_person == 0 || u->weight_sum == 0)
		return -1;
	unsigned long at = mix(h) % u->weight_sum;
	for (int i = 0; i < u->n_person; i++) {
		if (at < u->weight[i])
			return i;
		at -= u->weight[i];
	}
	return u->n_person - 1;
}

int units_auto_site(const struct unit_set *u, unsigned long h)
{
	unsigned long m = mix(h);
	if (u->n_site == 0 || (m & 1) == 0)
		return -1;
	return u->n_person + (int)((m >> 1) % (unsigned long)u->n_site);
}
