# shellcheck shell=bash
# Offload: a guest whose NIC offloads TCP segmentation and checksums (the relay's --offload: a tap with
# virtio-net headers, TSO and checksum offload, the header stripped on the way to vznet, as krunkit does with
# offloading=on) and vznet --offload. The guest keeps MTU 1500; TCP crosses the link in segments of up to
# 64 KiB both ways, and a bulk transfer arrives intact both ways.

register_scenario offload_bulk custom --offload

# shellcheck disable=SC2034  # RELAY_FLAGS is lib.sh's
setup_offload_bulk() {
  RELAY_FLAGS=(--offload)
  VZNET_FLAGS+=(--api "$TMP_API_SOCK")
  setup "$FRAMING" 1500
}
TMP_API_SOCK="/tmp/vze2e-offload-$$.sock"

# link_average DIRECTION: the average frame size on the guest link (/stats), from_guests or to_guests.
link_average() {
  curl -sS --max-time 5 --unix-socket "$TMP_API_SOCK" http://vznet/stats |
    "$PY" -c "import json,sys; d=json.load(sys.stdin)['link']['$1']; print(d['bytes'] // max(d['frames'], 1))"
}

scenario_offload_bulk() {
  local mtu
  mtu=$(cat "/sys/class/net/$TAP/mtu" 2>/dev/null || in_guest cat "/sys/class/net/$TAP/mtu")
  [ "$mtu" = 1500 ] || fail "the guest's MTU is $mtu, not 1500"
  BULK_MIB=${BULK_MIB:-50} scenario_bulk
  local up down
  up=$(link_average from_guests)
  down=$(link_average to_guests)
  log "average frame on the link: guest->vznet $up bytes, vznet->guest $down bytes (MTU 1500: at most 1514)"
  [ "$up" -gt 4000 ] || fail "the guest's TCP did not use segmentation offload (average frame $up bytes)"
  [ "$down" -gt 4000 ] || fail "vznet did not send large segments to the guest (average frame $down bytes)"
  pass "offload: MTU-1500 guest, TCP in segments of up to 64 KiB both ways, bulk intact ($FRAMING)"
}
