#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Self-test of vznet-guest-relay without vznet: two namespaces, each with a relay and its tap, joined by
# socat between two listening unix sockets (so each relay's framing is parsed by the other relay).
# Checks ping both ways, a sha256-checked transfer, and prints iperf3 throughput (the relay's ceiling).
#   tests/e2e/relay_pair.sh RELAY [unix|unixpacket] [MTU]
# Traffic stays between the two namespaces made here (192.168.99.0/24, no other route). Needs root.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
RELAY=$1
FRAMING=${2:-unix}
MTU=${3:-1500}
[ "$(id -u)" = 0 ] || { echo "relay_pair.sh: needs root" >&2; exit 77; }
for tool in socat iperf3; do command -v $tool >/dev/null || { echo "relay_pair.sh: needs $tool" >&2; exit 77; }; done

NS_VZ="vzpair-a-$$"
NS_GUEST="vzpair-b-$$"
NS_LAN=""  # lib.sh's teardown looks at it; this test has no LAN
export NS_LAN
not_running() { ! kill -0 "$1" 2>/dev/null; }
TMP=$(mktemp -d /tmp/vzpair.XXXXXX)
trap teardown EXIT
trap 'exit 130' INT TERM
for ns in "$NS_VZ" "$NS_GUEST"; do
  ip netns add "$ns" || fail "ip netns add $ns"
  ip -n "$ns" link set lo up
  # Datagram and seqpacket receivers queue at most net.unix.max_dgram_qlen messages (default 10).
  ip netns exec "$ns" sysctl -q -w net.unix.max_dgram_qlen=512
done

socket_type=""
[ "$FRAMING" = unixpacket ] && socket_type=",type=5"  # SOCK_SEQPACKET
# socat accepts on a.sock, then on b.sock, then copies between them (-b: 256 KiB per read).
spawn "$NS_VZ" socat socat -b 262144 "UNIX-LISTEN:$TMP/a.sock$socket_type" "UNIX-LISTEN:$TMP/b.sock$socket_type"
wait_for "a.sock" 5 test -S "$TMP/a.sock"
spawn "$NS_VZ" relay-a "$RELAY" --tap vzpa0 --connect "$FRAMING://$TMP/a.sock" --mtu "$MTU"
wait_for "b.sock" 5 test -S "$TMP/b.sock"
spawn "$NS_GUEST" relay-b "$RELAY" --tap vzpb0 --connect "$FRAMING://$TMP/b.sock" --mtu "$MTU"
wait_for "tap a" 5 ip -n "$NS_VZ" link show vzpa0
wait_for "tap b" 5 ip -n "$NS_GUEST" link show vzpb0
ip -n "$NS_VZ" addr add 192.168.99.1/24 dev vzpa0 && ip -n "$NS_VZ" link set vzpa0 up
ip -n "$NS_GUEST" addr add 192.168.99.2/24 dev vzpb0 && ip -n "$NS_GUEST" link set vzpb0 up

in_guest ping -n -c 3 -i 0.2 -W 2 192.168.99.1 >"$TMP/ping.log" 2>&1 || fail "ping across the relay pair"
pass "ping across two relays ($FRAMING, mtu $MTU)"

head -c $((32 << 20)) /dev/urandom >"$TMP/data.bin"
spawn "$NS_VZ" sink socat -u TCP-LISTEN:5001,bind=192.168.99.1,reuseaddr "CREATE:$TMP/recv.bin"
sink=$SPAWNED
wait_for "sink" 5 listening "$NS_VZ" tcp 5001
in_guest timeout 60 socat -u "OPEN:$TMP/data.bin,rdonly" TCP:192.168.99.1:5001 || fail "transfer"
wait_for "sink to finish" 30 not_running "$sink"
cmp -s "$TMP/data.bin" "$TMP/recv.bin" || fail "32 MiB across the relay pair arrived different"
pass "32 MiB across two relays, identical ($FRAMING, mtu $MTU)"

spawn "$NS_VZ" iperf3-server iperf3 -s -B 192.168.99.1 -1
wait_for "iperf3 server" 5 listening "$NS_VZ" tcp 5201
in_guest timeout 30 iperf3 -c 192.168.99.1 -t 3 -f g >"$TMP/iperf.log" 2>&1 || fail "iperf3 across the relay pair"
log "iperf3 guest->peer: $(grep -E 'receiver' "$TMP/iperf.log" | awk '{print $7, $8}')"
