#!/usr/bin/env python3
"""dnsq.py SRC RESOLVER COUNT [GAP_S]: COUNT DNS A queries from address SRC to RESOLVER:53/udp,
each from a fresh socket (a fresh source port: one conntrack entry each, as a stub resolver
does), for random names under example.com (a tunnelling-like burst when COUNT is large)."""
import os
import socket
import struct
import sys
import time

src, resolver, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
gap = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
for i in range(count):
    label = os.urandom(12).hex()
    qname = b"".join(bytes([len(p)]) + p for p in (label.encode(), b"example", b"com")) + b"\0"
    msg = struct.pack(">HHHHHH", i & 0xFFFF, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(1.0)
    s.sendto(msg, (resolver, 53))
    try:
        s.recvfrom(512)
    except socket.timeout:
        pass
    s.close()
    if gap:
        time.sleep(gap)
