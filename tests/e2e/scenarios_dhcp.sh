# shellcheck shell=bash
# DHCP scenarios: guests with no address of their own configure themselves from vznet's DHCP server, with
# real clients (busybox udhcpc, ISC dhclient, a QEMU guest booted with ip=dhcp). Each client runs an event
# script of ours that applies address, router and MTU and records what it got; nothing touches /etc.

DHCP_MTU=1400        # vznet's --mtu: option 26 must raise the guests' taps from 1280 to this
DHCP_TAP_MTU=1280
DHCP_MAC1=52:54:00:e2:e0:01
DHCP_MAC2=52:54:00:e2:e0:02
DHCP_STATIC_IP=192.168.64.77
# Lease 60 s (the shortest vznet accepts): dhclient renews by itself after T1 = 30 s.
DHCP_FLAGS="--lease-time 60 --dns-search vz.test --dns-search example.internal"
NS_GUEST2="vze2e-guest2-$$"
RELAY2_PID=""

# shellcheck disable=SC2086  # the flag lists are meant to split
{
  register_scenario dhcp_udhcpc custom $DHCP_FLAGS
  register_scenario dhcp_dhclient custom $DHCP_FLAGS
  register_scenario dhcp_two_guests custom $DHCP_FLAGS
  register_scenario dhcp_static custom $DHCP_FLAGS --dhcp-static "$DHCP_MAC1=$DHCP_STATIC_IP"
  register_scenario dhcp_qemu vznet $DHCP_FLAGS
}

# --- set-up ------------------------------------------------------------------------------------------------

# dhcp_attach NS LOGNAME MAC: a relay in NS whose tap has MAC, is up, and has no address (DHCP gives it one).
# Sets DHCP_RELAY_PID.
dhcp_attach() {
  local ns=$1 name=$2 mac=$3 before extra=()
  before=$(attached_count)
  RELAY_COUNT=$((RELAY_COUNT + 1))
  [ "$FRAMING" = unixgram ] && extra=(--local "$TMP/relay$RELAY_COUNT.sock")
  spawn "$ns" "$name" "$RELAY" --tap "$TAP" --connect "$(framing_uri)" --mtu "$DHCP_TAP_MTU" "${extra[@]}"
  DHCP_RELAY_PID=$SPAWNED
  wait_for "tap $TAP in $ns" 10 ip -n "$ns" link show "$TAP"
  ip -n "$ns" link set "$TAP" address "$mac" || fail "MAC $mac on $TAP in $ns"
  ip -n "$ns" link set "$TAP" up || fail "$TAP up in $ns"
  wait_for "vznet: guest attached ($ns)" 10 attached_more_than "$before"
  kill -0 "$DHCP_RELAY_PID" 2>/dev/null || fail "relay in $ns exited"
}

# vznet and one guest (MAC 1) without an address. MTU and RELAY_PID belong to lib.sh (vznet's --mtu; the
# relay whose clean exit teardown asserts).
# shellcheck disable=SC2034,SC2153
dhcp_setup_one() {
  MTU=$DHCP_MTU
  make_namespaces
  start_servers
  start_vznet
  dhcp_attach "$NS_GUEST" relay "$DHCP_MAC1"
  RELAY_PID=$DHCP_RELAY_PID
}

setup_dhcp_udhcpc() { dhcp_setup_one; }
setup_dhcp_dhclient() { dhcp_setup_one; }
setup_dhcp_static() { dhcp_setup_one; }

# Two guests in two namespaces, each behind its own relay. The second namespace is ours to remove: the EXIT
# trap stops its relay and deletes it before lib.sh's teardown runs.
setup_dhcp_two_guests() {
  dhcp_setup_one
  ip netns add "$NS_GUEST2" || fail "ip netns add $NS_GUEST2"
  trap dhcp_teardown EXIT
  ip -n "$NS_GUEST2" link set lo up || fail "lo up in $NS_GUEST2"
  ip netns exec "$NS_GUEST2" sysctl -q -w net.unix.max_dgram_qlen=512 || fail "max_dgram_qlen in $NS_GUEST2"
  dhcp_attach "$NS_GUEST2" relay2 "$DHCP_MAC2"
  RELAY2_PID=$DHCP_RELAY_PID
}

