# shellcheck shell=bash
# Shared set-up and teardown for the e2e tests: three network namespaces made for this run only, the
# servers in them, vznet, and a guest attached through vznet-guest-relay. Scenarios are in scenarios.sh.
#
#   GUEST ns: tap vzt0 (made by the relay) 192.168.64.2/24, default route via 192.168.64.1 (vznet)
#   VZ ns:    vznet; lo with the "host loopback" servers on 127.0.0.1; lan0 10.77.0.1/24; NO default route
#   LAN ns:   vz0 10.77.0.2/24 with an HTTP server (:80), a UDP echo (:7) and a sha-reply server (:5003)
#
# Safety: traffic goes only to loopback and to these namespaces. No namespace has a route to anything
# else; setup asserts it. Everything started is killed by PID and every namespace deleted on EXIT.
# Needs root. Callers set: VZNET (binary), RELAY (binary), and source this file.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=$(command -v /usr/bin/python3 || command -v python3)
SERVERS="$E2E_DIR/e2e_servers.py"

GATEWAY=192.168.64.1
GUEST_IP=192.168.64.2
# The guest's MAC, reserved to GUEST_IP with --dhcp-static: vznet's anti-spoofing lets a guest use an address
# it leased by DHCP or one reserved for its MAC, and the harness's guests have static addresses.
GUEST_MAC=52:54:00:e2:e0:10
LAN_IP=10.77.0.2
VZ_LAN_IP=10.77.0.1
TAP=vzt0

NS_VZ="vze2e-vz-$$"
NS_LAN="vze2e-lan-$$"
NS_GUEST="vze2e-guest-$$"
TMP=""
PIDS=()            # every background process we started, killed by PID at exit
VZNET_PID=""
RELAY_PID=""
RELAY_COUNT=0
FRAMING=""
MTU=1500
VZNET_FD_BASELINE=""
VZNET_FLAGS=()     # extra vznet flags for this scenario (run.sh sets them)
RELAY_FLAGS=()     # extra vznet-guest-relay flags (a scenario's setup sets them)
E2E_FAILED=0
# With VZNET_E2E_STANDIN=1 the harness runs against standin_vznet.py (a kernel-bridging stand-in) to test
# itself and the relay; the host-loopback servers then listen on all of VZ's addresses.
STANDIN=${VZNET_E2E_STANDIN:-0}
HOST_LO_BIND=127.0.0.1
[ "$STANDIN" = 1 ] && HOST_LO_BIND=0.0.0.0

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
pass() { log "PASS: $*"; }
now_ms() { date +%s%3N; }

