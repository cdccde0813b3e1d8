#!/usr/bin/env bash
# test_xsd_differential.sh — kpr-validate checks the submission structure in
# code (for speed); config/xsd/innsending.xsd is the source of truth. This
# test proves they agree: seeded random mutations of a valid file must get
# F001 or F002 from kpr-validate exactly when `xmllint --schema` rejects them.
#
#   BUILD=build tests/integration/test_xsd_differential.sh      (from the repo root)
#   env: N (mutants, default 300), SEED (default 1), KEEP=1 keeps the mutants
#
# Deliberate differences, not generated here: kpr-validate also rejects
# declared encodings other than UTF-8/ISO-8859-1 and any DOCTYPE (F001, SPEC §2),
# and stops at limits (depth 32, 64 KiB attributes, 4 KiB element text).
set -u
BUILD=${BUILD:-build}
N=${N:-300}
SEED=${SEED:-1}
XSD=${XSD:-config/xsd/innsending.xsd}
BASE=tests/fixtures/differential-base.xml
KV=$BUILD/kpr-validate

for f in "$KV" "$XSD" "$BASE"; do
  [ -e "$f" ] || { echo "test_xsd_differential: missing $f (run from the repo root, BUILD=$BUILD)"; exit 2; }
done
command -v xmllint >/dev/null || { echo "test_xsd_differential: xmllint not installed"; exit 2; }
xmllint --noout --schema "$XSD" "$BASE" 2>/dev/null || { echo "test_xsd_differential: base file is not valid"; exit 1; }

WORK=$(mktemp -d /tmp/kpr-xsd-diff-XXXXXX)
if [ "${KEEP:-0}" != 1 ]; then trap 'rm -rf "$WORK"' EXIT; fi

# The mutator: perl (always present on Debian), deterministic per seed.
perl - "$BASE" "$WORK" "$N" "$SEED" <<'PERL'
use strict; use warnings;
my ($base, $dir, $n, $seed) = @ARGV;
open my $fh, '<', $base or die; local $/; my $orig = <$fh>; close $fh;
my @elems = qw(Innsending Avsender Person Fnr Kjonn Fodselsaar Dodsdato Vurdering Funksjon
  Tjeneste Diagnose Heldogn Legemiddelgjennomgang Ernaering IndividuellPlan Koordinator Venteliste);
my @attrs = qw(versjon id forrigeId opprettet aargang kommunenummer fagsystem fagsystemVersjon ref
  dato kode skaar type soknad vedtak start slutt avslag timerPerUke timerMedFlere orgnr kodeverk svar risiko);
my @values = ('', ' ', '2025-02-30', '2025-1-01', 'abc', '1.5', '-1', '+3', '1e3', 'true', 'TRUE',
  'false', '0', '1', '0000', '2025', ' 2025-01-01 ', '2024-02-29', '2023-02-29', '9999999999999999999999999',
  '01017012345', 'ICD-10', 'T', '2025-01-01T00:00:00', '2026-01-05T09:12:00Z', '2026-01-05T24:00:00Z',
  '2026-01-05T09:12:00+15:00', '2025-01-01Z', 'x' x 65, 'y' x 64, "\x{e6}" x 64, '12345', '030', '0301 ',
  '.5', '5.', '.', '+.5', '-0', '007', ' 7 ', '1 2', '&#9;1&#10;', '&amp;', '&lt;', '0001-01-01',
  '10000-01-01', '-2025', '2025-13-01', '2025-12-31', '1.0', '1.00000000000000000000000001', '0' x 30 . '1');
my @inserts = ('<Fnr>1</Fnr>', '<Kjonn>1</Kjonn>', '<Fodselsaar>1970</Fodselsaar>',
  '<Dodsdato>2025-01-01</Dodsdato>', '<Avsender kommunenummer="0301" fagsystem="G"/>', '<Person ref="x"/>',
  '<Funksjon kode="1" skaar="1"/>', '<Vurdering dato="2025-01-01"/>', '<Tjeneste type="1"/>',
  '<Koordinator kode="1"/>', '<Venteliste vedtak="2025-01-01"/>', '<Hobby/>', 'tekst', ' ', '<![CDATA[ ]]>',
  '<![CDATA[x]]>', '&#32;', '&#160;', '<!-- c -->', '<?pi x?>', '<x:Fnr xmlns:x="urn:other">1</x:Fnr>',
  '<Fnr xmlns="">1</Fnr>', '<Tjeneste xmlns="urn:no:kpr:innsending:1" type="3"/>');
my @attr_inserts = (' xml:lang="no"', ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="a b"',
  ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="a"',
  ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="false"', ' xmlns:o="urn:o" o:a="1"',
  ' foo="1"', ' ref="r"', ' kode="1"', ' dato="2025-01-01"', ' type="1"');

sub pick { return $_[int(rand(@_))]; }
sub lines_ok { return scalar(@_) > 8; }

