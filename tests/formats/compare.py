#!/usr/bin/python3
"""The five feedback formats of one report (SPEC §6) read back with
independent readers and compared: csv, json, xml.etree, html.parser and
openpyxl, none of them kprd's code.

  compare.py PREFIX [WHOLE_PREFIX UNIT]

PREFIX.csv, .json, .xml, .html and .xlsx are the five files of one report.
Checked:
  - the messages (rule, severity, ref, lines, element, text, value, unit):
    the same list, in the same order, in CSV, JSON, XML and the workbook;
    the HTML details hold the same messages, each unit's group in file
    order under its own heading, with the heading's count;
  - the summary (persons, registrations, loaded, excluded, per severity),
    the per-rule counts and the per-unit rows: the same in XML, JSON, HTML
    and the workbook, and equal to what the messages add up to;
  - the status and what was received (the note and every figure): the same
    in JSON, XML, HTML and the workbook;
  - masked values (SPEC §3): present, and shown identically everywhere.
With WHOLE_PREFIX and UNIT, PREFIX is the file limited to UNIT
(?enhet=UNIT): its messages are exactly the whole file's messages of that
unit plus those about the whole file (no ref, no unit), its only unit row
and its figures are the whole file's for that unit, and its summary counts
the whole file's persons but only the messages it shows.

Prints one line per check; exit 0 when all hold, 1 otherwise.
"""
import csv
import io
import json
import re
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from html.parser import HTMLParser

import openpyxl

NS = {"t": "urn:no:kpr:tilbakemelding:1"}
SEV_NB = {"Kritisk feil": "FATAL", "Feil": "ERROR", "Advarsel": "WARNING", "Informasjon": "INFO"}
SEVS = ["FATAL", "ERROR", "WARNING", "INFO"]
GUARD = "=+-@\t\r"
UNIT_LABELS = {"hele": "Hele fila", "uten": "(uten enhet)", "andre": "(andre enheter)"}
MASKED = re.compile(r"\d{6}[ .-]?\*{5}")
SUMMARY_KEYS = ["persons", "registrations", "persons_loaded", "persons_excluded",
                "registrations_loaded", "registrations_excluded"]

failures = 0


def check(what, ok, detail=""):
    global failures
    if ok:
        print(f"  ok   {what}")
    else:
        failures += 1
        print(f"  FAIL {what}{': ' + str(detail)[:1500] if detail else ''}")
    return ok


def first_diff(a, b):
    """Where two lists part, for the failure line."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"item {i}: {x!r} vs {y!r}"
    return f"lengths {len(a)} vs {len(b)}"


# ---------------------------------------------------------------------------
# Messages as tuples: (rule, severity code, ref, lines, element, text, value,
# unit); "" for a missing ref, element, value or unit (the CSV cannot tell
# a missing value from an empty one; JSON and XML are compared strictly).

def unguard(s):
    """The CSV's formula guard: an apostrophe before = + - @ TAB CR."""
    return s[1:] if len(s) >= 2 and s[0] == "'" and s[1] in GUARD else s


def lines_of(text, sep):
    m = re.search(r" … \(\+(\d+)\)$", text)
    if m:
        text = text[: m.start()]
    return tuple(int(x) for x in text.split(sep) if x.strip())


def csv_messages(path):
    with open(path, "rb") as f:
        data = f.read()
    check(f"{path}: UTF-8 with BOM", data.startswith(b"\xef\xbb\xbf"))
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""), delimiter=";"))
    check(f"{path}: SPEC §6 header", rows[0] == ["regel", "alvorlighet", "ref", "linje", "element",
                                                 "melding", "verdi", "enhet"], rows[0])
    out = []
    for r in rows[1:]:
        r = [unguard(x) for x in r]
        out.append((r[0], SEV_NB.get(r[1], r[1]), r[2], lines_of(r[3], ", "), r[4], r[5], r[6],
                    r[7]))
    return out


