#!/usr/bin/env python3
"""Small servers and clients for the e2e tests (run inside test namespaces only).

  e2e_servers.py udp-echo ADDR PORT            echo every datagram back to its sender
  e2e_servers.py sha-reply ADDR PORT           TCP: read to EOF, then answer "SHA256HEX LENGTH\\n" and close
  e2e_servers.py connect-many ADDR PORT N SECS open N nonblocking TCP connects and hold them up to SECS
                                               seconds; prints "connected C failed F pending P" at the end
  e2e_servers.py sha-reply ADDR PORT DELAY     as sha-reply, but each connection waits DELAY s before reading
  e2e_servers.py reset-server ADDR PORT DIR    TCP: "rst-me" -> close with RST; "watch" -> note in DIR whether
                                               the peer ended with a reset (DIR/reset-seen) or EOF (DIR/eof-seen)
  e2e_servers.py reset-client ADDR PORT MODE   MODE expect-rst: ask for a RST, exit 0 if the read is reset;
                                               MODE send-rst: say "watch", then close with RST
  e2e_servers.py udp-roundtrip ADDR PORT SIZE  one SIZE-byte datagram to an echo server; exit 0 if it returns
  e2e_servers.py slow-reader ADDR PORT DELAY   TCP client: connect, wait DELAY s, then read to EOF; prints
                                               "SHA256HEX LENGTH"
  e2e_servers.py many-sha ADDR PORT N BYTES SECS
                                               N concurrent clients of a sha-reply server, each sending BYTES
                                               of its own; exit 0 if all N answers match within SECS seconds
  e2e_servers.py paced-sha ADDR PORT BYTES SECS a sha-reply client that spreads BYTES over SECS seconds;
                                               exit 0 if the server's digest matches
  e2e_servers.py rst-on-accept ADDR PORT       TCP: accept and close with RST at once, forever
  e2e_servers.py connect-reset ADDR PORT N     N connects to a rst-on-accept server; each must connect (or be
                                               reset while connecting); exit 1 on any other connect error
  e2e_servers.py end-time ADDR PORT            TCP client: connect, send a line, wait up to 5 s for the end;
                                               prints "reset MS", "eof MS" or "open" (still open after 5 s)
  e2e_servers.py greet-and-close ADDR PORT     TCP: send "hello\n" and close at once (the server closes first)
  e2e_servers.py same-port ADDR PORT SPORT N   N connections one after another, each from source port SPORT (once
                                               the last one's socket is gone), each read to EOF within 3 s;
                                               exit 1 naming the first that failed
  e2e_servers.py http-sha ADDR PORT DIR        HTTP/1.0: GET serves the files in DIR, POST answers the body's
                                               "SHA256HEX LENGTH\n" (Content-Length bodies); one request a connection

Every server runs until killed; every loop is bounded by the caller's timeouts.
"""
import hashlib
import http.server
import selectors
import socket
import struct
import sys
import threading
import time


def sha_to_eof(sock):
    """Reads `sock` to EOF; returns (sha256 hex digest, byte count)."""
    digest, total = hashlib.sha256(), 0
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return digest.hexdigest(), total
        digest.update(chunk)
        total += len(chunk)


