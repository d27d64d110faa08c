#!/usr/bin/env python3
"""Stand-in for vznet, used only to test the e2e harness and vznet-guest-relay themselves
(run.sh with VZNET_E2E_STANDIN=1). It is NOT a model of vznet: it listens on the same three guest sockets,
but bridges the guest's frames to a tap (vzs0) in its own namespace, so the kernel there plays the gateway
192.168.64.1 and routes to the LAN. It logs vznet's attach/detach lines so the harness's checks run.

Flags: the vznet subset the harness passes (--listen URI..., --mtu N); the rest are accepted and ignored.
"""
import fcntl
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
MAX_FRAME = 65535 + 14


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def open_tap(name, mtu):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    subprocess.run(["ip", "link", "set", name, "mtu", str(mtu), "up"], check=True)
    subprocess.run(["ip", "addr", "add", "192.168.64.1/24", "dev", name], check=True)
    return fd


class Guest:
    """One attached guest: frames to it with send(), frames from it via on_readable()."""

    def __init__(self, kind, sock, peer, name):
        self.kind, self.sock, self.peer, self.name = kind, sock, peer, name
        self.inbuf = b""

    def send(self, frame):
        try:
            if self.kind == "unix":
                self.sock.sendall(struct.pack(">I", len(frame)) + frame)
            elif self.kind == "unixgram":
                self.sock.sendto(frame, self.peer)
            else:
                self.sock.send(frame)
            return True
        except (BlockingIOError, InterruptedError):
            return True  # dropped, like a full NIC queue
        except OSError:
            return False

    def frames(self):
        """Frames received now; None when the guest went away."""
        if self.kind == "unix":
            data = self.sock.recv(1 << 20)
            if not data:
                return None
            self.inbuf += data
            out = []
            while len(self.inbuf) >= 4:
                (size,) = struct.unpack(">I", self.inbuf[:4])
                if len(self.inbuf) < 4 + size:
                    break
                out.append(self.inbuf[4:4 + size])
                self.inbuf = self.inbuf[4 + size:]
            return out
        data = self.sock.recv(MAX_FRAME)
        if not data and self.kind == "unixpacket":
            return None
        return [data]


def main():
    args, listens, mtu = sys.argv[1:], [], 1500
    i = 0
    while i < len(args):
        if args[i] == "--listen":
            listens.append(args[i + 1])
            i += 2
        elif args[i] == "--mtu":
            mtu = int(args[i + 1])
            i += 2
        elif args[i] in ("--exit-on-disconnect",):
            i += 1
        else:
            i += 2
    tap = open_tap("vzs0", mtu)
    sel = selectors.DefaultSelector()
    sel.register(tap, selectors.EVENT_READ, ("tap", None))
    paths = []
    for uri in listens:
        kind, path = uri.split("://", 1)
        stype = {"unix": socket.SOCK_STREAM, "unixgram": socket.SOCK_DGRAM, "unixpacket": socket.SOCK_SEQPACKET}[kind]
        s = socket.socket(socket.AF_UNIX, stype)
        s.bind(path)
        paths.append(path)
        if kind == "unixgram":
            sel.register(s, selectors.EVENT_READ, ("dgram", s))
        else:
            s.listen(4)
            sel.register(s, selectors.EVENT_READ, ("listen", (kind, s)))
    guests = {}  # key -> Guest
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    def detach(key):
        g = guests.pop(key)
        if g.kind != "unixgram":
            sel.unregister(g.sock)
            g.sock.close()
        log(f"guest detached: {g.name} (closed 0 flows, 0 remain)")

    while not stop:
        for key, _ in sel.select(timeout=0.5):
            what, obj = key.data
            if what == "tap":
                try:
                    frame = os.read(tap, MAX_FRAME)
                except BlockingIOError:
                    continue
                for gk in list(guests):
                    if not guests[gk].send(frame):
                        detach(gk)
            elif what == "listen":
                kind, s = obj
                conn, _ = s.accept()
                g = Guest(kind, conn, None, f"{kind}:{s.getsockname()}#{conn.fileno()}")
                guests[conn.fileno()] = g
                sel.register(conn, selectors.EVENT_READ, ("guest", conn.fileno()))
                log(f"guest attached: {g.name}")
            elif what == "dgram":
                data, peer = obj.recvfrom(MAX_FRAME)
                if not peer:
                    continue
                if peer not in guests:
                    guests[peer] = Guest("unixgram", obj, peer, f"unixgram:{peer}")
                    log(f"guest attached: {guests[peer].name}")
                if data != b"VFKT":
                    os.write(tap, data)
            else:
                g = guests.get(obj)
                try:
                    frames = g.frames() if g else []
                except OSError:
                    frames = None
                if frames is None:
                    detach(obj)
                    continue
                for f in frames:
                    try:
                        os.write(tap, f)
                    except OSError:
                        pass
    for p in paths:
        os.unlink(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
