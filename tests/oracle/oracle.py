#!/usr/bin/env python3
"""Random end-to-end oracle: register = feedback (SPEC §2, §3, §6).

Makes random submission files from a broad grammar (refs of many real-world
shapes, national-ID duplicates at random distances, faults for every rule
that decides what is loaded), sends each through a real kprd over HTTPS and
checks, for every submission:

  * the refs in the register are exactly the refs this oracle expects to be
    loaded, and exactly the file's refs minus those the JSON feedback reports
    as excluded;
  * persons and registrations loaded, as the status API and the feedback
    report them, equal what this oracle expects and what the register holds
    (registrations counted as SPEC §1 counts them, each Funksjon on its own);
  * every excluded ref appears verbatim (its display form: masked only where
    it carries a national-ID candidate) in the JSON feedback and, after CSV
    decoding, in the CSV (the formula guard's apostrophe is the one allowed
    difference);
  * every message in the JSON feedback carries the unit (`enhet`) of the
    element it concerns (SPEC §2, §6): a Tjeneste's own, else its Person's,
    "(ukjent enhet)" where R110 refuses the unit (blank, over 64 characters,
    control characters, a national-ID candidate), null when there is none
    and for messages about the whole file; R110 fires exactly for the bad
    units;
  * no national ID from the file appears in the register rows, the feedback
    files, the metrics or kprd's log (also none written into a unit).

Independence: nothing here uses the validator, kpr-gen or any project code.
The ID arithmetic (R103, R104), the masking rule and the expected outcome are
written again from the SPEC. Deterministic per seed; the seed is printed with
every failure. Standard library only.

Usage: oracle.py --files N --seed S [--kommuner K,K,...]   (environment:
KPR_URL, KPR_CACERT, KPR_REGISTER_ADMIN_DSN, KPR_VAR, BUILD; test mode is
assumed on, as the test stack runs it)
"""
import argparse
import csv
import http.client
import io
import json
import os
import random
import ssl
import subprocess
import sys
import time
import urllib.parse
import uuid

AARGANG = 2025
TEST_MODE = True
ALLOW_2032 = True

# ---------------------------------------------------------------------------
# national IDs, from SPEC R103/R104 (written again here, on purpose)

W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
W2032 = [3, 7, 6, 1, 8, 9, 4, 5, 2, 1]


def control(digits, weights):
    k = 11 - sum(int(d) * w for d, w in zip(digits, weights)) % 11
    return 0 if k == 11 else k  # 10: no valid digit


def checksum_ok(s):
    if len(set(s)) == 1:
        return False  # placeholder numbers such as 00000000000
    k2 = control(s[:10], W2)
    if k2 == 10 or k2 != int(s[10]):
        return False
    k1 = control(s[:9], W1)
    if k1 != 10 and k1 == int(s[9]):
        return True
    return ALLOW_2032 and sum(int(d) * w for d, w in zip(s[:10], W2032)) % 11 <= 3


def date_ok(s):
    dd, mm, yy, ind = int(s[0:2]), int(s[2:4]), int(s[4:6]), int(s[6:9])
    d_number = dd > 40
    if d_number:
        dd -= 40
    if mm > 80:  # synthetic test numbers: test mode only
        if not TEST_MODE:
            return False
        mm -= 80
    elif mm > 40:  # H-number; never together with a D-number
        if d_number:
            return False
        mm -= 40
    if ind <= 499:
        year = 1900 + yy
    elif ind <= 749 and yy >= 54:
        year = 1800 + yy
    elif yy <= 39:
        year = 2000 + yy
    elif ind >= 900:
        year = 1900 + yy
    else:
        return False
    if not 1 <= mm <= 12:
        return False
    mdays = [31, 29 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 28,
             31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mm - 1]
    return 1 <= dd <= mdays


def is_id(s):
    return len(s) == 11 and s.isdigit() and checksum_ok(s) and date_ok(s)


