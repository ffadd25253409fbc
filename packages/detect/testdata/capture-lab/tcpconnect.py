#!/usr/bin/env python3
"""tcpconnect.py SRC DST PORT...: one TCP connection from SRC to each DST:PORT (refused ones too),
closed at once; for the lateral-movement and DNS-over-TLS captures."""
import socket
import sys

src, dst = sys.argv[1], sys.argv[2]
for port in sys.argv[3:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(1.0)
    try:
        s.connect((dst, int(port)))
    except OSError:
        pass
    s.close()
