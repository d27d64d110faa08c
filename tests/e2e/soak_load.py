#!/usr/bin/env python3
"""The well-behaved guest's load for tools/soak (run inside the guest's test namespace only): HTTP transfers
checked by sha256, DNS queries checked against their expected answers, UDP round trips checked byte for byte,
and TCP connects to a black hole, each at a bounded rate, concurrently, for DURATION seconds.

  soak_load.py --duration S --out FILE [options]   (see --help)

FILE gets the counters as JSON every 2 s and once more at the end. Every operation has a timeout; after the
duration (or once --stop-file exists) no new operation starts, and the program ends once the ones in flight
did (60 s at most). Exit 0 unless the program itself broke: what went wrong on the network is in the
counters, judged by tools/soak.
"""
import argparse
import errno
import hashlib
import http.client
import json
import os
import random
import selectors
import socket
import struct
import threading
import time

HTTP_TIMEOUT = 60        # seconds one transfer may take, connect included
DNS_TRIES, DNS_WAIT = 3, 2.0  # like a stub resolver: 3 tries, 2 s each
UDP_TRIES, UDP_WAIT = 3, 1.0
ERRORS_KEPT = 30         # the first errors are kept verbatim, the rest only counted


class Counters:
    """Named counters and the first few error messages, shared by the workers."""

    def __init__(self):
        self.lock = threading.Lock()
        self.values = {}
        self.errors = []

    def add(self, name, n=1):
        with self.lock:
            self.values[name] = self.values.get(name, 0) + n

    def keep_max(self, name, value):
        with self.lock:
            self.values[name] = max(self.values.get(name, value), value)

    def keep_min(self, name, value):
        with self.lock:
            self.values[name] = min(self.values.get(name, value), value)

    def error(self, name, message):
        self.add(name)
        with self.lock:
            if len(self.errors) < ERRORS_KEPT:
                self.errors.append(f"{time.strftime('%H:%M:%S')} {name}: {message}")

    def write(self, path):
        with self.lock:
            text = json.dumps({"counters": dict(sorted(self.values.items())), "errors": self.errors}, indent=1)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)


def paced(deadline, rate, stop):
    """Yields at most `rate` times a second until the deadline (or stop is set)."""
    step, next_start = 1.0 / rate, time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        if now >= deadline:
            return
        if next_start > now:
            time.sleep(min(next_start - now, deadline - now))
            continue
        next_start = max(next_start + step, now - step)  # no catching up after a slow operation
        yield