def candidates(text):
    """(start, end, id) of every national-ID candidate (SPEC §3): start..end
    is the masked part, id the 11 digits."""
    spans = []
    for i in range(len(text) - 10):
        w = text[i:i + 11]
        if w.isascii() and w.isdigit() and is_id(w):
            spans.append((i + 6, i + 11, w))
    for i in range(len(text) - 11):
        w = text[i:i + 12]
        d = w[:6] + w[7:]
        if w[6] in " -." and d.isascii() and d.isdigit() and is_id(d):
            spans.append((i + 7, i + 12, d))
    return spans


def display(text):
    """The masking rule: digits after the sixth of each candidate as '*'."""
    chars = list(text)
    for a, b, _ in candidates(text):
        for k in range(a, b):
            chars[k] = "*"
    return "".join(chars)


def new_id(rng, year=None):
    while True:
        y = year or rng.randint(1925, 2020)
        m, d = rng.randint(1, 12), rng.randint(1, 28)
        ind = rng.randint(0, 499) if y < 2000 else rng.randint(500, 999)
        if rng.random() < 0.1:
            d += 40  # D-number
        s9 = "%02d%02d%02d%03d" % (d, m, y % 100, ind)
        k1 = control(s9, W1)
        if k1 == 10:
            continue
        k2 = control(s9 + str(k1), W2)
        if k2 == 10:
            continue
        s = s9 + str(k1) + str(k2)
        assert is_id(s)
        return s


# ---------------------------------------------------------------------------
# refs of many shapes

LETTERS = "abcdefghijklmnopqrstuvwxyzæøåÆØÅéüABCXYZ"


def ref_shape(rng, n):
    shape = rng.randrange(13)
    if shape == 0:
        return "%s-%07d" % (rng.choice(["0301", "1101", "4601"]), n)  # municipality + running number
    if shape == 1:
        return "2024/%06d-%02d" % (rng.randrange(10 ** 6), rng.randrange(100))
    if shape == 2:
        return "J %d/%d" % (rng.randint(2000, 2025), n)
    if shape == 3:
        return str(uuid.UUID(int=rng.getrandbits(128)))
    if shape == 4:
        return "%012d" % rng.randrange(10 ** 12)  # long numeric
    if shape == 5:
        return "".join(rng.choice(LETTERS) for _ in range(rng.randint(1, 12))) + str(n)
    if shape == 6:
        return "%s %s %d" % (rng.choice(["Bydel", "Sone", "Hjemmetj."]),
                             rng.choice(["Frogner", "Grünerløkka", "Søndre"]), n)
    if shape == 7:
        return rng.choice(["-", "=", "+", "@"]) + "%05d" % n  # CSV formula guard
    if shape == 8:
        return "R&D <%d> \"q\" 'a'" % n  # XML / HTML / CSV escaping
    if shape == 9:
        return "%06d%05d" % (rng.randrange(10 ** 6), rng.randrange(10 ** 5))
    if shape == 10:
        return " %d " % n  # leading and trailing space, as written
    if shape == 11:
        return "K\\%d {a,b} \"NULL\"" % n  # what a text[] literal must escape (retractions)
    return "P%d" % n


def id_ref(rng):
    """A ref carrying a national ID, with or without a separator."""
    s = new_id(rng)
    form = rng.randrange(5)
    if form == 0:
        return s
    if form == 1:
        return "J-" + s
    return s[:6] + " -."[form - 2] + s[6:]


# ---------------------------------------------------------------------------
# elements: (xml, registrations, loaded?)

FUNK = [(k, 3) for k in range(1, 18)]


def vurdering(rng):
    fault = rng.random() < 0.12
    kind = rng.randrange(3) if fault else -1
    dato = "2025-%02d-%02d" % (rng.randint(1, 12), rng.randint(1, 28))
    if kind == 2:
        dato = "2026-02-01"  # R203: after the årgang
    funk = list(FUNK)
    if kind == 1:
        funk.pop(rng.randrange(17))  # R202
    rows = []
    for k, s in funk:
        if kind == 0 and k == 5:
            s = 7  # R201
        rows.append('<Funksjon kode="%d" skaar="%d"/>' % (k, s))
    xml = '<Vurdering dato="%s">%s</Vurdering>' % (dato, "".join(rows))
    return xml, 1 + len(funk), not fault


