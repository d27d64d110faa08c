# shellcheck shell=bash
# DHCP identity theft (issue 12): two guests with DHCP leases (scenarios_dhcp.sh's two-guest set-up: guest A in
# NS_GUEST, guest B in NS_GUEST2). B crafts DHCP messages with scapy on its tap, using what A's replies used to
# show every guest (A's client identifier, A's address): REQUESTs for A's address (INIT-REBOOT and RENEWING
# forms), a DISCOVER, a REQUEST with A's chaddr, a DECLINE, RELEASEs and an INFORM. A keeps its lease and its
# traffic, B never sees a reply meant for A (a sniffer in B's namespace records every DHCP reply B's tap gets,
# from before either guest asked), and /stats counts each refusal.

# Leases long enough that none runs out during the test (then a client identifier may legitimately find one).
ATTACK_DHCP_FLAGS="--lease-time 600"
# shellcheck disable=SC2086  # the flag list is meant to split
register_scenario attack_dhcp_identity custom $ATTACK_DHCP_FLAGS

ATTACK_API="/tmp/vze2e-api-$$.sock"

setup_attack_dhcp_identity() {
  VZNET_FLAGS+=(--api "$ATTACK_API")
  setup_dhcp_two_guests
}

# attack_stat DOTTED.PATH: a number from GET /stats ("dhcp.events.nak").
attack_stat() {
  curl -sS --max-time 5 --unix-socket "$ATTACK_API" http://vznet/stats |
    "$PY" -c "import json,sys
v = json.load(sys.stdin)
for k in sys.argv[1].split('.'): v = v[k]
print(v)" "$1"
}
attack_stat_above() { [ "$(attack_stat "$1")" -gt "$2" ]; }