def json_messages(d):
    return [(m["rule"], m["severity"], m["ref"], tuple(m["lines"]), m["path"], m["text"],
             m["value"] or "", m["enhet"] or "") for m in d["messages"]]


def xml_messages(root):
    out, values = [], []
    for m in root.iterfind("t:Meldinger/t:Melding", NS):
        v = m.find("t:Verdi", NS)
        values.append(None if v is None else (v.text or ""))
        lines = tuple(int(x) for x in m.get("linjer").split())
        out.append((m.get("regel"), m.get("alvorlighet"), m.get("ref", ""),
                    () if lines == (0,) else lines, m.get("element", ""),
                    m.find("t:Tekst", NS).text or "", values[-1] or "", m.get("enhet", "")))
    return out, values


def cell(c):
    """A cell's value as Excel shows it (OOXML's _xHHHH_ escape decoded)."""
    if c.value is None:
        return ""
    if isinstance(c.value, str):
        return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), c.value)
    return c.value


def xlsx_messages(wb):
    out = []
    for name in wb.sheetnames:
        if not name.startswith("Meldinger"):
            continue
        for row in wb[name].iter_rows(min_row=2):
            v = [cell(c) for c in row[:8]]
            if v[0] == "":
                continue
            lines = (v[3],) if isinstance(v[3], int) else lines_of(v[3], ", ")
            out.append((v[0], SEV_NB.get(v[1], v[1]), v[2], lines, v[4], v[5], v[6], v[7]))
    return out


# ---------------------------------------------------------------------------
# HTML: the tables with the headings they stand under

class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.paras = [], []
        self.h2 = self.h3 = ""
        self.table = self.row = self.cell = self.heading = self.para = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("h2", "h3"):
            self.heading = [tag, ""]
        elif tag == "p":
            self.para = ""
        elif tag == "table":
            self.table = {"class": a.get("class", ""), "h2": self.h2, "h3": self.h3, "rows": []}
        elif tag == "tr" and self.table is not None:
            self.row = {"class": a.get("class", ""), "cells": []}
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("h2", "h3") and self.heading:
            if tag == "h2":
                self.h2, self.h3 = self.heading[1], ""
            else:
                self.h3 = self.heading[1]
            self.heading = None
        elif tag == "p" and self.para is not None:
            self.paras.append((self.h2, self.para))
            self.para = None
        elif tag in ("td", "th") and self.cell is not None:
            self.row["cells"].append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.row["cells"]:
                self.table["rows"].append(self.row)
            self.row = None
        elif tag == "table" and self.table is not None:
            self.tables.append(self.table)
            self.table = None

    def handle_data(self, data):
        for k in ("cell", "para"):
            if getattr(self, k) is not None:
                setattr(self, k, getattr(self, k) + data)
        if self.heading:
            self.heading[1] += data

    def of_class(self, cls):
        return [t for t in self.tables if t["class"] == cls]


def num(s):
    """A number as the HTML shows it: 1 234 (no-break spaces), 12,5; – none."""
    s = s.replace("\xa0", "").replace(" ", "").replace(",", ".").replace("%", "").strip()
    return None if s in ("", "–") else Decimal(s)


def html_messages(page):
    """Each details row with the unit its group heading names; the groups."""
    out, groups = [], []
    for t in page.of_class("details"):
        m = re.fullmatch(r"Enhet: (.*) \(([\d\xa0]+)\)", t["h3"])
        w = re.fullmatch(r"Meldinger om hele filen \(([\d\xa0]+)\)", t["h3"])
        if m:
            unit = "" if m.group(1) == "(uten enhet)" else m.group(1)
            n = int(m.group(2).replace("\xa0", ""))
        elif w:
            unit, n = "", int(w.group(1).replace("\xa0", ""))
        else:
            unit, n = None, None  # not grouped: one list, no unit per row
        rows = []
        for r in t["rows"][1:]:
            c = r["cells"]
            lines = c[3]
            more = re.search(r" og ([\d\xa0]+) til$", lines)
            lines = lines_of(lines[: more.start()] if more else lines, ", ")
            rows.append((c[0], SEV_NB.get(c[1], c[1]), "" if c[2] == "–" else c[2], lines,
                         c[4], c[5], c[6], unit))
        groups.append((t["h3"], n, rows))
        out.extend(rows)
    return out, groups


