# shellcheck shell=bash
# The e2e scenarios, one function each, shared by every framing (run.sh picks the set-up). Each asserts
# real behaviour with real clients in the GUEST namespace and bounded waits; `fail` ends the test.

# --- helpers ---------------------------------------------------------------------------------------------

# fetch URL: curl from the guest, compared with the served file.
fetch_and_compare() {
  local url=$1 out="$TMP/fetch.out"
  rm -f "$out"
  in_guest timeout 20 curl -sS --max-time 15 -o "$out" "$url" 2>"$TMP/curl.err" ||
    fail "curl $url: $(cat "$TMP/curl.err")"
  cmp -s "$out" "$TMP/www/index.html" || fail "curl $url returned different bytes"
}

# A TCP connect from the guest expected to fail; sets CONNECT_MS and CONNECT_ERR.
connect_expect_failure() {
  local target=$1 start
  start=$(now_ms)
  if in_guest timeout 10 socat -u /dev/null "TCP:$target,connect-timeout=8" 2>"$TMP/connect.err"; then
    fail "connect to $target succeeded (expected a failure)"
  fi
  CONNECT_MS=$(($(now_ms) - start))
  CONNECT_ERR=$(tr '\n' ' ' <"$TMP/connect.err")
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

make_random_file() {
  local path=$1 mib=$2
  head -c "$((mib << 20))" /dev/urandom >"$path" || fail "cannot write $path"
}

rate() { # BYTES MS -> "N MB/s"
  local ms=$2
  [ "$ms" -gt 0 ] || ms=1
  echo "$(($1 * 1000 / ms / 1000000)) MB/s"
}

# --- 1, 2: HTTP ------------------------------------------------------------------------------------------

scenario_http_loopback() {
  fetch_and_compare "http://$GATEWAY:8080/index.html"
  pass "curl to the host's loopback via $GATEWAY:8080 ($FRAMING)"
}

scenario_http_lan() {
  fetch_and_compare "http://$LAN_IP/index.html"
  pass "curl to the LAN server $LAN_IP:80 ($FRAMING)"
}

# --- 3: UDP echo -------------------------------------------------------------------------------------------

# udp_echo_via_socat HOST: one datagram out, the same bytes back, within 3 s.
udp_echo_via_socat() {
  local host=$1 msg reply="$TMP/udp.reply"
  msg="vznet-e2e-$RANDOM$RANDOM"
  rm -f "$reply"
  # socat sends what the script prints; the script reads the echo (bounded by read -t) into $reply.
  cat >"$TMP/udp_ask.sh" <<EOF
#!/bin/bash
echo $msg
IFS= read -r -t 3 line && printf '%s\n' "\$line" >$reply
EOF
  in_guest timeout 10 socat -t 0.2 -T 5 "UDP4:$host:7" "EXEC:bash $TMP/udp_ask.sh" 2>"$TMP/socat.err" ||
    fail "socat UDP to $host:7: $(cat "$TMP/socat.err")"
  [ -f "$reply" ] || fail "no UDP echo from $host:7 within 3 s"
  [ "$(cat "$reply")" = "$msg" ] || fail "UDP echo from $host:7 differs: '$(cat "$reply")' != '$msg'"
}

scenario_udp_echo() {
  udp_echo_via_socat "$LAN_IP"
  udp_echo_via_socat "$GATEWAY"
  pass "UDP echo round trips to $LAN_IP and $GATEWAY (host loopback) ($FRAMING)"
}

# --- 4: ICMP echo ----------------------------------------------------------------------------------------

scenario_ping() {
  local host
  for host in "$GATEWAY" "$LAN_IP"; do
    in_guest timeout 10 ping -n -c 2 -i 0.2 -W 2 "$host" >"$TMP/ping.out" 2>&1 ||
      fail "ping $host: $(tail -n 3 "$TMP/ping.out" | tr '\n' ' ')"
  done
  pass "ping to $GATEWAY and $LAN_IP ($FRAMING)"
}

# --- 5, 11: bulk transfers both ways -----------------------------------------------------------------------

scenario_bulk() {
  local mib=${BULK_MIB:-100} data="$TMP/data.bin" up="$TMP/up.bin" down="$TMP/down.bin"
  make_random_file "$data" "$mib"
  local want
  want=$(sha_of "$data")
  # guest -> host: a one-shot socat on the host's loopback writes what it receives to a file.
  bulk_one_way upload "guest->host" 5001 "TCP-LISTEN:5001,bind=$HOST_LO_BIND,reuseaddr" "CREATE:$up" \
    "OPEN:$data,rdonly" "TCP:$GATEWAY:5001" "$up"
  # host -> guest: a one-shot socat on the host's loopback sends the file.
  bulk_one_way download "host->guest" 5002 "OPEN:$data,rdonly" "TCP-LISTEN:5002,bind=$HOST_LO_BIND,reuseaddr" \
    "TCP:$GATEWAY:5002" "CREATE:$down" "$down"
  rm -f "$data"
  pass "$mib MiB each way with equal sha256 ($FRAMING, mtu $MTU)"
}

# One timed transfer of scenario_bulk ($mib MiB whose sha256 is $want): the host's one-shot socat copies $4 to $5
# (listening on port $3), the guest's copies $6 to $7, and the file $8 that arrived must hash to $want.
bulk_one_way() {
  local what=$1 direction=$2 port=$3 server start ms
  spawn "$NS_VZ" "bulk-$what-server" socat -u "$4" "$5"
  server=$SPAWNED
  wait_for "$what server" 10 listening "$NS_VZ" tcp "$port"
  cpu_mark
  start=$(now_ms)
  in_guest timeout 120 socat -u "$6" "$7" 2>"$TMP/socat.err" || fail "$what of $mib MiB: $(cat "$TMP/socat.err")"
  wait_for "$what server to finish" 30 not_running "$server"
  ms=$(($(now_ms) - start))
  [ "$(sha_of "$8")" = "$want" ] || fail "$what: sha256 differs ($(stat -c %s "$8") of $((mib << 20)) bytes arrived)"
  log "$direction $mib MiB in $ms ms ($(rate $((mib << 20)) "$ms")); $(cpu_used)"
  rm -f "$8"
}

not_running() { ! kill -0 "$1" 2>/dev/null; }

# CPU seconds vznet and the relay spent between cpu_mark and cpu_used: shows which one limits a transfer.
cpu_mark() {
  CPU_VZNET0=$(cpu_centis "$VZNET_PID")
  CPU_RELAY0=$(cpu_centis "$RELAY_PID")
}
cpu_used() {
  local v r
  v=$(($(cpu_centis "$VZNET_PID") - CPU_VZNET0))
  r=$(($(cpu_centis "$RELAY_PID") - CPU_RELAY0))
  printf 'cpu: vznet %d.%02d s, relay %d.%02d s' $((v / 100)) $((v % 100)) $((r / 100)) $((r % 100))
}

# --- 6: half-close -----------------------------------------------------------------------------------------

scenario_half_close() {
  local data="$TMP/half.bin" host want
  make_random_file "$data" 1
  want="$(sha_of "$data") $((1 << 20))"
  for host in "$GATEWAY" "$LAN_IP"; do
    # socat shuts down its write side at the end of the file and keeps reading (-t) for the answer,
    # which the server sends only after it has seen our FIN.
    in_guest timeout 30 socat -t 20 -T 20 - "TCP:$host:5003" <"$data" >"$TMP/half.reply" 2>"$TMP/socat.err" ||
      fail "half-close to $host:5003: $(cat "$TMP/socat.err")"
    [ "$(cat "$TMP/half.reply")" = "$want" ] ||
      fail "half-close to $host:5003: got '$(cat "$TMP/half.reply")', want '$want'"
  done
  pass "half-close: reply after the guest's FIN, to $GATEWAY and $LAN_IP ($FRAMING)"
}

# --- 7: refused --------------------------------------------------------------------------------------------

scenario_refused() {
  local target
  for target in "$GATEWAY:1" "$LAN_IP:1"; do
    connect_expect_failure "$target"
    grep -qi refused <<<"$CONNECT_ERR" || fail "connect to $target: expected 'refused', got: $CONNECT_ERR"
    [ "$CONNECT_MS" -lt 1000 ] || fail "connect to $target took $CONNECT_MS ms to be refused (limit 1000)"
    log "connect to $target refused in $CONNECT_MS ms"
  done
  pass "closed ports refused promptly ($FRAMING)"
}

# --- 8: many pending connects do not hold up a good one ----------------------------------------------------

# Connects to 10.77.0.99 in SYN-SENT: vznet's host sockets in VZ (the stand-in routes, so there: the guest's).
syn_sent_to_99() {
  local ns=$NS_VZ
  [ "$STANDIN" = 1 ] && ns=$NS_GUEST
  ip netns exec "$ns" ss -Htn state syn-sent "dst 10.77.0.99" | wc -l
}
pending_at_least() { [ "$(syn_sent_to_99)" -ge "$1" ]; }

scenario_pending_connects() {
  # 10.77.0.99 is in VZ's LAN subnet but nobody has it: ARP never resolves, vznet's connects hang.
  spawn "$NS_GUEST" connect-many "$PY" "$SERVERS" connect-many 10.77.0.99 80 50 20
  local many=$SPAWNED start ms before after
  wait_for "50 connects to 10.77.0.99 in flight" 5 pending_at_least 50
  before=$(syn_sent_to_99)
  start=$(now_ms)
  in_guest timeout 5 curl -sS --max-time 3 -o "$TMP/fetch.out" "http://$LAN_IP/index.html" 2>"$TMP/curl.err" ||
    fail "curl to $LAN_IP with 50 pending connects: $(cat "$TMP/curl.err")"
  ms=$(($(now_ms) - start))
  after=$(syn_sent_to_99)
  cmp -s "$TMP/fetch.out" "$TMP/www/index.html" || fail "curl with pending connects returned different bytes"
  [ "$ms" -lt 1000 ] || fail "curl to $LAN_IP took $ms ms with 50 pending connects (limit 1000)"
  [ "$after" -gt 0 ] || fail "the pending connects were gone before the good one finished (not concurrent)"
  log "good connection in $ms ms while $before -> $after connects to 10.77.0.99 were pending"
  stop_pid "$many"
  pass "50 pending connects to an unanswered LAN address, a good one still completes in $ms ms ($FRAMING)"
}

# --- 9: the guest goes away mid-transfer -------------------------------------------------------------------

guest_bytes_received() {
  in_guest ss -Htin "dst $GATEWAY:5004" | grep -o 'bytes_received:[0-9]*' | cut -d: -f2 | sort -n | tail -n 1
}
guest_received_at_least() { [ "$(guest_bytes_received)" -ge "$1" ] 2>/dev/null; }
detached_zero_remain() { grep -qE 'detached.*[^0-9]0 remain' "$TMP/vznet.log"; }
vznet_fds_at_baseline() { [ "$(fd_count "$VZNET_PID")" -le "$VZNET_FD_BASELINE" ]; }

scenario_relay_restart() {
  # An endless stream from the host's loopback to the guest, so the relay dies in the middle of it.
  spawn "$NS_VZ" endless-server socat -u /dev/zero "TCP-LISTEN:5004,bind=$HOST_LO_BIND,reuseaddr"
  local server=$SPAWNED
  wait_for "endless server" 10 listening "$NS_VZ" tcp 5004
  spawn "$NS_GUEST" endless-client socat -u "TCP:$GATEWAY:5004" /dev/null
  local client=$SPAWNED
  wait_for "4 MiB of the transfer in the guest" 20 guest_received_at_least $((4 << 20))

  kill -KILL "$RELAY_PID"
  wait "$RELAY_PID" 2>/dev/null
  RELAY_PID=""
  log "relay killed mid-transfer"
  wait_for "vznet to log the guest's detach with 0 flows remaining" 15 detached_zero_remain
  wait_for "vznet's fd count back to its baseline of $VZNET_FD_BASELINE" 15 vznet_fds_at_baseline
  kill -0 "$VZNET_PID" 2>/dev/null || fail "vznet died with its guest"
  stop_pid "$client"
  stop_pid "$server"

  attach_guest
  fetch_and_compare "http://$GATEWAY:8080/index.html"
  pass "relay killed mid-transfer: vznet released everything and serves the next guest ($FRAMING)"
}

# --- 10: outside addresses fail fast -----------------------------------------------------------------------

scenario_no_route() {
  assert_isolated
  connect_expect_failure 198.51.100.7:80
  [ "$CONNECT_MS" -lt 2000 ] || fail "connect to 198.51.100.7 took $CONNECT_MS ms to fail (limit 2000)"
  grep -qiE 'refused|unreachable|no route' <<<"$CONNECT_ERR" ||
    fail "connect to 198.51.100.7: expected refused/unreachable, got: $CONNECT_ERR"
  log "connect to 198.51.100.7 failed in $CONNECT_MS ms: $CONNECT_ERR"
  pass "outside address fails fast with no route in VZ ($FRAMING)"
}

# --- vznet stops while a guest is attached -----------------------------------------------------------------

scenario_vznet_stops() {
  # A flow open at the time, so vznet shuts down with work in hand.
  spawn "$NS_GUEST" idle-client socat -u "TCP:$GATEWAY:5003" /dev/null
  wait_for "a guest flow to the host" 10 in_guest_established "$GATEWAY:5003"
  stop_vznet  # asserts exit 0 and the socket files removed
  [ "$E2E_FAILED" = 0 ] || fail "vznet did not stop cleanly with a guest attached"
  wait_for "the relay to notice vznet is gone and exit" 10 not_running "$RELAY_PID"
  wait "$RELAY_PID"
  local rc=$?
  RELAY_PID=""
  [ "$rc" = 0 ] || fail "the relay exited $rc when vznet went away (expected 0)"
  grep -qE 'vznet closed|vznet went away|is gone|was replaced' "$TMP/relay.log" ||
    fail "the relay did not say why it exited"
  [ "$FRAMING" != unixgram ] || [ ! -e "$TMP/relay1.sock" ] || fail "the relay left its --local socket behind"
  pass "vznet stopped with a guest attached: exit 0, sockets removed, the relay left cleanly ($FRAMING)"
}

in_guest_established() { in_guest ss -Htn state established "dst $1" | grep -q .; }

# --- --connect-timeout: a destination that never answers -------------------------------------------------

scenario_connect_timeout() {
  # 10.78.0.0/24 is routed to the LAN host, which does not forward: SYNs vanish there, as with a firewall
  # that drops. vznet runs with --connect-timeout 2, so the guest must hear "unreachable" after ~2 s.
  ip -n "$NS_VZ" route add 10.78.0.0/24 via "$LAN_IP" || fail "route to the black hole"
  in_lan sysctl -q -w net.ipv4.ip_forward=0 || fail "LAN forwarding off"
  connect_expect_failure 10.78.0.5:80
  [ "$CONNECT_MS" -ge 1500 ] || fail "connect to a black hole failed after $CONNECT_MS ms, before the 2 s timeout"
  [ "$CONNECT_MS" -lt 4500 ] || fail "connect to a black hole took $CONNECT_MS ms (--connect-timeout 2)"
  grep -qiE 'unreachable|no route' <<<"$CONNECT_ERR" || fail "expected unreachable, got: $CONNECT_ERR"
  fetch_and_compare "http://$LAN_IP/index.html"
  log "black-holed connect failed after $CONNECT_MS ms: $CONNECT_ERR"
  pass "--connect-timeout 2: the guest hears unreachable after ~2 s ($FRAMING)"
}

# --- --exit-on-disconnect ----------------------------------------------------------------------------------

vznet_exited() { ! kill -0 "$VZNET_PID" 2>/dev/null; }

scenario_exit_on_disconnect() {
  # Connection framings only: a datagram peer has no connection to lose (vznet detaches it when a send to
  # it fails), so there is no disconnect event to test with unixgram.
  stop_pid "$RELAY_PID"
  RELAY_PID=""
  wait_for "vznet to exit after its guest disconnected" 10 vznet_exited
  wait "$VZNET_PID"
  local rc=$?
  VZNET_PID=""
  [ "$rc" = 0 ] || fail "vznet exited $rc after the disconnect (expected 0)"
  local f
  for f in "$TMP/s.sock" "$TMP/d.sock" "$TMP/p.sock"; do
    [ ! -e "$f" ] || fail "vznet left $f behind"
  done
  pass "--exit-on-disconnect: vznet exits 0 when its guest goes away ($FRAMING)"
}

# --- resets both ways ----------------------------------------------------------------------------------------

marker_exists() { [ -e "$1" ]; }

scenario_reset() {
  mkdir -p "$TMP/marks"
  spawn "$NS_LAN" reset-server "$PY" "$SERVERS" reset-server "$LAN_IP" 5005 "$TMP/marks"
  wait_for "reset server" 10 listening "$NS_LAN" tcp 5005
  # Host -> guest: the server closes with RST; the guest's read must fail with "connection reset".
  in_guest timeout 15 "$PY" "$SERVERS" reset-client "$LAN_IP" 5005 expect-rst >"$TMP/rst1.out" 2>&1 ||
    fail "the guest did not see the host's reset: $(cat "$TMP/rst1.out")"
  # Guest -> host: the guest closes with RST; the server must see a reset, not an orderly EOF.
  in_guest timeout 15 "$PY" "$SERVERS" reset-client "$LAN_IP" 5005 send-rst >"$TMP/rst2.out" 2>&1 ||
    fail "guest reset client failed: $(cat "$TMP/rst2.out")"
  wait_for "the server to see the guest's reset" 10 marker_exists "$TMP/marks/reset-seen"
  [ ! -e "$TMP/marks/eof-seen" ] || fail "the host saw an orderly close instead of the guest's reset"
  # A server that accepts and resets at once: vznet's own connect may complete with ECONNRESET. The guest
  # must still get its connection (then the reset), never "no route to host" or "refused".
  spawn "$NS_LAN" rst-on-accept "$PY" "$SERVERS" rst-on-accept "$LAN_IP" 5006
  wait_for "rst-on-accept server" 10 listening "$NS_LAN" tcp 5006
  in_guest timeout 60 "$PY" "$SERVERS" connect-reset "$LAN_IP" 5006 200 >"$TMP/rst3.out" 2>&1 ||
    fail "connects to a server that resets at once: $(cat "$TMP/rst3.out")"
  pass "resets propagate both ways, also during the connect ($FRAMING)"
}

# --- UDP datagrams up to the MTU -------------------------------------------------------------------------------

scenario_udp_large() {
  local size=$((MTU - 28))  # the largest datagram that fits one guest frame
  in_guest timeout 10 "$PY" "$SERVERS" udp-roundtrip "$LAN_IP" 7 "$size" >"$TMP/udp.out" 2>&1 ||
    fail "a $size-byte datagram did not round-trip: $(cat "$TMP/udp.out")"
  in_guest timeout 10 "$PY" "$SERVERS" udp-roundtrip "$GATEWAY" 7 "$size" >"$TMP/udp.out" 2>&1 ||
    fail "a $size-byte datagram to the host's loopback did not round-trip: $(cat "$TMP/udp.out")"
  pass "UDP datagrams of $size bytes (MTU $MTU) round-trip ($FRAMING)"
}

# --- backpressure: a stalled reader does not make vznet buffer without bound ---------------------------------

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# assert_rss_bounded BASELINE_KIB WHAT: vznet's RSS may grow at most 32 MiB over BASELINE while a reader
# stalls: lwIP's window (2 MiB) and send buffer (2 MiB) and the port queue (4 MiB) bound it, not the transfer.
assert_rss_bounded() {
  local baseline=$1 what=$2 now
  now=$(rss_kib "$VZNET_PID")
  log "$what: vznet RSS ${now} KiB (baseline ${baseline} KiB)"
  [ "$((now - baseline))" -lt 32768 ] || fail "$what: vznet grew by $(((now - baseline) / 1024)) MiB"
}

scenario_backpressure() {
  local mib=64 baseline
  make_random_file "$TMP/bp.bin" "$mib"
  baseline=$(rss_kib "$VZNET_PID")
  # Guest -> host: the host's reader sleeps 4 s before reading a byte.
  spawn "$NS_VZ" slow-sha "$PY" "$SERVERS" sha-reply "$HOST_LO_BIND" 5006 4
  wait_for "slow reader" 10 listening "$NS_VZ" tcp 5006
  in_guest timeout 60 socat -t 30 STDIO "TCP:$GATEWAY:5006" <"$TMP/bp.bin" >"$TMP/bp.reply" 2>"$TMP/bp.err" &
  local sender=$!
  sleep 3  # the host reader is still asleep: whatever vznet holds now is what backpressure allowed
  assert_rss_bounded "$baseline" "guest->host with the host reader stalled"
  wait "$sender" || fail "guest->host transfer failed: $(cat "$TMP/bp.err")"
  [ "$(cut -d' ' -f1 "$TMP/bp.reply")" = "$(sha_of "$TMP/bp.bin")" ] || fail "guest->host bytes differ after the stall"
  # Host -> guest: the guest's reader sleeps 4 s before reading.
  spawn "$NS_VZ" bp-source socat -u "OPEN:$TMP/bp.bin" "TCP-LISTEN:5007,bind=$HOST_LO_BIND,reuseaddr"
  wait_for "source" 10 listening "$NS_VZ" tcp 5007
  in_guest timeout 60 "$PY" "$SERVERS" slow-reader "$GATEWAY" 5007 4 >"$TMP/bp2.out" 2>&1 &
  local reader=$!
  sleep 3
  assert_rss_bounded "$baseline" "host->guest with the guest reader stalled"
  wait "$reader" || fail "host->guest transfer failed: $(cat "$TMP/bp2.out")"
  [ "$(cut -d' ' -f1 "$TMP/bp2.out")" = "$(sha_of "$TMP/bp.bin")" ] || fail "host->guest bytes differ after the stall"
  pass "stalled readers: vznet's memory stays bounded and no byte is lost ($FRAMING)"
}

# --- ICMP sockets not permitted ----------------------------------------------------------------------------------

scenario_icmp_disabled() {
  in_vz sysctl -q -w net.ipv4.ping_group_range="1 0" || fail "cannot forbid ping sockets in VZ"
  if in_guest ping -c 2 -W 1 "$LAN_IP" >/dev/null 2>&1; then fail "ping to $LAN_IP answered without ICMP sockets"; fi
  if in_guest ping -c 2 -W 1 "$LAN_IP" >/dev/null 2>&1; then fail "ping to $LAN_IP answered without ICMP sockets"; fi
  local said
  said=$(grep -c 'ICMP echo to remote hosts is disabled' "$TMP/vznet.log")
  [ "$said" = 1 ] || fail "vznet said $said times that ICMP is disabled (expected exactly once)"
  in_guest ping -c 1 -W 2 "$GATEWAY" >/dev/null || fail "ping to the gateway must still work"
  pass "without ICMP sockets: no fake replies, said once in the log, gateway still answers ($FRAMING)"
}

# --- 12: bad flags (no guest) ------------------------------------------------------------------------------

# expect_usage_error WHAT WORD ARGS...: vznet ARGS must exit 2 with one stderr line containing WORD.
expect_usage_error() {
  local what=$1 word=$2 rc lines
  shift 2
  in_vz timeout 10 "$VZNET" "$@" >"$TMP/bad.out" 2>"$TMP/bad.err"
  rc=$?
  lines=$(wc -l <"$TMP/bad.err")
  [ "$rc" = 2 ] || fail "$what: exit code $rc, expected 2 (stderr: $(cat "$TMP/bad.err"))"
  [ "$lines" = 1 ] || fail "$what: $lines lines on stderr, expected 1: $(cat "$TMP/bad.err")"
  grep -qF -- "$word" "$TMP/bad.err" || fail "$what: stderr does not name '$word': $(cat "$TMP/bad.err")"
  log "$what: exit 2, stderr: $(cat "$TMP/bad.err")"
}

scenario_bad_flags() {
  expect_usage_error "--mtu 99999" "--mtu" --listen "unix://$TMP/bad.sock" --mtu 99999
  [ ! -e "$TMP/bad.sock" ] || fail "--mtu 99999 left $TMP/bad.sock behind"
  expect_usage_error "unwritable path" "--listen" \
    --listen "unixgram://$TMP/ok.sock" --listen "unix:///proc/vznet-e2e.sock"
  [ ! -e "$TMP/ok.sock" ] || fail "a failed start left $TMP/ok.sock behind"
  expect_usage_error "unwritable capture" "--pcap" --listen "unix://$TMP/ok.sock" --pcap /nonexistent-dir/x.pcap
  [ ! -e "$TMP/ok.sock" ] || fail "a failed --pcap left $TMP/ok.sock behind"
  start_vznet
  expect_usage_error "listen path in use" "$TMP/s.sock" --listen "unix://$TMP/s.sock"
  kill -0 "$VZNET_PID" 2>/dev/null || fail "the first vznet died when a second one tried its path"
  [ -S "$TMP/s.sock" ] || fail "the second vznet removed the first one's socket"
  in_vz timeout 5 socat -u /dev/null "UNIX-CONNECT:$TMP/s.sock" 2>"$TMP/socat.err" ||
    fail "the first vznet's socket no longer accepts: $(cat "$TMP/socat.err")"
  pass "bad flags and an in-use path: exit 2 with one line naming them"
}