def tjeneste(rng):
    fault = rng.random() < 0.12
    kind = rng.randrange(5) if fault else -1
    typ = 99 if kind == 0 else rng.choice([1, 6, 15, 27])
    soknad, vedtak, start, slutt = "2025-01-10", "2025-01-20", "2025-02-01", "2025-11-30"
    if kind == 1:
        slutt = "2025-01-05"  # R302
    if kind == 2:
        start, slutt = "2026-03-01", "2026-04-01"  # R303
    per, flere = "5.5", "7.0"
    if kind == 3:
        per, flere = "200.0", "201.0"  # R304
    if kind == 4:
        per, flere = "8.0", "4.0"  # R305
    xml = ('<Tjeneste type="%d" soknad="%s" vedtak="%s" start="%s" slutt="%s" '
           'timerPerUke="%s" timerMedFlere="%s"/>' % (typ, soknad, vedtak, start, slutt, per, flere))
    return xml, 1, not fault


def diagnose(rng):
    if rng.random() < 0.12:
        return '<Diagnose kodeverk="ICD-11" kode="F00.1"/>', 1, False  # R401
    return '<Diagnose kodeverk="ICD-10" kode="%s"/>' % rng.choice(["F00.1", "I10", "E11.9"]), 1, True


def small(rng):
    if rng.random() < 0.12:
        return '<IndividuellPlan kode="7"/>', 1, False  # R405
    return rng.choice(['<IndividuellPlan kode="1"/>', '<Koordinator kode="2"/>',
                       '<Heldogn svar="1" dato="2025-03-01"/>',
                       '<Venteliste vedtak="2025-05-01"/>']), 1, True


# units (SPEC §2 enhet), good and bad (R110)
UNKNOWN_UNIT = "(ukjent enhet)"
GOOD_UNITS = ["Bydel Frogner", "Bydel Grünerløkka", "Bydel Søndre Nordstrand", "Hjemmetjenesten sone 2",
              "Frogner helsehus", "Tildelingskontoret; vest", "Enhet \"Nord\"", "=Korttidsavdelingen",
              "Sykehjem 3", "æøå" * 21 + "x"]


def unit_choice(rng, ids):
    """None (no attribute), a good unit, or a bad one; ids gets any ID written."""
    r = rng.random()
    if r < 0.35:
        return None
    if r < 0.9:
        return rng.choice(GOOD_UNITS)
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice(["", "   "])
    if kind == 1:
        return "x" * 65
    if kind == 2:
        return "Sone\t2"
    nid = new_id(rng)
    ids.append(nid)
    if kind == 3:
        return "Sone " + nid
    if kind == 4:
        return "Bydel " + nid[:6] + " " + nid[6:]
    return nid


def unit_ok(u):
    return (u.strip(" ") != "" and len(u) <= 64
            and not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in u)
            and not candidates(u))


def unit_effective(u, inherited=None):
    """The unit messages carry: None when no unit applies."""
    if u is None:
        return inherited
    return u if unit_ok(u) else UNKNOWN_UNIT


def xml_attr(v):
    return (v.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .replace("\t", "&#9;"))


