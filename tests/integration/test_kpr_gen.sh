#!/usr/bin/env bash
# test_kpr_gen.sh — the synthetic submission generator (SPEC §8, kpr-gen):
# determinism, sizing of all 357 municipalities, the manifest against a
# recount of the files, the XSD, no national ID in stdout or the manifest,
# and that BUILD/kpr-validate passes a clean file and reports exactly the
# injected rules at the injected refs. xmllint and kpr-validate are required:
# make check installs and builds them, so a missing one is a failure.
# Run from the repo root; BUILD is the build directory (default: build).
# Needs no database or server; takes a few seconds.
set -uo pipefail
build=${BUILD:-build}
gen="$build/kpr-gen"
validate="$build/kpr-validate"
xsd=config/xsd/innsending.xsd
T_PASS=0
T_FAIL=0
ok() { T_PASS=$((T_PASS + 1)); echo "  ok   $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "  FAIL $*"; }
check() { # description, command...
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; return 1; fi
}

if [ ! -x "$gen" ]; then
	echo "test_kpr_gen: $gen not built" >&2
	exit 1
fi
# the system interpreter when there is one: version-manager shims cost ~1 s a start
PY=$(command -v /usr/bin/python3 || command -v python3) || { echo "test_kpr_gen: needs python3" >&2; exit 1; }
have_xmllint() { xmllint --version >/dev/null 2>&1; }
check "xmllint installed (tools/install-deps: libxml2-utils)" have_xmllint
validator_built() { [ -x "$validate" ] && "$validate" --help 2>&1 | grep -q -- '--test-mode'; }
check "$validate built, with --test-mode" validator_built
check "$xsd present" [ -f "$xsd" ]
tmp=$(mktemp -d /tmp/kpr-gen-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# flat MANIFEST: the manifest as lines for grep/awk, one python start:
#   files N | persons N | registrations N | minpersons N
#   file NAME KOMMUNE PERSONS REGISTRATIONS BYTES SHA256 AVSENDER
#   inj NAME RULE COUNT
flat() {
	"$PY" - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["totals"]
print("files", len(d["files"]))
print("persons", t["persons"])
print("registrations", t["registrations"])
print("minpersons", min(f["persons"] for f in d["files"]))
for f in d["files"]:
    print("file", f["file"], f["kommune"], f["persons"], f["registrations"], f["bytes"], f["sha256"], f["avsender"])
    for r, v in f["injected"].items():
        print("inj", f["file"], r, v["count"])
EOF
}
# field FLATFILE KEY: the value of a one-value line
field() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

# ---- determinism -------------------------------------------------------
sel=0301,1151,4601,5001
"$gen" --seed 42 --kommune $sel --scale 0.05 --threads 1 --out "$tmp/a" >"$tmp/a.out" 2>&1
rc_a=$?
"$gen" --seed 42 --kommune $sel --scale 0.05 --threads 2 --out "$tmp/b" >"$tmp/b.out" 2>&1
rc_b=$?
"$gen" --seed 43 --kommune $sel --scale 0.05 --out "$tmp/c" >"$tmp/c.out" 2>&1
check "generator exits 0" [ $rc_a -eq 0 -a $rc_b -eq 0 ]
check "4 files written" [ "$(ls "$tmp/a"/*.xml | wc -l)" -eq 4 ]
same_hashes() { (cd "$1" && sha256sum *.xml) >"$tmp/h1" && (cd "$2" && sha256sum *.xml) >"$tmp/h2" && cmp -s "$tmp/h1" "$tmp/h2"; }
check "same seed, 1 or 2 threads: identical files" same_hashes "$tmp/a" "$tmp/b"
check "same seed: identical manifest" cmp -s "$tmp/a/manifest.json" "$tmp/b/manifest.json"
differs() { ! cmp -s "$tmp/a/0301-2025.xml" "$tmp/c/0301-2025.xml"; }
check "another seed: different content" differs
alone() {
	"$gen" --seed 42 --kommune 1151 --scale 0.05 --out "$tmp/d" >/dev/null 2>&1 &&
		cmp -s "$tmp/a/1151-2025.xml" "$tmp/d/1151-2025.xml"
}
check "a file does not depend on the other municipalities chosen" alone

# ---- the manifest against the files -----------------------------------
recount() { # dir: every file's persons, registrations, bytes and sha256 as listed
	local dir=$1 n=0 bad=0 f p r b s
	while IFS=$'\t' read -r f p r b s; do
		n=$((n + 1))
		local x="$dir/$f"
		# each element on its own line: Person children are indented by 4+
		local pc rc bc sc
		pc=$(grep -c '^  <Person' "$x")
		rc=$(grep -cE '^ {4,}<[A-Z]' "$x")
		bc=$(stat -c %s "$x")
		sc=$(sha256sum "$x" | cut -d' ' -f1)
		if [ "$pc" != "$p" ] || [ "$rc" != "$r" ] || [ "$bc" != "$b" ] || [ "$sc" != "$s" ]; then
			echo "    $f: manifest $p/$r/$b/$s, file $pc/$rc/$bc/$sc" >&2
			bad=$((bad + 1))
		fi
	done < <(flat "$dir/manifest.json" | awk '$1 == "file" { print $2 "\t" $4 "\t" $5 "\t" $6 "\t" $7 }')
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}
check "manifest persons, registrations, bytes, sha256 match a recount" recount "$tmp/a"
xpath_count() { # independent of the layout: every element below a Person
	local f="$tmp/a/1151-2025.xml" want got
	want=$(flat "$tmp/a/manifest.json" | awk '$1 == "file" && $3 == "1151" { print $5 }')
	got=$(xmllint --xpath 'count(//*[local-name()="Person"]//*)' "$f")
	[ "$want" = "$got" ]
}
check "registrations = elements inside Person (xmllint)" xpath_count

# ---- all 357 municipalities, sized by population ----------------------
"$gen" --all --scale 0.02 --seed 7 --out "$tmp/all" >"$tmp/all.out" 2>&1
check "--all: exit 0" [ $? -eq 0 ]
check "--all: 357 files" [ "$(ls "$tmp/all"/*-2025.xml | wc -l)" -eq 357 ]
flat "$tmp/all/manifest.json" >"$tmp/all.flat"
check "--all: manifest lists 357 files" [ "$(field "$tmp/all.flat" files)" -eq 357 ]
check "--all: every file has a Person" [ "$(field "$tmp/all.flat" minpersons)" -ge 1 ]
oslo_share() {
	local oslo total
	oslo=$(awk '$1 == "file" && $3 == "0301" { print $4 }' "$tmp/all.flat")
	total=$(field "$tmp/all.flat" persons)
	[ $((100 * oslo / total)) -ge 8 ] && [ $((100 * oslo / total)) -le 12 ]
}
check "--all: Oslo about 10% of persons" oslo_share
# the national default is >= 300,000 persons and >= 10 M registrations;
# 2% of it must show the same proportions
check "--all: scale 0.02 gives >= 6,000 persons" [ "$(field "$tmp/all.flat" persons)" -ge 6000 ]
check "--all: >= 28 registrations per person" \
	[ $(($(field "$tmp/all.flat" registrations) / $(field "$tmp/all.flat" persons))) -ge 28 ]

# ---- structure ---------------------------------------------------------
xsd_ok() { xmllint --noout --schema "$xsd" "$@" 2>"$tmp/xsd.err" || { grep -v ' validates$' "$tmp/xsd.err" | head -5 >&2; false; }; }
check "all 357 files valid against $xsd" xsd_ok "$tmp"/all/*.xml
check "the 4 larger files valid against $xsd" xsd_ok "$tmp"/a/*.xml

# ---- gzip ---------------------------------------------------------------
"$gen" --seed 42 --kommune 1151,4601 --scale 0.05 --gzip --out "$tmp/gz" >/dev/null 2>&1
gz_same() { gzip -t "$tmp/gz/4601-2025.xml.gz" && gzip -dc "$tmp/gz/4601-2025.xml.gz" | cmp -s - "$tmp/a/4601-2025.xml"; }
check "--gzip: valid gzip holding the same XML" gz_same
gz_sha() { [ "$(sha256sum <"$tmp/gz/1151-2025.xml.gz" | cut -d' ' -f1)" = "$(flat "$tmp/gz/manifest.json" | awk '$1 == "file" && $3 == "1151" { print $7 }')" ]; }
check "--gzip: manifest sha256 is of the .gz file" gz_sha

# ---- injection ----------------------------------------------------------
rules=R101,R102,R103,R104,R105,R106,R107,R108,R109,R110,R201,R202,R203,R204,R301,R302,R303,R304,R305,R306,R307,R308,R309,R310,R401,R402,R403,R404,R405
spec=$(echo $rules | sed 's/,/=0.02,/g; s/$/=0.02/')
"$gen" --seed 5 --kommune 4601 --scale 0.3 --inject "$spec" --out "$tmp/inj" >"$tmp/inj.out" 2>&1
check "--inject: exit 0" [ $? -eq 0 ]
inj="$tmp/inj/4601-2025.xml"
flat "$tmp/inj/manifest.json" >"$tmp/inj.flat"
count() { awk -v r="$1" '$1 == "inj" && $3 == r { n = $4 } END { print n + 0 }' "$tmp/inj.flat"; }
all_injected() {
	local r missing=""
	for r in ${rules//,/ }; do [ "$(count $r)" -gt 0 ] || missing="$missing $r"; done
	[ -z "$missing" ] || echo "    never injected:$missing" >&2
	[ -z "$missing" ]
}
check "--inject: every R rule injected at least once" all_injected
recount_r101() { [ "$(($(grep -c '^  <Person' "$inj") - $(grep -c '<Fnr>' "$inj")))" -eq "$(count R101)" ]; }
check "R101 count = Persons without Fnr" recount_r101
recount_r105() { [ "$(grep -o '<Fnr>[0-9]*</Fnr>' "$inj" | sort | uniq -c | awk '$1 > 1 { n += $1 - 1 } END { print n + 0 }')" -eq "$(count R105)" ]; }
check "R105 count = repeats of an Fnr" recount_r105
recount_r102() { [ "$(grep '<Fnr>' "$inj" | grep -cvE '<Fnr>[0-9]{11}</Fnr>')" -eq "$(count R102)" ]; }
check "R102 count = Fnr not of 11 digits" recount_r102
recount_r201() { [ "$(grep -cE 'skaar="[0678]"' "$inj")" -eq "$(count R201)" ]; }
check "R201 count = scores outside 1-5, 9" recount_r201
recount_r301() { [ "$(grep -cE '<Tjeneste type="(0|10|12|13|16|30|31|40|99)"' "$inj")" -eq "$(count R301)" ]; }
check "R301 count = service types not in the list" recount_r301
recount_r108() {
	local bad missing
	bad=$(grep -c '<Kjonn>[^12]</Kjonn>' "$inj")
	missing=$(($(grep -c '^  <Person' "$inj") - $(grep -c '<Kjonn>' "$inj")))
	[ $((bad + missing)) -eq "$(count R108)" ]
}
check "R108 count = Kjonn not 1/2 or missing" recount_r108

frule() { # rule: a whole-file fault forced with rate 1 is recorded once
	"$gen" --kommune 1103 --persons 40 --inject "$1=1" --out "$tmp/f$1" >/dev/null 2>&1 &&
		flat "$tmp/f$1/manifest.json" | grep -q "^inj 1103-2025.xml $1 1\$"
}
for r in F001 F002 F003 F004 F005 F006 F007; do check "$r=1 recorded" frule $r; done
notwf() { have_xmllint && ! xmllint --noout "$tmp/fF001/1103-2025.xml" 2>/dev/null; }
check "F001: not well-formed (xmllint)" notwf
check "F006: no Person" [ "$(grep -c '<Person' "$tmp/fF006/1103-2025.xml")" -eq 0 ]
f003() { ! grep -q 'kommunenummer="1103"' "$tmp/fF003/1103-2025.xml"; }
check "F003: Avsender is another municipality" f003

# ---- no national ID leaks ---------------------------------------------------
grep -ho '<Fnr>[0-9]\{11\}</Fnr>' "$tmp"/a/*.xml "$inj" | sed 's/<[^>]*>//g' | sort -u >"$tmp/ids"
check "ids extracted for the leak check" [ -s "$tmp/ids" ]
no_leak() {
	! cat "$tmp"/*.out "$tmp"/*/manifest.json | grep -qF -f "$tmp/ids" &&
		! cat "$tmp"/*.out | grep -qE '(^|[^0-9])[0-9]{11}([^0-9]|$)'
}
check "no national ID in stdout, stderr or the manifest" no_leak

# ---- the validator ----------------------------------------------------------
"$validate" --test-mode --quiet "$tmp/a/0301-2025.xml"
rc=$?
check "kpr-validate: clean Oslo file gives exit 0 or 1 (got $rc)" [ $rc -le 1 ]
"$validate" --test-mode --format csv "$inj" >"$tmp/inj.csv"
rc=$?
check "kpr-validate: injected file gives exit 2 (got $rc)" [ $rc -eq 2 ]
same_refs() {
	"$PY" - "$tmp/inj/manifest.json" "$tmp/inj.csv" <<'EOF'
import csv, json, sys
from collections import defaultdict
inj = json.load(open(sys.argv[1]))["files"][0]["injected"]
got = defaultdict(set)
with open(sys.argv[2], encoding="utf-8-sig") as f:
    for row in list(csv.reader(f, delimiter=";"))[1:]:
        got[row[0]].add(row[2])
bad = 0
for rule in sorted(set(inj) | set(got)):
    want = set(inj.get(rule, {}).get("refs", []))
    have = got.get(rule, set())
    # R105: the validator names both persons, the manifest the later one
    if want == have or (rule == "R105" and want <= have):
        continue
    bad += 1
    print(f"    {rule}: injected {len(want)}, reported {len(have)}; "
          f"not reported {len(want - have)}, unexpected {len(have - want)}", file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}
check "kpr-validate reports exactly the injected rules at the injected refs" same_refs

# ---- the expected outcome, journal refs, second files ----------------------
# expect in the manifest = what kpr-validate's JSON summary says (status,
# persons and registrations loaded), for every file, at high rates of every
# ERROR and WARNING rule (R105/R106 partners included) and for second files
"$gen" --seed 11 --kommune 4601,1103,5001 --scale 0.1 --inject "$spec" --refs journal \
	--resubmit 0.67 --out "$tmp/exp" >"$tmp/exp.out" 2>&1
check "--refs journal --resubmit: exit 0" [ $? -eq 0 ]
expect_matches() {
	"$PY" - "$tmp/exp/manifest.json" "$validate" <<'EOF2'
import json, os, subprocess, sys
m = json.load(open(sys.argv[1]))
d = os.path.dirname(sys.argv[1])
bad = 0
for f in m["files"]:
    out = subprocess.run([sys.argv[2], "--test-mode", "--format", "json", os.path.join(d, f["file"])],
                         capture_output=True, text=True).stdout
    s = json.loads(out)["summary"]
    st = "rejected" if s["fatal"] else "accepted_with_errors" if s["by_severity"]["ERROR"] else "accepted"
    got = (st, s["persons_loaded"], s["registrations_loaded"], s["persons"], s["registrations"])
    e = f["expect"]
    want = (e["status"], e["persons_loaded"], e["registrations_loaded"], f["persons"], f["registrations"])
    if got != want:
        bad += 1
        print("    %s: manifest %s, kpr-validate %s" % (f["file"], want, got), file=sys.stderr)
sys.exit(1 if bad or len(m["files"]) != 5 else 0)
EOF2
}
check "manifest expect = kpr-validate (status, persons and registrations loaded), 3 + 2 files" expect_matches
second() { # the second file: same persons, its own id, @forrigeId the first's, later
	local a="$tmp/exp/4601-2025.xml" b="$tmp/exp/4601-2025-2.xml" ida idb
	[ -f "$b" ] || b=$(ls "$tmp"/exp/*-2.xml | head -1) && a=${b%-2.xml}.xml
	ida=$(grep -o ' id="[^"]*"' "$a" | head -1 | cut -d'"' -f2)
	idb=$(grep -o ' id="[^"]*"' "$b" | head -1 | cut -d'"' -f2)
	[ "$ida" != "$idb" ] && grep -q "forrigeId=\"$ida\"" "$b" &&
		[ "$(grep -o 'opprettet="[^"]*"' "$b")" \> "$(grep -o 'opprettet="[^"]*"' "$a")" ] &&
		[ "$(grep -c '^  <Person' "$a")" = "$(grep -c '^  <Person' "$b")" ]
}
check "--resubmit: 2 of 3 municipalities get a later second file naming the first" \
	[ "$(ls "$tmp"/exp/*-2.xml | wc -l)" -eq 2 ]
check "--resubmit: second file has its own id, forrigeId = the first's, later opprettet" second
journal_refs() { # every ref one of the two journal shapes, no other
	! grep -ho '<Person ref="[^"]*"' "$tmp"/exp/*.xml | cut -d'"' -f2 |
		grep -vqE '^([0-9]{4}-[0-9]{7}|[0-9]{4}/[0-9]{6}-[0-9]{2})$'
}
check "--refs journal: refs like 1101-0000001 or 2024/123456-01" journal_refs
same_persons() { # journal refs change the refs and nothing else
	"$gen" --seed 42 --kommune 1151 --scale 0.05 --refs journal --out "$tmp/j" >/dev/null 2>&1 &&
		cmp -s <(grep -v '<Person ref=' "$tmp/a/1151-2025.xml") <(grep -v '<Person ref=' "$tmp/j/1151-2025.xml")
}
check "--refs journal: the same persons, other refs" same_persons
"$gen" --seed 11 --kommune 4601,1103,5001 --scale 0.1 --inject "$spec" --refs journal \
	--resubmit 0.67 --out "$tmp/exp2" >/dev/null 2>&1
check "--refs journal --resubmit: same seed, same files and manifest" \
	same_hashes "$tmp/exp" "$tmp/exp2"
check "--resubmit 0.1 of 357: 36 second files" bash -c \
	"'$gen' --all --scale 0.002 --resubmit 0.1 --out '$tmp/r' >/dev/null 2>&1 && [ \$(ls '$tmp'/r/*-2.xml | wc -l) -eq 36 ]"

# ---- units ---------------------------------------------------------------------
"$gen" --seed 42 --kommune 1151 --scale 0.05 --units 15 --out "$tmp/u" >/dev/null 2>&1
check "--units 15: exit 0" [ $? -eq 0 ]
same_without_units() { # units add the enhet attributes and nothing else
	cmp -s <(sed 's/ enhet="[^"]*"//g' "$tmp/u/1151-2025.xml") "$tmp/a/1151-2025.xml"
}
check "--units: the same file but for the enhet attributes" same_without_units
person_units() { # every person has one of at most 15 units
	[ "$(grep -c '<Person ' "$tmp/u/1151-2025.xml")" = "$(grep -c '<Person [^>]*enhet="' "$tmp/u/1151-2025.xml")" ] &&
		[ "$(grep -o '<Person [^>]*enhet="[^"]*"' "$tmp/u/1151-2025.xml" | sed 's/.*enhet=//' | sort -u | wc -l)" -le 15 ]
}
check "--units: every person in one of at most 15 units" person_units
check "--units: some services at a site of their own" grep -q '<Tjeneste [^>]*enhet="' "$tmp/u/1151-2025.xml"
units_valid() { # the validator takes them: no R110, its per-unit rows name them
	"$validate" --test-mode --format json "$tmp/u/1151-2025.xml" >"$tmp/u.json"
	"$PY" - "$tmp/u.json" "$tmp/u/1151-2025.xml" <<'PY'
import json, sys, xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1]))
# 1151's file is ISO-8859-1: read it as its declaration says
persons = {p.get("enhet") for p in ET.parse(sys.argv[2]).getroot().iter("{urn:no:kpr:innsending:1}Person")}
rows = {u.get("enhet") for u in d.get("units", [])}
assert not any(m["rule"] == "R110" for m in d["messages"]), "R110"
assert persons <= rows, (persons - rows)
PY
}
check "--units: kpr-validate takes them (no R110) and counts each unit" units_valid
"$gen" --units 61 --out "$tmp/x" >/dev/null 2>&1
check "--units above 60: exit 2" [ $? -eq 2 ]

# ---- units in an ISO-8859-1 file ----------------------------------------------
# CosDoc's municipalities (3201 with seed 42) get ISO-8859-1 files: a unit's
# name must be written in Latin-1 there, so a reader that honours the
# declaration reads "Bydel Grünerløkka" as the UTF-8 file (0301) spells it,
# never "Bydel GrÃ¼nerlÃ¸kka". The expected names are kpr-gen's own list.
"$gen" --seed 42 --kommune 0301,3201 --scale 0.05 --units 15 --out "$tmp/ul" >/dev/null 2>&1
check "--units 15, 0301 and 3201: exit 0" [ $? -eq 0 ]
declared() { # the test's premise: one file of each encoding
	head -1 "$tmp/ul/3201-2025.xml" | grep -q 'encoding="ISO-8859-1"' &&
		head -1 "$tmp/ul/0301-2025.xml" | grep -q 'encoding="UTF-8"'
}
check "--units: 3201's file declares ISO-8859-1, 0301's UTF-8" declared
check "--units: the ISO-8859-1 file is valid against $xsd" xsd_ok "$tmp/ul/3201-2025.xml"
"$validate" --test-mode --format json "$tmp/ul/3201-2025.xml" >"$tmp/ul.json"
check "--units: kpr-validate takes the ISO-8859-1 file (exit 0)" [ $? -eq 0 ]
latin1_units() { # both files name the same 15 units, kpr-gen's, as kpr-validate does
	"$PY" - tools/kpr-gen/gen.c "$tmp/ul/3201-2025.xml" "$tmp/ul/0301-2025.xml" "$tmp/ul.json" <<'PY'
import collections, json, re, sys, xml.etree.ElementTree as ET
ns = "{urn:no:kpr:innsending:1}"
src = open(sys.argv[1], encoding="utf-8").read()
names = re.findall(r'"([^"]*)"', re.search(r"unit_names\[\] = \{(.*?)\};", src, re.S).group(1))
want = {names[i % len(names)] + (" avd. %d" % (i // len(names) + 1) if i >= len(names) else "")
        for i in range(15)}
def units(path):
    root = ET.parse(path).getroot()
    persons = collections.Counter(p.get("enhet") for p in root.iter(ns + "Person"))
    return persons, {t.get("enhet") for t in root.iter(ns + "Tjeneste")} - {None}
iso, iso_tj = units(sys.argv[2])
utf, utf_tj = units(sys.argv[3])
rows = {u["enhet"]: u["persons"] for u in json.load(open(sys.argv[4]))["units"]}
print("    ISO-8859-1 units: %s" % sorted(u for u in iso if not u.isascii()), file=sys.stderr)
ok = (len(names) == 12 and any(not n.isascii() for n in want) and
      set(iso) == set(utf) == want and iso_tj <= want and utf_tj <= want and
      not any("\u00c3" in u for u in set(iso) | iso_tj) and rows == dict(iso))
sys.exit(0 if ok else 1)
PY
}
check "--units: the ISO-8859-1 file's unit names read as kpr-gen's and the UTF-8 file's, and kpr-validate counts the same" latin1_units
latin1_bytes() { # Latin-1 on disk: ü is one byte, no UTF-8 sequence of it
	LC_ALL=C grep -q -a "Gr$(printf '\xfc')nerl$(printf '\xf8')kka" "$tmp/ul/3201-2025.xml" &&
		! LC_ALL=C grep -q -a "$(printf '\xc3')" "$tmp/ul/3201-2025.xml"
}
check "--units: the ISO-8859-1 file holds the names in Latin-1 bytes" latin1_bytes

# ---- R110: a bad unit on a person or a service ---------------------------------
# blank, over 64 characters, a tab or line feed, or the person's own synthetic
# ID: a WARNING, the person loaded; the rest of the file as without it
"$gen" --seed 42 --kommune 4601 --scale 0.05 --units 15 --inject R110=0.06 --out "$tmp/ur" >"$tmp/ur.out" 2>&1
check "--inject R110 --units 15: exit 0" [ $? -eq 0 ]
"$gen" --seed 42 --kommune 4601 --scale 0.05 --units 15 --inject R110=0.06 --out "$tmp/ur2" >/dev/null 2>&1
check "--inject R110: same seed, same file and manifest" same_hashes "$tmp/ur" "$tmp/ur2"
only_units_differ() { # the file without R110 and without --units, enhet attributes aside
	cmp -s <(sed 's/ enhet="[^"]*"//g' "$tmp/ur/4601-2025.xml") "$tmp/a/4601-2025.xml"
}
check "--inject R110: only enhet attributes differ from the plain file" only_units_differ
check "--inject R110: valid against $xsd" xsd_ok "$tmp/ur/4601-2025.xml"
r110_recount() { # the bad units in the file, by SPEC §3, are the manifest's, one per ref
	"$PY" - "$tmp/ur/manifest.json" "$tmp/ur/4601-2025.xml" <<'PY'
import json, re, sys, xml.etree.ElementTree as ET
inj = json.load(open(sys.argv[1]))["files"][0]["injected"]["R110"]
ns = "{urn:no:kpr:innsending:1}"
kinds, refs, bad = set(), [], 0
for p in ET.parse(sys.argv[2]).getroot().iter(ns + "Person"):
    for el in [p] + p.findall(ns + "Tjeneste"):
        u = el.get("enhet")
        if u is None:
            continue
        kind = ("blank" if not u.strip(" ") else "long" if len(u) > 64 else
                "control" if re.search(r"[\x00-\x1f\x7f-\x9f]", u) else
                "id" if re.search(r"\d{6}[ .-]?\d{5}", u) else None)
        if kind:
            bad += 1
            refs.append(p.get("ref"))
            kinds.add((kind, el.tag[len(ns):]))
ok = bad == inj["count"] == len(inj["refs"]) and sorted(refs) == sorted(inj["refs"])
print("    %d bad units, manifest %d; %s" % (bad, inj["count"], sorted(kinds)), file=sys.stderr)
sys.exit(0 if ok and len(kinds) == 8 else 1)
PY
}
check "--inject R110: the file's bad units = the manifest's count and refs, every kind on Person and Tjeneste" r110_recount
"$validate" --test-mode --format json "$tmp/ur/4601-2025.xml" >"$tmp/ur.json"
rc=$?
check "--inject R110: kpr-validate exit 1, warnings only (got $rc)" [ $rc -eq 1 ]
r110_validated() { # exactly the manifest's R110 messages, nothing else, everyone loaded
	"$PY" - "$tmp/ur/manifest.json" "$tmp/ur.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["files"][0]
d = json.load(open(sys.argv[2]))
inj, s, e = f["injected"]["R110"], d["summary"], f["expect"]
got = sorted(m["ref"] for m in d["messages"] if m["rule"] == "R110")
print("    R110: manifest %d, kpr-validate %d of %d messages" % (inj["count"], len(got), len(d["messages"])), file=sys.stderr)
ok = (got == sorted(inj["refs"]) and len(d["messages"]) == inj["count"] and
      all(m.get("enhet") == "(ukjent enhet)" for m in d["messages"]) and
      e["status"] == "accepted" and e["persons_warning"] == inj["count"] and
      (s["persons_loaded"], s["registrations_loaded"]) == (e["persons_loaded"], e["registrations_loaded"]) ==
      (f["persons"], f["registrations"]))
sys.exit(0 if ok else 1)
PY
}
check "--inject R110: kpr-validate reports exactly the manifest's R110 count at its refs, everyone loaded" r110_validated

# ---- units auto: each municipality's own, by its population --------------------
# Oslo its 15 bydeler (and Sykehjemsetaten's institutions on services),
# Bergen, Trondheim and Bærum (ISO-8859-1 with seed 42) a few zones and
# sites, Eigersund (15,200) two zones, Utsira (200) none; the rest of each
# file as without --units
au=0301,1101,1151,3201,4601,5001
"$gen" --seed 42 --kommune $au --scale 0.05 --units auto --out "$tmp/ua" >/dev/null 2>&1
check "--units auto: exit 0" [ $? -eq 0 ]
"$gen" --seed 42 --kommune $au --scale 0.05 --units auto --threads 1 --out "$tmp/ua2" >/dev/null 2>&1
check "--units auto: same seed, same files" same_hashes "$tmp/ua" "$tmp/ua2"
"$gen" --seed 42 --kommune $au --scale 0.05 --out "$tmp/un" >/dev/null 2>&1
auto_same_without_units() { # byte for byte, Latin-1 files too (LC_ALL=C)
	local f
	for f in "$tmp"/un/*.xml; do
		LC_ALL=C cmp -s <(LC_ALL=C sed 's/ enhet="[^"]*"//g' "$tmp/ua/${f##*/}") "$f" ||
			{ echo "    ${f##*/} differs" >&2; return 1; }
	done
}
check "--units auto: every file the same but for the enhet attributes" auto_same_without_units
check "--units auto: Utsira (200 inhabitants) has no enhet at all" \
	bash -c "! grep -q 'enhet=' '$tmp/ua/1151-2025.xml'"
