# shellcheck shell=bash
# Egress policy scenarios: a guest behind vznet, whose namespace (VZ) has links to a "LAN" (10.77.0.0/24,
# lib.sh) and to a "private network" namespace PRIV (172.16.1.0/24). A "metadata service" answers on
# 169.254.169.254 inside the LAN namespace (VZ routes that one address there). dnsmasq in the LAN namespace
# is vznet's upstream and resolves rebind.test to a LAN address.
#
#   PRIV ns: vz1 172.16.1.2/24 with HTTP on :30080 (a NodePort) and :22, UDP echo on :30053

NS_PRIV="vze2e-priv-$$"
PRIV_IP=172.16.1.2
VZ_PRIV_IP=172.16.1.1
METADATA_IP=169.254.169.254
EGRESS_DNS="--dns-upstream 10.77.0.2"  # lib.sh's LAN_IP (lib.sh is sourced after the scenario files)

# shellcheck disable=SC2086  # the flag lists are meant to split
{
  register_scenario egress_default custom $EGRESS_DNS
  register_scenario egress_block_private custom $EGRESS_DNS --block-private
  register_scenario egress_nodeport custom $EGRESS_DNS --egress-deny 0.0.0.0/0 \
    --egress-allow 172.16.0.0/22:30000-32767/tcp
  register_scenario egress_metadata custom $EGRESS_DNS --egress-deny $METADATA_IP
  register_scenario egress_block_host custom $EGRESS_DNS --block-host
  register_scenario egress_policy_file custom $EGRESS_DNS --egress-log
}

# --- set-up ------------------------------------------------------------------------------------------------

egress_setup() {
  make_namespaces
  trap egress_teardown EXIT
  ip netns add "$NS_PRIV" || fail "ip netns add $NS_PRIV"
  ip -n "$NS_PRIV" link set lo up || fail "lo up in PRIV"
  ip -n "$NS_VZ" link add priv0 type veth peer name vz1 netns "$NS_PRIV" || fail "veth VZ<->PRIV"
  ip -n "$NS_VZ" addr add "$VZ_PRIV_IP/24" dev priv0 || fail "address on priv0"
  ip -n "$NS_VZ" link set priv0 up || fail "priv0 up"
  ip -n "$NS_PRIV" addr add "$PRIV_IP/24" dev vz1 || fail "address on vz1"
  ip -n "$NS_PRIV" link set vz1 up || fail "vz1 up"
  ip -n "$NS_LAN" addr add "$METADATA_IP/32" dev vz0 || fail "metadata address in LAN"
  ip -n "$NS_VZ" route add "$METADATA_IP/32" via "$LAN_IP" || fail "route to the metadata address"
  [ -z "$(ip -n "$NS_PRIV" route show default)" ] || fail "PRIV has a default route"
  assert_isolated

  start_servers
  mkdir -p "$TMP/priv-www"
  echo nodeport >"$TMP/priv-www/index.html"
  spawn "$NS_PRIV" priv-nodeport "$PY" -m http.server --bind "$PRIV_IP" --directory "$TMP/priv-www" 30080
  spawn "$NS_PRIV" priv-ssh "$PY" -m http.server --bind "$PRIV_IP" --directory "$TMP/priv-www" 22
  spawn "$NS_PRIV" priv-udp "$PY" "$SERVERS" udp-echo "$PRIV_IP" 30053
  spawn "$NS_LAN" metadata "$PY" -m http.server --bind "$METADATA_IP" --directory "$TMP/priv-www" 80
  # A host service on every VZ address: reachable as the gateway, and as the host's LAN address 10.77.0.1.
  spawn "$NS_VZ" host-any "$PY" -m http.server --bind 0.0.0.0 --directory "$TMP/priv-www" 8081
  spawn "$NS_LAN" dnsmasq dnsmasq --no-resolv --no-hosts --bind-interfaces "--listen-address=$LAN_IP" \
    --keep-in-foreground --log-facility=- "--pid-file=$TMP/dnsmasq.pid" --user=root --group=root \
    --local=/test/ "--address=/rebind.test/$LAN_IP" "--host-record=lan.test,$LAN_IP"
  wait_for "PRIV servers" 10 listening "$NS_PRIV" tcp 30080 tcp 22 udp 30053
  wait_for "metadata, host and DNS servers" 10 listening "$NS_LAN" tcp 80 udp 53
  wait_for "host server on :8081" 10 listening "$NS_VZ" tcp 8081

  VZNET_FLAGS+=(--api "$TMP/api.sock")
  start_vznet
  attach_guest
  # The guest resolves through vznet (DNS on the gateway), as a DHCP-configured guest would.
  EGRESS_NETNS_DIR=/etc/netns/$NS_GUEST
  mkdir -p "$EGRESS_NETNS_DIR" || fail "mkdir $EGRESS_NETNS_DIR"
  printf 'nameserver %s\noptions timeout:3 attempts:1\n' "$GATEWAY" >"$EGRESS_NETNS_DIR/resolv.conf"
  : >"$EGRESS_NETNS_DIR/hosts"
}

