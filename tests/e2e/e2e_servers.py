#!/usr/bin/env python3
"""Small servers and clients for the e2e tests (run inside test namespaces only).

  e2e_servers.py udp-echo ADDR PORT            echo every datagram back to its sender
  e2e_servers.py sha-reply ADDR PORT           TCP: read to EOF, then answer "SHA256HEX LENGTH\\n" and close
  e2e_servers.py connect-many ADDR PORT N SECS open N nonblocking TCP connects and hold them up to SECS
                                               seconds; prints "connected C failed F pending P" at the end

Every server runs until killed; every loop is bounded by the caller's timeouts.
"""
import hashlib
import selectors
import socket
import sys
import threading
import time


def udp_echo(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


def sha_reply(addr, port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(16)

    def serve(conn):
        with conn:
            conn.settimeout(60)
            digest, total = hashlib.sha256(), 0
            while True:
                chunk = conn.recv(1 << 16)
                if not chunk:
                    break
                digest.update(chunk)
                total += len(chunk)
            conn.sendall(f"{digest.hexdigest()} {total}\n".encode())

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def connect_many(addr, port, count, seconds):
    sel = selectors.DefaultSelector()
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((addr, port))
        sel.register(s, selectors.EVENT_WRITE)
    connected = failed = 0
    deadline = time.monotonic() + seconds
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
            err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            connected += err == 0
            failed += err != 0
            sel.unregister(key.fileobj)
            key.fileobj.close()
    print(f"connected {connected} failed {failed} pending {len(sel.get_map())}", flush=True)


def main(argv):
    mode = argv[1]
    if mode == "udp-echo":
        udp_echo(argv[2], int(argv[3]))
    elif mode == "sha-reply":
        sha_reply(argv[2], int(argv[3]))
    elif mode == "connect-many":
        connect_many(argv[2], int(argv[3]), int(argv[4]), float(argv[5]))
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