# ---------------------------------------------------------------------------
# The messages

def compare_messages(p, d, root, page, wb):
    msgs = {"CSV": csv_messages(p + ".csv"), "JSON": json_messages(d)}
    msgs["XML"], xml_values = xml_messages(root)
    msgs["XLSX"] = xlsx_messages(wb)
    j = msgs["JSON"]
    check(f"JSON: {len(j)} messages, as its summary says", len(j) == d["summary"]["messages"])
    for f in ("CSV", "XML", "XLSX"):
        check(f"{f}: the JSON's {len(j)} messages, every field, in order", msgs[f] == j,
              first_diff(msgs[f], j))
    check("XML: a Verdi element exactly where the JSON has a value",
          xml_values == [m["value"] for m in d["messages"]],
          first_diff(xml_values, [m["value"] for m in d["messages"]]))

    h, groups = html_messages(page)
    check(f"HTML: the details show all {len(j)} messages (not capped)",
          len(h) == len(j) and "er ikke vist her" not in page.text, f"{len(h)} rows")
    index = {m: i for i, m in enumerate(j)}
    grouped = all(n is not None for _, n, _ in groups)
    if grouped:
        check("HTML: the same messages as the JSON, each under its own unit's heading",
              sorted(h) == sorted(j), first_diff(sorted(h), sorted(j)))
    else:
        strip = lambda ms: sorted(m[:7] for m in ms)
        check("HTML (one list): the same messages as the JSON", strip(h) == strip(j),
              first_diff(strip(h), strip(j)))
        index = {m[:7]: i for i, m in enumerate(j)}
        h = [m[:7] for m in h]
    bad = [g for g, n, rows in groups if n is not None and n != len(rows)]
    check("HTML: each group's heading counts its rows", not bad, bad)
    bad = []
    for g, _, rows in groups:
        at = [index.get(m if grouped else m[:7], -1) for m in rows]
        if at != sorted(at) or -1 in at:
            bad.append(g)
    check("HTML: within each group, the messages in file order", not bad, bad)
    return j


# ---------------------------------------------------------------------------
# Summary, per rule, per unit, status, what was received

def html_summary(page):
    t = page.of_class("summary")[0]
    facts = {r["cells"][0]: num(r["cells"][1]) for r in t["rows"]}
    return facts


def summaries(d, root, page, wb):
    """{format: {key: count}} of the summary as each format shows it."""
    s = d["summary"]
    out = {"JSON": {k: s[k] for k in SUMMARY_KEYS} | {v: s["by_severity"][v] for v in SEVS}}
    x = root.find("t:Sammendrag", NS).attrib
    xk = ["personer", "registreringer", "personerLastet", "personerUtelatt",
          "registreringerLastet", "registreringerUtelatt"]
    out["XML"] = {k: int(x[a]) for k, a in zip(SUMMARY_KEYS, xk)} | {
        v: int(x[a]) for v, a in zip(SEVS, ["kritiskeFeil", "feil", "advarsler", "informasjon"])}
    labels = ["Personer i filen", "Registreringer i filen", "Personer lastet inn",
              "Personer utelatt", "Registreringer lastet inn", "Registreringer utelatt"]
    if s and d["submission"]["status"] == "validated":
        labels[2:] = ["Personer som kan lastes inn", "Personer som ville blitt utelatt",
                      "Registreringer som kan lastes inn",
                      "Registreringer som ville blitt utelatt"]
    sev_labels = {v: k for k, v in SEV_NB.items()}
    hs = html_summary(page)
    out["HTML"] = {k: hs.get(lab) for k, lab in zip(SUMMARY_KEYS, labels)} | {
        v: hs.get(sev_labels[v]) for v in SEVS}
    facts = {r[0].value: r[1].value for r in wb["Sammendrag"].iter_rows(min_row=2) if r[0].value}
    out["XLSX"] = {k: facts.get(lab) for k, lab in zip(SUMMARY_KEYS, labels)} | {
        v: facts.get(sev_labels[v]) for v in SEVS}
    return out


