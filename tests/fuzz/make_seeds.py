#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) from real protocol messages built with
scapy: DHCP as udhcpc (busybox) and dhclient (ISC) send it, DNS queries as glibc and dig send them and answers as
resolvers return them, the guest's first frames (ARP, DHCP, DNS, TCP to the DNS server, pings, fragments), and
the text forms operators type (-p specs, egress rules, policy files, API bodies, --dns-record).
Run with Debian's python3 (scapy from python3-scapy): /usr/bin/python3 tests/fuzz/make_seeds.py
Each seed's name says what it is; rerunning rewrites them identically."""
import os
import struct
import sys

from scapy.all import ARP, BOOTP, DHCP, DNS, DNSQR, DNSRR, DNSRROPT, ICMP, IP, TCP, UDP, Ether, fragment, raw

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
GUEST_MAC = "52:54:00:12:34:56"
GW_MAC = "5a:94:ef:76:7a:01"
BCAST = "ff:ff:ff:ff:ff:ff"
GW = "192.168.64.1"
GUEST = "192.168.64.2"
CHADDR = bytes.fromhex("525400123456") + b"\0" * 10


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def record(control, data):
    return bytes([control]) + struct.pack(">H", len(data)) + data


# --- DHCP client messages ---------------------------------------------------------------------------------
def dhcp(msg_type, options, ciaddr="0.0.0.0", xid=0x3903F326, chaddr=CHADDR, flags=0):
    return raw(BOOTP(op=1, xid=xid, ciaddr=ciaddr, chaddr=chaddr, flags=flags) /
               DHCP(options=[("message-type", msg_type)] + options + ["end"]))


UDHCPC_PRL = [("param_req_list", [1, 3, 6, 12, 15, 28, 42, 51, 58, 59, 119])]
DHCLIENT_PRL = [("param_req_list", [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42])]
dhcp_messages = {
    "udhcpc-discover": dhcp("discover", [("client_id", b"\x01" + CHADDR[:6]), ("max_dhcp_size", 576),
                                          ("vendor_class_id", b"udhcp 1.36.1"), ("hostname", b"guest")] + UDHCPC_PRL),
    "udhcpc-request": dhcp("request", [("client_id", b"\x01" + CHADDR[:6]), ("requested_addr", GUEST),
                                        ("server_id", GW), ("max_dhcp_size", 576),
                                        ("hostname", b"guest")] + UDHCPC_PRL),
    "udhcpc-renew": dhcp("request", [("client_id", b"\x01" + CHADDR[:6])] + UDHCPC_PRL, ciaddr=GUEST),
    "udhcpc-release": dhcp("release", [("server_id", GW)], ciaddr=GUEST),
    "dhclient-discover": dhcp("discover", [("requested_addr", GUEST), ("hostname", b"debian")] + DHCLIENT_PRL),
    "dhclient-request": dhcp("request", [("server_id", GW), ("requested_addr", GUEST), ("hostname", b"debian")]
                             + DHCLIENT_PRL),
    "dhclient-inform": dhcp("inform", DHCLIENT_PRL, ciaddr=GUEST),
    "decline": dhcp("decline", [("requested_addr", GUEST), ("server_id", GW)]),
    "static-discover": dhcp("discover", [], chaddr=bytes.fromhex("525400000007") + b"\0" * 10),
    "broadcast-flag-discover": dhcp("discover", [("client_id", b"\xff" + b"\x12\x34\x56\x78" + b"\0\x01" + b"x" * 10)],
                                    flags=0x8000),
}
# A long option split over two instances (RFC 3396) and option overload set.
dhcp_messages["split-option"] = raw(BOOTP(op=1, xid=7, chaddr=CHADDR) / DHCP(options=[
    ("message-type", "discover"), (12, b"a" * 255), (12, b"b" * 40), (52, b"\x03"), "end"]))
for name, msg in dhcp_messages.items():
    write("dhcp_message_fuzz", name, msg)
write("dhcp_message_fuzz", "search-list.txt", "vz.internal,example.com,corp.example.com,Example.COM.")

# The responder: conversations, records of [control][length][payload].
def conv(*steps):
    return b"".join(record(c, m) for c, m in steps)

d = dhcp_messages
write("dhcp_responder_fuzz", "udhcpc-dora-renew-release", conv(
    (0, d["udhcpc-discover"]), (0, d["udhcpc-request"]), (1 | 4 * 20, d["udhcpc-renew"]), (1, d["udhcpc-release"])))
