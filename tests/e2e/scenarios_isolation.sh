# shellcheck shell=bash
# Guest isolation scenarios: two guests on one vznet, each with a DHCP lease (scenarios_dhcp.sh's two-guest
# set-up: guest A in NS_GUEST, guest B in NS_GUEST2). Guest B attacks guest A (takes its IP, announces it by
# gratuitous ARP, connects to the host as A, sends DHCP server replies, takes A's MAC) while A moves data;
# none of it passes, A's transfer is intact, and the counters show the drops. Then guests with static
# addresses: A configures one by hand and is served (bind on first use); B cannot use it, and DHCP skips it;
# under --dhcp-only A is refused.

# shellcheck disable=SC2086  # the flag lists are meant to split
{
  register_scenario isolation_spoofing custom $DHCP_FLAGS
  register_scenario isolation_guest_traffic custom $DHCP_FLAGS --allow-guest-traffic
  register_scenario static_address custom $DHCP_FLAGS
  register_scenario static_address_dhcp_only custom $DHCP_FLAGS --dhcp-only
}

isolation_setup() {
  VZNET_FLAGS+=(--api "/tmp/vze2e-api-$$.sock")
  setup_dhcp_two_guests
  udhcpc_once "$NS_GUEST" a
  ISO_IP_A=$(event_field "$BOUND_LINE" ip)
  udhcpc_once "$NS_GUEST2" b
  ISO_IP_B=$(event_field "$BOUND_LINE" ip)
  log "guest A has $ISO_IP_A, guest B has $ISO_IP_B"
}
setup_isolation_spoofing() { isolation_setup; }
setup_isolation_guest_traffic() { isolation_setup; }

# guard_drops NAME: /stats' guard.drops.NAME.
guard_drops() {
  curl -sS --max-time 5 --unix-socket "/tmp/vze2e-api-$$.sock" http://vznet/stats |
    "$PY" -c "import json,sys; print(json.load(sys.stdin)['guard']['drops']['$1'])"
}
guard_dropped_some() { [ "$(guard_drops "$1")" -gt 0 ]; }

in_b() { ip netns exec "$NS_GUEST2" "$@"; }

# A DHCP OFFER as a rogue server in guest B would send it: UDP 67 -> 255.255.255.255:68, BOOTREPLY.
rogue_dhcp_offer() {
  in_b timeout 5 "$PY" - "$1" <<'EOF'
import socket, struct, sys
offer = bytearray(240)
offer[0], offer[1], offer[2] = 2, 1, 6           # BOOTREPLY, Ethernet, 6-byte addresses
offer[4:8] = b"\x12\x34\x56\x78"                 # xid
offer[16:20] = socket.inet_aton(sys.argv[1])     # yiaddr: A's address, offered to anyone
offer[236:240] = b"\x63\x82\x53\x63"             # magic cookie
offer += bytes([53, 1, 2, 54, 4]) + socket.inet_aton(sys.argv[1]) + bytes([255])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"vzt0")
s.bind(("0.0.0.0", 67))
for _ in range(3):
    s.sendto(bytes(offer), ("255.255.255.255", 68))
EOF
}

# b_poses_as_a PREFIX_LEN [WHEN]: B takes A's address (ISO_IP_A/PREFIX_LEN) and connects to the host as A
# (B knows the gateway's MAC already, so its SYN leaves); the connection must fail and count an ip_spoof drop.
# WHEN ends the failure message.
b_poses_as_a() {
  in_b timeout 5 ping -c 1 -W 2 "$GATEWAY" >/dev/null || fail "guest B cannot ping the gateway"
  in_b ip addr add "$ISO_IP_A/$1" dev "$TAP" || fail "B: ip addr add $ISO_IP_A"
  if in_b timeout 8 curl -sS --max-time 3 --interface "$ISO_IP_A" -o /dev/null \
      "http://$GATEWAY:8080/index.html" 2>/dev/null; then
    fail "guest B reached the host from guest A's address${2:-}"
  fi
  wait_for "ip_spoof drops" 5 guard_dropped_some ip_spoof
}

scenario_isolation_spoofing() {
  # Guest A moves data to the host across the whole attack.
  spawn "$NS_GUEST" paced "$PY" "$SERVERS" paced-sha "$GATEWAY" 5003 8000000 8
  local paced=$SPAWNED

  # Guest-to-guest is off: A cannot reach B.
  if in_guest timeout 5 ping -c 2 -W 1 "$ISO_IP_B" >/dev/null 2>&1; then
    fail "guest A pinged guest B without --allow-guest-traffic"
  fi

  # B takes A's address and connects to the host as A.
  b_poses_as_a 24
  # B announces A's address (gratuitous ARP, both request and reply forms).
  in_b timeout 5 arping -q -U -c 2 -w 3 -I "$TAP" -s "$ISO_IP_A" "$ISO_IP_A" || true  # unanswered by design
  in_b timeout 5 arping -q -A -c 2 -w 3 -I "$TAP" -s "$ISO_IP_A" "$ISO_IP_A" || true
  wait_for "arp_spoof drops" 5 guard_dropped_some arp_spoof
  # B plays DHCP server.
  rogue_dhcp_offer "$ISO_IP_A" || fail "could not send the rogue DHCP offer from B"
  wait_for "dhcp_server_spoof drops" 5 guard_dropped_some dhcp_server_spoof
  # B takes A's MAC as well.
  in_b ip addr del "$ISO_IP_A/24" dev "$TAP"
  in_b ip link set "$TAP" address "$DHCP_MAC1" || fail "B: set A's MAC"
  if in_b timeout 5 ping -c 2 -W 1 "$GATEWAY" >/dev/null 2>&1; then fail "guest B with A's MAC reached the gateway"; fi
  wait_for "foreign_mac drops" 5 guard_dropped_some foreign_mac

  wait "$paced" || fail "guest A's transfer broke during B's attack: $(cat "$TMP/paced.log")"
  log "guest A's transfer: $(cat "$TMP/paced.log")"
  curl_from "$NS_GUEST"  # A still reaches the host: its lease and ARP entry are its own
  log "guard drops: ip_spoof=$(guard_drops ip_spoof) arp_spoof=$(guard_drops arp_spoof)" \
    "dhcp_server_spoof=$(guard_drops dhcp_server_spoof) foreign_mac=$(guard_drops foreign_mac)"
  pass "guest B's spoofed IP, gratuitous ARP, DHCP offers and A's MAC were all dropped and counted;" \
    "A was unaffected ($FRAMING)"
}

