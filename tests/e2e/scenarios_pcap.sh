# shellcheck shell=bash
# Packet capture scenarios: --pcap writes what crosses the guest's port, read back with tshark (Debian's) and
# matched against flows the test made; the control API starts and ends a capture at run time (api() is
# scenarios_publish.sh's).

register_scenario pcap custom --pcap-max-mb 5

setup_pcap() {
  make_namespaces
  start_servers
  VZNET_FLAGS+=(--api "$TMP/api.sock" --pcap "$TMP/boot.pcap")
  start_vznet
  attach_guest
}

# pcap_count FILE FILTER: how many frames of FILE match the tshark display FILTER.
pcap_count() {
  tshark -r "$1" -Y "$2" -T fields -e frame.number 2>"$TMP/tshark.err" | wc -l
}

# pcap_has FILE FILTER WHAT: at least one frame of FILE matches FILTER, or the scenario fails naming WHAT.
pcap_has() {
  local n
  n=$(pcap_count "$1" "$2")
  [ "$n" -gt 0 ] || fail "$(basename "$1"): no $3 ($2) $(cat "$TMP/tshark.err")"
}

# api_field NAME: the field NAME of the last API answer ($TMP/api.out).
api_field() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$TMP/api.out" "$1"; }

scenario_pcap() {
  command -v tshark >/dev/null || fail "tshark is missing (tools/install-deps.sh test installs it)"
  local first="$TMP/boot.pcap" second="$TMP/live.pcap" status frames
  # Traffic while the --pcap capture runs: an HTTP fetch from the host's loopback and two pings.
  fetch_and_compare "http://$GATEWAY:8080/index.html" "$TMP/www/index.html"
  in_guest timeout 10 ping -n -c 2 -i 0.2 -W 2 "$GATEWAY" >/dev/null || fail "ping $GATEWAY"
  status=$(api GET /pcap)
  [ "$status" = 200 ] || fail "GET /pcap: $status $(cat "$TMP/api.out")"
  [ "$(api_field capturing)" = True ] || fail "GET /pcap: not capturing: $(cat "$TMP/api.out")"
  status=$(api DELETE /pcap)
  [ "$status" = 200 ] || fail "DELETE /pcap: $status $(cat "$TMP/api.out")"
  frames=$(api_field frames)

  # The file holds every frame the capture counted, and the flows the guest made, both ways.
  [ "$(pcap_count "$first" frame)" = "$frames" ] ||
    fail "boot.pcap holds $(pcap_count "$first" frame) frames, the capture counted $frames"
  pcap_has "$first" "http.request.uri == \"/index.html\" && ip.src == $GUEST_IP && ip.dst == $GATEWAY" \
    "HTTP request from the guest"
  pcap_has "$first" "http.response.code == 200 && ip.dst == $GUEST_IP" "HTTP answer to the guest"
  [ "$(pcap_count "$first" "icmp.type == 8 && ip.src == $GUEST_IP")" -ge 2 ] || fail "boot.pcap: not two echo requests"
  [ "$(pcap_count "$first" "icmp.type == 0 && ip.dst == $GUEST_IP")" -ge 2 ] || fail "boot.pcap: not two echo replies"
  pcap_has "$first" "arp && eth.src == $GUEST_MAC" "ARP from the guest"
  status=$(api GET /pcap)
  [ "$(api_field capturing)" = False ] || fail "GET /pcap after DELETE: $(cat "$TMP/api.out")"
  [ "$(api DELETE /pcap)" = 404 ] || fail "DELETE /pcap without a capture: not 404"

  # A capture started at run time sees what follows, and only that; a file that cannot be written is a 400.
  [ "$(api POST /pcap '{"path": "/nonexistent-dir/x.pcap"}')" = 400 ] || fail "POST /pcap to a missing dir: not 400"
  status=$(api POST /pcap "{\"path\": \"$second\", \"max_mb\": 2}")
  [ "$status" = 201 ] || fail "POST /pcap: $status $(cat "$TMP/api.out")"
  in_guest timeout 10 curl -sS --max-time 5 -o /dev/null "http://$GATEWAY:8080/live-only" 2>/dev/null
  status=$(api DELETE /pcap)
  [ "$status" = 200 ] || fail "DELETE /pcap: $status"
  pcap_has "$second" "http.request.uri == \"/live-only\"" "request made during the run-time capture"
  [ "$(pcap_count "$first" "http.request.uri == \"/live-only\"")" = 0 ] || fail "boot.pcap grew after it ended"
  [ "$(pcap_count "$second" "http.request.uri == \"/index.html\"")" = 0 ] || fail "live.pcap holds earlier frames"
  pass "--pcap and POST/DELETE /pcap: tshark reads the guest's HTTP, ICMP and ARP both ways ($frames frames) ($FRAMING)"
}