write("dhcp_responder_fuzz", "dhclient-dora-inform", conv(
    (0, d["dhclient-discover"]), (0, d["dhclient-request"]), (1, d["dhclient-inform"])))
write("dhcp_responder_fuzz", "decline-then-discover", conv(
    (0, d["udhcpc-discover"]), (0, d["decline"]), (0, d["udhcpc-discover"])))
write("dhcp_responder_fuzz", "static-and-expiry", conv(
    (0, d["static-discover"]), (2, dhcp("request", [("requested_addr", "192.168.64.7")],
                                        chaddr=bytes.fromhex("525400000007") + b"\0" * 10)),
    (4 * 63, d["udhcpc-discover"])))
write("dhcp_responder_fuzz", "exhaust-pool", conv(*[
    (0, dhcp("discover", [], xid=i, chaddr=bytes([0x52, 0x54, 0, 0, 1, i]) + b"\0" * 10)) for i in range(6)]))

# --- Guest frames -------------------------------------------------------------------------------------------
def eth(pkt, dst=GW_MAC, src=GUEST_MAC):
    return raw(Ether(dst=dst, src=src) / pkt)


arp_probe = eth(ARP(op=1, hwsrc=GUEST_MAC, psrc="0.0.0.0", pdst=GUEST), dst=BCAST)
arp_gw = eth(ARP(op=1, hwsrc=GUEST_MAC, psrc=GUEST, pdst=GW), dst=BCAST)
gratuitous = eth(ARP(op=1, hwsrc=GUEST_MAC, psrc=GUEST, pdst=GUEST), dst=BCAST)
discover_frame = eth(IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / raw(d["udhcpc-discover"]),
                     dst=BCAST)
request_frame = eth(IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / raw(d["udhcpc-request"]),
                    dst=BCAST)
ack_to_guest = eth(IP(src=GW, dst="255.255.255.255") / UDP(sport=67, dport=68) /
                   BOOTP(op=2, xid=0x3903F326, yiaddr=GUEST, siaddr=GW, chaddr=CHADDR) /
                   DHCP(options=[("message-type", "ack"), ("server_id", GW), ("lease_time", 3600),
                                 ("subnet_mask", "255.255.255.0"), ("router", GW), "end"]), dst=GUEST_MAC, src=GW_MAC)
dns_query_frame = eth(IP(src=GUEST, dst=GW) / UDP(sport=5353, dport=53) /
                      DNS(id=0x1234, rd=1, qd=DNSQR(qname="example.com", qtype="A")))
dns_zone_frame = eth(IP(src=GUEST, dst=GW) / UDP(sport=5354, dport=53) /
                     DNS(id=0x4321, rd=1, qd=DNSQR(qname="host.vz.internal", qtype="A")))
ping_gw = eth(IP(src=GUEST, dst=GW) / ICMP(id=0x77, seq=1) / (b"\xab" * 56))
ping_out = eth(IP(src=GUEST, dst="8.8.8.8") / ICMP(id=0x78, seq=1) / (b"\xab" * 56))
syn_out = eth(IP(src=GUEST, dst="93.184.216.34") / TCP(sport=40000, dport=80, flags="S", seq=1000,
                                                        options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]))
syn_host = eth(IP(src=GUEST, dst=GW) / TCP(sport=40001, dport=22, flags="S", seq=2000))
udp_out = eth(IP(src=GUEST, dst="8.8.4.4") / UDP(sport=40002, dport=123) / (b"\x23" + b"\0" * 47))
frags = [eth(f) for f in fragment(IP(src=GUEST, dst=GW) / UDP(sport=5355, dport=53) /
                                  DNS(id=9, rd=1, qd=DNSQR(qname="a" * 60 + ".example.com"),
                                      ar=DNSRROPT(rclass=4096)) / (b"\0" * 1600), fragsize=1480)]
