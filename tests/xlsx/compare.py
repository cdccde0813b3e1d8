#!/usr/bin/python3
"""Reads a feedback workbook (format=xlsx) back with an independent reader,
openpyxl, and compares it with the CSV feedback of the same report, row by
row (SPEC §6): the sheets and their order, frozen heading rows, filters,
the Meldinger sheet(s) against the CSV (values as written; a single line
number is a number cell, merged ones the CSV's text), the per-rule,
per-unit and summary counts against counts taken from the CSV, and no
national-ID-shaped run of 11 digits in any message cell.

  compare.py WORKBOOK.xlsx FEEDBACK.csv [FEEDBACK.json]

With the JSON of the same report, the Mottatt sheet (what was received) is
compared with its "received" figures, row by row.

Prints one line per check it makes; exit 0 when all hold, 1 otherwise.
"""
import csv
import io
import re
import sys

import openpyxl

LIST_SHEETS = ("Per regel", "Per enhet", "Mottatt")
FIRST_SHEETS = ["Sammendrag", "Per regel", "Per enhet", "Mottatt", "Meldinger"]
HEADINGS = {
    "Sammendrag": ["Opplysning", "Verdi"],
    "Per regel": ["Regel", "Nivå", "Antall", "Hva betyr det", "Slik retter dere det"],
    "Per enhet": ["Enhet", "Personer", "Lastet inn", "Utelatt", "Feil", "Advarsler"],
    "Mottatt": ["Enhet", "Tall", "Tjenestetype eller kodeverk", "Denne årgangen",
                "Forrige årgang", "Endring (%)", "Avvik"],
    "Meldinger": ["Regel", "Alvorlighet", "Ref", "Linje", "Element", "Melding", "Verdi", "Enhet"],
}
SEVERITIES = ["Kritisk feil", "Feil", "Advarsel", "Informasjon"]
GUARD = "=+-@\t\r"

failures = 0


def check(what, ok, detail=""):
    global failures
    if ok:
        print(f"  ok   {what}")
    else:
        failures += 1
        print(f"  FAIL {what}{': ' + detail if detail else ''}")
    return ok


def col_letter(n):
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def csv_rows(path):
    with open(path, "rb") as f:
        data = f.read()
    check("CSV starts with a BOM", data.startswith(b"\xef\xbb\xbf"))
    text = data[3:].decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    return rows[0], rows[1:]


def unguard(s):
    """The CSV's formula guard: an apostrophe before = + - @ TAB CR."""
    if len(s) >= 2 and s[0] == "'" and s[1] in GUARD:
        return s[1:]
    return s


def occurrences(linje):
    """Lines of one CSV message: "12, 40, 77" is three (" … (+N)" adds N)."""
    m = re.search(r" … \(\+(\d+)\)$", linje)
    extra = int(m.group(1)) if m else 0
    if m:
        linje = linje[: m.start()]
    return len([x for x in linje.split(", ") if x]) + extra or 1


UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def no_uuids(s):
    """Identifiers are shown in full (SPEC §3): a submission id named in a
    message (F007) may end in 11 digits without being a national ID."""
    return UUID.sub("", s)


def cell_value(c):
    """A cell's value as Excel shows it: OOXML's "_xHHHH_" escape decoded
    (ST_Xstring; openpyxl leaves it in inline strings)."""
    if c.value is None:
        return ""
    if isinstance(c.value, str):
        return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), c.value)
    return c.value


UNIT_LABELS = {"hele": "Hele fila", "uten": "(uten enhet)", "andre": "(andre enheter)"}


def same_number(cell, want):
    if want is None:
        return cell.value is None
    return cell.data_type == "n" and abs(float(cell.value) - float(want)) < 1e-9