for my $i (1 .. $n) {
  srand($seed * 100003 + $i);
  my $doc = $orig;
  my $ops = 1 + (rand() < 0.3 ? 1 : 0);
  for (1 .. $ops) {
    my $op = int(rand(14));
    if ($op == 0) {          # change an attribute value
      my @m; while ($doc =~ /(\w+)="([^"]*)"/g) { push @m, [$-[2], length $2] if $1 ne 'xmlns'; }
      next unless @m; my $m = pick(@m); substr($doc, $m->[0], $m->[1]) = pick(@values);
    } elsif ($op == 1) {     # change element text
      my @m; while ($doc =~ /<(Fnr|Kjonn|Fodselsaar|Dodsdato)>([^<]*)</g) { push @m, [$-[2], length $2]; }
      next unless @m; my $m = pick(@m); substr($doc, $m->[0], $m->[1]) = pick(@values);
    } elsif ($op == 2) {     # delete an attribute
      my @m; while ($doc =~ /\s(\w+)="[^"]*"/g) { push @m, [$-[0], $+[0] - $-[0]] if $1 ne 'xmlns'; }
      next unless @m; my $m = pick(@m); substr($doc, $m->[0], $m->[1]) = '';
    } elsif ($op == 3) {     # rename an attribute
      my @m; while ($doc =~ /\s(\w+)="/g) { push @m, [$-[1], length $1] if $1 ne 'xmlns'; }
      next unless @m; my $m = pick(@m); substr($doc, $m->[0], $m->[1]) = pick(@attrs, 'xyz');
    } elsif ($op == 4) {     # rename an element (start and end tag alike)
      my @m; while ($doc =~ /<(\w+)[\s>\/]/g) { push @m, [$-[1], $1]; }
      next unless @m; my $m = pick(@m); my $new = pick(@elems, 'Hobby');
      my $start = $m->[0]; my $old = $m->[1];
      substr($doc, $start, length $old) = $new;
      my $rest = substr($doc, $start);
      if ($rest !~ /^\w+[^>]*\/>/) {   # not self-closing: rename the matching end tag
        my $pos = index($doc, "</$old>", $start);
        substr($doc, $pos + 2, length $old) = $new if $pos >= 0;
      }
    } elsif ($op == 5) {     # delete a line
      my @l = split /\n/, $doc, -1; next unless lines_ok(@l); my $k = 3 + int(rand(@l - 4)); splice @l, $k, 1; $doc = join "\n", @l;
    } elsif ($op == 6) {     # duplicate a line
      my @l = split /\n/, $doc, -1; next unless lines_ok(@l); my $k = 3 + int(rand(@l - 4)); splice @l, $k, 0, $l[$k]; $doc = join "\n", @l;
    } elsif ($op == 7) {     # swap two adjacent lines
      my @l = split /\n/, $doc, -1; next unless lines_ok(@l); my $k = 3 + int(rand(@l - 5)); @l[$k, $k + 1] = @l[$k + 1, $k]; $doc = join "\n", @l;
    } elsif ($op == 8) {     # move a line elsewhere
      my @l = split /\n/, $doc, -1; next unless lines_ok(@l); my $k = 3 + int(rand(@l - 4)); my $x = splice @l, $k, 1;
      splice @l, 3 + int(rand(@l - 4)), 0, $x; $doc = join "\n", @l;
    } elsif ($op == 9) {     # insert something after a random '>'
      my @m; while ($doc =~ />/g) { push @m, $+[0]; }
      next unless @m > 5; my $m = pick(@m[4 .. $#m]); substr($doc, $m, 0) = pick(@inserts);
    } elsif ($op == 10) {    # insert an attribute into a random start tag
      my @m; while ($doc =~ /<(\w+)/g) { push @m, $+[0]; }
      next unless @m; my $m = pick(@m); substr($doc, $m, 0) = pick(@attr_inserts);
    } elsif ($op == 11) {    # delete one character
      next unless length($doc) > 61; my $k = 60 + int(rand(length($doc) - 60)); substr($doc, $k, 1) = '';
    } elsif ($op == 12) {    # truncate
      $doc = substr($doc, 0, 60 + int(rand(length($doc) - 60))) if length($doc) > 61;
    } else {                 # turn a self-closing element into start+end with content
      my @m; while ($doc =~ /<(\w+)([^<>]*?)\/>/g) { push @m, [$-[0], $+[0] - $-[0], $1, $2]; }
      next unless @m; my $m = pick(@m);
      substr($doc, $m->[0], $m->[1]) = "<$m->[2]$m->[3]>" . pick('', ' ', "\n", '<!--x-->', 'x', '<![CDATA[]]>') . "</$m->[2]>";
    }
  }
  my $name = sprintf "%s/m%04d.xml", $dir, $i;
  open my $out, '>:raw', $name or die; print $out $doc; close $out;
}
PERL

# the comparison, bounded in time (TIME_LIMIT seconds, default 50)
LIMIT=${TIME_LIMIT:-50}
SECONDS=0
agree=0; disagree=0; xml_rej=0; shown=0; tested=0
for f in "$WORK"/m*.xml; do
  if [ $SECONDS -ge "$LIMIT" ]; then
    echo "test_xsd_differential: time limit ${LIMIT}s reached after $tested mutants"
    break
  fi
  tested=$((tested + 1))
  if xmllint --noout --schema "$XSD" "$f" >/dev/null 2>&1; then xr=0; else xr=1; fi
  out=$("$KV" --format csv "$f" 2>&1)
  if printf '%s\n' "$out" | grep -q '^\(.\{0,3\}\)F00[12];'; then kr=1; else kr=0; fi
  [ $xr = 1 ] && xml_rej=$((xml_rej + 1))
  if [ $xr = $kr ]; then
    agree=$((agree + 1))
  else
    disagree=$((disagree + 1))
    if [ $shown -lt 5 ]; then
      shown=$((shown + 1))
      echo "DISAGREE $(basename "$f"): xmllint rejects=$xr kpr-validate rejects=$kr"
      xmllint --noout --schema "$XSD" "$f" 2>&1 | head -3 | sed 's/^/  xmllint: /'
      printf '%s\n' "$out" | grep '^.\{0,3\}F00' | head -3 | sed 's/^/  kpr-validate: /'
      [ "${KEEP:-0}" = 1 ] && echo "  kept: $f"
    fi
  fi
done
echo "test_xsd_differential: $tested mutants (seed $SEED), $xml_rej rejected by xmllint, $agree agree, $disagree disagree"
[ $disagree -eq 0 ] && [ $tested -ge 50 ]
