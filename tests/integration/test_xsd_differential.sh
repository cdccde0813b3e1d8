#!/usr/bin/env bash
# test_xsd_differential.sh — kpr-validate checks the submission structure in
# code (for speed); config/xsd/innsending.xsd is the source of truth and is
# read by nothing else. This test proves the two agree: every file compared
# must get F001 or F002 from kpr-validate exactly when `xmllint --schema`
# rejects it.
#
# Files compared: a set of valid base files and, for each base, M seeded
# random mutants of it. The bases are
#   - tests/fixtures/spec-example.xml (SPEC §2) and differential-base.xml,
#   - tests/fixtures/differential/edge-*.xml: hand-made edge cases (lexical
#     limits, encodings, order and cardinality, namespace prefixes),
#   - small kpr-gen files, each with its own seed, municipality and fault
#     injections (XSD-valid rule faults: odd codes, negative hours, ...).
# Every base must be valid, and together they must use every element and
# attribute the XSD declares. The work is fixed by the seed and sized to
# finish (no time limit stops it early); the test fails if fewer files were
# compared than planned.
#
#   BUILD=build tests/integration/test_xsd_differential.sh      (from the repo root)
#   env: M (mutants per base, default 90), SEED (default 1), KEEP=1 keeps the files
#
# Deliberate differences, not generated here: kpr-validate also rejects
# declared encodings other than UTF-8/ISO-8859-1 and any DOCTYPE (F001, SPEC §2),
# and stops at limits (depth 32, 64 KiB attributes, 4 KiB element text).
# xmllint (libxml2) takes xs:integer and xs:decimal to about 24 digits, and
# kpr-validate the same; the mutants use longer numbers.
set -u
BUILD=${BUILD:-build}
M=${M:-90}
SEED=${SEED:-1}
XSD=config/xsd/innsending.xsd
KV=$BUILD/kpr-validate
GEN=$BUILD/kpr-gen
fail() { echo "test_xsd_differential: FAIL: $*"; exit 1; }

for f in "$KV" "$GEN"; do
  [ -x "$f" ] || fail "missing $f (run from the repo root, BUILD=$BUILD)"
done
[ -e "$XSD" ] || fail "missing $XSD (run from the repo root)"
command -v xmllint >/dev/null || fail "xmllint not installed (tools/install-deps installs libxml2-utils)"
command -v perl >/dev/null || fail "perl not installed"
case $M in '' | *[!0-9]*) fail "M must be a whole number" ;; esac
case $SEED in '' | *[!0-9]*) fail "SEED must be a whole number" ;; esac

WORK=$(mktemp -d /tmp/kpr-xsd-diff-XXXXXX)
if [ "${KEEP:-0}" != 1 ]; then trap 'rm -rf "$WORK"' EXIT; fi
mkdir "$WORK/files" "$WORK/gen"

# ---- the bases ---------------------------------------------------------
cp tests/fixtures/spec-example.xml "$WORK/files/b-spec-example.xml"
cp tests/fixtures/differential-base.xml "$WORK/files/b-differential-base.xml"
for f in tests/fixtures/differential/edge-*.xml; do
  cp "$f" "$WORK/files/b-$(basename "$f")"
done
# kommune persons injections ("-": none); each with seed SEED*100+index
gens=(
  "0301 3 -"
  "1103 4 R102=0.5,R108=0.5,R201=0.3,R304=0.5,R305=0.5"
  "4601 5 R202=0.5,R301=0.5,R401=0.5,R405=0.5,R109=0.5"
  "5001 4 R101=0.3,R106=0.3,R107=0.3,R302=0.5,R306=0.5,R307=0.5"
  "1506 3 F003=1,F005=1,F007=1,R104=0.5"
  "3403 3 R203=0.5,R204=0.5,R303=0.5,R308=0.5,R310=0.5,R402=0.5,R403=0.5,R404=0.5"
)
i=0
for g in "${gens[@]}"; do
  i=$((i + 1))
  read -r kommune persons inject <<<"$g"
  args=(--seed $((SEED * 100 + i)) --kommune "$kommune" --persons "$persons" --threads 1
    --out "$WORK/gen/$i" --manifest "$WORK/gen/$i.json")
  [ "$inject" = - ] || args+=(--inject "$inject")
  "$GEN" "${args[@]}" >"$WORK/gen/$i.log" 2>&1 || { cat "$WORK/gen/$i.log"; fail "kpr-gen ${args[*]}"; }
  cp "$WORK/gen/$i/$kommune-2025.xml" "$WORK/files/b-gen$i-$kommune.xml" || fail "kpr-gen wrote no $kommune-2025.xml"
