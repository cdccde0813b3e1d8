/*
 * validate_dedup.c — duplicates across the file: the same ref (R106) or the
 * same national ID (R105) in two persons. Both are reported at both persons
 * and the earlier one, already handed to the sink, is retracted.
 *
 * Keeps per person a small record, the ref as written (identity is not
 * display: refs are compared exactly), and the national ID only as a keyed
 * 37-bit permutation with per-run random keys, never in clear. Every table
 * is wiped when freed.
 */
#include "validate_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "received.h"

static uint32_t hash_str(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* A keyed permutation of the 11-digit number (< 2^37) onto 37 bits: exact
 * duplicate detection without keeping the number itself in the table. */
static uint64_t fnr_key(const struct vstate *s, const char *fnr)
{
	uint64_t x = 0;
	for (int i = 0; i < 11; i++)
		x = x * 10 + (uint64_t)(fnr[i] - '0');
	x = (x ^ s->dedup.fnr_key0) & FNR_KEY_MASK;
	x = (x * (s->dedup.fnr_key1 | 1)) & FNR_KEY_MASK; /* odd multiplier: invertible mod 2^37 */
	x ^= x >> 19;
	x = (x * 0x9E3779B97F4A7C15ull) & FNR_KEY_MASK;
	x ^= x >> 17;
	x = (x + s->dedup.fnr_key2) & FNR_KEY_MASK;
	return x;
}

/* The ref as written: for identity (duplicates, retraction) only. */
static const char *prec_ref(const struct vstate *s, const struct prec *p)
{
	return s->dedup.refs + p->ref_off;
}

/* The person's unit as its messages carry it (report.h). */
static const char *prec_unit(const struct vstate *s, const struct prec *p)
{
	return s->dedup.refs + p->unit_off;
}

/* The ref as shown in a message (masked by SPEC §3's rule); "(uten ref)"
 * when the person had none. */
static const char *prec_ref_display(const struct vstate *s, const struct prec *p, char *out,
				    size_t outlen)
{
	const char *ref = prec_ref(s, p);
	if (!ref[0])
		return "(uten ref)";
	val_scrub_text(s, ref, strlen(ref), MAX_REF_SHOWN, out, outlen);
	return out;
}

static long prec_new(struct vstate *s, unsigned long line)
{
	if (s->dedup.n_precs >= MAX_PRECS)
		return -1;
	if (s->dedup.n_precs == s->dedup.cap_precs) {
		size_t nc = s->dedup.cap_precs ? s->dedup.cap_precs * 2 : 1024;
		struct prec *np = realloc(s->dedup.precs, nc * sizeof *np);
		if (!np)
			return -1;
		s->dedup.precs = np;
		s->dedup.cap_precs = nc;
	}
	const char *ref = s->person.has_ref ? s->person.ref : "";
	const char *unit = val_person_unit(s);
	size_t n = strlen(ref) + 1, un = strlen(unit ? unit : "") + 1;
	while (s->dedup.refs_len + n + un > s->dedup.refs_cap) {
		size_t nc = s->dedup.refs_cap ? s->dedup.refs_cap * 2 : 65536;
		if (nc > UINT32_MAX)
			return -1;
		char *nr = realloc(s->dedup.refs, nc);
		if (!nr)
			return -1;
		s->dedup.refs = nr;
		s->dedup.refs_cap = nc;
	}
	struct prec *p = &s->dedup.precs[s->dedup.n_precs];
	memset(p, 0, sizeof *p);
	p->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	p->ref_off = (uint32_t)s->dedup.refs_len;
	memcpy(s->dedup.refs + s->dedup.refs_len, ref, n);
	s->dedup.refs_len += n;
	p->unit_off = (uint32_t)s->dedup.refs_len;
	memcpy(s->dedup.refs + s->dedup.refs_len, unit ? unit : "", un);
	s->dedup.refs_len += un;
	return (long)s->dedup.n_precs++;
}

static bool ref_tab_grow(struct vstate *s)
{
	size_t nc = s->dedup.ref_cap ? s->dedup.ref_cap * 2 : 4096;
	struct ref_slot *nt = calloc(nc, sizeof *nt);
	if (!nt)
		return false;
	for (size_t i = 0; i < s->dedup.ref_cap; i++) {
		if (!s->dedup.ref_tab[i].prec)
			continue;
		size_t h = s->dedup.ref_tab[i].hash & (nc - 1);
		while (nt[h].prec)
			h = (h + 1) & (nc - 1);
		nt[h] = s->dedup.ref_tab[i];
	}
	if (s->dedup.ref_tab) /* hashes of refs as written, which may be IDs */
		explicit_bzero(s->dedup.ref_tab, s->dedup.ref_cap * sizeof *s->dedup.ref_tab);
	free(s->dedup.ref_tab);
	s->dedup.ref_tab = nt;
	s->dedup.ref_cap = nc;
	return true;
}

/* Finds ref; when absent, inserts prec. Returns the existing prec, -1 when
 * inserted, -2 when out of memory. */
static long ref_lookup_insert(struct vstate *s, const char *ref, long prec)
{
	if (!s->dedup.ref_cap || (s->dedup.ref_used + 1) * 10 > s->dedup.ref_cap * 7)
		if (!ref_tab_grow(s))
			return -2;
	uint32_t hv = hash_str(ref, strlen(ref));
	size_t h = hv & (s->dedup.ref_cap - 1);
	while (s->dedup.ref_tab[h].prec) {
		if (s->dedup.ref_tab[h].hash == hv &&
		    strcmp(prec_ref(s, &s->dedup.precs[s->dedup.ref_tab[h].prec - 1]), ref) == 0)
			return (long)s->dedup.ref_tab[h].prec - 1;
		h = (h + 1) & (s->dedup.ref_cap - 1);
	}
	s->dedup.ref_tab[h].hash = hv;
	s->dedup.ref_tab[h].prec = (uint32_t)prec + 1;
	s->dedup.ref_used++;
	return -1;
}

static size_t fnr_slot_hash(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static bool fnr_tab_grow(struct vstate *s)
{
	size_t nc = s->dedup.fnr_cap ? s->dedup.fnr_cap * 2 : 4096;
	uint64_t *nt = calloc(nc, sizeof *nt);
	if (!nt)
		return false;
	for (size_t i = 0; i < s->dedup.fnr_cap; i++) {
		if (!s->dedup.fnr_tab[i])
			continue;
		size_t h = fnr_slot_hash(s->dedup.fnr_tab[i] >> FNR_PREC_BITS, nc);
		while (nt[h])
			h = (h + 1) & (nc - 1);
		nt[h] = s->dedup.fnr_tab[i];
	}
	if (s->dedup.fnr_tab)
		explicit_bzero(s->dedup.fnr_tab, s->dedup.fnr_cap * sizeof *s->dedup.fnr_tab);
	free(s->dedup.fnr_tab);
	s->dedup.fnr_tab = nt;
	s->dedup.fnr_cap = nc;
	return true;
}

static long fnr_lookup_insert(struct vstate *s, uint64_t key, long prec)
{
	if (!s->dedup.fnr_cap || (s->dedup.fnr_used + 1) * 10 > s->dedup.fnr_cap * 7)
		if (!fnr_tab_grow(s))
			return -2;
	size_t h = fnr_slot_hash(key, s->dedup.fnr_cap);
	while (s->dedup.fnr_tab[h]) {
		if ((s->dedup.fnr_tab[h] >> FNR_PREC_BITS) == key)
			return (long)(s->dedup.fnr_tab[h] & ((1ULL << FNR_PREC_BITS) - 1)) - 1;
		h = (h + 1) & (s->dedup.fnr_cap - 1);
	}
	s->dedup.fnr_tab[h] = (key << FNR_PREC_BITS) | ((uint64_t)prec + 1);
	s->dedup.fnr_used++;
	return -1;
}

static void retract(struct vstate *s, struct prec *p)
{
	if (!p->delivered || p->retracted)
		return;
	p->retracted = true;
	if (s->r) {
		struct report_summary *sum = report_summary(s->r);
		sum->persons_loaded--;
		sum->persons_excluded++;
		sum->registrations_loaded -= p->regs;
		sum->registrations_excluded += p->regs;
		struct report_unit *u = report_unit(s->r, prec_unit(s, p));
		if (u) {
			u->persons_loaded--;
			u->persons_excluded++;
		}
		if (!received_retract(report_received(s->r), p->received)) {
			s->internal_error = true;
			val_stop(s);
			return;
		}
	}
	if (s->sink && s->sink->retract && !s->fatal &&
	    !s->sink->retract(s->sink->ctx, prec_ref(s, p))) {
		s->internal_error = true;
		val_stop(s);
	}
}

static void internal_error(struct vstate *s)
{
	s->internal_error = true;
	val_stop(s);
}

/* R106: the ref of an earlier person; both are reported, the earlier one
 * retracted. False on an internal error. */
static bool dedup_ref(struct vstate *s, long me)
{
	char ppath_ref[64];
	snprintf(ppath_ref, sizeof ppath_ref, "%s/@ref", val_ek_path[E_PERSON]);
	long other = ref_lookup_insert(s, s->person.ref, me);
	if (other == -2) {
		internal_error(s);
		return false;
	}
	if (other < 0)
		return true;
	struct prec *o = &s->dedup.precs[other];
	char obuf[sizeof s->person.ref_display];
	const char *oref = prec_ref_display(s, o, obuf, sizeof obuf);
	char text[768];
	snprintf(
	    text, sizeof text,
	    "ref «%s» er brukt for flere personer i filen (også linje %lu); personen lastes ikke",
	    s->person.ref_display, (unsigned long)o->line);
	val_msg_raw(s, RULE_R106, s->person.ref_display, s->person.line, ppath_ref, text,
		    s->person.ref_display);
	snprintf(
	    text, sizeof text,
	    "ref «%s» er brukt for flere personer i filen (også linje %lu); personen lastes ikke",
	    oref, s->person.line);
	val_set_unit(s, prec_unit(s, o)); /* about the earlier person: its unit */
	val_msg_raw(s, RULE_R106, oref, o->line, ppath_ref, text, oref);
	val_set_unit(s, val_person_unit(s));
	s->person.excluded = true;
	retract(s, o);
	return true;
}

/* R105: the national ID of an earlier person, found by its keyed
 * permutation; masked is its display form. False on an internal error. */
static bool dedup_fnr(struct vstate *s, long me, const char *masked)
{
	long other = fnr_lookup_insert(s, fnr_key(s, s->person.fnr), me);
	if (other == -2) {
		internal_error(s);
		return false;
	}
	if (other < 0)
		return true;
	struct prec *o = &s->dedup.precs[other];
	char obuf[sizeof s->person.ref_display];
	const char *oref = prec_ref_display(s, o, obuf, sizeof obuf);
	const char *mref = s->person.ref_display[0] ? s->person.ref_display : "(uten ref)";
	char text[768];
	snprintf(
	    text, sizeof text,
	    "Samme fødselsnummer forekommer i flere personer i filen: ref «%s» (linje %lu) og ref «%s» (linje %lu); begge lastes ikke",
	    mref, s->person.line, oref, (unsigned long)o->line);
	val_msg_raw(s, RULE_R105, s->person.ref_display, s->person.fnr_line, val_ek_path[E_FNR],
		    text, masked);
	snprintf(
	    text, sizeof text,
	    "Samme fødselsnummer forekommer i flere personer i filen: ref «%s» (linje %lu) og ref «%s» (linje %lu); begge lastes ikke",
	    oref, (unsigned long)o->line, mref, s->person.line);
	val_set_unit(s, prec_unit(s, o)); /* about the earlier person: its unit */
	val_msg_raw(s, RULE_R105, prec_ref(s, o)[0] ? oref : "", o->line, val_ek_path[E_FNR], text,
		    masked);
	val_set_unit(s, val_person_unit(s));
	s->person.excluded = true;
	retract(s, o);
	return true;
}

/* Records the current person (when its ref or national ID is usable) and
 * checks both against every earlier person. *me: its record, -1 when none.
 * False on an internal error (the parse is stopped). */
bool val_dedup_person(struct vstate *s, bool ref_usable, bool nid_ok, const char *masked, long *me)
{
	*me = -1;
	if (!s->internal_error && (ref_usable || nid_ok)) {
		*me = prec_new(s, s->person.line);
		if (*me < 0) {
			internal_error(s);
			return false;
		}
	}
	if (*me >= 0 && ref_usable && !dedup_ref(s, *me))
		return false;
	if (*me >= 0 && nid_ok && !dedup_fnr(s, *me, masked))
		return false;
	return true;
}

void val_dedup_init(struct vstate *s)
{
	uint64_t k[2] = {0, 0};
	FILE *f = fopen("/dev/urandom", "rb");
	if (f) {
		if (fread(k, sizeof k, 1, f) != 1)
			k[0] = k[1] = 0;
		fclose(f);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->dedup.fnr_key0 = k[0] ^ (uint64_t)ts.tv_nsec;
	s->dedup.fnr_key1 = k[1] ^ ((uint64_t)(uintptr_t)s << 1);
	s->dedup.fnr_key2 = k[0] * 31 + k[1];
}

void val_dedup_free(struct vstate *s)
{
	free(s->dedup.precs);
	if (s->dedup.ref_tab)
		explicit_bzero(s->dedup.ref_tab, s->dedup.ref_cap * sizeof *s->dedup.ref_tab);
	free(s->dedup.ref_tab);
	/* the fnr table with its keys is a reversible encoding of every
	 * national ID in the file: both are wiped (the keys with the state) */
	if (s->dedup.fnr_tab)
		explicit_bzero(s->dedup.fnr_tab, s->dedup.fnr_cap * sizeof *s->dedup.fnr_tab);
	free(s->dedup.fnr_tab);
	if (s->dedup.refs)
		explicit_bzero(s->dedup.refs, s->dedup.refs_cap);
	free(s->dedup.refs);
}