def host_port(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


# --- HTTP ---------------------------------------------------------------------------------------------------

class HttpLoad:
    """Downloads of the files under WWW/soak and uploads of the same sizes, each checked by sha256."""

    def __init__(self, www, counters):
        self.counters = counters
        self.files = {}  # name -> (size, sha256)
        for name in sorted(os.listdir(os.path.join(www, "soak"))):
            with open(os.path.join(www, "soak", name), "rb") as f:
                data = f.read()
            self.files[name] = (len(data), hashlib.sha256(data).hexdigest())
        self.names = sorted(self.files, key=lambda n: self.files[n][0])
        # Small transfers are the common case; the few-MB ones are rarer (weights per size, smallest first).
        self.weights = [8, 6, 4, 2, 1][:len(self.names)] + [1] * max(0, len(self.names) - 5)
        self.payloads = {n: os.urandom(self.files[n][0]) for n in self.names}

    def download(self, target, name, kind):
        size, want = self.files[name]
        conn = http.client.HTTPConnection(*host_port(target), timeout=HTTP_TIMEOUT)
        try:
            conn.request("GET", f"/soak/{name}")
            reply = conn.getresponse()
            if reply.status != 200:
                raise OSError(f"HTTP {reply.status}")
            digest, total = hashlib.sha256(), 0
            while chunk := reply.read(1 << 16):
                digest.update(chunk)
                total += len(chunk)
        finally:
            conn.close()
        self.account(kind, "down", target, name, total, f"{digest.hexdigest()} {total}", f"{want} {size}")

    def upload(self, target, name, kind, serial):
        payload = bytearray(self.payloads[name])
        payload[:16] = serial.to_bytes(16, "big")[:len(payload)]  # each upload differs
        want = f"{hashlib.sha256(payload).hexdigest()} {len(payload)}"
        conn = http.client.HTTPConnection(*host_port(target), timeout=HTTP_TIMEOUT)
        try:
            conn.request("POST", "/upload", body=bytes(payload), headers={"Content-Type": "application/octet-stream"})
            reply = conn.getresponse()
            if reply.status != 200:
                raise OSError(f"HTTP {reply.status}")
            got = reply.read(256).decode(errors="replace").strip()
        finally:
            conn.close()
        self.account(kind, "up", target, name, len(payload), got, want)

    def account(self, kind, direction, target, name, nbytes, got, want):
        if got == want:
            self.counters.add(f"{kind}.transfers")
            self.counters.add(f"{kind}.{direction}")
            self.counters.add(f"{kind}.bytes", nbytes)
        else:
            self.counters.error(f"{kind}.mismatches", f"{direction} {name} via {target}: got {got!r}, want {want!r}")

    def one(self, target, name, direction, kind, serial):
        try:
            if direction == "down":
                self.download(target, name, kind)
            else:
                self.upload(target, name, kind, serial)
        except (OSError, http.client.HTTPException) as e:
            self.counters.error(f"{kind}.errors", f"{direction} {name} via {target}: {e!r}")

    def worker(self, target, seed, rate, deadline, stop):
        rng = random.Random(seed)
        for serial, _ in enumerate(paced(deadline, rate, stop)):
            name = rng.choices(self.names, self.weights)[0]
            self.one(target, name, "down" if serial % 2 == 0 else "up", "http", seed * 1000000 + serial)

    def peak(self, targets, count):
        """All at once: the largest file down and up with every target, and `count` small transfers: the most
        the load ever has in flight, so the warm-up reaches the memory a chance coincidence would reach later."""
        largest, small = self.names[-1], self.names[min(1, len(self.names) - 1)]
        jobs = [(t, largest, d, "http", i) for i, (t, d) in enumerate((t, d) for t in targets for d in ("down", "up"))]
        jobs += [(targets[0], small, "down" if i % 2 else "up", "fanout", 900000 + i) for i in range(count)]
        threads = [threading.Thread(target=self.one, args=job, daemon=True) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(HTTP_TIMEOUT + 5)

    def fanout(self, target, count, every, deadline, stop):
        """Every `every` seconds, `count` concurrent transfers of a small file (half up, half down)."""
        name = self.names[min(1, len(self.names) - 1)]
        for round_no, _ in enumerate(paced(deadline, 1.0 / every, stop)):
            threads = [threading.Thread(target=self.one, daemon=True,
                                        args=(target, name, "down" if i % 2 else "up", "fanout", round_no * 1000 + i))
                       for i in range(count)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(HTTP_TIMEOUT + 5)


# --- DNS ----------------------------------------------------------------------------------------------------

def dns_query_bytes(qid, name, qtype=1):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\x00" + struct.pack("!HH", qtype, 1)


def skip_name(msg, i):
    while True:
        n = msg[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n


def dns_parse(msg, qid):
    """(truncated, rcode, sorted A addresses) of an answer to query `qid`; ValueError if it is not one."""
    if len(msg) < 12:
        raise ValueError("short answer")
    rid, flags, qd, an = struct.unpack("!HHHH", msg[:8])
    if rid != qid or not flags & 0x8000:
        raise ValueError(f"id {rid} flags {flags:#x} (asked id {qid})")
    i = 12
    for _ in range(qd):
        i = skip_name(msg, i) + 4
    addresses = []
    for _ in range(an):
        i = skip_name(msg, i)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[i:i + 10])
        i += 10
        if rtype == 1 and rdlen == 4:
            addresses.append(socket.inet_ntoa(msg[i:i + 4]))
        i += rdlen
    return bool(flags & 0x0200), flags & 0x000F, sorted(addresses)


def dns_over_tcp(server, query, qid):
    with socket.create_connection((server, 53), timeout=DNS_WAIT * 2) as s:
        s.sendall(struct.pack("!H", len(query)) + query)
        data = b""
        while len(data) < 2 or len(data) < 2 + struct.unpack("!H", data[:2])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise ValueError("TCP answer cut short")
            data += chunk
    return dns_parse(data[2:2 + struct.unpack("!H", data[:2])[0]], qid)


class DnsLoad:
    """Queries in turn for each NAME=EXPECTED (EXPECTED: comma-separated A addresses, or nxdomain); '{rand}'
    in a name becomes a fresh label each time, so the upstream is asked rather than a cache."""

    def __init__(self, server, expectations, counters):
        self.server, self.counters = server, counters
        self.expect = []
        for item in expectations:
            name, want = item.split("=", 1)
            self.expect.append((name, (3, []) if want == "nxdomain" else (0, sorted(want.split(",")))))

    def ask(self, name, want, rng):
        qid = rng.randrange(65536)
        query = dns_query_bytes(qid, name)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(DNS_WAIT)
            for attempt in range(DNS_TRIES):
                if attempt:
                    self.counters.add("dns.retries")
                s.sendto(query, (self.server, 53))
                try:
                    while True:  # skip anything that is not the answer to this query (nothing should come)
                        data, _ = s.recvfrom(65536)
                        try:
                            truncated, rcode, addresses = dns_parse(data, qid)
                            break
                        except (ValueError, struct.error, IndexError) as e:
                            self.counters.error("dns.stray", f"{name}: {e}")
                    break
                except socket.timeout:
                    continue
            else:
                self.counters.error("dns.lost", f"{name}: no answer in {DNS_TRIES} tries")
                return
        if truncated:
            self.counters.add("dns.tcp_retries")
            try:
                _, rcode, addresses = dns_over_tcp(self.server, query, qid)
            except (OSError, ValueError, struct.error, IndexError) as e:
                self.counters.error("dns.lost", f"{name} over TCP: {e!r}")
                return
        if (rcode, addresses) == want:
            self.counters.add("dns.ok")
        else:
            self.counters.error("dns.wrong",
                                f"{name}: rcode {rcode} {addresses[:4]}..., want rcode {want[0]} {want[1][:4]}...")

    def worker(self, rate, deadline, stop):
        rng = random.Random(53)
        for n, _ in enumerate(paced(deadline, rate, stop)):
            name, want = self.expect[n % len(self.expect)]
            self.counters.add("dns.queries")
            self.ask(name.replace("{rand}", f"r{rng.randrange(1 << 30):x}"), want, rng)


# --- UDP ----------------------------------------------------------------------------------------------------

def udp_worker(targets, rate, deadline, stop, counters):
    """Round trips to echo servers, a fresh socket (so a fresh flow in vznet) each, random sizes up to one
    frame; a reply must equal what was sent."""
    rng = random.Random(7)
    for n, _ in enumerate(paced(deadline, rate, stop)):
        target = host_port(targets[n % len(targets)])
        payload = struct.pack("!Q", n) + rng.randbytes(rng.randint(0, 1464))
        counters.add("udp.roundtrips")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(UDP_WAIT)
            s.connect(target)
            for attempt in range(UDP_TRIES):
                if attempt:
                    counters.add("udp.retries")
                try:
                    s.send(payload)
                    data = s.recv(65536)
                except socket.timeout:
                    continue
                except OSError as e:
                    counters.error("udp.errors", f"{target}: {e!r}")
                    break
                if data == payload:
                    counters.add("udp.ok")
                    counters.add("udp.bytes", len(payload))
                else:
                    counters.error("udp.wrong", f"{target}: sent {len(payload)} bytes, got {len(data)} different")
                break
            else:
                counters.error("udp.lost", f"{target}: no echo in {UDP_TRIES} tries")


# --- connects to a black hole -------------------------------------------------------------------------------

def blackhole_worker(prefix, port, rate, give_up, deadline, stop, counters):
    """Nonblocking connects to PREFIX.1-254:PORT, where SYNs vanish: each must fail (vznet answers
    'unreachable' once its connect timeout passed; Linux may take that as a soft error and retransmit its SYN,
    which vznet dials again, so twice the timeout), none may succeed, and none may stay unanswered for
    `give_up` seconds. At most 64 in flight."""
    rng = random.Random(99)
    sel = selectors.DefaultSelector()
    next_start = time.monotonic()
    while True:
        now = time.monotonic()
        starting = now < deadline and not stop.is_set()
        if not starting and not sel.get_map():
            return
        if starting and now >= next_start and len(sel.get_map()) < 64:
            next_start = max(next_start + 1.0 / rate, now)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex((f"{prefix}.{rng.randint(1, 254)}", port))
            if err not in (0, errno.EINPROGRESS):
                counters.error("blackhole.refused_at_once", os.strerror(err))
                s.close()
                continue
            counters.add("blackhole.connects")
            sel.register(s, selectors.EVENT_WRITE, now)
        for key, _ in sel.select(timeout=0.05):
            sock, started = key.fileobj, key.data
            sel.unregister(sock)
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            sock.close()
            if err == 0:
                counters.error("blackhole.connected", "a connect to the black hole succeeded")
            else:
                counters.add("blackhole.failed")
                counters.add(f"blackhole.errno.{errno.errorcode.get(err, err)}")
                ms = int((time.monotonic() - started) * 1000)
                counters.keep_min("blackhole.fail_ms_min", ms)
                counters.keep_max("blackhole.fail_ms_max", ms)
        now = time.monotonic()
        for key in list(sel.get_map().values()):
            if now - key.data > give_up:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                counters.error("blackhole.unanswered", f"no answer to a connect in {give_up} s")


# --- main ---------------------------------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, required=True, help="seconds of load")
    p.add_argument("--out", required=True, help="JSON counters, rewritten every 2 s")
    p.add_argument("--stop-file", help="end early (no new operation) once this file exists")
    p.add_argument("--www", help="directory whose soak/ files the HTTP servers serve")
    p.add_argument("--http", action="append", default=[], help="HOST:PORT of an http-sha server (one worker each)")
    p.add_argument("--http-rate", type=float, default=2.0, help="transfers a second per worker, at most")
    p.add_argument("--fanout", type=int, default=0, help="concurrent transfers in each fan-out round")
    p.add_argument("--fanout-every", type=float, default=15.0, help="seconds between fan-out rounds")
    p.add_argument("--peak", action="store_true", help="start with the largest transfers all at once (HttpLoad.peak)")
    p.add_argument("--dns", help="DNS server address")
    p.add_argument("--dns-rate", type=float, default=10.0)
    p.add_argument("--dns-expect", action="append", default=[], help="NAME=ADDR[,ADDR...] or NAME=nxdomain")
    p.add_argument("--udp", action="append", default=[], help="HOST:PORT of a UDP echo server")
    p.add_argument("--udp-rate", type=float, default=10.0)
    p.add_argument("--blackhole", help="PREFIX (three octets) of addresses whose SYNs vanish")
    p.add_argument("--blackhole-port", type=int, default=80)
    p.add_argument("--blackhole-rate", type=float, default=1.0)
    p.add_argument("--blackhole-give-up", type=float, default=45.0, help="seconds a connect may stay unanswered")
    args = p.parse_args()

    counters, stop = Counters(), threading.Event()
    deadline = time.monotonic() + args.duration
    threads = []

    def start(fn, *fn_args):
        t = threading.Thread(target=fn, args=fn_args, daemon=True)
        t.start()
        threads.append(t)

    if args.http:
        http = HttpLoad(args.www, counters)
        if args.peak:
            start(http.peak, args.http, args.fanout)
        for i, target in enumerate(args.http):
            start(http.worker, target, i + 1, args.http_rate, deadline, stop)
        if args.fanout:
            start(http.fanout, args.http[0], args.fanout, args.fanout_every, deadline, stop)
    if args.dns:
        start(DnsLoad(args.dns, args.dns_expect, counters).worker, args.dns_rate, deadline, stop)
    if args.udp:
        start(udp_worker, args.udp, args.udp_rate, deadline, stop, counters)
    if args.blackhole:
        start(blackhole_worker, args.blackhole, args.blackhole_port, args.blackhole_rate, args.blackhole_give_up,
              deadline, stop, counters)

    end_by = deadline + max(HTTP_TIMEOUT, args.blackhole_give_up) + 10
    while any(t.is_alive() for t in threads) and time.monotonic() < end_by:
        counters.write(args.out)
        for _ in range(4):
            if args.stop_file and os.path.exists(args.stop_file):
                stop.set()
            time.sleep(0.5)
    stop.set()
    stuck = sum(t.is_alive() for t in threads)
    if stuck:
        counters.error("load.stuck_workers", f"{stuck} workers still running {end_by - deadline:.0f} s after the end")
    counters.write(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
