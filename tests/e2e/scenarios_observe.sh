# shellcheck shell=bash
# Observability scenarios. Packet capture: --pcap writes what crosses the guest's port, read back with tshark
# (Debian's) and matched against flows the test made; the control API starts and ends a capture at run time.
# Metrics and logs: GET /metrics parsed by python3-prometheus-client's parser, checked against the traffic the
# test made, and every line of a --log-format json log parsed as JSON. (api() is scenarios_publish.sh's.)

register_scenario pcap custom --pcap-max-mb 5
register_scenario metrics_json_logs custom --log-format json --egress-deny "10.77.0.2:80/tcp"

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

setup_metrics_json_logs() {
  make_namespaces
  start_servers
  VZNET_FLAGS+=(--api "$TMP/api.sock")
  start_vznet
  attach_guest
}

# metric NAME LABELS: the value of the sample NAME{LABELS} (LABELS as "key=value,..."; empty for none) in the
# last GET /metrics ($TMP/api.out), as the Prometheus parser reads it; "missing" when there is none.
metric() {
  "$PY" - "$TMP/api.out" "$1" "$2" <<'PYEOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
path, name, labels = sys.argv[1], sys.argv[2], sys.argv[3]
want = dict(item.split("=", 1) for item in labels.split(",") if item)
for family in text_string_to_metric_families(open(path).read()):
    for sample in family.samples:
        if sample.name == name and sample.labels == want:
            print(int(sample.value))
            sys.exit(0)
print("missing")
PYEOF
}

# expect_metric_at_least NAME LABELS MIN
expect_metric_at_least() {
  local value
  value=$(metric "$1" "$2")
  if [ "$value" = missing ] || [ "$value" -lt "$3" ]; then fail "metric $1{$2} is $value, expected at least $3"; fi
}

scenario_metrics_json_logs() {
  fetch_and_compare "http://$GATEWAY:8080/index.html" "$TMP/www/index.html"
  if in_guest timeout 10 curl -sS --max-time 5 -o /dev/null "http://$LAN_IP/" 2>/dev/null; then
    fail "the egress policy let the guest reach $LAN_IP:80"
  fi
  [ "$(in_guest timeout 10 dig "@$GATEWAY" +short +time=3 +tries=1 host.vz.internal A)" = "$GATEWAY" ] ||
    fail "dig host.vz.internal"

  local status
  status=$(api GET /metrics)
  [ "$status" = 200 ] || fail "GET /metrics: $status"
  grep -q '^# TYPE vznet_link_frames_total counter$' "$TMP/api.out" || fail "GET /metrics: no typed families"
  [ "$(metric vznet_guests "")" = 1 ] || fail "vznet_guests is $(metric vznet_guests "")"
  expect_metric_at_least vznet_link_frames_total direction=from_guest 10
  expect_metric_at_least vznet_link_frames_total direction=to_guest 10
  expect_metric_at_least vznet_link_bytes_total direction=to_guest 1000
  expect_metric_at_least vznet_forward_events_total event=tcp_opened 1
  expect_metric_at_least vznet_forward_events_total event=egress_denied_tcp 1
  expect_metric_at_least vznet_dns_events_total event=udp_query 1
  expect_metric_at_least vznet_dns_events_total event=zone_answer 1
  [ "$(metric vznet_guard_drops_total reason=ip_spoof)" = 0 ] || fail "vznet_guard_drops_total{reason=ip_spoof}"
  [ "$(metric vznet_dhcp_leases state=bound)" = 0 ] || fail "vznet_dhcp_leases{state=bound}"

  # Every line vznet logged is one JSON object with a time, a level and a message.
  "$PY" - "$TMP/vznet.log" <<'PYEOF' || fail "vznet's --log-format json output is not one JSON object a line"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines, "no log lines"
for line in lines:
    entry = json.loads(line)
    assert set(entry) == {"time", "level", "message"}, line
assert any(json.loads(l)["message"].startswith("guest attached") for l in lines), "no 'guest attached' line"
assert any("egress" in json.loads(l)["message"] for l in lines), "no egress line"
PYEOF
  pass "GET /metrics parses as Prometheus text and counts the guest's traffic; the JSON log parses ($FRAMING)"
}