EGRESS_NETNS_DIR=""
# The PRIV namespace and the guest's resolver directory are ours to remove, before lib.sh's teardown.
egress_teardown() {
  local rc=$?
  ip netns del "$NS_PRIV" 2>/dev/null
  if [ -n "$EGRESS_NETNS_DIR" ]; then
    rm -rf "$EGRESS_NETNS_DIR"
    rmdir /etc/netns 2>/dev/null  # only if no one else uses it
  fi
  (exit "$rc")
  teardown
}

for s in default block_private nodeport metadata block_host; do eval "setup_egress_$s() { egress_setup; }"; done

# --- helpers -----------------------------------------------------------------------------------------------

# guest_curl URL: the guest fetches URL (bounded); prints curl's error on failure.
guest_curl() {
  in_guest timeout 10 curl -sS --max-time 5 -o /dev/null "$1" 2>&1
}

expect_reachable() {
  local err
  err=$(guest_curl "$1") || fail "$2: the guest could not reach $1: $err"
}

# expect_denied HOST PORT WHAT: the guest's connect is refused (RST from the policy) in under a second.
expect_denied() {
  local start ms
  start=$(now_ms)
  if in_guest timeout 5 socat -u /dev/null "TCP:$1:$2,connect-timeout=3" 2>"$TMP/connect.err"; then
    fail "$3: the guest reached $1:$2 (expected a denial)"
  fi
  ms=$(($(now_ms) - start))
  grep -qi refused "$TMP/connect.err" || fail "$3: $1:$2 failed with '$(cat "$TMP/connect.err")', expected refused"
  [ "$ms" -lt 1000 ] || fail "$3: the denial of $1:$2 took $ms ms (limit 1000)"
}

# expect_udp_denied HOST PORT WHAT: the datagram is answered with ICMP administratively prohibited.
expect_udp_denied() {
  in_guest timeout 5 "$PY" - "$1" "$2" <<'EOF' || fail "$3: UDP to $1:$2 was not refused"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(b"hello")
try:
    s.recv(100)
except OSError as e:  # the ICMP error surfaces on a connected socket: EHOSTUNREACH for "prohibited"
    print(e)
    sys.exit(0 if e.errno in (113, 111) else 1)
sys.exit(1)
EOF
}

# expect_ping_denied HOST WHAT
expect_ping_denied() {
  local out
  if out=$(in_guest timeout 5 ping -c 1 -W 2 "$1" 2>&1); then fail "$2: ping $1 answered (expected a denial)"; fi
  grep -qiE "prohibited|filtered" <<<"$out" || fail "$2: ping $1: expected 'prohibited', got: $out"
}

# stat_at_least COUNTER N: /stats' forward.COUNTER >= N.
stat_at_least() {
  curl -sS --max-time 5 --unix-socket "$TMP/api.sock" http://vznet/stats |
    "$PY" -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['forward']['$1'] >= $2 else 1)"
}

guest_resolve() { in_guest timeout 10 dig +short +time=2 +tries=1 "@$GATEWAY" "$1" A; }

# --- scenarios ---------------------------------------------------------------------------------------------

scenario_egress_default() {
  expect_reachable "http://$LAN_IP:80/index.html" "default allow: LAN"
  expect_reachable "http://$PRIV_IP:30080/index.html" "default allow: private network"
  expect_reachable "http://$PRIV_IP:22/index.html" "default allow: private network port 22"
  expect_reachable "http://$METADATA_IP/index.html" "default allow: metadata address"
  expect_reachable "http://$GATEWAY:8081/index.html" "default allow: the host through the gateway"
  expect_reachable "http://$VZ_LAN_IP:8081/index.html" "default allow: the host's LAN address"
  in_guest timeout 10 "$PY" "$SERVERS" udp-roundtrip "$PRIV_IP" 30053 100 >/dev/null || fail "default allow: UDP"
  pass "no policy: LAN, private network, metadata address and host all reachable ($FRAMING)"
}

