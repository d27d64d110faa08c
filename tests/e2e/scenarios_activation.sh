# shellcheck shell=bash
# Socket activation: systemd-socket-activate (systemd's own tool, the protocol of a .socket unit) makes the guest
# socket, starts vznet without --listen once the hypervisor's relay connects or sends, and passes the socket by
# LISTEN_FDS/LISTEN_PID; the guest is then served as usual.

register_scenario socket_activation custom

# shellcheck disable=SC2034  # GUEST_SOCKET_URI and VZNET_PID are lib.sh's
setup_socket_activation() {
  command -v systemd-socket-activate >/dev/null || fail "systemd-socket-activate is missing (package systemd)"
  make_namespaces
  start_servers
  local socket="$TMP/activated.sock" type=()
  case "$FRAMING" in
    unix) ;;
    unixgram) type=(--datagram) ;;
    unixpacket) type=(--seqpacket) ;;
  esac
  GUEST_SOCKET_URI="$FRAMING://$socket"
  # shellcheck disable=SC2046  # vznet_command is a command line
  spawn "$NS_VZ" vznet systemd-socket-activate "${type[@]}" -l "$socket" $(vznet_command) --mtu "$MTU" \
    --log-level debug --dhcp-static "$GUEST_MAC=$GUEST_IP"
  VZNET_PID=$SPAWNED  # systemd-socket-activate execs vznet: one process
  wait_for "the activation socket" 10 test -S "$socket"
  attach_guest
}

scenario_socket_activation() {
  fetch_and_compare "http://$GATEWAY:8080/index.html" "$TMP/www/index.html"
  vznet_logged_text "socket activation: 1 socket(s) passed" || fail "vznet did not take the passed socket"
  local listening
  listening=$(grep -c "listening on " "$TMP/vznet.log")
  vznet_logged_text "listening on fd://3" || fail "vznet does not listen on fd://3"
  [ "$listening" = 1 ] || fail "vznet listens on $listening sockets, not only the passed one (default sockets too?)"
  pass "socket activation: vznet took the passed socket (fd://3) and served the guest ($FRAMING)"
}

vznet_logged_text() { grep -qF -- "$1" "$TMP/vznet.log"; }