def received(ws, json_path):
    """The Mottatt sheet against the JSON's received figures, in order."""
    import json
    with open(json_path, encoding="utf-8") as f:
        figures = json.load(f)["received"]["figures"]
    rows = [r for r in ws.iter_rows(min_row=2) if r[0].value is not None]
    check(f"Mottatt: as many rows as the JSON's figures ({len(figures)})",
          len(rows) == len(figures), f"{len(rows)} in the workbook")
    bad = []
    for i, (fig, r) in enumerate(zip(figures, rows)):
        unit = UNIT_LABELS.get(fig["kind"], fig["enhet"])
        what = ""
        if fig["service_type"] is not None:
            what = f"{fig['service_type']} {fig['service_type_name'] or ''}".strip()
        elif fig["kodeverk"] is not None:
            what = fig["kodeverk"]
        checks = [
            ("enhet", cell_value(r[0]) == unit),
            ("type", cell_value(r[2]) == what),
            ("value", same_number(r[3], fig["value"])),
            ("previous", same_number(r[4], fig["previous"])),
            ("change", fig["change_percent"] is None and r[5].value is None or
             fig["change_percent"] is not None and r[5].data_type == "n" and
             abs(r[5].value - fig["change_percent"]) < 0.051),
            ("flag", (cell_value(r[6]) == "Avvik") == fig["flagged"]),
        ]
        bad += [f"row {i + 2} {n}: {[c.value for c in r]} vs {fig}" for n, ok in checks if not ok]
        if len(bad) > 5:
            break
    check("Mottatt: every figure equals the JSON's", not bad, "; ".join(bad[:5]))