# shellcheck disable=SC2034  # E2E_FAILED is lib.sh's
dhcp_teardown() {
  local rc=$?
  if [ -n "$RELAY2_PID" ]; then
    stop_pid "$RELAY2_PID"
    if [ "$STOPPED_RC" != 0 ]; then
      log "FAIL: the second relay exited $STOPPED_RC on SIGTERM (expected 0)"
      E2E_FAILED=1
    fi
  fi
  ip netns del "$NS_GUEST2" 2>/dev/null
  (exit "$rc")
  teardown
}

# --- client scripts ----------------------------------------------------------------------------------------

# Each event is one line in $TMP/events-TAG: "EVENT|key=value|...", read back with event_field. (In the
# here-documents below, a backslash at the end of a line joins it to the next: the scripts get one echo line.)

# make_udhcpc_script TAG: prints the path of a udhcpc event script recording into $TMP/events-TAG.
make_udhcpc_script() {
  local script="$TMP/udhcpc-$1.sh"
  cat >"$script" <<EOF
#!/bin/sh
# udhcpc event script (e2e): applies what the server sent; records it for the test.
case "\$1" in
  deconfig) ip addr flush dev "\$interface"; ip link set "\$interface" up ;;
  bound|renew)
    ip addr replace "\$ip/\$subnet" broadcast "\$broadcast" dev "\$interface"
    [ -n "\$mtu" ] && ip link set "\$interface" mtu "\$mtu"
    for r in \$router; do ip route replace default via "\$r" dev "\$interface"; break; done ;;
esac
echo "\$1|ip=\$ip|mask=\$subnet|router=\$router|dns=\$dns|mtu=\$mtu|domain=\$domain|search=\$search|\
lease=\$lease|serverid=\$serverid|broadcast=\$broadcast" >>"$TMP/events-$1"
EOF
  chmod +x "$script"
  echo "$script"
}

# make_dhclient_files TAG: an event script (as dhclient-script would be) and a config, in $TMP.
make_dhclient_files() {
  cat >"$TMP/dhclient-$1.sh" <<EOF
#!/bin/sh
# dhclient event script (e2e): applies what the server sent; records it for the test.
case "\$reason" in
  PREINIT) ip link set "\$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    if [ -n "\$old_ip_address" ] && [ "\$old_ip_address" != "\$new_ip_address" ]; then
      ip addr flush dev "\$interface"
    fi
    ip addr replace "\$new_ip_address/\$new_subnet_mask" broadcast "\$new_broadcast_address" dev "\$interface"
    [ -n "\$new_interface_mtu" ] && ip link set "\$interface" mtu "\$new_interface_mtu"
    for r in \$new_routers; do ip route replace default via "\$r" dev "\$interface"; break; done ;;
  EXPIRE|FAIL|RELEASE|STOP) ip addr flush dev "\$interface" ;;
esac
echo "\$reason|ip=\$new_ip_address|mask=\$new_subnet_mask|router=\$new_routers|\
dns=\$new_domain_name_servers|mtu=\$new_interface_mtu|domain=\$new_domain_name|search=\$new_domain_search|\
lease=\$new_dhcp_lease_time|serverid=\$new_dhcp_server_identifier|broadcast=\$new_broadcast_address" \
>>"$TMP/events-$1"
EOF
  chmod +x "$TMP/dhclient-$1.sh"
  cat >"$TMP/dhclient-$1.conf" <<EOF
timeout 20;
retry 5;
initial-interval 1;
request subnet-mask, broadcast-address, routers, domain-name-servers, domain-name, domain-search, interface-mtu;
EOF
}

# dhclient_args TAG: the options every dhclient call of this guest shares (private script, config, files).
dhclient_args() {
  echo -4 -cf "$TMP/dhclient-$1.conf" -sf "$TMP/dhclient-$1.sh" -lf "$TMP/dhclient-$1.leases" \
    -pf "$TMP/dhclient-$1.pid"
}

