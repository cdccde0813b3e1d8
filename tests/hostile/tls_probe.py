#!/usr/bin/env python3
"""tls_probe.py — offer a server one hand-built TLS ClientHello and report
what it answers, independent of what the local TLS libraries are still
willing to send (OpenSSL 3 cannot offer SSLv3 at all, nor RC4 or export
suites, so "refused" from s_client might mean "never offered").

  tls_probe.py HOST PORT VERSION SUITE[,SUITE...]
    VERSION: ssl3 | tls1.0 | tls1.1 | tls1.2   (the ClientHello version)
    SUITE:   hex IANA code, e.g. c02b (ECDHE-ECDSA-AES128-GCM-SHA256)

Prints one line: "serverhello VERSION SUITE" (the server took the
handshake: negotiated version and suite in hex), "alert LEVEL DESC" (a TLS
alert record), or "closed" (the server closed without answering).
Exit code 0 in every case; 2 if the connection itself failed. Loopback
only: refuses any host that is not 127.0.0.0/8, ::1 or localhost.
"""
import hashlib
import socket
import struct
import sys

# The ClientHello random: fixed, so every probe sends the same bytes (the
# server's answer does not depend on it; no handshake is ever completed).
CLIENT_RANDOM = hashlib.sha256(b"kpr tls_probe").digest()
VERSIONS = {"ssl3": 0x0300, "tls1.0": 0x0301, "tls1.1": 0x0302, "tls1.2": 0x0303}


def ext(t, body):
    return struct.pack(">HH", t, len(body)) + body


def client_hello(version, suites, host):
    suites = list(suites) + [0x00FF]  # TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    exts = b""
    if version >= 0x0301:
        name = host.encode()
        if not host[0].isdigit():
            sni = struct.pack(">BH", 0, len(name)) + name
            exts += ext(0x0000, struct.pack(">H", len(sni)) + sni)
        groups = [0x001D, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101]  # x25519, P-256/384/521, ffdhe
        exts += ext(0x000A, struct.pack(">H", 2 * len(groups)) + b"".join(struct.pack(">H", g) for g in groups))
        exts += ext(0x000B, b"\x01\x00")  # ec_point_formats: uncompressed
        sigs = [0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201]
        exts += ext(0x000D, struct.pack(">H", 2 * len(sigs)) + b"".join(struct.pack(">H", s) for s in sigs))
        exts += ext(0x0017, b"")  # extended_master_secret
    body = struct.pack(">H", version) + CLIENT_RANDOM + b"\x00"
    body += struct.pack(">H", 2 * len(suites)) + b"".join(struct.pack(">H", s) for s in suites)
    body += b"\x01\x00"  # compression: null only
    if exts:
        body += struct.pack(">H", len(exts)) + exts
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    rec_version = 0x0300 if version == 0x0300 else 0x0301
    return b"\x16" + struct.pack(">HH", rec_version, len(hs)) + hs


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, ver, suites = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        print("tls_probe: loopback targets only", file=sys.stderr)
        return 2
    version = VERSIONS[ver]
    codes = [int(x, 16) for x in suites.split(",") if x]
    try:
        s = socket.create_connection((host, port), timeout=5)
    except OSError as e:
        print("tls_probe: %s" % e, file=sys.stderr)
        return 2
    try:
        s.sendall(client_hello(version, codes, host))
        hdr = read_exact(s, 5)
        if not hdr:
            print("closed")
            return 0
        ctype, _rv, length = struct.unpack(">BHH", hdr)
        payload = read_exact(s, length) or b""
        if ctype == 21 and len(payload) >= 2:
            print("alert %d %d" % (payload[0], payload[1]))
        elif ctype == 22 and len(payload) >= 40 and payload[0] == 2:
            sv = struct.unpack(">H", payload[4:6])[0]
            sid_len = payload[38]
            suite = struct.unpack(">H", payload[39 + sid_len:41 + sid_len])[0]
            # TLS 1.3 answers with legacy version 1.2 and a supported_versions extension
            print("serverhello %04x %04x" % (sv, suite))
        else:
            print("other %d" % ctype)
    except (socket.timeout, ConnectionResetError):
        print("closed")
    finally:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