class Person:
    def __init__(self, ref, fnr, rng, n):
        self.ref = ref  # None: no ref attribute
        self.fnr = fnr  # None: no Fnr element
        self.line = 0
        self.kjonn = "2"
        self.person_fault = False
        if rng.random() < 0.04:
            self.kjonn = rng.choice([None, "3"])  # R108
        self.fodselsaar = rng.random() < 0.5
        self.dodsdato = rng.random() < 0.05
        self.unit_ids = []
        self.unit = unit_choice(rng, self.unit_ids)
        self.elements = []
        self.tj_units = []  # the unit each Tjeneste's messages carry
        self.bad_units = 0 if self.unit is None or unit_ok(self.unit) else 1
        for _ in range(rng.randint(0, 4)):
            e = rng.choice([vurdering, tjeneste, tjeneste, diagnose, small])(rng)
            if e[0].startswith("<Tjeneste "):
                own = unit_choice(rng, self.unit_ids) if rng.random() < 0.4 else None
                if own is not None:
                    e = (e[0].replace("<Tjeneste ", '<Tjeneste enhet="%s" ' % xml_attr(own), 1),) + e[1:]
                    self.bad_units += not unit_ok(own)
                self.tj_units.append(unit_effective(own, unit_effective(self.unit)))
            self.elements.append(e)

    def ident_ok(self):
        return self.fnr is not None and is_id(self.fnr)

    def ref_ok(self):
        r = self.ref
        return (r is not None and r.strip(" ") != "" and len(r) <= 64
                and not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in r)
                and not candidates(r))

    def xml(self):
        head = "<Person" + ("" if self.ref is None else ' ref="%s"' % xml_attr(self.ref))
        head += ("" if self.unit is None else ' enhet="%s"' % xml_attr(self.unit)) + ">"
        body = ""
        if self.fnr is not None:
            body += "<Fnr>%s</Fnr>" % self.fnr
        if self.kjonn is not None:
            body += "<Kjonn>%s</Kjonn>" % self.kjonn
        if self.fodselsaar:
            body += "<Fodselsaar>%s</Fodselsaar>" % self.birth_year()
        if self.dodsdato:
            body += "<Dodsdato>2025-12-30</Dodsdato>"
        body += "".join(e[0] for e in self.elements)
        return head + body + "</Person>\n"

    def birth_year(self):
        if not self.ident_ok():
            return 1950
        yy, ind = int(self.fnr[4:6]), int(self.fnr[6:9])
        if ind <= 499:
            return 1900 + yy
        if ind <= 749 and yy >= 54:
            return 1800 + yy
        if yy <= 39:
            return 2000 + yy
        return 1900 + yy

    def registrations(self, loaded_only):
        n = (self.fnr is not None) + (self.kjonn is not None) + self.fodselsaar + self.dodsdato
        return n + sum(r for (_, r, ok) in self.elements if ok or not loaded_only)


def make_file(rng, n_persons, kommune):
    persons = []
    used_ids = []
    for n in range(n_persons):
        r = rng.random()
        if r < 0.05:
            ref = None if rng.random() < 0.3 else rng.choice(["", "   ", "x" * 70, "J\t1"])
        elif r < 0.09:
            ref = id_ref(rng)
        elif r < 0.14 and persons:
            other = rng.choice(persons).ref or "P"
            ref = other if rng.random() < 0.5 else other[:-1] + chr(ord(other[-1]) ^ 1)
        else:
            ref = ref_shape(rng, n)
        r = rng.random()
        if r < 0.07 and used_ids:
            fnr = used_ids[-rng.randint(1, min(len(used_ids), 20))]  # R105 at a random distance
        elif r < 0.09:
            fnr = None  # R101
        elif r < 0.11:
            fnr = new_id(rng)[:10]  # R102
        elif r < 0.13:
            s = new_id(rng)
            fnr = s[:10] + str((int(s[10]) + 1) % 10)  # R103 (unless it happens to pass)
        elif r < 0.15:
            fnr = "3102" + new_id(rng, 1970)[4:]  # 31 February: R104 most of the time
        else:
            fnr = new_id(rng)
        if fnr is not None and len(fnr) == 11 and is_id(fnr):
            used_ids.append(fnr)
        persons.append(Person(ref, fnr, rng, n))
    fatal = None
    if rng.random() < 0.05:
        fatal = rng.choice(["F002", "F003"])
    sender = "0301" if fatal == "F003" else kommune
    # the id is new on every run (a file sent again would be the same
    # submission); everything that decides the outcome comes from the seed
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n',
             '<Innsending xmlns="urn:no:kpr:innsending:1" versjon="1.0" id="%s" '
             'opprettet="2026-01-05T09:12:00+01:00" aargang="%d">\n' % (uuid.uuid4(), AARGANG),
             '<Avsender kommunenummer="%s" fagsystem="Oracle" fagsystemVersjon="1"/>\n' % sender]
    line = 4
    for p in persons:
        p.line = line
        parts.append(p.xml())
        line += 1
    if fatal == "F002":
        parts.append("<Ukjent/>\n")
    parts.append("</Innsending>\n")
    return "".join(parts).encode("utf-8"), persons, fatal