def rules(d, root, page, wb):
    """{format: [(rule, severity, count), ...]} in each format's order."""
    out = {"JSON": [(r["rule"], r["severity"], r["count"]) for r in d["rules"]]}
    out["XML"] = [(r.get("id"), r.get("alvorlighet"), int(r.get("antall")))
                  for r in root.iterfind("t:Regler/t:Regel", NS)]
    t = page.of_class("rules")
    out["HTML"] = [(r["cells"][0], SEV_NB.get(r["cells"][1]), int(num(r["cells"][2])))
                   for r in t[0]["rows"][1:]] if t else []
    out["XLSX"] = [(r[0].value, SEV_NB.get(r[1].value), r[2].value)
                   for r in wb["Per regel"].iter_rows(min_row=2) if r[0].value is not None]
    return out


def units(d, root, page, wb):
    """{format: [(label, persons, loaded, excluded, errors, warnings), ...]}."""
    def label(kind, name):
        return UNIT_LABELS.get(kind, name)
    out = {"JSON": [(label(u["kind"], u["enhet"]), u["persons"], u["persons_loaded"],
                     u["persons_excluded"], u["by_severity"]["FATAL"] + u["by_severity"]["ERROR"],
                     u["by_severity"]["WARNING"]) for u in d["units"]]}
    out["XML"] = [(label(u.get("type"), u.get("navn")), int(u.get("personer")),
                   int(u.get("personerLastet")), int(u.get("personerUtelatt")),
                   int(u.get("kritiskeFeil")) + int(u.get("feil")), int(u.get("advarsler")))
                  for u in root.iterfind("t:Enheter/t:Enhet", NS)]
    t = page.of_class("units")
    out["HTML"] = [(r["cells"][0],) + tuple(int(num(c)) for i, c in enumerate(r["cells"][1:])
                                            if i != 3)
                   for r in t[0]["rows"][1:]] if t else []
    out["XLSX"] = [tuple(cell(c) for c in r[:6]) for r in wb["Per enhet"].iter_rows(min_row=2)
                   if r[0].value is not None]
    services = {"JSON": [u["services"] for u in d["units"]],
                "XML": [int(u.get("tjenester")) for u in root.iterfind("t:Enheter/t:Enhet", NS)],
                "HTML": [int(num(r["cells"][4])) for r in t[0]["rows"][1:]] if t else []}
    return out, services


def agree(what, by_format):
    j = by_format["JSON"]
    for f, v in by_format.items():
        if f != "JSON":
            check(f"{what}: {f} as the JSON", v == j, f"{v} vs {j}")


def from_messages(j):
    """Counts the messages add up to: per severity, per rule (lines and
    messages), per unit (errors, warnings of messages about a person)."""
    sev, rule, unit = dict.fromkeys(SEVS, 0), {}, {}
    for m in j:
        n = len(m[3]) or 1
        sev[m[1]] += n
        r = rule.setdefault(m[0], [m[1], 0, 0])
        r[1] += n
        r[2] += 1
        if m[2]:
            u = unit.setdefault(m[7] or "(uten enhet)", [0, 0])
            u[0 if m[1] in ("FATAL", "ERROR") else 1] += n if m[1] != "INFO" else 0
    return sev, rule, unit


