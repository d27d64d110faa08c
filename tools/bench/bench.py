#!/usr/bin/env python3
"""vznet's benchmark: the same guest workloads over the kernel's own path (a veth pair), vznet (through
vznet-guest-relay, stream and datagram framing, MTU 1500 and 65520), passt (through the same relay, QEMU
framing) and slirp4netns (on its own tap), side by side in one run. Not a test: it measures and reports.

  tools/bench/bench.py [--build DIR] [--out DIR] [--seconds N] [--reps N] [--quick] [--cases a,b,...]

Each case gets two network namespaces made for it ("host" and "guest"); the servers (iperf3, sockperf,
vznet-bench-conn) run in "host", the clients in "guest", which reaches "host" only through the path under
test. Nothing leaves those namespaces: neither has a route anywhere else. Needs root.

Output: a markdown table on stdout and in OUT/bench.md, every figure in OUT/bench.json.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST_MAC = "52:54:00:be:0c:01"
IPERF_PORT, SOCKPERF_TCP, SOCKPERF_UDP, CONN_PORT, HOLD_PORT, FWD_PORT = 5201, 11111, 11112, 7000, 7001, 15201


def log(*parts):
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


def run(cmd, timeout=120, check=True):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr.strip()[-400:]}")
    return out.stdout


class Case:
    """One path under test: namespaces, the user-space stack (if any), the servers, the guest's target."""

    def __init__(self, name, kind, mtu, framing=None, tmp=None, build=None):
        self.name, self.kind, self.mtu, self.framing = name, kind, mtu, framing
        self.tmp, self.build = tmp, build
        suffix = f"{os.getpid()}-{name}"
        self.host_ns, self.guest_ns = f"vzb-h-{suffix}"[:60], f"vzb-g-{suffix}"[:60]
        self.procs = []          # every process we started, stopped by PID
        self.stack_pid = None    # the user-space stack's PID (vznet, passt, slirp4netns)
        self.target = None       # the address the guest dials for the host's servers
        self.forward = False     # whether host:FWD_PORT reaches the guest's iperf3

    def sh(self, ns, *cmd, timeout=120, check=True):
        return run(["ip", "netns", "exec", ns, *cmd], timeout=timeout, check=check)

    def spawn(self, ns, *cmd, name="proc"):
        logf = open(os.path.join(self.tmp, f"{self.name}-{name}.log"), "w")
        p = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=logf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        return p

    def wait_for(self, what, check, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: timed out waiting for {what}")

    def listening(self, ns, proto, port):
        flag = "-t" if proto == "tcp" else "-u"
        return bool(self.sh(ns, "ss", "-Hln", flag, f"sport = :{port}", check=False).strip())

    # ---- set-up ----

    def setup(self):
        for ns in (self.host_ns, self.guest_ns):
            run(["ip", "netns", "add", ns])
            self.sh(ns, "ip", "link", "set", "lo", "up")
        self.sh(self.guest_ns, "sysctl", "-q", "-w", "net.unix.max_dgram_qlen=512")
        getattr(self, f"setup_{self.kind}")()
        for ns in (self.host_ns, self.guest_ns):  # network safety: no way out of the two namespaces
            if self.sh(ns, "ip", "route", "show", "default").strip() and ns == self.host_ns:
                raise RuntimeError(f"{ns} has a default route")
        self.start_servers()

    def setup_veth(self):
        run(["ip", "-n", self.host_ns, "link", "add", "vh0", "mtu", str(self.mtu), "type", "veth", "peer", "name",
             "vg0", "mtu", str(self.mtu), "netns", self.guest_ns])
        self.sh(self.host_ns, "ip", "addr", "add", "10.99.0.1/24", "dev", "vh0")
        self.sh(self.host_ns, "ip", "link", "set", "vh0", "up")
        self.sh(self.guest_ns, "ip", "addr", "add", "10.99.0.2/24", "dev", "vg0")
        self.sh(self.guest_ns, "ip", "link", "set", "vg0", "up")
        self.target = "10.99.0.1"

    def attach_relay(self, uri, extra=()):
        relay = os.path.join(self.build, "tools", "vznet-guest-relay")
        self.spawn(self.guest_ns, relay, "--tap", "vzt0", "--connect", uri, "--mtu", str(self.mtu), *extra,
                   name="relay")
        self.wait_for("the relay's tap", lambda: self.sh(self.guest_ns, "ip", "link", "show", "vzt0", check=False))
        self.sh(self.guest_ns, "ip", "link", "set", "vzt0", "address", GUEST_MAC)
        self.sh(self.guest_ns, "ip", "addr", "add", "192.168.64.2/24", "dev", "vzt0")
        self.sh(self.guest_ns, "ip", "link", "set", "vzt0", "up")
        self.sh(self.guest_ns, "ip", "route", "add", "default", "via", "192.168.64.1")
        self.target = "192.168.64.1"

    def setup_vznet(self):
        vznet = os.path.join(self.build, "app", "vznet")
        sock = os.path.join(self.tmp, f"{self.name}.sock")
        scheme = "unix" if self.framing.startswith("stream") else "unixgram"
        # "-offload": the guest's NIC offloads segmentation and checksums, as krunkit's offloading=on (the relay's
        # tap does TSO; vznet --offload)
        offload = ("--offload",) if self.framing.endswith("-offload") else ()
        p = self.spawn(self.host_ns, vznet, *offload, "--listen", f"{scheme}://{sock}", "--mtu", str(self.mtu),
                       "--dhcp-static", f"{GUEST_MAC}=192.168.64.2", "--log-level", "warn",
                       "-p", f"{FWD_PORT}:192.168.64.2:{IPERF_PORT}", name="vznet")
        self.stack_pid = p.pid  # `ip netns exec` execs the command: same PID
        self.wait_for("vznet's socket", lambda: os.path.exists(sock))
        extra = ("--local", os.path.join(self.tmp, f"{self.name}-relay.sock")) if scheme == "unixgram" else ()
        self.attach_relay(f"{scheme}://{sock}", extra + offload)
        self.forward = True

    def setup_passt(self):
        sock = os.path.join(self.tmp, f"{self.name}.sock")
        # passt takes addresses from a host interface: give it one end of a veth pair whose other end is in
        # the same namespace (no route leads anywhere; dummy interfaces are not in every kernel).
        self.sh(self.host_ns, "ip", "link", "add", "pst0", "type", "veth", "peer", "name", "pst1")
        self.sh(self.host_ns, "ip", "addr", "add", "10.98.0.1/24", "dev", "pst0")
        self.sh(self.host_ns, "ip", "link", "set", "pst0", "up")
        self.sh(self.host_ns, "ip", "link", "set", "pst1", "up")
        p = self.spawn(self.host_ns, "passt", "-f", "-q", "-s", sock, "-i", "pst0", "-a", "192.168.64.2", "-n", "24",
                   "-g", "192.168.64.1", "-m", str(self.mtu), "-t", f"{FWD_PORT}:{IPERF_PORT}", "-u", "none",
                   "--runas", "0", name="passt")
        self.stack_pid = p.pid
        self.wait_for("passt's socket", lambda: os.path.exists(sock))
        self.attach_relay(f"unix://{sock}")
        self.forward = True

    def setup_slirp(self):
        p = self.spawn(self.host_ns, "slirp4netns", "--configure", f"--mtu={self.mtu}", "--netns-type=path",
                       f"/run/netns/{self.guest_ns}", "tap0", name="slirp4netns")
        self.wait_for("slirp4netns's tap", lambda: "inet 10.0.2.100" in self.sh(
            self.guest_ns, "ip", "-4", "addr", "show", "tap0", check=False))
        self.stack_pid = p.pid
        self.target = "10.0.2.2"

    def start_servers(self):
        conn = os.path.join(self.build, "tools", "vznet-bench-conn")
        self.spawn(self.host_ns, "iperf3", "-s", "-p", str(IPERF_PORT), name="iperf3-host")
        self.spawn(self.host_ns, "sockperf", "sr", "--tcp", "-i", "0.0.0.0", "-p", str(SOCKPERF_TCP),
                   name="sockperf-tcp")
        self.spawn(self.host_ns, "sockperf", "sr", "-i", "0.0.0.0", "-p", str(SOCKPERF_UDP), name="sockperf-udp")
        self.spawn(self.host_ns, conn, "serve", str(CONN_PORT), name="conn-serve")
        self.spawn(self.host_ns, conn, "hold-server", str(HOLD_PORT), name="conn-hold")
        if self.forward:
            self.spawn(self.guest_ns, "iperf3", "-s", "-p", str(IPERF_PORT), name="iperf3-guest")
        self.wait_for("servers", lambda: all(self.listening(self.host_ns, *s) for s in (
            ("tcp", IPERF_PORT), ("tcp", SOCKPERF_TCP), ("udp", SOCKPERF_UDP), ("tcp", CONN_PORT), ("tcp", HOLD_PORT))))
        if self.forward:
            self.wait_for("guest iperf3", lambda: self.listening(self.guest_ns, "tcp", IPERF_PORT))
        # The path works before anything is measured.
        self.wait_for("a first connection", lambda: subprocess.run(
            ["ip", "netns", "exec", self.guest_ns, "timeout", "3", "bash", "-c",
             f"exec 3<>/dev/tcp/{self.target}/{CONN_PORT}"], capture_output=True).returncode == 0, seconds=20)

    def teardown(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for ns in (self.guest_ns, self.host_ns):
            run(["ip", "netns", "del", ns], check=False)

    # ---- measurements ----

    def cpu_seconds(self):
        if not self.stack_pid:
            return 0.0
        try:
            fields = open(f"/proc/{self.stack_pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self):
        if not self.stack_pid:
            return None
        for line in open(f"/proc/{self.stack_pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return None

    def iperf(self, seconds, reverse=False, from_host=False):
        if from_host:
            cmd = ["ip", "netns", "exec", self.host_ns, "iperf3", "-c", "127.0.0.1", "-p", str(FWD_PORT)]
        else:
            cmd = ["ip", "netns", "exec", self.guest_ns, "iperf3", "-c", self.target, "-p", str(IPERF_PORT)]
        # 0.2 s intervals: a stall of a fraction of a second shows (see stalled()).
        cmd += ["-t", str(seconds), "-i", "0.2", "-J"] + (["-R"] if reverse else [])
        cpu0 = self.cpu_seconds()
        data = json.loads(run(cmd, timeout=seconds + 30))
        cpu = self.cpu_seconds() - cpu0
        received = data["end"]["sum_received"]
        return received["bits_per_second"] / 1e9, received["bytes"], cpu, stalled(data)

    def sockperf(self, udp, seconds):
        port = SOCKPERF_UDP if udp else SOCKPERF_TCP
        cmd = ["sockperf", "pp", "-i", self.target, "-p", str(port), "-t", str(seconds), "--full-rtt"]
        if not udp:
            cmd.insert(2, "--tcp")
        out = self.sh(self.guest_ns, *cmd, timeout=seconds + 30)
        pct = {m.group(1): float(m.group(2)) for m in re.finditer(r"percentile (\d+\.\d+) =\s+([\d.]+)", out)}
        return pct.get("50.000"), pct.get("99.000")

    # 16 connect/close loops: through a proxy each connection waits on two handshakes (guest and host side),
    # so 4 loops measured the round trip rather than the rate the path can sustain.
    def conn_rate(self, seconds, threads=16):
        conn = os.path.join(self.build, "tools", "vznet-bench-conn")
        out = self.sh(self.guest_ns, conn, "rate", self.target, str(CONN_PORT), str(seconds), str(threads),
                      timeout=seconds + 30, check=False)
        m = re.search(r"connections (\d+) failures (\d+) seconds ([\d.]+) rate (\d+) first_error (.*)", out)
        return (int(m.group(4)), int(m.group(2)), m.group(5).strip()) if m else (0, -1, out.strip()[-200:])

    def rss_with_flows(self, count):
        conn = os.path.join(self.build, "tools", "vznet-bench-conn")
        p = subprocess.Popen(["ip", "netns", "exec", self.guest_ns, conn, "hold", self.target, str(HOLD_PORT),
                              str(count), "60"], stdout=subprocess.PIPE, text=True, start_new_session=True)
        try:
            line = p.stdout.readline()
            established = int(line.split()[1]) if line.startswith("established") else 0
            time.sleep(1)
            return established, self.rss_kib()
        finally:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def stalled(iperf_json):
    """Whether a transfer stopped on the way: some 0.2 s of it carried under a tenth of its best 0.2 s. A path that
    works moves data all along; a stalled peer's figure says nothing about its speed (issue 15)."""
    rates = [i["sum"]["bits_per_second"] for i in iperf_json.get("intervals", []) if i["sum"]["seconds"] > 0.1]
    return bool(rates) and min(rates) < 0.1 * max(rates)


def median_spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def measure(case, args):
    r = {"name": case.name, "kind": case.kind, "mtu": case.mtu, "framing": case.framing}
    r["rss_idle_kib"] = case.rss_kib()
    for direction, reverse in (("guest_to_host", False), ("host_to_guest", True)):
        runs, cpu_per_gb, stalls = [], [], 0
        for _ in range(args.reps):
            gbps, nbytes, cpu, stopped = case.iperf(args.seconds, reverse=reverse)
            runs.append(round(gbps, 3))
            stalls += stopped
            if case.stack_pid and nbytes:
                cpu_per_gb.append(round(cpu / (nbytes / 1e9), 3))
        r[f"tcp_{direction}_gbps"] = median_spread(runs) | {"stalled_runs": stalls}
        if cpu_per_gb:
            r[f"cpu_s_per_gb_{direction}"] = statistics.median(cpu_per_gb)
        note = f", STALLED in {stalls} of {args.reps} runs" if stalls else ""
        log(f"{case.name}: {direction} {runs} Gbit/s{note}")
    if case.forward:
        measured = [case.iperf(args.seconds, from_host=True) for _ in range(args.reps)]
        runs = [round(m[0], 3) for m in measured]
        r["forward_host_to_guest_gbps"] = median_spread(runs) | {"stalled_runs": sum(m[3] for m in measured)}
        log(f"{case.name}: published port host->guest {runs} Gbit/s")
    r["tcp_rr_us"] = dict(zip(("p50", "p99"), case.sockperf(False, args.latency_seconds)))
    r["udp_rr_us"] = dict(zip(("p50", "p99"), case.sockperf(True, args.latency_seconds)))
    log(f"{case.name}: TCP RR {r['tcp_rr_us']} UDP RR {r['udp_rr_us']} (us, full round trip)")
    try:
        rate, failures, first_error = case.conn_rate(args.conn_seconds)
    except subprocess.TimeoutExpired:
        rate, failures, first_error = 0, -1, "the connection loop hung"
    r["tcp_connections_per_s"], r["tcp_connection_failures"] = rate, failures
    log(f"{case.name}: {rate} connections/s ({failures} failed; first error: {first_error})")
    if case.stack_pid:
        for count in args.flow_counts:
            established, rss = case.rss_with_flows(count)
            r[f"rss_kib_{count}_flows"] = {"established": established, "rss_kib": rss}
            log(f"{case.name}: {established} idle flows: RSS {rss} KiB")
        if case.kind == "vznet" and args.load_loop_seconds:
            samples = []
            conn = os.path.join(case.build, "tools", "vznet-bench-conn")
            p = subprocess.Popen(["ip", "netns", "exec", case.guest_ns, conn, "rate", case.target, str(CONN_PORT),
                                  str(args.load_loop_seconds), "2"], stdout=subprocess.DEVNULL, start_new_session=True)
            while p.poll() is None:
                samples.append(case.rss_kib())
                time.sleep(1)
            r["rss_kib_load_loop"] = {"seconds": args.load_loop_seconds, "first": samples[0], "max": max(samples),
                                      "last": samples[-1]}
            log(f"{case.name}: RSS over a {args.load_loop_seconds}s connection loop: {r['rss_kib_load_loop']}")
    return r


CASES = {
    "veth-1500": ("veth", 1500, None),
    "veth-65520": ("veth", 65520, None),
    "vznet-stream-1500": ("vznet", 1500, "stream"),
    "vznet-dgram-1500": ("vznet", 1500, "dgram"),
    "vznet-stream-65520": ("vznet", 65520, "stream"),
    "vznet-dgram-offload-1500": ("vznet", 1500, "dgram-offload"),
    "passt-1500": ("passt", 1500, "stream"),
    "passt-65520": ("passt", 65520, "stream"),
    "slirp4netns-1500": ("slirp", 1500, None),
    "slirp4netns-65520": ("slirp", 65520, None),
}


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "n/a"


def throughput(t):
    """A table cell: the median and range, or FAILED when any run stalled (never a speed, never a ratio)."""
    if t.get("stalled_runs"):
        return f"FAILED: stalled in {t['stalled_runs']} run(s) ({t['median']:.2f})"
    return f"{t['median']:.2f} ({t['min']:.2f}-{t['max']:.2f})"


def connections(r):
    """The connection rate, or FAILED when connects timed out (the rate of a loop that waits is no rate)."""
    failures = r["tcp_connection_failures"]
    if failures:
        why = "the loop hung" if failures < 0 else f"{failures} connects timed out"
        return f"FAILED: {why} ({r['tcp_connections_per_s']})"
    return str(r["tcp_connections_per_s"])


def working_ratio(a, b):
    """The ratio of two throughputs, or n/a when either path stalled."""
    if a.get("stalled_runs") or b.get("stalled_runs"):
        return "n/a (a peer stalled)"
    return ratio(a["median"], b["median"])


def report(results, machine):
    by = {r["name"]: r for r in results}
    lines = [f"Machine: {machine}", "",
             "| case | TCP guest->host Gbit/s | TCP host->guest Gbit/s | -p host->guest Gbit/s | TCP RR p50/p99 us | "
             "UDP RR p50/p99 us | conn/s | CPU s/GB g->h, h->g | RSS idle / 1k / 10k flows MiB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    mib = lambda kib: f"{kib / 1024:.1f}" if kib else "-"
    for r in results:
        g2h, h2g = r["tcp_guest_to_host_gbps"], r["tcp_host_to_guest_gbps"]
        fwd = r.get("forward_host_to_guest_gbps")
        rss = [mib(r.get("rss_idle_kib"))] + [mib((r.get(f"rss_kib_{n}_flows") or {}).get("rss_kib"))
                                              for n in (1000, 10000)]
        lines.append(f"| {r['name']} | {throughput(g2h)} | {throughput(h2g)} | "
                     f"{throughput(fwd) if fwd else '-'} |")
        lines[-1] += (f" {r['tcp_rr_us']['p50']}/{r['tcp_rr_us']['p99']} | "
                      f"{r['udp_rr_us']['p50']}/{r['udp_rr_us']['p99']} | "
                      f"{connections(r)} | {r.get('cpu_s_per_gb_guest_to_host', '-')}, "
                      f"{r.get('cpu_s_per_gb_host_to_guest', '-')} | {' / '.join(rss)} |")
    lines += ["", "Ratios (median throughput; latency p50):", ""]
    pairs = [("vznet-stream-1500", "veth-1500"), ("vznet-dgram-1500", "veth-1500"),
             ("vznet-dgram-offload-1500", "veth-1500"),
             ("vznet-stream-65520", "veth-65520"), ("vznet-stream-1500", "passt-1500"),
             ("vznet-stream-65520", "passt-65520"), ("vznet-stream-1500", "slirp4netns-1500"),
             ("vznet-stream-65520", "slirp4netns-65520")]
    lines.append("| vznet case / reference | guest->host | host->guest | TCP RR p50 (lower is better) |")
    lines.append("| --- | --- | --- | --- |")
    for a, b in pairs:
        if a in by and b in by:
            ra, rb = by[a], by[b]
            lines.append(f"| {a} / {b} | "
                         f"{working_ratio(ra['tcp_guest_to_host_gbps'], rb['tcp_guest_to_host_gbps'])} | "
                         f"{working_ratio(ra['tcp_host_to_guest_gbps'], rb['tcp_host_to_guest_gbps'])} | "
                         f"{ratio(ra['tcp_rr_us']['p50'], rb['tcp_rr_us']['p50'])} |")
    return "\n".join(lines) + "\n"


def machine_description():
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return f"{model}, {os.cpu_count()} CPUs, Linux {os.uname().release}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="build directory with vznet and tools")
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench"), help="where bench.json and bench.md go")
    ap.add_argument("--seconds", type=int, default=10, help="iperf3 seconds per run")
    ap.add_argument("--reps", type=int, default=3, help="iperf3 runs per direction")
    ap.add_argument("--quick", action="store_true", help="2 s runs, 1 repetition, small flow counts (a smoke run)")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of: " + ", ".join(CASES))
    args = ap.parse_args()
    args.latency_seconds, args.conn_seconds, args.flow_counts, args.load_loop_seconds = 5, 5, (1000, 10000), 60
    if args.quick:
        args.seconds, args.reps, args.latency_seconds, args.conn_seconds = 2, 1, 2, 2
        args.flow_counts, args.load_loop_seconds = (1000,), 5
    if os.geteuid() != 0:
        sys.exit("bench.py: needs root (network namespaces)")
    for tool in ("iperf3", "sockperf", "passt", "slirp4netns"):
        if not shutil.which(tool):
            sys.exit(f"bench.py: {tool} is missing (tools/install-deps.sh bench installs it)")
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="vzbench.")
    results = []
    for name in args.cases.split(","):
        kind, mtu, framing = CASES[name]
        case = Case(name, kind, mtu, framing, tmp, args.build)
        log(f"--- {name}")
        try:
            case.setup()
            results.append(measure(case, args))
        except Exception as e:  # one broken case must not lose the others' figures
            log(f"{name}: FAILED: {e}")
        finally:
            case.teardown()
    machine = machine_description()
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump({"machine": machine, "seconds": args.seconds, "reps": args.reps, "results": results}, f, indent=2)
    text = report(results, machine)
    with open(os.path.join(args.out, "bench.md"), "w") as f:
        f.write(text)
    print(text)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