def expected(persons):
    """Which persons load: SPEC §3, from this oracle's own model."""
    by_ref, by_id = {}, {}
    for i, p in enumerate(persons):
        if p.ref_ok():
            by_ref.setdefault(p.ref, []).append(i)
        if p.ident_ok():
            by_id.setdefault(p.fnr, []).append(i)
    excluded = set()
    for i, p in enumerate(persons):
        if not p.ref_ok() or not p.ident_ok() or p.kjonn not in ("1", "2"):
            excluded.add(i)
    for group in list(by_ref.values()) + list(by_id.values()):
        if len(group) > 1:
            excluded.update(group)
    return excluded


# ---------------------------------------------------------------------------
# the real server and the real register

class Server:
    """kprd over HTTPS, with a token per municipality (issued with kprctl:
    uploads are rate-limited per municipality, so files are spread)."""

    def __init__(self):
        u = urllib.parse.urlparse(os.environ["KPR_URL"])
        self.host, self.port = u.hostname, u.port
        self.ctx = ssl.create_default_context(cafile=os.environ["KPR_CACERT"])
        self.ctx.check_hostname = False
        self.tokens = {}

    def issue_tokens(self, kommuner):
        for k in kommuner:
            out = subprocess.run([os.path.join(os.environ["BUILD"], "kprctl"), "token", "issue",
                                  "--kommune", k, "--name", "oracle " + k],
                                 check=True, capture_output=True, text=True).stdout
            self.tokens[k] = out.strip().splitlines()[-1].strip()
        # kprd takes new tokens in at its next cache refresh (every 2 s);
        # every failed try counts against this address (the failed-token
        # limiter would then lock out the next test), so wait one refresh
        # before asking, and ask seldom
        time.sleep(2.5)
        for _ in range(16):
            if self.call("GET", "/api/v1/submissions?limit=1", kommune=kommuner[-1])[0] == 200:
                return
            time.sleep(0.5)
        raise SystemExit("oracle: new tokens not accepted within 10 s")

    def call(self, method, path, body=None, ctype=None, kommune=None):
        h = {"Authorization": "Bearer " + self.tokens[kommune]}
        if ctype:
            h["Content-Type"] = ctype
        c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def metrics(self):
        c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)
        c.request("GET", "/metrics")
        data = c.getresponse().read()
        c.close()
        return data


