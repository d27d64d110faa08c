# shellcheck shell=bash
# Published-port scenarios (-p): host clients in VZ (vznet's "host") and in the LAN namespace reach servers
# inside the guest namespace through vznet. The guest has 192.168.64.2 (static, from lib.sh) unless a
# scenario runs udhcpc to get a lease, which the default target ("first guest") needs.

PUB_FLOWS_PORT=18085  # guest sha-reply :5003
PUB_GUEST=192.168.64.2  # lib.sh's GUEST_IP (lib.sh is sourced after the scenario files)
# shellcheck disable=SC2086  # the flag lists are meant to split
{
  register_scenario publish_http custom -p 18080:80 -p 0.0.0.0:18083:80 -p 18084:$PUB_GUEST:80 \
    -p "[::1]:18096:$PUB_GUEST:80"
  register_scenario publish_udp custom -p 17007:$PUB_GUEST:7/udp -p 0.0.0.0:17008:$PUB_GUEST:7/udp
  register_scenario publish_range custom -p 18090-18092:$PUB_GUEST:5090-5092 -p 18100-18102:$PUB_GUEST:5090
  register_scenario publish_bulk custom -p $PUB_FLOWS_PORT:$PUB_GUEST:5003 -p 18086:$PUB_GUEST:80
  register_scenario publish_many custom -p 18087:$PUB_GUEST:5003
  register_scenario publish_refused custom --connect-timeout 2 -p 18088:$PUB_GUEST:81 -p 18089:192.168.64.9:80
  register_scenario publish_bad bare
}

# --- set-up ------------------------------------------------------------------------------------------------

# The guest's own servers: HTTP :80 (a file of its own), UDP echo :7, sha-reply :5003.
start_guest_servers() {
  mkdir -p "$TMP/guest-www"
  head -c 131072 /dev/urandom | base64 >"$TMP/guest-www/index.html"
  spawn "$NS_GUEST" guest-http "$PY" -m http.server --bind 0.0.0.0 --directory "$TMP/guest-www" 80
  spawn "$NS_GUEST" guest-udp "$PY" "$SERVERS" udp-echo 0.0.0.0 7
  spawn "$NS_GUEST" guest-sha "$PY" "$SERVERS" sha-reply 0.0.0.0 5003
  wait_for "guest servers" 10 listening "$NS_GUEST" tcp 80 udp 7 tcp 5003
}

publish_setup() {
  setup "$FRAMING" 1500
  start_guest_servers
}
setup_publish_http() { publish_setup; }
setup_publish_udp() { publish_setup; }
setup_publish_bulk() { publish_setup; }
setup_publish_many() { publish_setup; }
setup_publish_refused() { publish_setup; }

# Host port 18100 is taken before vznet starts, so "18100-18102:5090" has to pick 18101.
setup_publish_range() {
  make_namespaces
  start_servers
  spawn "$NS_VZ" squatter socat -u TCP-LISTEN:18100,bind=127.0.0.1,reuseaddr /dev/null
  wait_for "squatter on 18100" 10 listening "$NS_VZ" tcp 18100
  start_vznet
  attach_guest
  start_guest_servers
  local port
  for port in 5090 5091 5092; do
    mkdir -p "$TMP/www-$port"
    echo "$port" >"$TMP/www-$port/port.txt"
    spawn "$NS_GUEST" "guest-http-$port" "$PY" -m http.server --bind 0.0.0.0 --directory "$TMP/www-$port" "$port"
  done
  wait_for "guest range servers" 10 listening "$NS_GUEST" tcp 5090 tcp 5091 tcp 5092
}

# --- helpers -----------------------------------------------------------------------------------------------

