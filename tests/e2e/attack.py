#!/usr/bin/python3
"""Crafted traffic for the attack tests (scapy, from inside the guest namespace) and the recorders that
prove nothing passed. Run inside test namespaces only: frames go out of the guest's tap, to vznet.

  attack.py record ADDR PORT FILE        TCP and UDP on ADDR:PORT (UDP also takes broadcasts): one line per
                                         accepted connection or datagram to FILE ("tcp SRC" / "udp SRC DST")
  attack.py probe IFACE GW_MAC DST:PROTO:PORT...
                                         one crafted packet per probe from the interface's own MAC and IPv4
                                         address (a TCP SYN, a UDP datagram, or an ICMP echo request), all sent
                                         at once, answers collected for 3 s; prints one line per probe:
                                         "DST PROTO PORT ANSWER", ANSWER one of rst, synack, udp-reply,
                                         echo-reply, unreach-N (ICMP code N), none

  attack.py garbage IFACE GW_MAC COUNT     COUNT frames of random lengths (14 to 1514) out of IFACE, as fast as
                                         the socket takes them: a third random bytes throughout, a third IPv4
                                         and a third ARP from the interface's own MAC to GW_MAC (so they pass
                                         the anti-spoofing guard's first look and reach the stack), random after
  attack.py udp-spray ADDR_PREFIX N PORT   one datagram to each of N destinations (ADDR_PREFIX.1-254, ports
                                         PORT upwards), from one socket, 250 at a time
  attack.py spoof IFACE GW_MAC VICTIM_IP VICTIM_MAC ROUNDS
                                         ROUNDS rounds of frames posing as another guest: a TCP SYN and a UDP
                                         datagram to the gateway from VICTIM_IP, gratuitous ARP for VICTIM_IP
                                         and for the gateway, a SYN from VICTIM_MAC, a DHCP OFFER; prints
                                         "sent N"

Every loop is bounded: the recorder runs until killed, a probe run lasts 3 s, the others send COUNT, N or
ROUNDS.
"""
import random
import socket
import sys
import threading
import time

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux value; Python names it only on some builds


def record(addr, port, path):
    out = open(path, "a", buffering=1)
    lock = threading.Lock()

    def note(line):
        with lock:
            out.write(line + "\n")

    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((addr, port))
    tcp.listen(64)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    udp.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    udp.bind((addr, port))

    def serve_udp():
        while True:
            data, ancillary, _, peer = udp.recvmsg(2048, 256)
            destination = "?"
            for level, kind, value in ancillary:
                if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                    destination = socket.inet_ntoa(value[8:12])  # struct in_pktinfo: ifindex, spec_dst, addr
            note(f"udp {peer[0]}:{peer[1]} {destination} {len(data)}")
            udp.sendto(data, peer)

    threading.Thread(target=serve_udp, daemon=True).start()
    while True:
        conn, peer = tcp.accept()
        note(f"tcp {peer[0]}:{peer[1]} {conn.getsockname()[0]}")
        conn.close()


def probe(iface, gw_mac, specs):
    from scapy.all import AsyncSniffer, Ether, IP, TCP, UDP, ICMP, get_if_addr, get_if_hwaddr, sendp, conf
    conf.verb = 0
    mac, me = get_if_hwaddr(iface), get_if_addr(iface)
    probes = []
    for i, spec in enumerate(specs):
        dst, proto, port = spec.split(":")
        port = int(port)
        sport = 40000 + i
        ip = IP(src=me, dst=dst, ttl=64)
        if proto == "tcp":
            l4 = TCP(sport=sport, dport=port, flags="S", seq=1000 + i)
        elif proto == "udp":
            l4 = UDP(sport=sport, dport=port) / b"attack"
        else:
            l4 = ICMP(type=8, id=sport, seq=1) / b"attack"
        probes.append((dst, proto, port, sport, Ether(src=mac, dst=gw_mac) / ip / l4))

    sniffer = AsyncSniffer(iface=iface, filter=f"ip and dst host {me}", store=True)
    sniffer.start()
    time.sleep(0.3)  # the capture socket is open once start() returned; let it settle before sending
    sendp([p[4] for p in probes], iface=iface)
    time.sleep(3)
    sniffer.stop()

    def answer_for(dst, proto, port, sport):
        for pkt in sniffer.results or []:
            if IP not in pkt:
                continue
            if pkt.haslayer(ICMP) and pkt[ICMP].type == 3:
                quoted_ip = pkt[ICMP].payload  # scapy's IPerror: the header of the probe the error is about
                quoted = quoted_ip.payload
                quoted_id = getattr(quoted, "id", None) if proto == "icmp" else getattr(quoted, "sport", None)
                if getattr(quoted_ip, "dst", None) == dst and quoted_id == sport:
                    return f"unreach-{pkt[ICMP].code}"
                continue
            # Not matched on the source: a reset about 0.0.0.0 comes from the gateway's address.
            if proto == "tcp" and TCP in pkt and pkt[TCP].dport == sport:
                return "rst" if pkt[TCP].flags & 0x04 else "synack" if pkt[TCP].flags & 0x12 == 0x12 else "tcp"
            if proto == "udp" and UDP in pkt and pkt[UDP].dport == sport:
                return "udp-reply"
            if proto == "icmp" and pkt.haslayer(ICMP) and pkt[ICMP].type == 0 and pkt[ICMP].id == sport:
                return "echo-reply"
        return "none"

    for dst, proto, port, sport, _ in probes:
        print(f"{dst} {proto} {port} {answer_for(dst, proto, port, sport)}", flush=True)


