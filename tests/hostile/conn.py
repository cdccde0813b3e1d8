#!/usr/bin/env python3
"""conn.py — raw, slow, truncated and idle HTTPS connections for
tests/integration/test_hostile.sh (curl cannot misbehave on purpose).
Loopback only; every mode is bounded in count and time.

  conn.py raw     PORT [--src A] [--plain]     send stdin as-is, print the
                  [--max S]                    status codes of every response
                                               until the server closes, comma-
                                               separated ("closed" if none)
  conn.py stall   PORT --after BYTES           send stdin up to BYTES, then
                  [--max S]                    nothing: print seconds until the
                                               server closed ("open" after S)
  conn.py trickle PORT --interval S --max S    send stdin one byte every S
                                               seconds: as stall
  conn.py cut     PORT --after BYTES           send stdin up to BYTES, then
                                               reset the connection (RST)
  conn.py idle    PORT --count N --srcs 127.0.0.2-127.0.0.41
                  --hold S [--tls-share F]     open N idle connections spread
                  [--interval S] [--ready F]   over the source addresses; a
                  [--until-closed]             share F of them finish the TLS
                                               handshake and then trickle one
                                               header byte every S seconds
                                               (slowloris), the rest stay
                                               silent; write the count to F,
                                               hold; print opened/refused/alive.
                                               --until-closed (silent ones
                                               only): instead of holding, poll
                                               until the server has closed all
                                               of them (--max at most); print
                                               how many it closed, and when
  conn.py feed    PORT --bytes N [--rate B]    send stdin (a request head),
                  [--chunked] [--max S]        then N body bytes, at most B
                                               per second; chunked: in chunks
                                               and never the last one (the
                                               body does not end). Stop at the
                                               server's answer: print "STATUS
                                               CODE SECONDS sent=BYTES" (CODE:
                                               the JSON error code or -), or
                                               "closed"/"open" for STATUS
Common: --cafile PEM (default $KPR_CACERT), --host (default 127.0.0.1).
"""
import argparse
import os
import re
import select
import socket
import ssl
import struct
import sys
import time


def loopback(addr):
    return addr.startswith("127.") or addr == "::1"


def context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False  # the dev certificate names localhost and 127.0.0.1
    return ctx


def connect(a, src=None, tls=True, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((a.host, a.port))
    if tls:
        s = context(a.cafile).wrap_socket(s, server_hostname="localhost")
    return s


def read_status(s, deadline):
    buf = b""
    while b"\r\n" not in buf and time.monotonic() < deadline:
        try:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = s.recv(4096)
        except (socket.timeout, ssl.SSLError, OSError):
            break
        if not chunk:
            break
        buf += chunk
    line = buf.split(b"\r\n", 1)[0].decode("latin-1")
    return line if line.startswith("HTTP/") else "closed"


def wait_closed(s, deadline):
    """Seconds until the peer closes, or None if still open at the deadline."""
    t0 = time.monotonic()
    while time.monotonic() < deadline:
        try:
            s.settimeout(max(0.1, min(1.0, deadline - time.monotonic())))
            chunk = s.recv(65536)
            if not chunk:
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError):
            return time.monotonic() - t0
    return None


def peer_closed(s):
    """True once the server has closed s: everything it sent is read (a TLS
    alert or close_notify on a connection that never finished its handshake
    is data, not a sign of life) and the read ends in EOF or an error."""
    s.setblocking(False)
    try:
        while True:
            if not s.recv(65536):
                return True
    except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return False
    except (OSError, ssl.SSLError):
        return True