# DNS over TCP: SYN, then ACK and a query (their ack numbers fixed up by the target's op 3).
dns_tcp_query = raw(DNS(id=0x5555, rd=1, qd=DNSQR(qname="example.org", qtype="AAAA")))
tcp_syn53 = eth(IP(src=GUEST, dst=GW) / TCP(sport=40100, dport=53, flags="S", seq=5000, window=65535))
tcp_ack53 = eth(IP(src=GUEST, dst=GW) / TCP(sport=40100, dport=53, flags="A", seq=5001, window=65535))
tcp_q53 = eth(IP(src=GUEST, dst=GW) / TCP(sport=40100, dport=53, flags="PA", seq=5001, window=65535) /
              (struct.pack(">H", len(dns_tcp_query)) + dns_tcp_query))
tcp_fin53 = eth(IP(src=GUEST, dst=GW) / TCP(sport=40100, dport=53, flags="FA", seq=5001 + 2 + len(dns_tcp_query)))

# frame_codec: [max frame: 2 bytes][split seed][stream]
def stream(frames):
    return b"".join(struct.pack(">I", len(f)) + f for f in frames)

write("frame_codec_fuzz", "qemu-stream-boot", b"\x00\x00\x03" + stream([arp_probe, discover_frame, request_frame,
                                                                         arp_gw, dns_query_frame]))
write("frame_codec_fuzz", "qemu-stream-jumbo", b"\xff\xff\x05" + stream([b"\x11" * 9000, syn_out, b"\x22" * 20000]))
write("frame_codec_fuzz", "runt-and-oversized", b"\x00\x00\x01" + stream([b"\x01" * 10, b"\x33" * 2000, ping_gw]))
write("frame_codec_fuzz", "bad-prefix", b"\x00\x10\x02" + stream([arp_gw]) + b"\x00\x00\x00\x00" + arp_gw)
write("frame_codec_fuzz", "vfkit-greeting", b"VFKT")
write("frame_codec_fuzz", "partial-tail", b"\x00\x00\x09" + stream([dns_query_frame])[:-7])

# guest_guard: records of [control: port-1 | 4 to guest | 8 detach][length][frame]
write("guest_guard_fuzz", "dhcp-then-traffic", conv(
    (0, arp_probe), (0, discover_frame), (0, request_frame), (4, ack_to_guest), (0, arp_gw), (0, dns_query_frame),
    (0, syn_out), (0, gratuitous)))
write("guest_guard_fuzz", "spoofing", conv(
    (0, discover_frame), (4, ack_to_guest), (1, eth(IP(src=GUEST, dst=GW) / ICMP(), src="52:54:00:aa:bb:cc")),
    (1, eth(IP(src="192.168.64.9", dst=GW) / ICMP(), src=GUEST_MAC)),
    (1, eth(IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=67, dport=68) / raw(d["udhcpc-discover"]),
            dst=BCAST, src="52:54:00:aa:bb:cc")),
    (0, eth(ARP(op=2, hwsrc=GUEST_MAC, psrc=GW, pdst=GUEST), dst=BCAST))))
write("guest_guard_fuzz", "static-and-detach", conv(
    (2, eth(IP(src="192.168.64.7", dst=GW) / ICMP(), src="52:54:00:00:00:07")), (2 | 8, arp_gw),
    (3, eth(IP(src=GUEST, dst=GW) / UDP(sport=1, dport=2), src="52:54:00:00:00:07")),
    (0, eth(raw(b"\x60" + b"\0" * 39), src=GUEST_MAC)[:12] + b"\x86\xdd" + b"\x60" + b"\0" * 39)))
write("guest_guard_fuzz", "fragments", conv(*[(0, f) for f in frags]))

# --- DNS ------------------------------------------------------------------------------------------------------
queries = {
    "glibc-a": DNS(id=0xabcd, rd=1, qd=DNSQR(qname="example.com", qtype="A")),
    "glibc-aaaa-edns": DNS(id=0xabce, rd=1, qd=DNSQR(qname="example.com", qtype="AAAA"), ar=DNSRROPT(rclass=1232)),
    "dig-any": DNS(id=0x0102, rd=1, ad=1, qd=DNSQR(qname="vz.internal", qtype="ANY"),
                   ar=DNSRROPT(rclass=4096)),
    "ptr-gateway": DNS(id=7, rd=1, qd=DNSQR(qname="1.64.168.192.in-addr.arpa", qtype="PTR")),
    "host-mixed-case": DNS(id=8, rd=1, qd=DNSQR(qname="HoSt.Vz.InTeRnAl", qtype="A")),
    "notify-opcode": DNS(id=9, opcode=4, qd=DNSQR(qname="example.com", qtype="SOA")),
}
answers = {
    "answer-cname-chain": DNS(id=0xabcd, qr=1, rd=1, ra=1, qd=DNSQR(qname="www.example.com"),
                              an=DNSRR(rrname="www.example.com", type="CNAME", rdata="example.com") /
                              DNSRR(rrname="example.com", type="A", rdata="93.184.216.34")),
    "answer-many-txt": DNS(id=0x1111, qr=1, rd=1, ra=1, qd=DNSQR(qname="big.example.com", qtype="TXT"),
                           an=[DNSRR(rrname="big.example.com", type="TXT", rdata=[("x%02d" % i) * 30])
                               for i in range(20)]),
    "answer-nxdomain": DNS(id=0x2222, qr=1, rd=1, ra=1, rcode=3, qd=DNSQR(qname="nope.example.com")),
}
for name, q in queries.items():
    write("dns_message_fuzz", name, raw(q))