# last_event TAG EVENT_REGEX: the last matching event line ("" if none).
last_event() { grep -E "^($2)\|" "$TMP/events-$1" 2>/dev/null | tail -n 1; }
has_event() { [ -n "$(last_event "$1" "$2")" ]; }
event_count() { grep -cE "^($2)\|" "$TMP/events-$1" 2>/dev/null; }
event_count_above() { [ "$(event_count "$1" "$2")" -gt "$3" ]; }
# event_field LINE KEY
event_field() { tr '|' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
vznet_logged() { grep -qE "$1" "$TMP/vznet.log"; }

# expect_lease NS LINE WHAT: the event LINE carries everything vznet hands out, and NS's tap applied it.
expect_lease() {
  local ns=$1 line=$2 what=$3 ip search
  ip=$(event_field "$line" ip)
  [[ $ip == 192.168.64.* ]] || fail "$what: address '$ip' is not in 192.168.64.0/24 ($line)"
  [ "$(event_field "$line" mask)" = 255.255.255.0 ] || fail "$what: mask ($line)"
  [ "$(event_field "$line" router)" = "$GATEWAY" ] || fail "$what: router ($line)"
  [ "$(event_field "$line" dns)" = "$GATEWAY" ] || fail "$what: DNS server ($line)"
  [ "$(event_field "$line" mtu)" = "$DHCP_MTU" ] || fail "$what: MTU ($line)"
  [ "$(event_field "$line" domain)" = vz.test ] || fail "$what: domain name ($line)"
  # dhclient writes search domains fully qualified ("vz.test."), udhcpc without the dot.
  search=$(event_field "$line" search | sed -E 's/\.( |$)/\1/g')
  [ "$search" = "vz.test example.internal" ] || fail "$what: search list '$search' ($line)"
  [ "$(event_field "$line" lease)" = 60 ] || fail "$what: lease time ($line)"
  [ "$(event_field "$line" serverid)" = "$GATEWAY" ] || fail "$what: server identifier ($line)"
  [ "$(event_field "$line" broadcast)" = 192.168.64.255 ] || fail "$what: broadcast address ($line)"
  ip -n "$ns" -4 addr show dev "$TAP" | grep -q "inet $ip/24" || fail "$what: $ip not on $TAP"
  ip -n "$ns" link show dev "$TAP" | grep -q "mtu $DHCP_MTU " || fail "$what: $TAP's MTU is not $DHCP_MTU"
  ip -n "$ns" route show default | grep -q "via $GATEWAY" || fail "$what: no default route via $GATEWAY"
}

# curl_from NS: the guest in NS reaches the host's loopback through the configuration DHCP gave it.
curl_from() {
  local out="$TMP/fetch-dhcp.out"
  rm -f "$out"
  ip netns exec "$1" timeout 20 curl -sS --max-time 15 -o "$out" "http://$GATEWAY:8080/index.html" \
    2>"$TMP/curl.err" || fail "curl from $1: $(cat "$TMP/curl.err")"
  cmp -s "$out" "$TMP/www/index.html" || fail "curl from $1 returned different bytes"
}

# udhcpc_once NS TAG [ARGS...]: a fresh udhcpc that quits once bound (bounded); sets BOUND_LINE.
udhcpc_once() {
  local ns=$1 tag=$2 script
  shift 2
  script=$(make_udhcpc_script "$tag")
  ip netns exec "$ns" timeout 30 busybox udhcpc -f -q -n -t 5 -T 2 -i "$TAP" -s "$script" -O mtu -O search \
    "$@" >>"$TMP/udhcpc-$tag.log" 2>&1 || fail "udhcpc in $ns got no lease: $(tail -n 3 "$TMP/udhcpc-$tag.log")"
  BOUND_LINE=$(last_event "$tag" bound)
  [ -n "$BOUND_LINE" ] || fail "udhcpc in $ns exited without a bound event"
}

# --- scenarios ---------------------------------------------------------------------------------------------

scenario_dhcp_udhcpc() {
  local script line ip pid renewals
  script=$(make_udhcpc_script u)
  # Long-running, as on a real guest: USR1 renews, USR2 releases.
  spawn "$NS_GUEST" udhcpc busybox udhcpc -f -t 5 -T 2 -i "$TAP" -s "$script" -O mtu -O search
  pid=$SPAWNED
  wait_for "udhcpc: bound" 20 has_event u bound
  line=$(last_event u bound)
  expect_lease "$NS_GUEST" "$line" "udhcpc"
  ip=$(event_field "$line" ip)
  vznet_logged "DHCP: $ip leased to $DHCP_MAC1" || fail "vznet did not log the lease of $ip"
  curl_from "$NS_GUEST"

  renewals=$(event_count u renew)
  kill -USR1 "$pid"
  wait_for "udhcpc: renew" 15 event_count_above u renew "$renewals"
  line=$(last_event u renew)
  [ "$(event_field "$line" ip)" = "$ip" ] || fail "renewal changed the address ($line)"
  vznet_logged "DHCP: renewed $ip for $DHCP_MAC1" || fail "vznet did not log the renewal"

  kill -USR2 "$pid"
  wait_for "vznet: release of $ip" 10 vznet_logged "DHCP: $DHCP_MAC1 released $ip"
  stop_pid "$pid"
  # A fresh client remembers nothing: the address comes back because vznet keeps it for this MAC.
  udhcpc_once "$NS_GUEST" u2
  line=$BOUND_LINE
  [ "$(event_field "$line" ip)" = "$ip" ] || fail "re-acquired $(event_field "$line" ip), expected $ip again"
  pass "udhcpc: lease $ip with router, DNS, MTU $DHCP_MTU, search list; renewed; released and re-acquired ($FRAMING)"
}

scenario_dhcp_dhclient() {
  local line ip pid args start
  make_dhclient_files d
  read -ra args <<<"$(dhclient_args d)"
  start=$(now_ms)
  spawn "$NS_GUEST" dhclient dhclient -d -v -1 "${args[@]}" "$TAP"
  pid=$SPAWNED
  wait_for "dhclient: BOUND" 25 has_event d BOUND
  line=$(last_event d BOUND)
  expect_lease "$NS_GUEST" "$line" "dhclient"
  ip=$(event_field "$line" ip)
  curl_from "$NS_GUEST"

  # Renewal on its own schedule: T1 = 30 s after the lease began; unicast to vznet.
  wait_for "dhclient: RENEW (T1 = 30 s)" 50 has_event d RENEW
  line=$(last_event d RENEW)
  [ "$(event_field "$line" ip)" = "$ip" ] || fail "renewal changed the address ($line)"
  expect_lease "$NS_GUEST" "$line" "dhclient renewal"
  vznet_logged "DHCP: renewed $ip for $DHCP_MAC1" || fail "vznet did not log the renewal"
  log "dhclient renewed after $(($(now_ms) - start)) ms"

  # dhclient -r stops the running client (pid file) and sends RELEASE.
  ip netns exec "$NS_GUEST" timeout 20 dhclient -r "${args[@]}" "$TAP" >>"$TMP/dhclient.log" 2>&1 ||
    fail "dhclient -r failed"
  wait_for "vznet: release of $ip" 10 vznet_logged "DHCP: $DHCP_MAC1 released $ip"
  wait_for "the first dhclient to exit" 10 not_running "$pid"
  # Without its lease file dhclient asks for no address in particular; vznet still gives it the same one.
  rm -f "$TMP/dhclient-d.leases"
  spawn "$NS_GUEST" dhclient dhclient -d -v -1 "${args[@]}" "$TAP"
  pid=$SPAWNED
  wait_for "dhclient: BOUND again" 25 event_count_above d BOUND 1
  line=$(last_event d BOUND)
  [ "$(event_field "$line" ip)" = "$ip" ] || fail "re-acquired $(event_field "$line" ip), expected $ip again"
  stop_pid "$pid"
  pass "dhclient: lease $ip with router, DNS, MTU $DHCP_MTU, search list; renewed at T1;" \
    "released and re-acquired ($FRAMING)"
}

scenario_dhcp_two_guests() {
  local line1 line2 ip1 ip2
  udhcpc_once "$NS_GUEST" g1
  line1=$BOUND_LINE
  udhcpc_once "$NS_GUEST2" g2
  line2=$BOUND_LINE
  expect_lease "$NS_GUEST" "$line1" "guest 1"
  expect_lease "$NS_GUEST2" "$line2" "guest 2"
  ip1=$(event_field "$line1" ip)
  ip2=$(event_field "$line2" ip)
  [ "$ip1" != "$ip2" ] || fail "both guests got $ip1"
  vznet_logged "DHCP: $ip1 leased to $DHCP_MAC1" || fail "vznet did not log guest 1's lease"
  vznet_logged "DHCP: $ip2 leased to $DHCP_MAC2" || fail "vznet did not log guest 2's lease"
  curl_from "$NS_GUEST"
  curl_from "$NS_GUEST2"
  pass "two guests got $ip1 and $ip2, and both reach the host ($FRAMING)"
}

scenario_dhcp_static() {
  local line
  # Asking for another address does not get it: the reservation wins (udhcpc takes what it is offered).
  udhcpc_once "$NS_GUEST" s -r 192.168.64.2
  line=$BOUND_LINE
  [ "$(event_field "$line" ip)" = "$DHCP_STATIC_IP" ] ||
    fail "got $(event_field "$line" ip), expected the reservation $DHCP_STATIC_IP ($line)"
  expect_lease "$NS_GUEST" "$line" "static"
  vznet_logged "DHCP: $DHCP_STATIC_IP leased to $DHCP_MAC1 .*\(static\)" || fail "vznet did not log the static lease"
  curl_from "$NS_GUEST"
  pass "the reservation $DHCP_MAC1=$DHCP_STATIC_IP is honoured ($FRAMING)"
}

# QEMU: the standard busybox initramfs (qemu_guest.sh) plus an overlay whose /init does what Debian's
# initramfs-tools does for ip=dhcp: klibc's ipconfig. The guest prints what it got, then fetches the file.
DHCP_QEMU_MARKER=E2E-QEMU-DHCP

dhcp_qemu_overlay() {
  local root="$TMP/overlay" ipconfig=/usr/lib/klibc/bin/ipconfig klibc
  [ -x "$ipconfig" ] || fail "klibc's ipconfig not installed (klibc-utils)"
  # ipconfig is linked against klibc's shared object, named as its ELF interpreter (/lib/klibc-HASH.so).
  klibc=$(readelf -l "$ipconfig" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
  [ -f "$klibc" ] || fail "klibc shared object '$klibc' not found"
  mkdir -p "$root/lib" "$root/klibc" "$root/run"
  cp "$ipconfig" "$root/klibc/ipconfig"
  cp "$klibc" "$root$klibc"
  {
    guest_init_prelude
    cat <<EOF
case " \$(cat /proc/cmdline) " in
  *" ip=dhcp "*) /klibc/ipconfig -t 60 -c dhcp -d eth0 ;;
  *) echo "no ip=dhcp on the command line" ;;
esac
if [ -f /run/net-eth0.conf ]; then
  . /run/net-eth0.conf
  echo "$DHCP_QEMU_MARKER addr=\$IPV4ADDR mask=\$IPV4NETMASK gw=\$IPV4GATEWAY dns=\$IPV4DNS0 domain=\$DNSDOMAIN"
else
  echo "$DHCP_QEMU_MARKER no-lease"
fi
EOF
    guest_init_fetch_and_power_off
  } >"$root/init"
  chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >>"$TMP/initramfs.gz" ||
    fail "cpio of the DHCP overlay"
  log "initramfs: DHCP overlay with klibc ipconfig appended"
}

# shellcheck disable=SC2034  # the hooks are read by scenario_qemu (qemu_guest.sh)
scenario_dhcp_qemu() {
  # The kernel reads concatenated archives in order, so the overlay's /init replaces the standard one.
  QEMU_INITRAMFS_HOOK=dhcp_qemu_overlay
  QEMU_APPEND="ip=dhcp"
  scenario_qemu
  local line
  line=$(grep -a -o -m1 "$DHCP_QEMU_MARKER [^[:cntrl:]]*" "$TMP/qemu.log")
  [[ $line == "$DHCP_QEMU_MARKER addr=192.168.64."* ]] || fail "VM reported '$line'"
  [[ $line == *" gw=$GATEWAY dns=$GATEWAY domain=vz.test"* ]] || fail "VM's DHCP configuration: '$line'"
  vznet_logged "DHCP: 192\.168\.64\.[0-9]+ leased to $GUEST_MAC" || fail "vznet did not log the VM's lease"
  pass "QEMU guest booted with ip=dhcp: $line ($FRAMING)"
}