def cmd_raw(a):
    data = sys.stdin.buffer.read()
    try:
        s = connect(a, a.src, not a.plain)
    except (OSError, ssl.SSLError) as e:
        print("refused %s" % e.__class__.__name__)
        return 0
    try:
        s.sendall(data)
    except (OSError, ssl.SSLError):
        pass  # the server may answer and close before reading everything
    # every response the server sent before closing (or the deadline)
    buf, deadline = b"", time.monotonic() + a.max
    while time.monotonic() < deadline:
        try:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = s.recv(65536)
        except (socket.timeout, ssl.SSLError, OSError):
            break
        if not chunk:
            break
        buf += chunk
    s.close()
    codes = re.findall(rb"HTTP/1\.[01] (\d{3})", buf)
    out = ",".join(c.decode() for c in codes) if codes else "closed"
    if a.json_code:  # the JSON error codes of the answers, if any
        out += " " + (",".join(c.decode() for c in re.findall(rb'"code":"(\w+)"', buf)) or "-")
    print(out)
    return 0


def cmd_stall(a, trickle=False):
    data = sys.stdin.buffer.read()
    s = connect(a, a.src)
    t0 = time.monotonic()
    deadline = t0 + a.max
    if trickle:
        for i in range(len(data)):
            if time.monotonic() >= deadline:
                break
            try:
                s.sendall(data[i:i + 1])
            except (OSError, ssl.SSLError):
                print("closed %.1f" % (time.monotonic() - t0))
                return 0
            # a response or close from the server ends the trickle early
            s.settimeout(a.interval)
            try:
                if not s.recv(4096):
                    print("closed %.1f" % (time.monotonic() - t0))
                    return 0
                print("answered %.1f" % (time.monotonic() - t0))
                return 0
            except socket.timeout:
                pass
            except (OSError, ssl.SSLError):
                print("closed %.1f" % (time.monotonic() - t0))
                return 0
        print("open %.1f" % (time.monotonic() - t0))
        return 0
    try:
        s.sendall(data[: a.after])
    except (OSError, ssl.SSLError):
        print("closed 0.0")
        return 0
    t = wait_closed(s, deadline)
    print("open %.1f" % a.max if t is None else "closed %.1f" % (time.monotonic() - t0))
    return 0


def cmd_cut(a):
    data = sys.stdin.buffer.read()
    s = connect(a, a.src)
    s.sendall(data[: a.after])
    time.sleep(0.3)
    raw = s  # no close_notify: reset the TCP connection under TLS
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raw.close()
    print("cut after %d bytes" % min(a.after, len(data)))
    return 0


def cmd_idle(a):
    first, last = a.srcs.split("-")
    base = first.rsplit(".", 1)[0]
    lo, hi = int(first.rsplit(".", 1)[1]), int(last.rsplit(".", 1)[1])
    srcs = ["%s.%d" % (base, i) for i in range(lo, hi + 1)]
    socks, refused = [], 0
    t0 = time.monotonic()
    deadline = t0 + a.max
    ntls = int(a.count * a.tls_share)

    def trickle():
        # slowloris: the TLS ones send one more header byte (never a whole
        # line); the plain TCP ones stay silent
        for s in socks:
            if isinstance(s, ssl.SSLSocket):
                try:
                    s.sendall(b"x")
                except (OSError, ssl.SSLError):
                    pass

    last = time.monotonic()
    for i in range(a.count):
        if time.monotonic() > deadline:
            break
        if i < ntls and time.monotonic() - last >= a.interval:
            trickle()  # opening 1,000 TLS connections takes longer than the timeout
            last = time.monotonic()
        try:
            s = connect(a, srcs[i % len(srcs)], tls=i < ntls, timeout=5)
            if i < ntls:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")  # never finished
            socks.append(s)
        except (OSError, ssl.SSLError):
            refused += 1
    opened = time.monotonic() - t0
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("%d\n" % len(socks))
    if a.until_closed:
        # poll, no fixed wait: done as soon as the server closed them all
        t1 = time.monotonic()
        open_socks = [s for s in socks if not isinstance(s, ssl.SSLSocket)]
        n = len(open_socks)
        while open_socks and time.monotonic() < deadline:
            time.sleep(0.2)
            open_socks = [s for s in open_socks if not peer_closed(s)]
        for s in socks:
            s.close()
        print("opened %d refused %d in %.1fs closed-by-server %d of %d within %.1fs"
              % (len(socks), refused, opened, n - len(open_socks), n, time.monotonic() - t1))
        return 0
    end = min(time.monotonic() + a.hold, deadline)
    while time.monotonic() < end:
        time.sleep(max(0.0, min(a.interval, end - time.monotonic())))
        trickle()
    # how many did the server keep? (not those it sent a last alert and
    # closed: reading one byte of that alert once counted them alive)
    alive = sum(not peer_closed(s) for s in socks)
    for s in socks:
        try:
            s.close()
        except OSError:
            pass
    print("opened %d refused %d in %.1fs alive-after-hold %d" % (len(socks), refused, opened, alive))
    return 0