auto_units() { # by municipality, as the files read (in their declared encoding)
	"$PY" - "$tmp/ua" <<'PY'
import collections, json, sys, xml.etree.ElementTree as ET
ns, d = "{urn:no:kpr:innsending:1}", sys.argv[1]
INST = {8, 17, 18, 19, 20, 21, 22, 25}  # institution services (config/codelists.csv)
BYDELER = {"Bydel " + b for b in (
    "Gamle Oslo", "Grünerløkka", "Sagene", "St. Hanshaugen", "Frogner", "Ullern",
    "Vestre Aker", "Nordre Aker", "Bjerke", "Grorud", "Stovner", "Alna", "Østensjø",
    "Nordstrand", "Søndre Nordstrand")}
ZONES = {"Hjemmetjenesten sone " + z for z in ("nord", "sør", "øst", "vest")}
def units(k):
    root = ET.parse("%s/%s-2025.xml" % (d, k)).getroot()
    persons = collections.Counter(p.get("enhet") for p in root.iter(ns + "Person"))
    tj = [t for t in root.iter(ns + "Tjeneste") if t.get("enhet") is not None]
    sites = {t.get("enhet") for t in tj}
    return persons, sites, all(int(t.get("type")) in INST for t in tj)
bad = []
def want(what, cond):
    if not cond:
        bad.append(what)
p, s, inst = units("0301")
print("    Oslo: %d bydeler, sites %s" % (len(p), sorted(s)), file=sys.stderr)
want("Oslo: persons in exactly the 15 bydeler", set(p) == BYDELER)
want("Oslo: bigger bydeler more persons", p["Bydel Grünerløkka"] > p["Bydel Grorud"])
want("Oslo: 1-6 Sykehjemsetaten sites, institution services only",
     1 <= len(s) <= 6 and all(u.startswith("Sykehjemsetaten ") for u in s) and inst)
for k, navn in (("4601", "Bergen"), ("5001", "Trondheim"), ("3201", "Bærum")):
    p, s, inst = units(k)
    want(k + ": every person in a zone", set(p) <= ZONES and 3 <= len(p) <= 4)
    want(k + ": its helsehus among 1-2 sites, institution services only",
         navn + " helsehus" in s and len(s) <= 2 and not (s & set(p)) and inst)
p, s, inst = units("1101")
want("1101: two zones, no site", set(p) <= ZONES and len(p) == 2 and not s)
m = json.load(open(d + "/manifest.json"))
want('manifest: "units": "auto"', m["units"] == "auto")
for f in m["files"]:
    p, s, _ = units(f["kommune"])
    want(f["kommune"] + ": manifest counts its units", f["units"] == len((set(p) | s) - {None}))
for b in bad:
    print("    " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
check "--units auto: Oslo's 15 bydeler, a few zones and sites in large municipalities, two zones in a medium one, the manifest's counts" auto_units
latin1_auto() { # Bærum's ISO-8859-1 file: "sone sør" and "Bærum helsehus" in Latin-1 bytes
	head -1 "$tmp/ua/3201-2025.xml" | grep -q 'encoding="ISO-8859-1"' &&
		LC_ALL=C grep -q -a "sone s$(printf '\xf8')r" "$tmp/ua/3201-2025.xml" &&
		LC_ALL=C grep -q -a "B$(printf '\xe6')rum helsehus" "$tmp/ua/3201-2025.xml" &&
		! LC_ALL=C grep -q -a "$(printf '\xc3')" "$tmp/ua/3201-2025.xml"
}
check "--units auto: unit names in Latin-1 in the ISO-8859-1 file" latin1_auto
check "--units auto: valid against $xsd" xsd_ok "$tmp"/ua/*.xml
auto_validated() { # exit 0, no message, and its per-unit rows are the file's units
	local k
	for k in ${au//,/ }; do
		"$validate" --test-mode --format json "$tmp/ua/$k-2025.xml" >"$tmp/ua-$k.json" ||
			{ echo "    $k: kpr-validate exit $?" >&2; return 1; }
		"$PY" - "$tmp/ua/$k-2025.xml" "$tmp/ua-$k.json" <<'PY' || { echo "    $k: units differ" >&2; return 1; }
import collections, json, sys, xml.etree.ElementTree as ET
ns = "{urn:no:kpr:innsending:1}"
persons, services = collections.Counter(), collections.Counter()
for p in ET.parse(sys.argv[1]).getroot().iter(ns + "Person"):
    persons[p.get("enhet")] += 1
    for t in p.iter(ns + "Tjeneste"):
        services[t.get("enhet", p.get("enhet"))] += 1
d = json.load(open(sys.argv[2]))
rows = {u["enhet"]: (u["persons"], u["services"]) for u in d["units"]}
want = {u: (persons[u], services[u]) for u in set(persons) | set(services)}
sys.exit(0 if rows == want and not d["messages"] else 1)
PY
	done
}
check "--units auto: kpr-validate takes every file and lists exactly its units" auto_validated
"$gen" --seed 42 --kommune 4601 --scale 0.05 --units auto --inject R110=0.06 --out "$tmp/uar" >/dev/null 2>&1
check "--units auto --inject R110: exit 0" [ $? -eq 0 ]
auto_r110_only_units() {
	cmp -s <(sed 's/ enhet="[^"]*"//g' "$tmp/uar/4601-2025.xml") "$tmp/a/4601-2025.xml" &&
		! cmp -s "$tmp/uar/4601-2025.xml" "$tmp/ua/4601-2025.xml"
}
check "--units auto --inject R110: only enhet attributes differ from the plain file" auto_r110_only_units
"$validate" --test-mode --format json "$tmp/uar/4601-2025.xml" >"$tmp/uar.json"
rc=$?
auto_r110() { # the validator's R110 refs are the manifest's, every other unit Bergen's own
	[ "$rc" -eq 1 ] || return 1
	"$PY" - "$tmp/uar/manifest.json" "$tmp/uar.json" "$tmp/ua/manifest.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["files"][0]
d = json.load(open(sys.argv[2]))
inj = f["injected"]["R110"]
got = sorted(m["ref"] for m in d["messages"] if m["rule"] == "R110")
known = {u["enhet"] for u in d["units"] if u["kind"] == "enhet"}
own = {"Hjemmetjenesten sone " + z for z in ("nord", "sør", "øst", "vest")} | {"Bergen helsehus", "Sykehjemmet sentrum"}
print("    R110: manifest %d, kpr-validate %d; units %s" % (inj["count"], len(got), sorted(known)), file=sys.stderr)
ok = (inj["count"] > 0 and got == sorted(inj["refs"]) and len(d["messages"]) == inj["count"] and
      known <= own and f["units"] == len(known))
sys.exit(0 if ok else 1)
PY
}
check "--units auto --inject R110: kpr-validate exit 1 (got $rc), R110 at the manifest's refs, the other units Bergen's own" auto_r110

# ---- usage errors -------------------------------------------------------------
"$gen" --inject R999=0.1 --out "$tmp/x" >/dev/null 2>&1
check "unknown rule: exit 2" [ $? -eq 2 ]
"$gen" --kommune 9999 --out "$tmp/x" >/dev/null 2>&1
check "unknown kommune: exit 2" [ $? -eq 2 ]
"$gen" --refs archive --out "$tmp/x" >/dev/null 2>&1
check "unknown --refs style: exit 2" [ $? -eq 2 ]
"$gen" --resubmit 1.5 --out "$tmp/x" >/dev/null 2>&1
check "--resubmit above 1: exit 2" [ $? -eq 2 ]
"$gen" --units automatic --out "$tmp/x" >/dev/null 2>&1
check "--units neither a number nor auto: exit 2" [ $? -eq 2 ]
check "--help lists the rules" bash -c "'$gen' --help | grep -q R310"

echo "test_kpr_gen: $T_PASS passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]
