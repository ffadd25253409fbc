#!/usr/bin/env python3
"""Servers of the exfil/DNS/lateral captures (capture-exfil-dns-lateral.sh), run in the "outside"
namespace: an HTTP server on 0.0.0.0:8080 that reads and discards POST bodies and answers
GET /<n> with n bytes, and a DNS responder on port 53/udp of each address given as an argument
(bound to it, so replies leave from the address asked) that answers every query NXDOMAIN."""
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_POST(self):
        left = int(self.headers.get("Content-Length", "0"))
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            left -= len(chunk)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_GET(self):
        try:
            n = int(self.path.strip("/") or "0")
        except ValueError:
            n = 0
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        block = b"x" * 65536
        while n > 0:
            self.wfile.write(block[: min(n, len(block))])
            n -= min(n, len(block))


def dns(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    while True:
        q, addr = s.recvfrom(512)
        if len(q) < 12:
            continue
        # Same id and question; QR=1, RD copied, RA=1, RCODE=3 (NXDOMAIN); no answers.
        flags = 0x8000 | (q[2] << 8 & 0x0100) | 0x0080 | 3
        s.sendto(q[:2] + flags.to_bytes(2, "big") + q[4:6] + b"\0\0\0\0\0\0" + q[12:], addr)


for a in sys.argv[1:]:
    threading.Thread(target=dns, args=(a,), daemon=True).start()
ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