def main():
    book_path, csv_path = sys.argv[1], sys.argv[2]
    wb = openpyxl.load_workbook(book_path)  # not read-only: panes and filters
    names = wb.sheetnames

    # --- the sheets, in order; messages continue on "Meldinger (2)", ...
    check("first sheets " + ", ".join(FIRST_SHEETS), names[:5] == FIRST_SHEETS, str(names))
    more = names[5:]
    check("further sheets are Meldinger (2), (3), ...",
          more == [f"Meldinger ({i})" for i in range(2, 2 + len(more))], str(more))
    message_sheets = [wb[n] for n in names[4:]]

    for ws in wb.worksheets:
        want = HEADINGS["Meldinger" if ws.title.startswith("Meldinger") else ws.title]
        got = [c.value for c in ws[1]][: len(want)]
        check(f"{ws.title}: Norwegian headings", got == want, str(got))
        check(f"{ws.title}: heading row frozen", ws.freeze_panes == "A2", str(ws.freeze_panes))
        if ws.title in LIST_SHEETS or ws.title.startswith("Meldinger"):
            ref = f"A1:{col_letter(len(want))}{max(ws.max_row, 1)}"
            check(f"{ws.title}: filter over every row ({ref})", ws.auto_filter.ref == ref,
                  str(ws.auto_filter.ref))
        widths = [ws.column_dimensions[col_letter(i + 1)].width for i in range(len(want))]
        check(f"{ws.title}: columns sized", all(w and w > 5 for w in widths), str(widths))

    # --- Meldinger against the CSV, row by row
    header, rows = csv_rows(csv_path)
    want = [h.lower() for h in HEADINGS["Meldinger"]]
    check("CSV header is the Meldinger headings", header == want[: len(header)], str(header))
    xrows = []
    for ws in message_sheets:
        xrows.extend(list(ws.iter_rows(min_row=2))[: ws.max_row - 1])
    check(f"as many message rows as CSV rows ({len(rows)})", len(xrows) == len(rows),
          f"{len(xrows)} in the workbook")
    bad = []
    numeric_lines = 0
    for i, (crow, xrow) in enumerate(zip(rows, xrows)):
        for j, name in enumerate(want):
            c = xrow[j]
            want_v = unguard(crow[j]) if j < len(crow) else ""
            got = cell_value(c)
            if c.data_type == "f":
                bad.append(f"row {i + 2} {name}: a formula")
            elif name == "linje" and re.fullmatch(r"\d+", want_v):
                numeric_lines += 1
                if not (isinstance(got, int) and c.data_type == "n" and got == int(want_v)):
                    bad.append(f"row {i + 2} linje: {got!r} ({c.data_type}), CSV {want_v!r}")
            elif isinstance(got, (int, float)) or got != want_v:
                bad.append(f"row {i + 2} {name}: {got!r}, CSV {want_v!r}")
            elif isinstance(got, str) and name != "linje" and re.search(r"\d{11}", no_uuids(got)):
                bad.append(f"row {i + 2} {name}: 11 digits in a row")
        if len(bad) > 10:
            break
    check("every message row equals its CSV row", not bad, "; ".join(bad[:10]))
    check(f"single line numbers are number cells ({numeric_lines})",
          numeric_lines > 0 or not rows, "no numeric line cell")

    # --- counts: per rule, per unit, the summary, against the CSV
    by_rule, by_sev = {}, {}
    for r in rows:
        n = occurrences(r[3])
        by_rule[r[0]] = by_rule.get(r[0], 0) + n
        by_sev[r[1]] = by_sev.get(r[1], 0) + n
    ws = wb["Per regel"]
    got = {}
    for row in ws.iter_rows(min_row=2, values_only=False):
        if row[0].value is None:
            continue
        if not isinstance(row[2].value, int):
            check(f"Per regel: {row[0].value} count is a number", False, repr(row[2].value))
        got[row[0].value] = row[2].value
    check("Per regel: counts per rule as in the CSV", got == by_rule, f"{got} vs {by_rule}")

    ws = wb["Per enhet"]
    units = [[c.value for c in row] for row in ws.iter_rows(min_row=2) if row[0].value is not None]
    check("Per enhet: numbers are number cells",
          all(isinstance(v, int) for u in units for v in u[1:6]), str(units))
    # a message about a person (it has a ref) counts under its unit; those
    # about the whole file count under none. Per unit, the CSV's errors
    # (critical and ordinary) and warnings are the sheet's.
    want = {}
    for r in rows:
        if not unguard(r[2]):
            continue
        name = unguard(r[7]) or "(uten enhet)"
        e = want.setdefault(name, [0, 0])
        n = occurrences(r[3])
        if r[1] in ("Kritisk feil", "Feil"):
            e[0] += n
        elif r[1] == "Advarsel":
            e[1] += n
    got_u = {u[0]: [u[4], u[5]] for u in units}
    if units:
        check("Per enhet: errors and warnings per unit as in the CSV",
              all(got_u.get(k, [0, 0]) == v for k, v in want.items()) and
              all(k in want or v == [0, 0] for k, v in got_u.items()),
              f"{got_u} vs {want}")
    else:
        # a report made without the validator (check_xlsx's) has no units
        check("Per enhet: no unit rows only when no message is about a person's unit",
              all(k == "(uten enhet)" for k in want), str(want))

    ws = wb["Sammendrag"]
    facts = {row[0].value: row[1] for row in ws.iter_rows(min_row=2) if row[0].value}
    for s in SEVERITIES:
        c = facts.get(s)
        check(f"Sammendrag: {s} is a number equal to the CSV's",
              c is not None and c.data_type == "n" and c.value == by_sev.get(s, 0),
              f"{c.value if c is not None else None!r} vs {by_sev.get(s, 0)}")
    c = facts.get("Personer i filen")
    check("Sammendrag: persons is a number", c is not None and isinstance(c.value, int))
    if units:
        check("Sammendrag: units' persons add up to the file's",
              c is not None and sum(u[1] for u in units) == c.value)
    check("Sammendrag: a status", facts.get("Status") is not None and bool(facts["Status"].value))

    if len(sys.argv) > 3:
        received(wb["Mottatt"], sys.argv[3])

    print(f"compare: {len(rows)} messages on {len(message_sheets)} sheet(s); "
          f"{'all checks hold' if failures == 0 else str(failures) + ' failed'}")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