scenario_isolation_guest_traffic() {
  in_guest timeout 10 ping -c 2 -W 2 "$ISO_IP_B" >"$TMP/ping.out" 2>&1 ||
    fail "guest A could not ping guest B with --allow-guest-traffic: $(cat "$TMP/ping.out")"
  in_b timeout 10 ping -c 2 -W 2 "$ISO_IP_A" >"$TMP/ping.out" 2>&1 ||
    fail "guest B could not ping guest A with --allow-guest-traffic: $(cat "$TMP/ping.out")"
  # The spoofing rules still hold.
  b_poses_as_a 32 " with --allow-guest-traffic"
  curl_from "$NS_GUEST"
  pass "--allow-guest-traffic: the guests ping each other; B still cannot pose as A ($FRAMING)"
}

# --- guests with static addresses ----------------------------------------------------------------------------

STATIC_IP=192.168.64.3  # the first address the DHCP pool would hand out (lib.sh reserves .2): the pool must skip it

static_setup() {
  VZNET_FLAGS+=(--api "/tmp/vze2e-api-$$.sock")
  setup_dhcp_two_guests
}
setup_static_address() { static_setup; }
setup_static_address_dhcp_only() { static_setup; }

# static_configure NS: the tap in NS gets STATIC_IP and a default route by hand, as a guest's own config would.
static_configure() {
  ip -n "$1" addr add "$STATIC_IP/24" dev "$TAP" || fail "ip addr add $STATIC_IP in $1"
  ip -n "$1" route add default via "$GATEWAY" || fail "default route in $1"
}

# leases_entry ADDRESS: "MAC STATE" of ADDRESS in GET /leases, or nothing.
leases_entry() {
  curl -sS --max-time 5 --unix-socket "/tmp/vze2e-api-$$.sock" http://vznet/leases |
    "$PY" -c "import json,sys
for l in json.load(sys.stdin):
    if l['address'] == sys.argv[1]: print(l['mac'], l['state'])" "$1"
}

scenario_static_address() {
  static_configure "$NS_GUEST"
  curl_from "$NS_GUEST"
  in_guest timeout 10 ping -n -c 2 -i 0.2 -W 2 "$GATEWAY" >/dev/null || fail "the static guest cannot ping $GATEWAY"
  vznet_logged "$STATIC_IP \\(used without DHCP\\) bound to MAC $DHCP_MAC1" || fail "vznet did not log the binding"
  [ "$(leases_entry "$STATIC_IP")" = "$DHCP_MAC1 in_use" ] ||
    fail "GET /leases: $STATIC_IP is '$(leases_entry "$STATIC_IP")', expected '$DHCP_MAC1 in_use'"

  # Guest B, with no address either, configures the same one: nothing of it passes, and the log says whose it is.
  static_configure "$NS_GUEST2"
  if in_b timeout 8 curl -sS --max-time 3 -o /dev/null "http://$GATEWAY:8080/index.html" 2>/dev/null; then
    fail "guest B reached the host from the address guest A uses"
  fi
  wait_for "address_taken drops" 5 guard_dropped_some address_taken
  vznet_logged "used $STATIC_IP, bound to MAC $DHCP_MAC1: dropped" || fail "vznet did not log whose address it is"
  in_b ip addr flush dev "$TAP"

  # B asks DHCP instead: the pool skips the address in use.
  udhcpc_once "$NS_GUEST2" b
  local ip_b
  ip_b=$(event_field "$BOUND_LINE" ip)
  [ "$ip_b" != "$STATIC_IP" ] || fail "DHCP handed guest B the address guest A uses"
  curl_from "$NS_GUEST2"
  curl_from "$NS_GUEST"  # A is unaffected
  pass "a static guest is served and keeps its address; B was refused it (address_taken) and leased $ip_b ($FRAMING)"
}

scenario_static_address_dhcp_only() {
  static_configure "$NS_GUEST"
  if in_guest timeout 8 curl -sS --max-time 3 -o /dev/null "http://$GATEWAY:8080/index.html" 2>/dev/null; then
    fail "a static guest reached the host under --dhcp-only"
  fi
  wait_for "no_lease drops" 5 guard_dropped_some no_lease
  [ -z "$(leases_entry "$STATIC_IP")" ] || fail "GET /leases lists $STATIC_IP under --dhcp-only"
  in_guest ip addr flush dev "$TAP"
  udhcpc_once "$NS_GUEST" a
  curl_from "$NS_GUEST"
  pass "--dhcp-only: the static guest was refused (no_lease) until DHCP gave it an address ($FRAMING)"
}