# fetch_from NS URL EXPECTED_FILE WHAT: curl in NS must return exactly EXPECTED_FILE.
fetch_from() {
  local ns=$1 url=$2 expected=$3 what=$4 out="$TMP/fetch-publish.out"
  rm -f "$out"
  ip netns exec "$ns" timeout 20 curl -sS --max-time 15 -o "$out" "$url" 2>"$TMP/curl.err" ||
    fail "$what: curl $url: $(cat "$TMP/curl.err")"
  cmp -s "$out" "$expected" || fail "$what: $url returned different bytes"
}

# expect_no_connect NS HOST PORT WHAT: a TCP connect from NS to HOST:PORT is refused.
expect_no_connect() {
  if ip netns exec "$1" timeout 5 socat -u /dev/null "TCP:$2:$3,connect-timeout=3" 2>"$TMP/connect.err"; then
    fail "$4: connect to $2:$3 succeeded (expected refused)"
  fi
  grep -qi refused "$TMP/connect.err" || fail "$4: expected 'refused', got: $(cat "$TMP/connect.err")"
}

# The guest's HTTP server logs each client's address: the last one must be $1.
guest_saw_client() { tail -n 1 "$TMP/guest-http.log" | grep -q "^$1 - -"; }

# expect_end NS HOST PORT KIND MAX_MS WHAT: a client's connection ends with KIND (reset|eof) within MAX_MS.
expect_end() {
  local out kind ms
  out=$(ip netns exec "$1" timeout 10 "$PY" "$SERVERS" end-time "$2" "$3" 2>&1) ||
    fail "$6: connection stayed open ($out)"
  read -r kind ms <<<"$out"
  [ "$kind" = "$4" ] || fail "$6: ended with '$out', expected $4"
  [ "$ms" -lt "$5" ] || fail "$6: took $ms ms to end (limit $5)"
  END_MS=$ms
}

# --- scenarios ---------------------------------------------------------------------------------------------

scenario_publish_http() {
  # Before any lease the default target is unknown: the client is turned away at once, not left hanging.
  expect_end "$NS_VZ" 127.0.0.1 18080 reset 1000 "default target without a lease"
  grep -q "no guest holds a DHCP lease" "$TMP/vznet.log" || fail "vznet did not say why it turned the client away"
  # An explicit guest address needs no lease.
  fetch_from "$NS_VZ" "http://127.0.0.1:18084/index.html" "$TMP/guest-www/index.html" "explicit guest address"
  guest_saw_client "$GATEWAY" ||
    fail "a loopback client should appear as the gateway: $(tail -n 1 "$TMP/guest-http.log")"
  # An IPv6 host address; the IPv4-only guest sees the client as the gateway.
  fetch_from "$NS_VZ" "http://[::1]:18096/index.html" "$TMP/guest-www/index.html" "IPv6 host address [::1]"
  guest_saw_client "$GATEWAY" || fail "an IPv6 client should appear as the gateway: $(tail -n 1 "$TMP/guest-http.log")"

  udhcpc_once "$NS_GUEST" publish
  local leased
  leased=$(event_field "$BOUND_LINE" ip)
  log "guest leased $leased"
  fetch_from "$NS_VZ" "http://127.0.0.1:18080/index.html" "$TMP/guest-www/index.html" "default target (lease)"
  guest_saw_client "$GATEWAY" || fail "loopback client not shown as the gateway: $(tail -n 1 "$TMP/guest-http.log")"
  # 0.0.0.0 is reachable from the LAN, and the guest sees the LAN client's own address.
  fetch_from "$NS_LAN" "http://$VZ_LAN_IP:18083/index.html" "$TMP/guest-www/index.html" "0.0.0.0 bind from the LAN"
  guest_saw_client "$LAN_IP" ||
    fail "the guest did not see the LAN client's address: $(tail -n 1 "$TMP/guest-http.log")"
  # The default bind (127.0.0.1) is not.
  expect_no_connect "$NS_LAN" "$VZ_LAN_IP" 18080 "default bind from the LAN"
  pass "published TCP: loopback, [::1] and 0.0.0.0 binds, default and explicit targets, client addresses ($FRAMING)"
}