def garbage(iface, gw_mac, count):
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((iface, 0))
    with open(f"/sys/class/net/{iface}/address") as f:
        own = bytes.fromhex(f.read().strip().replace(":", ""))
    gateway = bytes.fromhex(gw_mac.replace(":", ""))
    rng = random.Random(12)  # reproducible
    sent = 0
    for i in range(count):
        frame = rng.randbytes(rng.randint(14, 1514))
        if i % 3 == 1:
            frame = gateway + own + b"\x08\x00" + frame[14:]
        elif i % 3 == 2:
            frame = gateway + own + b"\x08\x06" + frame[14:]
        try:
            raw.send(frame)
            sent += 1
        except OSError:  # the tap queue is full: the frame is lost, like on a real NIC
            pass
    print(f"sent {sent} of {count}")


def udp_spray(prefix, count, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(count):
        s.sendto(b"spray", (f"{prefix}.{1 + i % 254}", port + i // 254))
        if i % 250 == 249:
            time.sleep(0.02)  # a rate the guest's own tap queue carries: 12,500 a second, not a burst it drops
    print(f"sent {count}")


def spoof(iface, gw_mac, victim_ip, victim_mac, rounds):
    from scapy.all import ARP, BOOTP, DHCP, Ether, IP, TCP, UDP, conf, get_if_addr, get_if_hwaddr, sendp
    conf.verb = 0
    mac, me = get_if_hwaddr(iface), get_if_addr(iface)
    gateway = me.rsplit(".", 1)[0] + ".1"
    frames = []
    for i in range(rounds):
        sport = 41000 + i % 1000
        frames += [
            Ether(src=mac, dst=gw_mac) / IP(src=victim_ip, dst=gateway) / TCP(sport=sport, dport=8080, flags="S"),
            Ether(src=mac, dst=gw_mac) / IP(src=victim_ip, dst=gateway) / UDP(sport=sport, dport=7) / b"spoofed",
            Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=mac, psrc=victim_ip, pdst=victim_ip),
            Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, hwsrc=mac, psrc=gateway, pdst=gateway),
            Ether(src=victim_mac, dst=gw_mac) / IP(src=victim_ip, dst=gateway)
            / TCP(sport=sport, dport=8080, flags="S"),
            Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src=me, dst="255.255.255.255") / UDP(sport=67, dport=68)
            / BOOTP(op=2, yiaddr=victim_ip, xid=0x12345678 + i) / DHCP(options=[("message-type", "offer"), "end"]),
        ]
    sendp(frames, iface=iface)
    print(f"sent {len(frames)}")


def main(argv):
    if len(argv) == 5 and argv[1] == "record":
        record(argv[2], int(argv[3]), argv[4])
    elif len(argv) == 5 and argv[1] == "garbage":
        garbage(argv[2], argv[3], int(argv[4]))
    elif len(argv) == 5 and argv[1] == "udp-spray":
        udp_spray(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 7 and argv[1] == "spoof":
        spoof(argv[2], argv[3], argv[4], argv[5], int(argv[6]))
    elif len(argv) >= 5 and argv[1] == "probe":
        probe(argv[2], argv[3], argv[4:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