def compare_counts(d, root, page, wb, j):
    s = summaries(d, root, page, wb)
    agree("summary (persons, registrations, loaded, excluded, per severity)", s)
    sev, rule, unit = from_messages(j)
    check("summary: per severity as the messages add up (lines)",
          {v: s["JSON"][v] for v in SEVS} == sev, f"{s['JSON']} vs {sev}")
    r = rules(d, root, page, wb)
    agree("per rule (rule, level, count, in order)", r)
    check("per rule: counts and messages as the messages add up",
          {x["rule"]: [x["severity"], x["count"], x["messages"]] for x in d["rules"]} == rule,
          f"{d['rules']} vs {rule}")
    u, services = units(d, root, page, wb)
    agree("per unit (unit, persons, loaded, excluded, errors, warnings)", u)
    agree("per unit: services", services)
    got = {x[0]: [x[4], x[5]] for x in u["JSON"]}
    check("per unit: errors and warnings as the messages about its persons add up",
          all(got.get(k) == v for k, v in unit.items()) and
          all(k in unit or v == [0, 0] for k, v in got.items()), f"{got} vs {unit}")
    return s["JSON"], u["JSON"]


def compare_status(d, root, page, wb):
    label = d["submission"]["status_text"]
    check("status: XML as the JSON", root.get("status") == d["submission"]["status"])
    h = [t for t in re.findall(r"<h2>Status: ([^<]*)</h2>", page.text)]
    check("status: HTML as the JSON", h == [label], f"{h} vs {label}")
    facts = {r[0].value: r[1].value for r in wb["Sammendrag"].iter_rows(min_row=2) if r[0].value}
    check("status: XLSX as the JSON", facts.get("Status") == label, facts.get("Status"))


def compare_received(d, root, page, wb):
    rc = d["received"]
    figs = rc["figures"]
    x = root.find("t:Mottatt", NS)
    note = [p for h2, p in page.paras if h2 == "Mottatt"]
    facts = {r[0].value: r[1].value for r in wb["Sammendrag"].iter_rows(min_row=2) if r[0].value}
    check("received: the note the same in XML, HTML and XLSX as in the JSON",
          x.find("t:Merknad", NS).text == rc["note"] and note[:1] == [rc["note"]] and
          facts.get("Arket «Mottatt»") == rc["note"], f"{note[:1]} vs {rc['note']}")
    dec = lambda v: None if v is None else Decimal(str(v))
    tall = x.findall("t:Tall", NS)
    xml = [(t.get("type"), t.get("enhet"), t.get("tall"), t.get("tjenestetype"),
            t.get("kodeverk"), dec(t.get("verdi")), dec(t.get("forrige")),
            dec(t.get("endringProsent")), t.get("avvik") == "true") for t in tall]
    js = [(g["kind"], g["enhet"] if g["kind"] != "uten" else None, g["figure"],
           None if g["service_type"] is None else str(g["service_type"]), g["kodeverk"],
           dec(g["value"]), dec(g["previous"]),
           None if g["change_percent"] is None else Decimal(f"{g['change_percent']:.1f}"),
           g["flagged"]) for g in figs]
    check(f"received: XML's {len(xml)} figures are the JSON's {len(js)}, in order", xml == js,
          first_diff(xml, js))
    compared = rc["comparison"] == "sammenlignet"
    html = []
    for t in page.of_class("received"):
        for r in t["rows"][1:]:
            c = r["cells"]
            row = [t["h3"], c[1], num(c[2])]
            if compared:
                row += [num(c[3]), num(c[4]), c[5] == "Avvik" and r["class"] == "avvik"]
            html.append(tuple(row))
    want = []
    for g in figs:
        what = ""
        if g["service_type"] is not None:
            what = f"{g['service_type']} {g['service_type_name'] or ''}".strip()
        elif g["kodeverk"] is not None:
            what = g["kodeverk"]
        row = [UNIT_LABELS.get(g["kind"], g["enhet"]), what, dec(g["value"])]
        if compared:
            row += [dec(g["previous"]),
                    None if g["change_percent"] is None else Decimal(f"{g['change_percent']:.1f}"),
                    g["flagged"]]
        want.append(tuple(row))
    check(f"received: HTML's figures are the JSON's ({rc['comparison']}), in order",
          html == want, first_diff(html, want))
    # the workbook's Mottatt sheet: unit, what, value, previous, change, flag
    dnum = lambda v: None if v is None or v == "" else Decimal(str(v))
    xl = []
    for r in wb["Mottatt"].iter_rows(min_row=2):
        v = [cell(c) for c in r[:7]]
        if v[0] == "":
            continue
        row = [v[0], v[2], dnum(v[3])]
        if compared:
            row += [dnum(v[4]), None if v[5] == "" else Decimal(f"{v[5]:.1f}"), v[6] == "Avvik"]
        xl.append(tuple(row))
    check("received: XLSX's Mottatt rows are the JSON's figures, in order", xl == want,
          first_diff(xl, want))
    return figs