def udp_echo(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


def tcp_listener(addr, port, backlog):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(backlog)
    return srv


def sha_reply(addr, port, delay=0.0):
    srv = tcp_listener(addr, port, 256)  # many-sha opens 200 connections at once

    def serve(conn):
        with conn:
            time.sleep(delay)
            conn.settimeout(60)
            digest, total = sha_to_eof(conn)
            conn.sendall(f"{digest} {total}\n".encode())

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


def rst_close(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def reset_server(addr, port, marker_dir):
    srv = tcp_listener(addr, port, 16)
    while True:
        conn, _ = srv.accept()
        conn.settimeout(10)
        request = conn.recv(64)
        if request.startswith(b"rst-me"):
            rst_close(conn)
            continue
        outcome = "eof-seen"
        try:
            while conn.recv(4096):
                pass
        except ConnectionResetError:
            outcome = "reset-seen"
        except socket.timeout:
            outcome = "timeout-seen"
        conn.close()
        with open(f"{marker_dir}/{outcome}", "w") as marker:
            marker.write("1\n")


def rst_on_accept(addr, port):
    srv = tcp_listener(addr, port, 256)
    while True:
        conn, _ = srv.accept()
        rst_close(conn)


def connect_reset(addr, port, count):
    outcomes = {}
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect((addr, port))
            outcome = "connected"
        except ConnectionResetError:
            outcome = "connected"  # established, then reset before connect() returned
        except OSError as e:
            outcome = e.strerror or type(e).__name__
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        rst_close(s)
    print(" ".join(f"{k!r}={v}" for k, v in sorted(outcomes.items())), flush=True)
    return 0 if set(outcomes) == {"connected"} else 1


def reset_client(addr, port, mode):
    s = socket.create_connection((addr, port), timeout=10)
    if mode == "send-rst":
        s.sendall(b"watch\n")
        time.sleep(0.3)
        rst_close(s)
        return 0
    s.sendall(b"rst-me\n")
    try:
        data = s.recv(4096)
    except ConnectionResetError:
        print("reset", flush=True)
        return 0
    print(f"no reset: read {len(data)} bytes", flush=True)
    return 1


def udp_roundtrip(addr, port, size):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    payload = bytes((i * 7) & 0xFF for i in range(size))
    s.sendto(payload, (addr, port))
    data, _ = s.recvfrom(65535)
    print(f"sent {size} got {len(data)} equal {data == payload}", flush=True)
    return 0 if data == payload else 1


def slow_reader(addr, port, delay):
    s = socket.create_connection((addr, port), timeout=30)
    time.sleep(delay)
    digest, total = sha_to_eof(s)
    print(f"{digest} {total}", flush=True)
    return 0


def many_sha(addr, port, count, size, seconds):
    deadline = time.monotonic() + seconds
    results = [None] * count

    def client(i):
        payload = hashlib.sha256(str(i).encode()).digest() * (size // 32 + 1)
        payload = payload[:size]
        try:
            s = socket.create_connection((addr, port), timeout=max(1.0, deadline - time.monotonic()))
            with s:
                s.settimeout(max(1.0, deadline - time.monotonic()))
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
                reply = b""
                while not reply.endswith(b"\n"):
                    chunk = s.recv(256)
                    if not chunk:
                        break
                    reply += chunk
            results[i] = reply.decode().strip() == f"{hashlib.sha256(payload).hexdigest()} {size}"
        except OSError as e:
            print(f"client {i}: {e}", flush=True)
            results[i] = False

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    ok = sum(1 for r in results if r)
    print(f"ok {ok} failed {count - ok}", flush=True)
    return 0 if ok == count else 1


def paced_sha(addr, port, size, seconds):
    s = socket.create_connection((addr, port), timeout=30)
    s.settimeout(30)
    digest, sent, steps = hashlib.sha256(), 0, 50
    chunk = size // steps
    for i in range(steps):
        block = hashlib.sha256(str(i).encode()).digest() * (chunk // 32 + 1)
        block = block[:chunk if i < steps - 1 else size - sent]
        s.sendall(block)
        digest.update(block)
        sent += len(block)
        time.sleep(seconds / steps)
    s.shutdown(socket.SHUT_WR)
    reply = s.recv(256).decode().strip()
    want = f"{digest.hexdigest()} {sent}"
    print(f"sent {sent} reply {reply!r} match {reply == want}", flush=True)
    return 0 if reply == want else 1


def end_time(addr, port):
    start = time.monotonic()
    try:
        # On loopback the reset can beat connect() back to the caller: that is a reset too.
        s = socket.create_connection((addr, port), timeout=5)
        s.settimeout(5)
        s.sendall(b"hello\n")
        while s.recv(4096):
            pass
        outcome = "eof"
    except (ConnectionResetError, BrokenPipeError):
        outcome = "reset"
    except socket.timeout:
        print("open", flush=True)
        return 1
    print(f"{outcome} {int((time.monotonic() - start) * 1000)}", flush=True)
    return 0


def greet_and_close(addr, port):
    srv = tcp_listener(addr, port, 64)
    while True:
        conn, _ = srv.accept()
        conn.sendall(b"hello\n")
        conn.close()


def same_port(addr, port, source_port, count):
    for i in range(1, count + 1):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(3)
        try:
            # The guest's previous socket lingers in LAST_ACK until vznet's ACK of its FIN arrives: wait for
            # that (the guest's own state, up to 1 s), then the connect itself must not hang.
            deadline = time.monotonic() + 1
            while True:
                try:
                    s.bind(("0.0.0.0", source_port))
                    break
                except OSError as e:
                    if e.errno != 98 or time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
            s.connect((addr, port))
            data = b""
            while chunk := s.recv(100):
                data += chunk
        except OSError as e:
            print(f"connection {i} from port {source_port}: {e}")
            return 1
        finally:
            s.close()
        if data != b"hello\n":
            print(f"connection {i} from port {source_port}: got {data!r}")
            return 1
    return 0


def http_sha(addr, port, directory):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=directory, **kwargs)

        def do_POST(self):
            self.connection.settimeout(60)
            digest, left = hashlib.sha256(), int(self.headers.get("Content-Length", "0"))
            total = left
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                digest.update(chunk)
                left -= len(chunk)
            body = f"{digest.hexdigest()} {total - left}\n".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # one line per request would fill the log of a long run
            pass

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 256  # bursts of concurrent clients (the soak's fan-out) are not refused

    Server((addr, port), Handler).serve_forever()


def main(argv):
    mode = argv[1]
    if mode == "udp-echo":
        udp_echo(argv[2], int(argv[3]))
    elif mode == "sha-reply":
        sha_reply(argv[2], int(argv[3]), float(argv[4]) if len(argv) > 4 else 0.0)
    elif mode == "reset-server":
        reset_server(argv[2], int(argv[3]), argv[4])
    elif mode == "rst-on-accept":
        rst_on_accept(argv[2], int(argv[3]))
    elif mode == "connect-reset":
        return connect_reset(argv[2], int(argv[3]), int(argv[4]))
    elif mode == "reset-client":
        return reset_client(argv[2], int(argv[3]), argv[4])
    elif mode == "udp-roundtrip":
        return udp_roundtrip(argv[2], int(argv[3]), int(argv[4]))
    elif mode == "slow-reader":
        return slow_reader(argv[2], int(argv[3]), float(argv[4]))
    elif mode == "many-sha":
        return many_sha(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), float(argv[6]))
    elif mode == "paced-sha":
        return paced_sha(argv[2], int(argv[3]), int(argv[4]), float(argv[5]))
    elif mode == "end-time":
        return end_time(argv[2], int(argv[3]))
    elif mode == "greet-and-close":
        greet_and_close(argv[2], int(argv[3]))
    elif mode == "same-port":
        return same_port(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif mode == "http-sha":
        http_sha(argv[2], int(argv[3]), argv[4])
    elif mode == "connect-many":
        connect_many(argv[2], int(argv[3]), int(argv[4]), float(argv[5]))
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