scenario_egress_block_private() {
  expect_denied "$LAN_IP" 80 "--block-private: LAN"
  expect_denied "$PRIV_IP" 30080 "--block-private: private network"
  expect_denied "$METADATA_IP" 80 "--block-private: metadata"
  expect_denied "$VZ_LAN_IP" 8081 "--block-private: the host's own LAN address"
  expect_udp_denied "$LAN_IP" 7 "--block-private: UDP to the LAN"
  expect_ping_denied "$PRIV_IP" "--block-private: ping"
  # DNS rebinding: a name the upstream points at a LAN address resolves, and the connect is still denied.
  local answer
  answer=$(guest_resolve rebind.test) || fail "DNS through vznet under --block-private: $answer"
  [ "$answer" = "$LAN_IP" ] || fail "rebind.test resolved to '$answer', expected $LAN_IP"
  expect_denied "rebind.test" 80 "--block-private: DNS rebinding"
  # The host's loopback (the gateway) is --block-host's business, not --block-private's.
  expect_reachable "http://$GATEWAY:8081/index.html" "--block-private: the host through the gateway"
  wait_for "denials counted in /stats" 5 stat_at_least egress_denied_tcp 5
  stat_at_least egress_denied_udp 1 || fail "UDP denial not counted"
  stat_at_least egress_denied_icmp 1 || fail "ping denial not counted"
  grep -q "denied by egress policy (deny 10.0.0.0/8" "$TMP/vznet.log" || fail "denial not logged with its rule"
  pass "--block-private: LAN, private network, metadata, host LAN address, UDP, ping and a rebound name denied;" \
    "DNS and the gateway work ($FRAMING)"
}

scenario_egress_nodeport() {
  expect_reachable "http://$PRIV_IP:30080/index.html" "NodePort allowed"
  expect_denied "$PRIV_IP" 22 "private network outside the NodePort range"
  expect_denied "$LAN_IP" 80 "LAN under default-deny"
  expect_denied "$GATEWAY" 8081 "the host under 0.0.0.0/0 deny"
  expect_udp_denied "$PRIV_IP" 30053 "UDP to the NodePort range (the rule is TCP only)"
  local answer
  answer=$(guest_resolve lan.test) || fail "DNS through vznet under default-deny: $answer"
  [ "$answer" = "$LAN_IP" ] || fail "lan.test resolved to '$answer' under default-deny"
  pass "deny 0.0.0.0/0 + allow 172.16.0.0/22:30000-32767/tcp: only the NodePort is reachable; DNS works ($FRAMING)"
}

scenario_egress_metadata() {
  expect_denied "$METADATA_IP" 80 "metadata denied"
  expect_reachable "http://$LAN_IP:80/index.html" "LAN still allowed"
  pass "--egress-deny 169.254.169.254: metadata denied, the rest allowed ($FRAMING)"
}

scenario_egress_block_host() {
  expect_denied "$GATEWAY" 8081 "--block-host: the host's loopback"
  expect_reachable "http://$LAN_IP:80/index.html" "--block-host: LAN still allowed"
  local answer
  answer=$(guest_resolve host.vz.internal) || fail "DNS under --block-host: $answer"
  [ "$answer" = "$GATEWAY" ] || fail "host.vz.internal resolved to '$answer'"
  answer=$(guest_resolve lan.test) || fail "upstream DNS under --block-host: $answer"
  [ "$answer" = "$LAN_IP" ] || fail "lan.test resolved to '$answer' under --block-host"
  pass "--block-host: the host's loopback denied, DNS (zone and upstream) and the LAN still work ($FRAMING)"
}

setup_egress_policy_file() {
  cat >"/tmp/vze2e-policy-$$" <<EOF
# e2e policy: no LAN except one web server; no metadata
default allow
deny 10.0.0.0/8          # the LAN
allow $LAN_IP:80/tcp  # ... except its web server
deny $METADATA_IP
EOF
  VZNET_FLAGS+=(--policy-file "/tmp/vze2e-policy-$$")
  egress_setup
  mv "/tmp/vze2e-policy-$$" "$TMP/policy"
}

scenario_egress_policy_file() {
  expect_reachable "http://$LAN_IP:80/index.html" "policy file: the allowed LAN server"
  expect_denied "$LAN_IP" 5003 "policy file: the rest of the LAN"
  expect_denied "$METADATA_IP" 80 "policy file: metadata"
  grep -q "tcp $GUEST_IP:[0-9]* -> $LAN_IP:80: allowed (allow $LAN_IP/32:80/tcp)" "$TMP/vznet.log" ||
    fail "--egress-log did not log the allowed flow with its rule"
  printf 'deny 10.0.0.0/8\nallow 10.1.2.3:99999\n' >"$TMP/bad-policy"
  expect_usage_error "bad policy file" "line 2" --listen "unix://$TMP/bad.sock" --policy-file "$TMP/bad-policy"
  [ ! -e "$TMP/bad.sock" ] || fail "a bad policy file left $TMP/bad.sock behind"
  expect_usage_error "bad --egress-allow" "--egress-allow" --egress-allow 10.0.0.0/33
  pass "--policy-file rules with comments, --egress-log audit lines, bad rules: exit 2 naming the line ($FRAMING)"
}