# Prints the end of each log we keep, then exits 1 (teardown runs from the EXIT trap).
fail() {
  log "FAIL: $*"
  E2E_FAILED=1
  local f
  for f in "$TMP"/*.log; do
    [ -f "$f" ] || continue
    echo "----- last lines of $(basename "$f") -----" >&2
    tail -n 25 "$f" >&2
  done
  exit 1
}

in_vz() { ip netns exec "$NS_VZ" "$@"; }
in_lan() { ip netns exec "$NS_LAN" "$@"; }
in_guest() { ip netns exec "$NS_GUEST" "$@"; }

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND every 50 ms until it succeeds or the deadline passes.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$(($(now_ms) + seconds * 1000))
  until "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for: $what"
    sleep 0.05
  done
}

# spawn NS LOGNAME COMMAND...: starts COMMAND in namespace NS in the background; sets SPAWNED to its PID.
spawn() {
  local ns=$1 name=$2
  shift 2
  ip netns exec "$ns" "$@" >>"$TMP/$name.log" 2>&1 </dev/null &
  SPAWNED=$!
  PIDS+=("$SPAWNED")
}

# stop_pid PID: SIGTERM, up to 5 s to exit, then SIGKILL. Sets STOPPED_RC to its exit status.
stop_pid() {
  local pid=$1 i
  STOPPED_RC=""
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; STOPPED_RC=$?; return 0; }
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  STOPPED_RC=$?
}

# Stops vznet with SIGTERM and asserts what it promises: exit 0 and its socket files removed.
stop_vznet() {
  [ -n "$VZNET_PID" ] || return 0
  local pid=$VZNET_PID
  VZNET_PID=""
  stop_pid "$pid"
  if [ "$STOPPED_RC" != 0 ]; then
    log "FAIL: vznet exited $STOPPED_RC on SIGTERM (expected 0)"
    E2E_FAILED=1
  fi
  local f
  for f in "$TMP/s.sock" "$TMP/d.sock" "$TMP/p.sock"; do
    if [ -e "$f" ]; then
      log "FAIL: vznet left $f behind after SIGTERM"
      E2E_FAILED=1
    fi
  done
}

teardown() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$RELAY_PID" ]; then
    stop_pid "$RELAY_PID"
    if [ "$STOPPED_RC" != 0 ]; then
      log "FAIL: vznet-guest-relay exited $STOPPED_RC on SIGTERM (expected 0)"
      E2E_FAILED=1
    fi
  fi
  stop_vznet
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  local ns
  for ns in "$NS_GUEST" "$NS_LAN" "$NS_VZ"; do
    ip netns del "$ns" 2>/dev/null
  done
  if ip netns list | grep -q -- "-$$\b"; then
    log "FAIL: namespaces of this run are still there"
    E2E_FAILED=1
  fi
  if [ -n "$TMP" ] && [ "$E2E_FAILED" = 1 ] && [ -n "${E2E_KEEP_LOGS:-}" ]; then
    log "logs kept in $TMP"
    rm -f "$TMP"/*.bin
  elif [ -n "$TMP" ]; then
    rm -rf "$TMP"
  fi
  [ "$rc" = 0 ] && [ "$E2E_FAILED" = 1 ] && rc=1
  exit "$rc"
}

make_namespaces() {
  TMP=$(mktemp -d /tmp/vze2e.XXXXXX) || fail "mktemp"
  trap teardown EXIT
  trap 'exit 130' INT TERM
  local ns
  for ns in "$NS_VZ" "$NS_LAN" "$NS_GUEST"; do
    ip netns add "$ns" || fail "ip netns add $ns"
    ip -n "$ns" link set lo up || fail "lo up in $ns"
  done
  ip -n "$NS_VZ" link add lan0 type veth peer name vz0 netns "$NS_LAN" || fail "veth VZ<->LAN"
  ip -n "$NS_VZ" addr add "$VZ_LAN_IP/24" dev lan0 || fail "address on lan0"
  ip -n "$NS_VZ" link set lan0 up || fail "lan0 up"
  ip -n "$NS_LAN" addr add "$LAN_IP/24" dev vz0 || fail "address on vz0"
  ip -n "$NS_LAN" link set vz0 up || fail "vz0 up"
  # vznet's ICMP echo uses unprivileged ICMP sockets.
  in_vz sysctl -q -w net.ipv4.ping_group_range="0 2147483647" || fail "ping_group_range in VZ"
  # The relay's datagram socket receives from vznet: let it queue more than the default 10 datagrams, so
  # the relay (standing in for the guest's NIC) is not the bottleneck.
  in_guest sysctl -q -w net.unix.max_dgram_qlen=512 || fail "max_dgram_qlen in GUEST"
  assert_isolated
}

# Network safety: no namespace of ours may route anywhere but its own links.
assert_isolated() {
  local ns
  for ns in "$NS_VZ" "$NS_LAN"; do
    [ -z "$(ip -n "$ns" route show default)" ] || fail "namespace $ns has a default route"
    [ -z "$(ip -n "$ns" -6 route show default)" ] || fail "namespace $ns has an IPv6 default route"
  done
  if in_vz ip route get 198.51.100.7 >/dev/null 2>&1; then fail "VZ can route to 198.51.100.7"; fi
}

start_servers() {
  mkdir -p "$TMP/www"
  head -c 196608 /dev/urandom | base64 >"$TMP/www/index.html"
  if [ "$STANDIN" = 1 ]; then
    # The stand-in's guest traffic is routed by VZ's kernel; the LAN needs the way back.
    in_vz sysctl -q -w net.ipv4.ip_forward=1
    ip -n "$NS_LAN" route add 192.168.64.0/24 via "$VZ_LAN_IP" || fail "LAN route for the stand-in"
  fi
  spawn "$NS_LAN" lan-http "$PY" -m http.server --bind "$LAN_IP" --directory "$TMP/www" 80
  spawn "$NS_LAN" lan-udp "$PY" "$SERVERS" udp-echo "$LAN_IP" 7
  spawn "$NS_LAN" lan-sha "$PY" "$SERVERS" sha-reply "$LAN_IP" 5003
  spawn "$NS_VZ" host-http "$PY" -m http.server --bind "$HOST_LO_BIND" --directory "$TMP/www" 8080
  spawn "$NS_VZ" host-udp "$PY" "$SERVERS" udp-echo "$HOST_LO_BIND" 7
  spawn "$NS_VZ" host-sha "$PY" "$SERVERS" sha-reply "$HOST_LO_BIND" 5003
  wait_for "LAN servers" 10 listening "$NS_LAN" tcp 80 tcp 5003 udp 7
  wait_for "host-loopback servers" 10 listening "$NS_VZ" tcp 8080 tcp 5003 udp 7
}

# listening NS PROTO PORT [PROTO PORT...]: true when every one has a listening socket in NS.
listening() {
  local ns=$1
  shift
  while [ $# -gt 0 ]; do
    local flag=-t
    [ "$1" = udp ] && flag=-u
    ip netns exec "$ns" ss -Hln "$flag" "sport = :$2" | grep -q . || return 1
    shift 2
  done
}

vznet_command() {
  if [ "$STANDIN" = 1 ]; then
    echo "$PY" "$E2E_DIR/standin_vznet.py"
  else
    echo "$VZNET"
  fi
}

fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# cpu_centis PID: user+system CPU time the process has used, in hundredths of a second.
cpu_centis() {
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  read -ra fields <<<"${stat##*) }"
  echo $(((fields[11] + fields[12]) * 100 / $(getconf CLK_TCK)))
}

# start_vznet [EXTRA FLAGS...]: vznet in VZ on the three sockets; waits until they exist.
# shellcheck disable=SC2120  # callers may pass extra flags; none do yet
start_vznet() {
  local reserve=(--dhcp-static "$GUEST_MAC=$GUEST_IP")
  [ "$STANDIN" = 1 ] && reserve=()
  # shellcheck disable=SC2046  # vznet_command is a command line (the stand-in is "python3 script")
  spawn "$NS_VZ" vznet $(vznet_command) --listen "unix://$TMP/s.sock" --listen "unixgram://$TMP/d.sock" \
    --listen "unixpacket://$TMP/p.sock" --mtu "$MTU" --log-level debug "${reserve[@]}" "${VZNET_FLAGS[@]}" "$@"
  VZNET_PID=$SPAWNED
  wait_for "vznet's socket files" 10 sockets_ready
  kill -0 "$VZNET_PID" 2>/dev/null || fail "vznet exited during start-up"
  VZNET_FD_BASELINE=$(fd_count "$VZNET_PID")
  log "vznet running (pid $VZNET_PID, $VZNET_FD_BASELINE fds)"
}

sockets_ready() { [ -S "$TMP/s.sock" ] && [ -S "$TMP/d.sock" ] && [ -S "$TMP/p.sock" ]; }

# framing_uri: the socket a relay attaches to for $FRAMING (GUEST_SOCKET_URI, when a scenario set it, instead).
framing_uri() {
  if [ -n "${GUEST_SOCKET_URI:-}" ]; then
    echo "$GUEST_SOCKET_URI"
    return
  fi
  case "$FRAMING" in
    unix) echo "unix://$TMP/s.sock" ;;
    unixgram) echo "unixgram://$TMP/d.sock" ;;
    unixpacket) echo "unixpacket://$TMP/p.sock" ;;
    *) fail "unknown framing '$FRAMING' (unix|unixgram|unixpacket)" ;;
  esac
}

tap_exists() { in_guest ip link show "$TAP"; }
attached_count() { grep -c 'guest attached' "$TMP/vznet.log" 2>/dev/null; }
attached_more_than() { [ "$(attached_count)" -gt "$1" ]; }

# attach_guest: starts a relay in GUEST for $FRAMING and configures the guest side of the tap.
attach_guest() {
  local before extra=()
  before=$(attached_count)
  RELAY_COUNT=$((RELAY_COUNT + 1))
  # unixgram: the first relay greets like vfkit ("VFKT"), later ones (relay_restart) start with a plain
  # frame like QEMU's -netdev dgram, so vznet is seen to attach datagram guests either way.
  [ "$FRAMING" = unixgram ] && extra=(--local "$TMP/relay$RELAY_COUNT.sock")
  [ "$FRAMING" = unixgram ] && [ "$RELAY_COUNT" = 1 ] && extra+=(--vfkit-greeting)
  spawn "$NS_GUEST" relay "$RELAY" --tap "$TAP" --connect "$(framing_uri)" --mtu "$MTU" "${extra[@]}" \
    "${RELAY_FLAGS[@]}"
  RELAY_PID=$SPAWNED
  wait_for "tap $TAP in GUEST" 10 tap_exists
  in_guest ip link set "$TAP" address "$GUEST_MAC" || fail "guest MAC"
  in_guest ip addr add "$GUEST_IP/24" dev "$TAP" || fail "guest address"
  in_guest ip link set "$TAP" up || fail "guest link up"
  in_guest ip route add default via "$GATEWAY" || fail "guest default route"
  # The guest kernel sends IPv6 DAD/MLD frames as soon as the link is up, so even a datagram guest is seen.
  wait_for "vznet: guest attached" 10 attached_more_than "$before"
  kill -0 "$RELAY_PID" 2>/dev/null || fail "relay exited"
  log "guest attached over $FRAMING (relay pid $RELAY_PID, mtu $MTU)"
}

# setup FRAMING [MTU]: the whole topology with a guest attached.
setup() {
  FRAMING=$1
  MTU=${2:-1500}
  make_namespaces
  start_servers
  start_vznet
  attach_guest
}
