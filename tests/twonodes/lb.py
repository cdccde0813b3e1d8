#!/usr/bin/env python3
"""lb.py — helpers for tests/integration/test_two_nodes.sh (kprd behind
HAProxy): what curl cannot do. Loopback only; every mode is bounded in time.

  lb.py probe PORT --src A [--claim B] [--token T]
      connect from A, send a PROXY protocol v2 header saying the client is B
      (none without --claim), then TLS and GET /api/v1/submissions with the
      token: prints "STATUS REQUEST-ID", or "refused WHY" when the server
      closes the connection instead of answering
  lb.py hold PORT --src A --count N --ready FILE
      open N TLS connections from A (through the balancer), write how many
      completed their handshake to FILE, then hold them until stdin closes
      (or 120 s)
  lb.py hap SOCKET COMMAND...
      one command on HAProxy's admin socket; prints the answer
  lb.py stat SOCKET BACKEND SERVER FIELD
      one field of `show stat` for a server (status, scur, ...)
Common: --cafile PEM (default $KPR_CACERT).
"""
import argparse
import os
import select
import socket
import ssl
import struct
import sys

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy_v2(claim, dst_port):
    body = socket.inet_aton(claim) + socket.inet_aton("127.0.0.1") + struct.pack("!HH", 40000, dst_port)
    return SIG + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def tls_ctx(cafile):
    return ssl.create_default_context(cafile=cafile)


def probe(a):
    s = socket.socket()
    s.settimeout(10)
    s.bind((a.src, 0))
    s.connect(("127.0.0.1", a.port))
    try:
        if a.claim:
            s.sendall(proxy_v2(a.claim, a.port))
        t = tls_ctx(a.cafile).wrap_socket(s, server_hostname="localhost")
        auth = "Authorization: Bearer %s\r\n" % a.token if a.token else ""
        t.sendall(("GET /api/v1/submissions HTTP/1.1\r\nHost: localhost\r\n%s"
                   "Connection: close\r\n\r\n" % auth).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            b = t.recv(65536)
            if not b:
                break
            data += b
        if not data:
            print("refused closed")
            return
        head = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
        rid = [h.split(":", 1)[1].strip() for h in head if h.lower().startswith("x-request-id:")]
        print(head[0].split()[1], rid[0] if rid else "-")
    except (ssl.SSLError, OSError) as e:
        print("refused", type(e).__name__)


def hold(a):
    ctx = tls_ctx(a.cafile)
    conns, ok = [], 0
    for _ in range(a.count):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.bind((a.src, 0))
            s.connect(("127.0.0.1", a.port))
            t = ctx.wrap_socket(s, server_hostname="localhost")
            conns.append(t)
            ok += 1
        except (ssl.SSLError, OSError):
            s.close()
    with open(a.ready + ".tmp", "w") as f:
        f.write("%d\n" % ok)
    os.rename(a.ready + ".tmp", a.ready)
    select.select([sys.stdin], [], [], 120)
    for t in conns:
        t.close()


def hap(path, command):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    s.sendall((command + "\n").encode())
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    return out.decode()


def stat(a):
    lines = hap(a.socket, "show stat").splitlines()
    names = lines[0].lstrip("# ").split(",")
    for line in lines[1:]:
        v = line.split(",")
        if len(v) == len(names) and v[0] == a.backend and v[1] == a.server:
            print(v[names.index(a.field)])
            return
    print("?")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("probe")
    p.add_argument("port", type=int)
    p.add_argument("--src", required=True)
    p.add_argument("--claim")
    p.add_argument("--token")
    h = sub.add_parser("hold")
    h.add_argument("port", type=int)
    h.add_argument("--src", required=True)
    h.add_argument("--count", type=int, required=True)
    h.add_argument("--ready", required=True)
    c = sub.add_parser("hap")
    c.add_argument("socket")
    c.add_argument("command", nargs="+")
    st = sub.add_parser("stat")
    for n in ("socket", "backend", "server", "field"):
        st.add_argument(n)
    for x in (p, h):
        x.add_argument("--cafile", default=os.environ.get("KPR_CACERT"))
    a = ap.parse_args()
    if a.mode == "probe":
        probe(a)
    elif a.mode == "hold":
        hold(a)
    elif a.mode == "hap":
        sys.stdout.write(hap(a.socket, " ".join(a.command)))
    else:
        stat(a)


if __name__ == "__main__":
    main()