# attack_lease ADDRESS: "MAC STATE" of ADDRESS in GET /leases ("none" when it has no record).
attack_lease() {
  curl -sS --max-time 5 --unix-socket "$ATTACK_API" http://vznet/leases |
    "$PY" -c "import json,sys
m = [l for l in json.load(sys.stdin) if l['address'] == sys.argv[1]]
print(f\"{m[0]['mac']} {m[0]['state']}\" if m else 'none')" "$1"
}

# The scapy side, run in B's namespace: "sniff OUT READY" records every DHCP reply B's tap receives, one line
# "TYPE xid=0x... chaddr=MAC yiaddr=IP" each, and touches READY once capturing; "send KIND ..." sends one
# crafted message from B's MAC.
write_attack_script() {
  cat >"$TMP/dhcp_attack.py" <<'EOF'
import sys
from scapy.all import BOOTP, DHCP, IP, UDP, AsyncSniffer, Ether, conf, get_if_hwaddr, sendp

conf.verb = 0
TAP = "vzt0"
TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE", 8: "INFORM"}


def mac_bytes(mac):
    return bytes.fromhex(mac.replace(":", ""))


def sniff(out, ready):
    log = open(out, "a", buffering=1)

    def record(p):
        if UDP not in p or p[UDP].sport != 67 or BOOTP not in p or p[BOOTP].op != 2:
            return
        opts = dict(o for o in p[DHCP].options if isinstance(o, tuple) and len(o) == 2) if DHCP in p else {}
        chaddr = p[BOOTP].chaddr[:6].hex(":")
        log.write(f"{TYPES.get(opts.get('message-type'), '?')} xid={p[BOOTP].xid:#x} chaddr={chaddr} "
                  f"yiaddr={p[BOOTP].yiaddr}\n")

    sniffer = AsyncSniffer(iface=TAP, prn=record, store=False, started_callback=lambda: open(ready, "w").close())
    sniffer.start()
    sniffer.join()


def send(kind, xid, client_id_mac, address, own_ip, chaddr_mac):
    mine = get_if_hwaddr(TAP)
    chaddr = mac_bytes(chaddr_mac if chaddr_mac != "-" else mine)
    cid = b"\x01" + mac_bytes(client_id_mac)
    gateway = "192.168.64.1"
    src = "0.0.0.0"
    ciaddr = "0.0.0.0"
    options = [("client_id", cid), ("server_id", gateway)]
    if kind == "request":          # INIT-REBOOT / SELECTING: the address in option 50
        options = [("message-type", "request"), ("requested_addr", address)] + options
    elif kind == "renew":          # RENEWING: the address in ciaddr
        options, ciaddr = [("message-type", "request")] + options, address
    elif kind == "discover":
        options = [("message-type", "discover"), ("requested_addr", address), ("client_id", cid)]
    elif kind == "decline":
        options = [("message-type", "decline"), ("requested_addr", address)] + options
    elif kind == "release":        # from 0.0.0.0, or from B's own address when given
        options, ciaddr = [("message-type", "release")] + options, address
        src = own_ip if own_ip != "-" else src
    elif kind == "inform":         # from B's own address, about A's
        options, ciaddr, src = [("message-type", "inform"), ("client_id", cid)], address, own_ip
    else:
        sys.exit(f"unknown kind {kind}")
    frame = (Ether(src=mine, dst="ff:ff:ff:ff:ff:ff") / IP(src=src, dst="255.255.255.255") /
             UDP(sport=68, dport=67) / BOOTP(op=1, xid=int(xid, 0), ciaddr=ciaddr, chaddr=chaddr + bytes(10)) /
             DHCP(options=options + ["end"]))
    sendp(frame, iface=TAP)


if sys.argv[1] == "sniff":
    sniff(*sys.argv[2:4])
else:
    send(*sys.argv[2:8])
EOF
}

# attack_send KIND XID CLIENT_ID_MAC ADDRESS OWN_IP CHADDR ("-": none / B's own MAC)
attack_send() {
  ip netns exec "$NS_GUEST2" timeout 20 "$PY" "$TMP/dhcp_attack.py" send "$@" >>"$TMP/attack.log" 2>&1 ||
    fail "scapy could not send $1 from B: $(tail -n 3 "$TMP/attack.log")"
}

seen_by_b() { grep -E "$1" "$TMP/b-replies" 2>/dev/null; }
b_saw_xid() { seen_by_b "^[A-Z?]+ xid=$1 " >/dev/null; }
# expect_reply_to_b XID TYPE WHAT: B's tap receives the answer to its message XID, and it is a TYPE.
expect_reply_to_b() {
  wait_for "an answer to B's $3" 10 b_saw_xid "$1"
  seen_by_b "^$2 xid=$1 " >/dev/null || fail "B's $3 was answered: $(seen_by_b "xid=$1 ")"
}
# expect_b_saw_nothing_of_a WHEN: no reply for A's MAC, and no ACK or OFFER of A's address, reached B.
expect_b_saw_nothing_of_a() {
  local leak
  leak=$(seen_by_b "chaddr=$DHCP_MAC1 |(ACK|OFFER) .*yiaddr=$ATTACK_IP_A\$")
  [ -z "$leak" ] || fail "$1: guest B received replies meant for A: $leak"
}

scenario_attack_dhcp_identity() {
  write_attack_script
  # B listens from before either guest asks for an address.
  spawn "$NS_GUEST2" sniffer "$PY" "$TMP/dhcp_attack.py" sniff "$TMP/b-replies" "$TMP/b-sniffing"
  wait_for "B's sniffer" 20 test -e "$TMP/b-sniffing"
  udhcpc_once "$NS_GUEST2" b
  ATTACK_IP_B=$(event_field "$BOUND_LINE" ip)
  udhcpc_once "$NS_GUEST" a
  ATTACK_IP_A=$(event_field "$BOUND_LINE" ip)
  log "guest A has $ATTACK_IP_A, guest B has $ATTACK_IP_B"
  wait_for "B's sniffer: B's own ACK" 10 seen_by_b "^ACK .*chaddr=$DHCP_MAC2 "
  expect_b_saw_nothing_of_a "while A got its lease"
  [ "$(attack_lease "$ATTACK_IP_A")" = "$DHCP_MAC1 bound" ] || fail "A's lease: $(attack_lease "$ATTACK_IP_A")"

  # 1. DECLINE, RELEASE (from 0.0.0.0 and from B's own address) and INFORM about A's address: dropped by the
  # guard, and B, which sent them, gives up nothing of its own either.
  local not_holder_before foreign_mac_before a_id_before nak_before
  not_holder_before=$(attack_stat guard.drops.dhcp_not_holder)
  attack_send decline 0xb0000001 "$DHCP_MAC1" "$ATTACK_IP_A" - -
  attack_send release 0xb0000002 "$DHCP_MAC1" "$ATTACK_IP_A" - -
  attack_send release 0xb0000003 "$DHCP_MAC1" "$ATTACK_IP_A" "$ATTACK_IP_B" -
  attack_send inform 0xb0000004 "$DHCP_MAC1" "$ATTACK_IP_A" "$ATTACK_IP_B" -
  wait_for "dhcp_not_holder drops for B's DECLINE, RELEASEs and INFORM" 10 \
    attack_stat_above guard.drops.dhcp_not_holder "$((not_holder_before + 3))"
  [ "$(attack_lease "$ATTACK_IP_A")" = "$DHCP_MAC1 bound" ] ||
    fail "A's lease after B's DECLINE and RELEASE: $(attack_lease "$ATTACK_IP_A")"
  curl_from "$NS_GUEST2"
  # 2. A REQUEST for A's address with A's MAC as chaddr: the guard pins B's port to B's MAC.
  foreign_mac_before=$(attack_stat guard.drops.foreign_mac)
  attack_send request 0xb0000005 "$DHCP_MAC1" "$ATTACK_IP_A" - "$DHCP_MAC1"
  wait_for "foreign_mac drop of A's chaddr" 10 attack_stat_above guard.drops.foreign_mac "$foreign_mac_before"
  seen_by_b "xid=0xb000000[1-5] " && fail "B got an answer about A's address: $(seen_by_b "xid=0xb000000[1-5] ")"
  # 3. REQUEST for A's address with A's client identifier, both forms: B is refused (a NAK, to B only; it
  # withdraws B's own address from B's port, as any NAK does).
  a_id_before=$(attack_stat dhcp.events.foreign_client_id)
  nak_before=$(attack_stat dhcp.events.nak)
  attack_send request 0xb0000006 "$DHCP_MAC1" "$ATTACK_IP_A" - -
  expect_reply_to_b 0xb0000006 NAK "REQUEST for A's address with A's client-id"
  attack_send renew 0xb0000007 "$DHCP_MAC1" "$ATTACK_IP_A" - -
  expect_reply_to_b 0xb0000007 NAK "RENEWING REQUEST for A's address with A's client-id"
  attack_stat_above dhcp.events.nak "$((nak_before + 1))" || fail "the NAKs were not counted"
  # 4. DISCOVER with A's client identifier, asking for A's address: B is offered an address of its own.
  attack_send discover 0xb0000008 "$DHCP_MAC1" "$ATTACK_IP_A" - -
  expect_reply_to_b 0xb0000008 OFFER "DISCOVER with A's client-id"
  seen_by_b "^OFFER xid=0xb0000008 .*yiaddr=$ATTACK_IP_A\$" && fail "B was offered A's address"
  attack_stat_above dhcp.events.foreign_client_id "$((a_id_before + 2))" ||
    fail "foreign client identifiers were not counted ($(attack_stat dhcp.events.foreign_client_id))"

  # A keeps its lease and its traffic; B never heard a reply meant for A.
  [ "$(attack_lease "$ATTACK_IP_A")" = "$DHCP_MAC1 bound" ] ||
    fail "A's lease after the attacks: $(attack_lease "$ATTACK_IP_A")"
  curl_from "$NS_GUEST"
  expect_b_saw_nothing_of_a "after the attacks"
  log "B saw: $(tr '\n' ';' <"$TMP/b-replies")"
  log "counters: foreign_client_id=$(attack_stat dhcp.events.foreign_client_id) nak=$(attack_stat dhcp.events.nak)" \
    "dhcp_not_holder=$(attack_stat guard.drops.dhcp_not_holder) foreign_mac=$(attack_stat guard.drops.foreign_mac)"
  pass "B's client-id, chaddr, DECLINE, RELEASE and INFORM attacks on A's lease $ATTACK_IP_A were refused" \
    "and counted; A kept its lease and traffic, B saw no reply for A ($FRAMING)"
}