def compare_masking(j, prefix):
    masked = [m[6] for m in j if MASKED.search(m[6])]
    check(f"masking: {len(masked)} values with a masked national ID (e.g. "
          f"{masked[0] if masked else '-'}), the same in every format (above)", len(masked) > 0)
    bad = [m[6] for m in j if re.search(r"\d{11}", m[6]) or re.search(r"\d{6}[ .-]\d{5}", m[6])]
    check("masking: no value shows an ID's last five digits", not bad, bad[:3])


# ---------------------------------------------------------------------------

def load(prefix):
    with open(prefix + ".json", encoding="utf-8") as f:
        d = json.load(f)
    root = ET.parse(prefix + ".xml").getroot()
    page = Page()
    with open(prefix + ".html", encoding="utf-8") as f:
        page.text = f.read()
    page.feed(page.text)
    page.close()
    wb = openpyxl.load_workbook(prefix + ".xlsx")
    return d, root, page, wb


def compare(prefix):
    print(f"{prefix}: csv, json, xml, html, xlsx")
    d, root, page, wb = load(prefix)
    j = compare_messages(prefix, d, root, page, wb)
    summary, unit_rows = compare_counts(d, root, page, wb, j)
    compare_status(d, root, page, wb)
    figs = compare_received(d, root, page, wb)
    compare_masking(j, prefix)
    return d, j, summary, unit_rows, figs


def main():
    d, j, summary, unit_rows, figs = compare(sys.argv[1])
    if len(sys.argv) > 3:
        wd, wj, wsummary, wunits, wfigs = compare(sys.argv[2])
        unit = sys.argv[3]
        print(f"{sys.argv[1]} against {sys.argv[2]}, limited to {unit!r}")
        want = [m for m in wj if m[7] == unit or (m[7] == "" and m[2] == "")]
        check(f"unit file: its {len(j)} messages are the whole file's {len(want)} of the unit "
              "and about the whole file, in order", j == want, first_diff(j, want))
        check("unit file: some of them are the unit's", any(m[7] == unit for m in j))
        check("unit file: every format names the filter",
              d["unit_filter"] == unit and ET.parse(sys.argv[1] + ".xml").getroot().get("enhet")
              == unit)
        check("unit file: persons, registrations, loaded, excluded as the whole file's",
              all(summary[k] == wsummary[k] for k in SUMMARY_KEYS), f"{summary} vs {wsummary}")
        check("unit file: its one unit row is the whole file's row of the unit",
              unit_rows == [u for u in wunits if u[0] == unit], f"{unit_rows} vs {wunits}")
        wf = [g for g in wfigs if g["kind"] != "hele" and g["enhet"] == unit]
        check(f"unit file: its {len(figs)} figures are the whole file's of the unit",
              figs == wf and len(figs) > 0, first_diff(figs, wf))
    print(f"compare: {'all checks hold' if failures == 0 else str(failures) + ' failed'}")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