scenario_publish_udp() {
  local size pids=() pid
  # Each client gets its own replies: several at once, each checking its own payload.
  for size in 1 100 1000 1472; do
    spawn "$NS_VZ" "udp-client-$size" "$PY" "$SERVERS" udp-roundtrip 127.0.0.1 17007 "$size"
    pids+=("$SPAWNED")
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || fail "a UDP client through 127.0.0.1:17007 got no (or a wrong) reply: $(cat "$TMP"/udp-client-*.log)"
  done
  in_lan timeout 10 "$PY" "$SERVERS" udp-roundtrip "$VZ_LAN_IP" 17008 1472 >"$TMP/udp-lan.out" 2>&1 ||
    fail "UDP from the LAN through 0.0.0.0:17008: $(cat "$TMP/udp-lan.out")"
  # 1472 bytes is the most a 1500-byte MTU carries unfragmented.
  pass "published UDP: 4 concurrent loopback clients (1..1472 bytes) and a LAN client ($FRAMING)"
}

scenario_publish_range() {
  local port out
  for port in 0 1 2; do
    out=$(in_vz timeout 10 curl -sS --max-time 5 "http://127.0.0.1:1809$port/port.txt" 2>&1) ||
      fail "range: 1809$port: $out"
    [ "$out" = "509$port" ] || fail "range: host 1809$port reached guest port '$out', expected 509$port"
  done
  grep -q "published 127.0.0.1:18101/tcp" "$TMP/vznet.log" || fail "pick-one range did not bind 18101"
  out=$(in_vz timeout 10 curl -sS --max-time 5 "http://127.0.0.1:18101/port.txt" 2>&1) || fail "pick-one: $out"
  [ "$out" = 5090 ] || fail "pick-one: 18101 reached '$out', expected 5090"
  expect_no_connect "$NS_VZ" 127.0.0.1 18102 "pick-one binds only one port"
  pass "published ranges: 18090-18092 -> 5090-5092 port by port; 18100-18102:5090 took the free 18101"
}

scenario_publish_bulk() {
  local mib=${BULK_MIB:-100} data="$TMP/guest-www/big.bin" want got start ms
  make_random_file "$data" "$mib"
  want=$(sha_of "$data")
  # host -> guest: the guest's sha-reply server digests what the host client sends.
  start=$(now_ms)
  got=$(in_vz timeout 120 bash -c "socat -t 60 - TCP:127.0.0.1:$PUB_FLOWS_PORT <'$data'" 2>"$TMP/socat.err") ||
    fail "host->guest $mib MiB: $(cat "$TMP/socat.err")"
  ms=$(($(now_ms) - start))
  [ "$got" = "$want $((mib << 20))" ] || fail "host->guest: the guest digested '$got', expected '$want $((mib << 20))'"
  log "host->guest $mib MiB in $ms ms ($(rate $((mib << 20)) "$ms"))"
  # guest -> host: the guest's HTTP server sends the file.
  start=$(now_ms)
  got=$(in_vz timeout 120 curl -sS --max-time 100 "http://127.0.0.1:18086/big.bin" 2>"$TMP/curl.err" |
    sha256sum | cut -d' ' -f1)
  ms=$(($(now_ms) - start))
  [ "$got" = "$want" ] || fail "guest->host: sha256 differs ($(cat "$TMP/curl.err"))"
  log "guest->host $mib MiB in $ms ms ($(rate $((mib << 20)) "$ms"))"
  pass "$mib MiB each way through published ports, sha256 equal ($FRAMING)"
}

scenario_publish_many() {
  local out
  out=$(in_vz timeout 90 "$PY" "$SERVERS" many-sha 127.0.0.1 18087 200 65536 60 2>&1) ||
    fail "200 concurrent connections through one forward: $out"
  log "$out"
  pass "200 concurrent connections through one published port all completed ($FRAMING)"
}