for name, a in answers.items():
    write("dns_message_fuzz", name, raw(a))
# Compression pointers: a question whose name points back into the header (refused), and an answer name chain.
write("dns_message_fuzz", "pointer-loop",
      bytes.fromhex("12340100000100000000000003777777c00c00000100 01".replace(" ", "")))

# dns_upstream: [control: verdict | 4 answer twice][query length][query][answer]
def upstream(control, query, answer):
    q = raw(query)
    return bytes([control]) + struct.pack(">H", len(q)) + q + raw(answer)

write("dns_upstream_fuzz", "small-answer", upstream(0, queries["glibc-a"], answers["answer-cname-chain"]))
write("dns_upstream_fuzz", "truncated-classic", upstream(0, DNS(id=0x1111, rd=1, qd=DNSQR(qname="big.example.com",
                                                                                           qtype="TXT")),
                                                         answers["answer-many-txt"]))
write("dns_upstream_fuzz", "edns-fits", upstream(4, DNS(id=0x1111, rd=1, qd=DNSQR(qname="big.example.com", qtype="TXT"),
                                                      ar=DNSRROPT(rclass=4096)), answers["answer-many-txt"]))
write("dns_upstream_fuzz", "timeout", upstream(1, queries["glibc-aaaa-edns"], b""))
write("dns_upstream_fuzz", "garbage-answer",
      upstream(0, queries["glibc-a"], b"\x00\x01\x81\x80\xff\xff" + b"\xc0" * 600))

write("dns_zone_fuzz", "records", "\n".join([
    "db.test=10.0.0.5", "db.test=10.0.0.6", "host.vz.internal=192.168.64.100", "Printer.Office.=192.168.64.50",
    "vz.internal", "nothere.vz.internal", "1.64.168.192.in-addr.arpa", "example.com", "bad name=1.2.3.4",
    "x=999.1.1.1", "a" * 63 + ".b=1.1.1.1"]))

# --- Text parsers ---------------------------------------------------------------------------------------------
for i, spec in enumerate(["8080:80", "127.0.0.1:8080:80/tcp", "0.0.0.0::53/udp", "[::1]:8443:443",
                          "8000-8010:80", "8080-8089:80-89", "9000:192.168.64.3:90",
                          "[::]:5000-5001:192.168.64.9:50-51/udp",
                          "80", "0:80"]):
    write("publish_spec_fuzz", "spec-%02d" % i, spec)

rules = "\n".join(["10.0.0.0/8", "192.168.1.10", "172.16.0.0/22:30000-32767/tcp", "0.0.0.0/0:53/udp",
                   "127.0.0.1:8080/tcp", "8.8.8.8/32/icmp", "10.0.0.1/8", "1.2.3.4:0"])
write("egress_policy_fuzz", "rules", b"\x00" + rules.encode())
write("egress_policy_fuzz", "policy-file", b"\x01" + b"""# vznet egress policy
default deny
block-private
block-host
allow 127.0.0.1:8080/tcp   # the host's dev server
allow 0.0.0.0/0:443/tcp
allow 0.0.0.0/0:53/udp
deny\t10.1.2.3/32:22
""")
write("egress_policy_fuzz", "policy-errors", b"\x01default allow\ndefault deny\nallow 10.0.0.0/33\nfrobnicate\n")