def cmd_feed(a):
    head = sys.stdin.buffer.read()
    s = connect(a, a.src)
    t0 = time.monotonic()
    deadline = t0 + a.max
    s.sendall(head)
    s.setblocking(False)
    piece = max(1, min(65536, int(a.rate / 10) if a.rate else 65536))
    block = b"<" * piece
    sent, out, buf, eof = 0, b"", b"", False

    def answered():
        m = re.match(rb"HTTP/1\.[01] (\d{3})[^\r]*\r\n(.*?)\r\n\r\n", buf, re.S)
        if not m:
            return None
        cl = re.search(rb"(?im)^content-length:\s*(\d+)", m.group(2))
        body = buf[m.end():]
        if cl and len(body) < int(cl.group(1)) and not eof:
            return None
        code = re.search(rb'"code":"(\w+)"', body)
        return "%s %s" % (m.group(1).decode(), code.group(1).decode() if code else "-")

    while time.monotonic() < deadline and not eof:
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    eof = True
                    break
                buf += d
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
        except (OSError, ssl.SSLError):
            eof = True
        if answered():
            break
        more = sent < a.bytes and (not a.rate or sent < a.rate * (time.monotonic() - t0))
        if not out and more:
            n = min(piece, a.bytes - sent)
            out = (b"%x\r\n" % n + block[:n] + b"\r\n") if a.chunked else block[:n]
            sent += n
        if out:
            try:
                out = out[s.send(out):]
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            except (OSError, ssl.SSLError):
                eof = True
        more = sent < a.bytes and (not a.rate or sent < a.rate * (time.monotonic() - t0))
        busy = s.pending() or (more and not out)
        select.select([s], [s] if out else [], [], 0 if busy else 0.02)
    t = time.monotonic() - t0
    if not answered():
        # a send refused by a reset: what the server answered before it is
        # still in the receive buffer
        try:
            s.settimeout(1.0)
            while True:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
        except (OSError, ssl.SSLError):
            pass
        eof = True
    r = answered()
    s.close()
    print("%s %.1f sent=%d" % (r or ("closed -" if eof else "open -"), t, sent))
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["raw", "stall", "trickle", "cut", "idle", "feed"])
    p.add_argument("port", type=int)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--src")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--cafile", default=os.environ.get("KPR_CACERT"))
    p.add_argument("--after", type=int, default=0)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--max", type=float, default=20.0)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--srcs", default="127.0.0.2-127.0.0.2")
    p.add_argument("--hold", type=float, default=5.0)
    p.add_argument("--tls-share", type=float, default=0.5)
    p.add_argument("--ready")
    p.add_argument("--until-closed", action="store_true")
    p.add_argument("--json-code", action="store_true")
    p.add_argument("--bytes", type=int, default=0)
    p.add_argument("--rate", type=float, default=0.0)
    p.add_argument("--chunked", action="store_true")
    a = p.parse_args()
    if not loopback(a.host) or (a.src and not loopback(a.src)) or not loopback(a.srcs):
        print("conn.py: loopback addresses only", file=sys.stderr)
        return 2
    a.max = min(a.max, 100.0)
    a.count = min(a.count, 5000)
    if a.mode == "raw":
        return cmd_raw(a)
    if a.mode == "stall":
        return cmd_stall(a)
    if a.mode == "trickle":
        return cmd_stall(a, trickle=True)
    if a.mode == "cut":
        return cmd_cut(a)
    if a.mode == "feed":
        return cmd_feed(a)
    return cmd_idle(a)


if __name__ == "__main__":
    sys.exit(main())