scenario_publish_refused() {
  # Nothing listens on the guest's port 81: the guest answers RST, the host client is reset at once.
  expect_end "$NS_VZ" 127.0.0.1 18088 reset 1000 "guest refuses"
  log "guest refusal reached the host client in $END_MS ms"
  # Nobody has 192.168.64.9: the client is reset when --connect-timeout (2 s) expires, not left hanging.
  expect_end "$NS_VZ" 127.0.0.1 18089 reset 4500 "no guest at the target"
  [ "$END_MS" -ge 1500 ] || fail "no guest at the target: reset after $END_MS ms, before --connect-timeout"
  log "unanswered target reset the host client after $END_MS ms"
  pass "published port: guest refusal resets the client in < 1 s, an absent guest after --connect-timeout"
}

scenario_publish_bad() {
  spawn "$NS_VZ" squatter socat -u TCP-LISTEN:18080,bind=127.0.0.1,reuseaddr /dev/null
  wait_for "squatter on 18080" 10 listening "$NS_VZ" tcp 18080
  expect_usage_error "port in use" "--publish" --listen "unix://$TMP/bad.sock" -p 18080:80
  grep -q "in use" "$TMP/bad.err" || fail "port in use: message does not say so: $(cat "$TMP/bad.err")"
  [ ! -e "$TMP/bad.sock" ] || fail "a failed publish left $TMP/bad.sock behind (it must fail before listening)"
  expect_usage_error "address not on this host" "--publish" --listen "unix://$TMP/bad.sock" -p 10.9.9.9:18081:80
  local spec
  for spec in 0:80 80:70000 8080-8081:80-82 "8080:80/sctp" "::1:8080:80" "8080:80:90:100:1"; do
    expect_usage_error "bad spec $spec" "--publish" --listen "unix://$TMP/bad.sock" -p "$spec"
  done
  pass "bad -p specs and unbindable ports: exit 2, one line naming --publish, nothing left behind"
}

# --- the control API ---------------------------------------------------------------------------------------

register_scenario publish_api custom -p "$PUB_FLOWS_PORT:$PUB_GUEST:5003"

setup_publish_api() {
  make_namespaces
  start_servers
  VZNET_FLAGS+=(--api "$TMP/api.sock")
  start_vznet
  attach_guest
  start_guest_servers
}

