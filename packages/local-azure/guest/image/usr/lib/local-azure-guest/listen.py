#!/usr/bin/python3
"""listen.py PORT [ADDRESS]: accept TCP connections and close them (a service stand-in's port)."""
import socket
import sys

port = int(sys.argv[1])
addr = sys.argv[2] if len(sys.argv) > 2 else "0.0.0.0"
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(16)
while True:
    conn, _ = s.accept()
    conn.close()