for i, body in enumerate(['{"spec": "8080:80"}', '{"spec": "127.0.0.1:8443:443/tcp"}',
                          '{"guest_port": 80}',
                          '{"host_address": "::1", "host_port": "8000-8001", "guest_port": "80-81"}',
                          '{"host_port": 5353, "guest_address": "192.168.64.3", "guest_port": 53, "protocol": "udp"}',
                          '{"spec": "80", "guest_port": 80}', '{"guest_port": -1}', '[1, 2, {"spec": null}]',
                          '{"guest_port": 1e3}', '{"guest_port": 80, "x": [[[[[]]]]]}']):
    write("api_json_fuzz", "body-%02d.json" % i, body)

# config_cli_fuzz: argv after "vznet", one word a line. The README's examples and the e2e scenarios' command lines
# (tests/e2e/lib.sh start_vznet plus each scenario's flags), and the bad flags those scenarios expect refused.
E2E_BASE = ["--listen", "unix:///tmp/vze2e/s.sock", "--listen", "unixgram:///tmp/vze2e/d.sock",
            "--listen", "unixpacket:///tmp/vze2e/p.sock", "--mtu", "1500", "--log-level", "debug",
            "--dhcp-static", "52:54:00:e2:e0:10=192.168.64.2"]
command_lines = {
    "readme-defaults": [],
    "readme-listen-stream": ["--listen", "unix:///tmp/vznet.sock"],
    "readme-listen-fd": ["--listen", "fd://3"],
    "readme-publish": ["-p", "8080:80", "-p", "0.0.0.0:5353:53/udp", "-p", "8000-8009:80-89", "-p", "8000-8010:80",
                       "-p", "8080:192.168.64.3:80", "-p", "[::1]:8080:80"],
    "readme-api": ["--api", "/run/user/0/vznet/api.sock", "-p", "8080:80"],
    "readme-block-private": ["--block-private"],
    "readme-nodeport": ["--egress-deny", "0.0.0.0/0", "--egress-allow", "172.16.0.0/22:30000-32767/tcp"],
    "readme-one-service": ["--block-private", "--egress-allow", "10.1.2.3:443/tcp"],
    "readme-policy-file": ["--policy-file", "sandbox.policy", "--egress-log"],
    "readme-every-flag": ["--subnet", "10.9.0.0/16", "--mtu", "65520", "--max-flows", "100",
                          "--max-flows-per-guest", "50", "--max-flows-per-published-port", "20",
                          "--max-pending-connects", "8", "--connect-timeout", "3",
                          "--tcp-timeout", "600", "--udp-timeout", "30", "--dhcp-range", "10.9.0.10-10.9.0.99",
                          "--lease-time", "120", "--dns-search", "vz.test", "--dns-upstream", "10.9.0.53:5353",
                          "--dns-record", "db.vz.internal=10.9.0.7", "--exit-on-disconnect", "--block-host",
                          "--egress-default", "deny", "--allow-guest-traffic"],
    "readme-help": ["--help"],
    "version": ["--version"],
    "e2e-core": E2E_BASE,
    "e2e-connect-timeout": E2E_BASE + ["--connect-timeout", "2"],
    "e2e-dhcp": E2E_BASE + ["--lease-time", "60", "--dns-search", "vz.test", "--dns-search", "example.internal",
                            "--dhcp-static", "52:54:00:e2:e0:01=192.168.64.77"],
    "e2e-dns-zone": E2E_BASE + ["--dns-upstream", "10.77.0.2", "--dns-record", "db.vz.internal=10.77.0.2",
                                "--dns-record", "Printer.Example.Test=10.77.0.9"],
    "e2e-dns-burst": E2E_BASE + ["--dns-upstream", "10.77.0.2:5353"],
    "e2e-egress-metadata": E2E_BASE + ["--dns-upstream", "10.77.0.2", "--egress-deny", "169.254.169.254",
                                       "--api", "/tmp/vze2e/api.sock"],
    "e2e-default-deny": E2E_BASE + ["--egress-default", "deny", "--egress-allow", "10.77.0.0/24"],
    "e2e-publish": E2E_BASE + ["-p", "18080:80", "-p", "0.0.0.0:18083:80", "-p", "18084:192.168.64.2:80",
                               "-p", "[::1]:18096:192.168.64.2:80", "-p", "17007:192.168.64.2:7/udp",
                               "-p", "18090-18092:192.168.64.2:5090-5092", "-p", "18100-18102:192.168.64.2:5090"],
    "e2e-udp-spray": E2E_BASE + ["--udp-timeout", "2", "--allow-guest-traffic"],
    "bad-mtu": ["--listen", "unix:///tmp/bad.sock", "--mtu", "99999"],
    "bad-listen": ["--listen", "unixgram:///tmp/ok.sock", "--listen", "tcp://1.2.3.4:5"],
    "bad-specs": ["-p", "0:80", "-p", "80:70000", "-p", "8080-8081:80-82", "-p", "8080:80/sctp", "-p", "::1:8080:80"],
    "bad-rule": ["--egress-allow", "10.0.0.0/33"],
    "bad-dhcp": ["--subnet", "10.0.0.0/30", "--dhcp-range", "10.0.0.1-10.0.0.2", "--dhcp-static",
                 "52:54:00:12:34=192.168.64.9"],
    "bad-flag": ["--no-such-flag", "--mtu"],
}
for name, args in command_lines.items():
    write("config_cli_fuzz", name, "".join(a + "\n" for a in args))

