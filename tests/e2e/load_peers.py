#!/usr/bin/env python3
"""Peers for the limit scenarios (scenarios_limits.sh): thousands of flows at once, and hosts that flood.
Run inside test namespaces only; one thread each, selectors throughout, every loop bounded in time.

  load_peers.py echo-many ADDR PORT             TCP echo server for thousands of concurrent connections
  load_peers.py hold-many ADDR PORT N SECS FILE open N connections to an echo server (at most 256 connects in
                                                flight), send each a token of its own and check its echo; writes
                                                "echoed E failed F" to FILE once all N are settled, then holds
                                                them open until SIGTERM (or SECS), and closes them all
  load_peers.py flood ADDR PORT BYTES           TCP server: sends each client BYTES of stream(), as fast as the
                                                client takes them, then closes
  load_peers.py stall-then-read ADDR PORT N BYTES SECS FILE
                                                N clients of a flood server that read nothing (small receive
                                                buffers: the guest's window shuts) until SIGUSR1, writing
                                                "stalled" to FILE once all are connected; then each reads to EOF
                                                and checks BYTES of stream() arrived intact; prints and writes
                                                "intact I of N" (SECS bounds the whole run)
"""
import hashlib
import selectors
import signal
import socket
import sys
import time


def stream_block():
    """64 KiB of fixed pseudo-random bytes: stream() repeats it, so both ends know what must arrive."""
    block = bytearray()
    seed = b"vznet-flood"
    while len(block) < 65536:
        seed = hashlib.sha256(seed).digest()
        block += seed
    return bytes(block)


BLOCK = stream_block()


def stream_digest(size):
    digest = hashlib.sha256()
    for offset in range(0, size, len(BLOCK)):
        digest.update(BLOCK[: min(len(BLOCK), size - offset)])
    return digest.hexdigest()


def listener(addr, port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(4096)
    srv.setblocking(False)
    return srv


def accept_all(srv):
    """Yields each connection waiting on the non-blocking listener srv, made non-blocking, until none is left."""
    while True:
        try:
            conn, _ = srv.accept()
        except OSError:  # EAGAIN: all taken (EMFILE would show as failed clients)
            return
        conn.setblocking(False)
        yield conn


def echo_many(addr, port):
    sel = selectors.DefaultSelector()
    srv = listener(addr, port)
    sel.register(srv, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is srv:
                for conn in accept_all(srv):
                    sel.register(conn, selectors.EVENT_READ)
                continue
            conn = key.fileobj
            try:
                data = conn.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionError:
                data = b""
            if data:
                try:
                    conn.send(data)  # tokens are tiny: the send buffer always takes them
                    continue
                except ConnectionError:
                    pass
            sel.unregister(conn)
            conn.close()


def hold_many(addr, port, count, seconds, status_file):
    deadline = time.monotonic() + seconds
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    sel = selectors.DefaultSelector()
    opened = echoed = failed = 0
    held = []
    tokens = {}

    def open_one(i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((addr, port))
        tokens[s] = f"token-{i:08d}\n".encode()
        sel.register(s, selectors.EVENT_WRITE)

    def settle(s, ok):
        nonlocal echoed, failed
        sel.unregister(s)
        if ok:
            echoed += 1
            held.append(s)
        else:
            failed += 1
            s.close()

    in_flight = lambda: len(sel.get_map())  # noqa: E731
    while echoed + failed < count and time.monotonic() < deadline and not stop:
        while opened < count and in_flight() < 256:
            open_one(opened)
            opened += 1
        for key, events in sel.select(timeout=0.5):
            s = key.fileobj
            if events & selectors.EVENT_WRITE:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    settle(s, False)
                    continue
                s.send(tokens[s])
                sel.modify(s, selectors.EVENT_READ)
            else:
                try:
                    data = s.recv(64)
                except (BlockingIOError, ConnectionError):
                    data = b""
                settle(s, data == tokens[s])
    with open(status_file, "w") as f:
        f.write(f"echoed {echoed} failed {failed}\n")
    print(f"echoed {echoed} failed {failed}", flush=True)
    while not stop and time.monotonic() < deadline:
        time.sleep(0.1)
    for s in held:
        s.close()
    return 0 if echoed == count else 1


def flood(addr, port, size):
    sel = selectors.DefaultSelector()
    srv = listener(addr, port)
    sel.register(srv, selectors.EVENT_READ)
    sent = {}
    view = memoryview(BLOCK * 4)
    while True:
        for key, _ in sel.select():
            if key.fileobj is srv:
                for conn in accept_all(srv):
                    sent[conn] = 0
                    sel.register(conn, selectors.EVENT_WRITE)
                continue
            conn = key.fileobj
            done = sent[conn]
            try:
                # BLOCK * 4 holds any window of up to 192 KiB starting at an offset within BLOCK.
                start = done % len(BLOCK)
                n = conn.send(view[start:start + min(3 * len(BLOCK), size - done)])
            except BlockingIOError:
                continue
            except ConnectionError:
                n = -1
            if n > 0:
                sent[conn] = done + n
            if n < 0 or sent[conn] >= size:
                sel.unregister(conn)
                del sent[conn]
                conn.close()


def stall_then_read(addr, port, count, size, seconds, status_file):
    deadline = time.monotonic() + seconds
    go = []
    signal.signal(signal.SIGUSR1, lambda *_: go.append(True))
    clients = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window stays small
        s.settimeout(10)
        s.connect((addr, port))
        clients.append(s)
    with open(status_file, "w") as f:
        f.write("stalled\n")
    while not go and time.monotonic() < deadline:
        time.sleep(0.05)
    sel = selectors.DefaultSelector()
    state = {}
    for s in clients:
        # Room to read at speed now (the window scale was fixed at the handshake, so at most 64 KiB a window).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.setblocking(False)
        state[s] = [hashlib.sha256(), 0]
        sel.register(s, selectors.EVENT_READ)
    expected = stream_digest(size)
    intact = 0
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(262144)
            except BlockingIOError:
                continue
            except ConnectionError:
                data = b""
            if data:
                state[s][0].update(data)
                state[s][1] += len(data)
                continue
            sel.unregister(s)
            digest, total = state[s]
            intact += total == size and digest.hexdigest() == expected
            s.close()
    totals = sorted(total for _, total in state.values())
    line = (f"intact {intact} of {count} (ended {count - len(sel.get_map())}; bytes received from {totals[0]} "
            f"to {totals[-1]}, {size} sent each)")
    with open(status_file, "w") as f:
        f.write(line + "\n")
    print(line, flush=True)
    return 0 if intact == count else 1


def main(argv):
    mode = argv[1]
    if mode == "echo-many":
        echo_many(argv[2], int(argv[3]))
    elif mode == "hold-many":
        return hold_many(argv[2], int(argv[3]), int(argv[4]), float(argv[5]), argv[6])
    elif mode == "flood":
        flood(argv[2], int(argv[3]), int(argv[4]))
    elif mode == "stall-then-read":
        return stall_then_read(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), float(argv[6]), argv[7])
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