def sql(query):
    out = subprocess.run(["psql", "-X", "-qtA", "-F", "\t", os.environ["KPR_REGISTER_ADMIN_DSN"],
                          "-c", query], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def register_view(sub):
    q = "'%s'::uuid" % sub
    refs = {bytes.fromhex(r[0]).decode("utf-8")
            for r in sql("SELECT encode(convert_to(ref, 'UTF8'), 'hex') FROM kpr.person "
                         "WHERE submission_id = %s" % q)}
    (persons, regs), = sql(
        "SELECT (SELECT count(*) FROM kpr.person WHERE submission_id = %(q)s),"
        " (SELECT coalesce(sum(2 + fodselsaar_oppgitt::int + (dodsdato IS NOT NULL)::int), 0)"
        "    FROM kpr.person WHERE submission_id = %(q)s)"
        " + (SELECT coalesce(sum(1 + cardinality(skaar)), 0) FROM kpr.vurdering WHERE submission_id = %(q)s)"
        " + (SELECT count(*) FROM kpr.tjeneste WHERE submission_id = %(q)s)"
        " + (SELECT count(*) FROM kpr.diagnose WHERE submission_id = %(q)s)"
        " + (SELECT count(*) FROM kpr.registrering WHERE submission_id = %(q)s)" % {"q": q})
    text = "\n".join("\t".join(r) for r in sql(
        "SELECT t::text FROM kpr.person t WHERE submission_id = %(q)s UNION ALL"
        " SELECT t::text FROM kpr.tjeneste t WHERE submission_id = %(q)s UNION ALL"
        " SELECT t::text FROM kpr.registrering t WHERE submission_id = %(q)s UNION ALL"
        " SELECT t::text FROM kpr.submission t WHERE id = %(q)s" % {"q": q}))
    return refs, int(persons), int(regs), text


PERSON_RULES = {"R101", "R102", "R103", "R104", "R105", "R106", "R108"}
FINAL = {"accepted", "accepted_with_errors", "rejected", "superseded", "failed"}


def run(args):
    rng = random.Random(args.seed)
    srv = Server()
    failures = []
    all_ids = set()
    totals = {"files": 0, "persons": 0, "loaded": 0, "excluded": 0, "rejected": 0}

    def fail(fileno, what):
        failures.append("seed %d file %d: %s" % (args.seed, fileno, what))

    kommuner = args.kommuner.split(",")
    srv.issue_tokens(kommuner)
    for fileno in range(args.files):
        kommune = kommuner[fileno % len(kommuner)]
        data, persons, fatal = make_file(rng, rng.randint(1, args.max_persons), kommune)
        for p in persons:
            if p.fnr and len(p.fnr) == 11:
                all_ids.add(p.fnr)
            if p.ref:
                all_ids.update(d for _, _, d in candidates(p.ref))
            all_ids.update(p.unit_ids)
        st, body = srv.call("POST", "/api/v1/submissions", data, "application/xml", kommune)
        if st != 202:
            fail(fileno, "upload answered %d: %s" % (st, body[:200]))
            continue
        sub = json.loads(body)["id"]
        deadline = time.time() + 120
        while True:
            st, body = srv.call("GET", "/api/v1/submissions/" + sub, kommune=kommune)
            status = json.loads(body)
            if status["status"] in FINAL or time.time() > deadline:
                break
            time.sleep(0.05)
        if status["status"] not in FINAL:
            fail(fileno, "not processed within 120 s: %s" % status["status"])
            continue
        totals["files"] += 1
        totals["persons"] += len(persons)
        st, fb_json = srv.call("GET", "/api/v1/submissions/%s/feedback?format=json" % sub, kommune=kommune)
        st2, fb_csv = srv.call("GET", "/api/v1/submissions/%s/feedback?format=csv" % sub, kommune=kommune)
        fbs = [srv.call("GET", "/api/v1/submissions/%s/feedback?format=%s" % (sub, f), kommune=kommune)[1]
               for f in ("xml", "html")]
        if st != 200 or st2 != 200:
            fail(fileno, "feedback answered %d/%d" % (st, st2))
            continue
        fb = json.loads(fb_json)
        refs_reg, persons_reg, regs_reg, reg_text = register_view(sub)
        counts = status["counts"]

        def count(name):
            return counts.get(name)

        if fatal:
            totals["rejected"] += 1
            if status["status"] != "rejected":
                fail(fileno, "a %s file ended %s" % (fatal, status["status"]))
            if persons_reg or refs_reg:
                fail(fileno, "a rejected file left %d persons in the register" % persons_reg)
            continue
        excl = expected(persons)
        want_refs = {persons[i].ref for i in range(len(persons)) if i not in excl}
        want_regs = sum(persons[i].registrations(True) for i in range(len(persons)) if i not in excl)
        totals["loaded"] += len(persons) - len(excl)
        totals["excluded"] += len(excl)
        # 1. register refs = the oracle's = the file's minus what the feedback excluded
        if refs_reg != want_refs:
            fail(fileno, "register refs differ from the oracle: extra %r, missing %r" %
                 (sorted(map(display, refs_reg - want_refs))[:5],
                  sorted(map(display, want_refs - refs_reg))[:5]))
        reported_excluded = {m["ref"] for m in fb["messages"] if m["rule"] in PERSON_RULES}
        fb_loaded = {p.ref for p in persons if p.ref_ok() and display(p.ref) not in reported_excluded}
        if fb_loaded != refs_reg:
            fail(fileno, "register refs differ from what the JSON feedback reports as loaded: %r / %r" %
                 (sorted(map(display, refs_reg - fb_loaded))[:5], sorted(map(display, fb_loaded - refs_reg))[:5]))
        # 2. counts: status = feedback = oracle = register
        s = fb["summary"]
        for name, got in (("persons_loaded", count("persons_loaded")), ("feedback persons_loaded", s["persons_loaded"]),
                          ("register persons", persons_reg)):
            if got != len(persons) - len(excl):
                fail(fileno, "%s %r, oracle %d" % (name, got, len(persons) - len(excl)))
        for name, got in (("registrations_loaded", count("registrations_loaded")),
                          ("feedback registrations_loaded", s["registrations_loaded"]),
                          ("register registrations", regs_reg)):
            if got != want_regs:
                fail(fileno, "%s %r, oracle %d" % (name, got, want_regs))
        want_total = sum(p.registrations(False) for p in persons)
        if s["registrations"] != want_total or s["persons"] != len(persons):
            fail(fileno, "feedback totals %d persons / %d registrations, oracle %d / %d" %
                 (s["persons"], s["registrations"], len(persons), want_total))
        want_status = "accepted_with_errors" if excl or any(
            not ok for p in persons for (_, _, ok) in p.elements) else "accepted"
        if status["status"] not in (want_status, "superseded"):
            fail(fileno, "status %s, oracle %s" % (status["status"], want_status))
        # 3. each message's unit: by the person on its line; a Tjeneste message
        # carries one of that person's services' units; none outside a person
        by_line = {p.line: p for p in persons}
        r110 = 0
        for m in fb["messages"]:
            p = by_line.get(m["lines"][0]) if m["lines"] else None
            if m["rule"] == "R110":
                r110 += len(m["lines"])
            if p is None:
                want = {None}
            elif (m["path"] or "").startswith("/Innsending/Person/Tjeneste") and p.tj_units:
                want = set(p.tj_units)
            else:
                want = {unit_effective(p.unit)}
            if m.get("enhet", "missing") not in want:
                fail(fileno, "message %s at line %s (%s) carries enhet %r, oracle %r" %
                     (m["rule"], m["lines"], m["path"], m.get("enhet", "missing"), sorted(want, key=str)))
        want_r110 = sum(p.bad_units for p in persons)
        if r110 != want_r110:
            fail(fileno, "R110 %d times, oracle %d bad units" % (r110, want_r110))
        # 4. excluded refs verbatim in JSON and CSV
        rows = list(csv.reader(io.StringIO(fb_csv.decode("utf-8-sig")), delimiter=";"))
        csv_refs = {r[2][1:] if r[2][:1] == "'" and r[2][1:2] in ("=", "+", "-", "@", "\t", "\r") else r[2]
                    for r in rows[1:] if len(r) > 2}
        json_refs = {m["ref"] for m in fb["messages"]}
        for i in excl:
            r = persons[i].ref
            if r is None or r.strip(" ") == "" or any(ord(c) < 0x20 for c in r):
                continue
            shown = display(r)
            if shown not in json_refs:
                fail(fileno, "excluded ref %r not verbatim in the JSON feedback" % shown)
            if shown not in csv_refs:
                fail(fileno, "excluded ref %r not verbatim in the CSV feedback" % shown)
        # 5. no national ID in the register rows or any feedback file
        blobs = [reg_text.encode(), fb_json, fb_csv] + fbs
        for nid in all_ids:
            for blob in blobs:
                if nid.encode() in blob or (nid[:6] + " " + nid[6:]).encode() in blob or \
                        (nid[:6] + "-" + nid[6:]).encode() in blob:
                    fail(fileno, "a national ID (%s*****) appears in the register or feedback" % nid[:6])
                    break
    # metrics and kprd's log, once at the end
    extra = [srv.metrics()]
    for name in os.listdir(os.environ["KPR_VAR"]):
        if name.startswith("kprd") and name.endswith(".log"):
            with open(os.path.join(os.environ["KPR_VAR"], name), "rb") as f:
                extra.append(f.read())
    for nid in all_ids:
        if any(nid.encode() in b for b in extra):
            failures.append("seed %d: a national ID (%s*****) appears in metrics or kprd's log"
                            % (args.seed, nid[:6]))
    print("oracle: seed %d, %d files (%d rejected), %d persons: %d loaded, %d excluded"
          % (args.seed, totals["files"], totals["rejected"], totals["persons"], totals["loaded"],
             totals["excluded"]))
    for f in failures[:40]:
        print("  FAIL " + f)
    if len(failures) > 40:
        print("  ... %d more" % (len(failures) - 40))
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=30)
    ap.add_argument("--max-persons", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kommuner", default="1101,1103,1106,1151,4601,5001",
                    help="municipalities the files are spread over (30 uploads an hour each)")
    sys.exit(run(ap.parse_args()))


if __name__ == "__main__":
    main()