done
bases=("$WORK"/files/b-*.xml)
nb=${#bases[@]}

# every base valid
if ! xmllint --noout --schema "$XSD" "${bases[@]}" >"$WORK/bases.out" 2>&1; then
  grep -v ' validates$' "$WORK/bases.out" | head -5
  fail "a base file is not valid against $XSD"
fi
# every element and attribute of the XSD used by some base
perl -e '
  my $xsd = shift; local $/; open my $x, "<", $xsd or die; my $s = <$x>;
  my (%el, %at); $el{$1} = 1 while $s =~ /<xs:element name="(\w+)"/g; $at{$1} = 1 while $s =~ /<xs:attribute name="(\w+)"/g;
  my $all = ""; for (@ARGV) { open my $f, "<:raw", $_ or die; $all .= <$f>; }
  my @miss = ((grep { $all !~ /<(?:\w+:)?$_[\s>\/]/ } sort keys %el), (map { "\@$_" } grep { $all !~ /\s$_\s*=/ } sort keys %at));
  if (@miss) { print "test_xsd_differential: FAIL: no base uses @miss\n"; exit 1 }
  printf "test_xsd_differential: the bases use all %d elements and %d attributes of the XSD\n", scalar keys %el, scalar keys %at;
' "$XSD" "${bases[@]}" || exit 1

# ---- the mutants: perl (always present on Debian), deterministic per seed
perl - "$WORK/files" "$M" "$SEED" "${bases[@]}" <<'PERL' || fail "the mutator failed"
use strict; use warnings;
my ($dir, $n, $seed, @bases) = @ARGV;
my @elems = qw(Innsending Avsender Person Fnr Kjonn Fodselsaar Dodsdato Vurdering Funksjon
  Tjeneste Diagnose Heldogn Legemiddelgjennomgang Ernaering IndividuellPlan Koordinator Venteliste);
my @attrs = qw(versjon id forrigeId opprettet aargang kommunenummer fagsystem fagsystemVersjon ref
  dato kode skaar type soknad vedtak start slutt avslag timerPerUke timerMedFlere orgnr kodeverk svar risiko
  enhet);
my @values = ('', ' ', '2025-02-30', '2025-1-01', 'abc', '1.5', '-1', '+3', '1e3', 'true', 'TRUE',
  'false', '0', '1', '0000', '2025', ' 2025-01-01 ', '2024-02-29', '2023-02-29', '9999999999999999999999999',
  '01017012345', 'ICD-10', 'T', '2025-01-01T00:00:00', '2026-01-05T09:12:00Z', '2026-01-05T24:00:00Z',
  '2026-01-05T09:12:00+15:00', '2025-01-01Z', 'x' x 65, 'y' x 64, "\x{e6}" x 64, '12345', '030', '0301 ',
  '.5', '5.', '.', '+.5', '-0', '007', ' 7 ', '1 2', '&#9;1&#10;', '&amp;', '&lt;', '0001-01-01',
  '10000-01-01', '-2025', '2025-13-01', '2025-12-31', '1.0', '1.00000000000000000000000001', '0' x 30 . '1',
  '0001', '-0001', '2100-02-29', '2000-02-29', '+', '-', '1.', '-.', '++1', '1_000', '0x10', '1,5',
  'a&amp;b', '&#38;' x 64, '&amp;' x 65, 'x' x 63 . '&amp;', 'z' x 16, 'z' x 17, 'v' x 32, 'v' x 33,
  '999999999999999999999999', '-99999999999999999999999', '12345678901234567890.1234', '1' x 40,
  '2026-01-05T09:12:00.123456789+14:00', '2026-01-05T09:12:00-14:01', '2026-01-05T09:12', '2026-01-05',
  '2026-1-05T09:12:00', '&#x32;&#x30;&#x32;&#x35;', 'ja', 'yes', '1.0e0', ' ', "\t", '&#160;');
my @inserts = ('<Fnr>1</Fnr>', '<Kjonn>1</Kjonn>', '<Fodselsaar>1970</Fodselsaar>',
  '<Dodsdato>2025-01-01</Dodsdato>', '<Avsender kommunenummer="0301" fagsystem="G"/>', '<Person ref="x"/>',
  '<Person><Kjonn>1</Kjonn></Person>', '<Funksjon kode="1" skaar="1"/>', '<Vurdering dato="2025-01-01"/>',
  '<Vurdering dato="2025-01-01"><Funksjon kode="1" skaar="1"/></Vurdering>', '<Tjeneste type="1"/>',
  '<Diagnose kodeverk="ICD-10" kode="I10"/>', '<Heldogn svar="1" dato="2025-01-01"/>',
  '<Legemiddelgjennomgang svar="1" dato="2025-01-01"/>', '<Ernaering risiko="1" dato="2025-01-01"/>',
  '<IndividuellPlan kode="1"/>', '<Koordinator kode="1"/>', '<Venteliste vedtak="2025-01-01"/>',
  '<Hobby/>', 'tekst', ' ', '<![CDATA[ ]]>', '<![CDATA[x]]>', '&#32;', '&#160;', '&amp;', '<!-- c -->',
  '<?pi x?>', '<x:Fnr xmlns:x="urn:other">1</x:Fnr>', '<Fnr xmlns="">1</Fnr>',
  '<Tjeneste xmlns="urn:no:kpr:innsending:1" type="3"/>', '<k:Koordinator xmlns:k="urn:no:kpr:innsending:1" kode="2"/>',
  '<Innsending/>', '<Tjeneste type="1"></Tjeneste>', '<Tjeneste type="1"> </Tjeneste>');
my @attr_inserts = (' xml:lang="no"', ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="a b"',
  ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="a"',
  ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="false"', ' xmlns:o="urn:o" o:a="1"',
  ' foo="1"', ' ref="r"', ' kode="1"', ' dato="2025-01-01"', ' type="1"', ' svar="1"', ' risiko="1"',
  ' vedtak="2025-01-01"', ' kodeverk="ICD-10"', ' skaar="1"', ' avslag="true"', ' orgnr="1"',
  ' fagsystemVersjon="1"', ' forrigeId="x"', ' xmlns:k="urn:no:kpr:innsending:1" k:kode="1"',
  ' enhet="Bydel Frogner"', ' enhet=""', ' xmlns:k="urn:no:kpr:innsending:1" k:enhet="x"');
my @ns_values = ('urn:no:kpr:innsending:2', '', 'urn:no:kpr:innsending:1 ', 'URN:NO:KPR:INNSENDING:1',
  'urn:no:kpr:innsending', 'urn:other');

sub pick { return $_[int(rand(@_))]; }
sub lines_ok { return scalar(@_) > 8; }

# one mutation; returns the document (unchanged when the operation did not apply)
sub mutate {
  my ($doc) = @_;
  my $op = int(rand(16));
  if ($op == 0) {          # change an attribute value
    my @m; while ($doc =~ /(\w+)="([^"]*)"/g) { push @m, [$-[2], length $2] if $1 ne 'xmlns'; }
    return $doc unless @m; my $m = pick(@m); substr($doc, $m->[0], $m->[1]) = pick(@values);
  } elsif ($op == 1) {     # change element text
    my @m; while ($doc =~ /<((?:\w+:)?(?:Fnr|Kjonn|Fodselsaar|Dodsdato))>([^<]*)</g) { push @m, [$-[2], length $2]; }
    return $doc unless @m; my $m = pick(@m); substr($doc, $m->[0], $m->[1]) = pick(@values);
  } elsif ($op == 2) {     # delete an attribute
    my @m; while ($doc =~ /\s(\w+)="[^"]*"/g) { push @m, [$-[0], $+[0] - $-[0]] if $1 ne 'xmlns'; }
    return $doc unless @m; my $m = pick(@m); substr($doc, $m->[0], $m->[1]) = '';
  } elsif ($op == 3) {     # rename an attribute
    my @m; while ($doc =~ /\s(\w+)="/g) { push @m, [$-[1], length $1] if $1 ne 'xmlns'; }
    return $doc unless @m; my $m = pick(@m); substr($doc, $m->[0], $m->[1]) = pick(@attrs, 'xyz');
  } elsif ($op == 4) {     # rename an element (start and end tag alike)
    my @m; while ($doc =~ /<(\w+)[\s>\/]/g) { push @m, [$-[1], $1]; }
    return $doc unless @m; my $m = pick(@m); my $new = pick(@elems, 'Hobby');
    my $start = $m->[0]; my $old = $m->[1];
    substr($doc, $start, length $old) = $new;
    my $rest = substr($doc, $start);
    if ($rest !~ /^\w+[^>]*\/>/) {   # not self-closing: rename the matching end tag
      my $pos = index($doc, "</$old>", $start);
      substr($doc, $pos + 2, length $old) = $new if $pos >= 0;
    }
  } elsif ($op == 5) {     # delete a line
    my @l = split /\n/, $doc, -1; return $doc unless lines_ok(@l); my $k = 3 + int(rand(@l - 4)); splice @l, $k, 1; $doc = join "\n", @l;
  } elsif ($op == 6) {     # duplicate a line
    my @l = split /\n/, $doc, -1; return $doc unless lines_ok(@l); my $k = 3 + int(rand(@l - 4)); splice @l, $k, 0, $l[$k]; $doc = join "\n", @l;
  } elsif ($op == 7) {     # swap two adjacent lines
    my @l = split /\n/, $doc, -1; return $doc unless lines_ok(@l); my $k = 3 + int(rand(@l - 5)); @l[$k, $k + 1] = @l[$k + 1, $k]; $doc = join "\n", @l;
  } elsif ($op == 8) {     # move a line elsewhere
    my @l = split /\n/, $doc, -1; return $doc unless lines_ok(@l); my $k = 3 + int(rand(@l - 4)); my $x = splice @l, $k, 1;
    splice @l, 3 + int(rand(@l - 4)), 0, $x; $doc = join "\n", @l;
  } elsif ($op == 9) {     # insert something after a random '>'
    my @m; while ($doc =~ />/g) { push @m, $+[0]; }
    return $doc unless @m > 2; my $m = pick(@m[1 .. $#m]); substr($doc, $m, 0) = pick(@inserts);
  } elsif ($op == 10) {    # insert an attribute into a random start tag
    my @m; while ($doc =~ /<([\w:]+)/g) { push @m, $+[0]; }
    return $doc unless @m; my $m = pick(@m); substr($doc, $m, 0) = pick(@attr_inserts);
  } elsif ($op == 11) {    # delete one character
    return $doc unless length($doc) > 61; my $k = 60 + int(rand(length($doc) - 60)); substr($doc, $k, 1) = '';
  } elsif ($op == 12) {    # truncate
    $doc = substr($doc, 0, 60 + int(rand(length($doc) - 60))) if length($doc) > 61;
  } elsif ($op == 13) {    # turn a self-closing element into start+end with content
    my @m; while ($doc =~ /<([\w:]+)([^<>]*?)\/>/g) { push @m, [$-[0], $+[0] - $-[0], $1, $2]; }
    return $doc unless @m; my $m = pick(@m);
    substr($doc, $m->[0], $m->[1]) = "<$m->[2]$m->[3]>" . pick('', ' ', "\n", '<!--x-->', 'x', '<![CDATA[]]>', '&#32;', '<Fnr/>') . "</$m->[2]>";
  } elsif ($op == 14) {    # change a namespace declaration
    my @m; while ($doc =~ /xmlns(?::\w+)?="([^"]*)"/g) { push @m, [$-[1], length $1]; }
    return $doc unless @m; my $m = pick(@m); substr($doc, $m->[0], $m->[1]) = pick(@ns_values);
  } else {                 # drop the prefix of one prefixed element, or add one
    my @m; while ($doc =~ /<\/?(\w+):/g) { push @m, [$-[1], length($1) + 1]; }
    if (@m) { my $m = pick(@m); substr($doc, $m->[0], $m->[1]) = ''; }
    else { my @s; while ($doc =~ /<(\w+)[\s>\/]/g) { push @s, $-[1]; } return $doc unless @s; substr($doc, pick(@s), 0) = 'k:'; }
  }
  return $doc;
}

for my $base (@bases) {
  open my $fh, '<:raw', $base or die "$base: $!"; local $/; my $orig = <$fh>; close $fh;
  (my $bname = $base) =~ s{.*/b-(.*)\.xml$}{$1};
  my $h = 0; $h = ($h * 31 + ord) % 1000003 for split //, $bname;   # by name, not by order
  for my $i (1 .. $n) {
    srand($seed * 1000003 + $h * 10007 + $i);
    my $doc = $orig;
    my $ops = 1 + (rand() < 0.3 ? 1 : 0) + (rand() < 0.1 ? 1 : 0);
    for (1 .. 20) {   # until the file differs from its base
      $doc = mutate($doc) for 1 .. $ops;
      last if $doc ne $orig;
    }
    my $name = sprintf "%s/m-%s-%04d.xml", $dir, $bname, $i;
    open my $out, '>:raw', $name or die "$name: $!"; print $out $doc; close $out;
  }
}
PERL

planned=$((nb * (M + 1)))
ls "$WORK"/files/*.xml >"$WORK/list"
made=$(wc -l <"$WORK/list")
[ "$made" -eq "$planned" ] || fail "$made files made, $planned planned"

# ---- the comparison ------------------------------------------------------
# xmllint: many files per process (the schema is parsed once per batch)
xargs -n 400 xmllint --noout --schema "$XSD" <"$WORK/list" >/dev/null 2>"$WORK/xmllint.out"
# kpr-validate: one process per file, two at a time; the csv report names
# F001/F002 at the start of a line (after the BOM on the first)
: >"$WORK/kv.out"
xargs -n 50 -P 2 perl -e '
  $| = 1; my $kv = shift;
  for my $f (@ARGV) {
    open(my $p, "-|", $kv, "--format", "csv", $f) or die "cannot run $kv: $!";
    my $r = 0; while (<$p>) { $r = 1 if /^(?:\xef\xbb\xbf)?F00[12];/ }
    close $p; my $st = $?;
    print "$f $r ", ($st & 127 ? "signal" . ($st & 127) : $st >> 8), "\n";
  }' "$KV" <"$WORK/list" >>"$WORK/kv.out" 2>"$WORK/kv.err"

perl - "$WORK/list" "$WORK/xmllint.out" "$WORK/kv.out" "$XSD" "$KV" "$SEED" "$nb" "$M" "$planned" <<'PERL'
use strict; use warnings;
my ($list, $xl, $kvout, $xsd, $kv, $seed, $nb, $m, $planned) = @ARGV;
my @files = do { open my $f, '<', $list or die; map { chomp; $_ } <$f> };
my %known = map { $_ => 1 } @files;
# xmllint rejects a file when it reports any error for it: not well-formed
# (no status line), not namespace-well-formed (a "namespace error", after
# which it still says "validates"; kpr-validate gives F001), or invalid
my (%x, %xerr, %k, %krc);
open my $fx, '<', $xl or die;
while (<$fx>) {
  chomp;
  if (/^(\S+) validates$/ && $known{$1}) { $x{$1} = 0 }
  elsif (/^(\S+) fails to validate$/ && $known{$1}) { $x{$1} = 1 }
  elsif (/^(\S+?\.xml):\d+: .*error/ && $known{$1}) { $xerr{$1} = 1 }
}
for (keys %xerr) { $x{$_} = 1 }
open my $fk, '<', $kvout or die;
while (<$fk>) { chomp; my ($f, $r, $rc) = split / /; next unless defined $rc && $known{$f}; $k{$f} = $r; $krc{$f} = $rc; }
my ($compared, $agree, $xrej, $kerr, @dis, @err, @missing) = (0, 0, 0, 0);
for my $f (@files) {
  if (!defined $x{$f} || !defined $k{$f}) { push @missing, $f; next }
  if ($krc{$f} !~ /^[012]$/) { push @err, "$f: kpr-validate exit $krc{$f}"; next }
  $compared++;
  $xrej++ if $x{$f};
  if ($x{$f} == $k{$f}) { $agree++ } else { push @dis, $f }
}
sub masked { my $s = shift; $s =~ s/[0-9]{11}/<11 digits>/g; return $s }
my $shown = 0;
for my $f (@dis) {
  last if ++$shown > 5;
  print "DISAGREE $f: xmllint rejects=$x{$f} kpr-validate rejects=$k{$f}\n";
  print masked("  xmllint: $_") for (`xmllint --noout --schema $xsd $f 2>&1`)[0 .. 2];
  print masked("  kpr-validate: $_") for grep { /^(?:\xef\xbb\xbf)?F00/ } `$kv --format csv $f 2>&1`;
}
print "ERROR $_\n" for @err[0 .. ($#err < 4 ? $#err : 4)];
print "NOT COMPARED $_\n" for @missing[0 .. ($#missing < 4 ? $#missing : 4)];
printf "test_xsd_differential: seed %s: %d bases x (1 + %d mutants) = %d planned, %d compared: %d rejected by xmllint, %d accepted; %d agree, %d disagree, %d kpr-validate errors, %d not compared\n",
  $seed, $nb, $m, $planned, $compared, $xrej, $compared - $xrej, $agree, scalar @dis, scalar @err, scalar @missing;
my $ok = $compared == $planned && !@dis && !@err && !@missing && $xrej > 0 && $xrej < $compared;
print "test_xsd_differential: FAIL\n" unless $ok;
exit($ok ? 0 : 1);
PERL
rc=$?
if [ $rc -ne 0 ] && [ -s "$WORK/kv.err" ]; then
  echo "kpr-validate stderr (first lines):"
  sed -E 's/[0-9]{11}/<11 digits>/g' "$WORK/kv.err" | head -5
fi
[ "${KEEP:-0}" = 1 ] && echo "test_xsd_differential: files kept in $WORK"
exit $rc
