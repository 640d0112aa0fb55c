#!/usr/bin/python3
"""hang.py PORTFILE - a server on loopback that accepts connections and
never answers: a page that never loads, for ws-browser's timeouts.  It
writes its port to PORTFILE once it listens."""
import os
import socket
import sys

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