# api METHOD PATH [BODY]: one request; the body goes to $TMP/api.out, the status is printed.
api() {
  local data=()
  [ $# -ge 3 ] && data=(-H 'Content-Type: application/json' --data "$3")
  curl -sS --max-time 10 --unix-socket "$TMP/api.sock" -o "$TMP/api.out" -w '%{http_code}' -X "$1" \
    "${data[@]}" "http://vznet$2" 2>"$TMP/api.err" || fail "API $1 $2: $(cat "$TMP/api.err")"
}

# expect_api STATUS METHOD PATH [BODY]
expect_api() {
  local want=$1 got
  shift
  got=$(api "$@")
  [ "$got" = "$want" ] || fail "API $1 $2: status $got, expected $want: $(cat "$TMP/api.out")"
}

# expect_json WHAT PYTHON_EXPRESSION: the last answer, parsed as `d`, satisfies the expression (which may span
# lines: it is evaluated inside brackets).
expect_json() {
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$TMP/api.out" ||
    fail "API answer for $1 does not satisfy '$2': $(head -c 2000 "$TMP/api.out")"
}

# TCP ports vznet listens on (published ports only: the API is a unix socket, never a TCP port).
vznet_tcp_listeners() {
  in_vz ss -Hltnp | grep "pid=$VZNET_PID," | awk '{print $4}' | sed 's/.*://' | sort -n | tr '\n' ' '
}

scenario_publish_api() {
  [ "$(stat -c %a "$TMP/api.sock")" = 600 ] || fail "API socket mode is $(stat -c %a "$TMP/api.sock"), expected 600"
  expect_api 200 GET /health
  expect_json /health 'd == {"status": "ok"}'

  # A transfer through the -p forward runs across every change below and must come through intact.
  spawn "$NS_VZ" paced "$PY" "$SERVERS" paced-sha 127.0.0.1 "$PUB_FLOWS_PORT" 4000000 6
  local paced=$SPAWNED id_tcp id_udp
  wait_for "the paced transfer's flow" 10 bash -c \
    "curl -s --unix-socket '$TMP/api.sock' http://vznet/flows | grep -q '\"$PUB_GUEST:5003\"'"

  expect_api 201 POST /forwards '{"spec": "18095:192.168.64.2:80"}'
  id_tcp=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/api.out")
  fetch_from "$NS_VZ" "http://127.0.0.1:18095/index.html" "$TMP/guest-www/index.html" "forward added at run time"
  local udp_forward='{"host_address": "0.0.0.0", "host_port": 17009, '
  udp_forward+='"guest_address": "192.168.64.2", "guest_port": 7, "protocol": "udp"}'
  expect_api 201 POST /forwards "$udp_forward"
  id_udp=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/api.out")
  in_lan timeout 10 "$PY" "$SERVERS" udp-roundtrip "$VZ_LAN_IP" 17009 1000 >"$TMP/udp-lan.out" 2>&1 ||
    fail "UDP forward added at run time: $(cat "$TMP/udp-lan.out")"

  expect_api 200 GET /forwards
  expect_json /forwards "len(d) == 3 and
    sorted(f['ports'][0]['host_port'] for f in d) == [17009, $PUB_FLOWS_PORT, 18095]"
  expect_api 200 GET /flows
  expect_json /flows "any(f['direction'] == 'inbound' and f['protocol'] == 'tcp' and f['guest'] == '$PUB_GUEST:5003'
    and f['remote'].startswith('$GATEWAY:') and f['bytes_to_guest'] > 0 for f in d)"

  # Bad requests are answered, not obeyed.
  expect_api 400 POST /forwards '{"spec": '
  expect_api 400 POST /forwards '{"spec": "0:80"}'
  expect_api 400 POST /forwards '{"guest_port": 80, "colour": "red"}'
  expect_api 409 POST /forwards '{"spec": "18095:80"}'
  expect_json "409" "'in use' in d['error']"
  expect_api 404 DELETE /forwards/999
  expect_api 400 DELETE /forwards/abc
  expect_api 404 GET /nope

  expect_api 204 DELETE "/forwards/$id_tcp"
  expect_no_connect "$NS_VZ" 127.0.0.1 18095 "forward removed at run time"
  expect_api 204 DELETE "/forwards/$id_udp"
  wait "$paced" || fail "the transfer running across API changes broke: $(cat "$TMP/paced.log")"
  log "$(cat "$TMP/paced.log")"

  udhcpc_once "$NS_GUEST" api
  expect_api 200 GET /leases
  expect_json /leases "any(l['state'] == 'bound' and l['address'] == '$(event_field "$BOUND_LINE" ip)' for l in d)"
  expect_api 200 GET /stats
  expect_json /stats "d['uptime_seconds'] > 0 and d['link']['from_guests']['frames'] > 0
    and d['link']['to_guests']['bytes'] > 0
    and d['forward']['inbound_tcp_opened'] >= 2 and d['forward']['inbound_udp_opened'] >= 1
    and d['dhcp']['events']['ack'] >= 1 and 'tcp' in d['flows']"

  # The guest cannot reach the API: vznet's only TCP listener is the published port.
  local listeners
  listeners=$(vznet_tcp_listeners)
  [ "$listeners" = "$PUB_FLOWS_PORT " ] || fail "vznet listens on TCP ports '$listeners', expected only $PUB_FLOWS_PORT"
  pass "control API: health, stats, leases, flows, forwards added and removed at run time" \
    "without disturbing a transfer; errors as JSON ($FRAMING)"
}