# --- The whole stack: records of [control][length][bytes] (see stack_fuzz.cpp) ---------------------------------
write("stack_fuzz", "boot", conv((0, arp_probe), (0, discover_frame), (0, request_frame), (0, arp_gw),
                                 (0, dns_query_frame), (6, raw(answers["answer-cname-chain"])), (0, dns_zone_frame),
                                 (0, ping_gw)))
write("stack_fuzz", "denied-flows", conv((0, arp_gw), (0, syn_out), (0, syn_host), (0, udp_out), (0, ping_out),
                                         (5, b"\0" * 3)))
write("stack_fuzz", "dns-tcp", conv((0, arp_gw), (0, tcp_syn53), (3, tcp_ack53), (3, tcp_q53),
                                    (6, raw(answers["answer-many-txt"])), (3, tcp_fin53), (5, b"\0" * 15)))
write("stack_fuzz", "fragments", conv((0, arp_gw), *[(0, f) for f in frags], (5, b"")))
write("stack_fuzz", "guarded", conv((4, arp_probe), (4, discover_frame), (4, request_frame), (4, arp_gw),
                                    (4, dns_query_frame), (12, syn_out), (7, b"")))
write("stack_fuzz", "dns-timeout-flood", conv((0, arp_gw), *[(0, dns_query_frame)] * 10, (6 | 8, b""), (5, b"\0" * 15)))


# Flows to fuzz_host.h's peers: the gateway's TCP/UDP port 29080 (a loopback listener), 29081 (refused), 29082
# (connects hang), and echo to 192.0.2.1 (a fake echo socket). Host operations are records of control 2 (see
# fuzz_host.h).
OPEN, REFUSED, SILENT = 29080, 29081, 29082
def host(action, index=0, rest=b""):
    return (2, bytes([action | index << 3]) + rest)


def seg(sport, dport, flags, seq, data=b"", window=65535, dst=GW):
    return eth(IP(src=GUEST, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, window=window) / data)


def handshake(sport, dport=OPEN, seq=7000):
    return [(0, seg(sport, dport, "S", seq)), (3, seg(sport, dport, "A", seq + 1))]


request = b"GET / HTTP/1.0\r\nHost: host.vz.internal\r\n\r\n"
response = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"
write("stack_fuzz", "flow-tcp-exchange", conv(
    (0, arp_gw), *handshake(41000), (3, seg(41000, OPEN, "PA", 7001, request)), host(0), host(2),
    host(1, 0, response), (3, seg(41000, OPEN, "A", 7001 + len(request))), host(3),
    (3, seg(41000, OPEN, "FA", 7001 + len(request))), (3, seg(41000, OPEN, "A", 7002 + len(request))), (5, b"\0")))
write("stack_fuzz", "flow-tcp-guest-closes-first", conv(
    (0, arp_gw), *handshake(41001), (3, seg(41001, OPEN, "PA", 7001, b"x" * 100)), (3, seg(41001, OPEN, "FA", 7101)),
    host(0), host(2), host(1, 0, b"bye"), host(3), (3, seg(41001, OPEN, "A", 7102)), (5, b"\0" * 2)))
write("stack_fuzz", "flow-tcp-resets", conv(
    (0, arp_gw), *handshake(41002), *handshake(41003, seq=9000), host(0), host(4, 0), host(1, 0, b"data"),
    (3, seg(41003, OPEN, "R", 9001)), (5, b"")))
write("stack_fuzz", "flow-tcp-refused-denied-silent", conv(
    (0, arp_gw), (0, seg(41004, REFUSED, "S", 100)), (0, seg(41005, 22, "S", 200)), (0, seg(41006, OPEN, "S", 300,
                                                                                       dst="10.1.2.3")),
    (0, seg(41007, SILENT, "S", 400)), (0, seg(41008, SILENT, "S", 500)), (0, seg(41009, SILENT, "S", 600)),
    (0, seg(41009, SILENT, "S", 600)), host(7, 1), host(7, 20), (5, b"\0" * 4)))
write("stack_fuzz", "flow-tcp-backpressure", conv(
    (0, arp_gw), *handshake(41010), host(0),
    *[(3, seg(41010, OPEN, "A", 7001 + i * 1400, bytes([i]) * 1400)) for i in range(12)],
    host(2), (5, b""), host(2),
    *[host(1, 0, bytes([i]) * 1000) for i in range(8)], (3, seg(41010, OPEN, "A", 7001 + 12 * 1400, window=0)),
    host(7, 1), (3, seg(41010, OPEN, "A", 7001 + 12 * 1400)), host(2)))
write("stack_fuzz", "flow-tcp-draining", conv(
    (0, arp_gw), *handshake(41011), host(0), host(1, 0, b"z" * 3000), host(3),
    (0, seg(41011, OPEN, "FA", 7001)), host(7, 3), host(7, 3), (5, b"\0" * 8)))
write("stack_fuzz", "flow-udp", conv(
    (0, arp_gw), (0, eth(IP(src=GUEST, dst=GW) / UDP(sport=42000, dport=OPEN) / b"question")), host(5, 0, b"answer"),
    (0, eth(IP(src=GUEST, dst=GW) / UDP(sport=42001, dport=REFUSED) / b"nobody")), (5, b""),
    (0, eth(IP(src=GUEST, dst=GW) / UDP(sport=42001, dport=REFUSED) / b"again")),
    (0, eth(IP(src=GUEST, dst=GW) / UDP(sport=42002, dport=OPEN) / (b"\x5a" * 3000))), host(5, 1, b"\x00" * 2000),
    host(7, 12), (7, b"")))
write("stack_fuzz", "flow-icmp", conv(
    (0, arp_gw), (0, eth(IP(src=GUEST, dst="192.0.2.1") / ICMP(id=0x99, seq=1) / (b"\xab" * 56))), host(6),
    (0, eth(IP(src=GUEST, dst="192.0.2.1") / ICMP(id=0x99, seq=2) / b"x")), host(6, 0, b"\x00\x00\x00\x00\x00\x99\x00"),
    host(6, 0, b"\x00\x00\x00\x00\x00\x99\x00\x07tail"), host(6, 30),
    (0, eth(IP(src=GUEST, dst="192.0.2.1") / ICMP(id=0x9a, seq=1))), host(6, 31),
    (0, eth(IP(src=GUEST, dst="192.0.2.1") / ICMP(id=0x9b, seq=1))),
    (0, eth(IP(src=GUEST, dst="192.0.2.1") / ICMP(id=0x9c, seq=1))), host(7, 2)))
# Inbound: loopback clients of the published ports (TCP and UDP to the guest's port 80), seen as the gateway from
# port 50000 + index.
write("stack_fuzz", "flow-inbound-tcp", conv(
    (0, arp_gw), host(0, 1), (3, seg(80, 50001, "SA", 3000)), host(1, 1, b"hello guest"),
    (3, seg(80, 50001, "A", 3001)), (3, seg(80, 50001, "PA", 3001, b"hello host")), host(2, 1), host(3, 1),
    (3, seg(80, 50001, "FA", 3011)), (5, b"\0")))
write("stack_fuzz", "flow-inbound-refused-and-silent", conv(
    (0, arp_gw), host(0, 2), (3, seg(80, 50002, "RA", 0)), host(0, 3), host(7, 2), host(0, 4), (7, b"")))
write("stack_fuzz", "flow-inbound-udp", conv(
    (0, arp_gw), host(5, 16, b"query"), (0, eth(IP(src=GUEST, dst=GW) / UDP(sport=80, dport=50016) / b"reply")),
    host(5, 16), host(5, 17, b"other client"), host(7, 12)))
print("seeds written under", ROOT)
