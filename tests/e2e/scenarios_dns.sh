# shellcheck shell=bash
# DNS scenarios: dig and curl in the guest against vznet's DNS server on the gateway, with dnsmasq in the LAN
# namespace as the only upstream (--dns-upstream; never a real resolver). Answers through vznet must equal
# what dnsmasq says when asked directly from VZ; truncation, TCP, failures and a burst are checked too.

DNS_UPSTREAM_IP=10.77.0.2  # lib.sh's LAN_IP, the LAN host (lib.sh is sourced after scenario files register)
DNS_BURST_PORT=5353   # dns_burst's upstream listens here: --dns-upstream IP:PORT is exercised too
DNSMASQ_PID=""
DNS_NETNS_DIR=""      # /etc/netns/<guest ns>, made by dns_use_vznet_resolver and removed on exit

register_scenario dns_answers guest --dns-upstream "$DNS_UPSTREAM_IP"
register_scenario dns_truncation guest --dns-upstream "$DNS_UPSTREAM_IP"
register_scenario dns_zone guest --dns-upstream "$DNS_UPSTREAM_IP" --dns-record db.vz.internal="$DNS_UPSTREAM_IP" \
  --dns-record Printer.Example.Test=10.77.0.9
register_scenario dns_upstream_down guest --dns-upstream "$DNS_UPSTREAM_IP"
register_scenario dns_timeout_flag guest --dns-upstream "$DNS_UPSTREAM_IP" --dns-timeout 1.5
register_scenario dns_burst guest --dns-upstream "$DNS_UPSTREAM_IP:$DNS_BURST_PORT"

# --- the test upstream -------------------------------------------------------------------------------------

# dns_start_upstream [PORT]: dnsmasq on LAN_IP:PORT (UDP and TCP) with the test zone, nothing else: no
# resolv.conf, no /etc/hosts, names under .test only (others are REFUSED, as dnsmasq has no servers).
# shellcheck disable=SC2054  # the commas belong to dnsmasq's option values
dns_start_upstream() {
  local port=${1:-53}
  local i args=(
    --no-resolv --no-hosts --bind-interfaces "--listen-address=$DNS_UPSTREAM_IP" "--port=$port"
    --keep-in-foreground --log-facility=- "--pid-file=$TMP/dnsmasq.pid" --user=root --group=root
    --local=/test/                                   # unknown .test names: NXDOMAIN
    --address=/burst.test/10.77.0.50                 # every name below burst.test
    --host-record=alpha.test,10.77.0.10
    --host-record=v6.test,10.77.0.11,fd00::11
    --mx-host=mail.test,mx1.test,10 --mx-host=mail.test,mx2.test,20 --host-record=mx1.test,10.77.0.21
    '--txt-record=txt.test,"hello world","second string"'
    --cname=c1.test,c2.test --cname=c2.test,c3.test --host-record=c3.test,10.77.0.33
    --srv-host=_http._tcp.srv.test,alpha.test,80,0,5
    --ptr-record=10.0.77.10.in-addr.arpa,alpha.test
  )
  # big.test: 100 A records, about 1.6 kB (over 512 and over dig's EDNS size of 1232); medium.test: 40,
  # about 700 bytes (over 512, under 1232).
  for i in $(seq 1 100); do args+=("--host-record=big.test,10.77.1.$i"); done
  for i in $(seq 1 40); do args+=("--host-record=medium.test,10.77.2.$i"); done
  spawn "$NS_LAN" dnsmasq dnsmasq "${args[@]}"
  DNSMASQ_PID=$SPAWNED
  wait_for "dnsmasq on $DNS_UPSTREAM_IP:$port" 10 listening "$NS_LAN" udp "$port" tcp "$port"
}

# --- dig helpers -------------------------------------------------------------------------------------------

# dns_dig NS SERVER [DIG ARGS...]: one bounded dig (a single try; dig itself retries over TCP after TC).
dns_dig() {
  local ns=$1 server=$2
  shift 2
  ip netns exec "$ns" timeout 20 dig "@$server" +time=3 +tries=1 +nottlid +nocmd "$@" 2>&1
}

# dns_summary OUTPUT: "status: X", then the answer section sorted (TTLs are already dropped by +nottlid).
dns_summary() {
  grep -o 'status: [A-Z]*' <<<"$1"
  awk '/^;; ANSWER SECTION:/ { a = 1; next } /^$/ { a = 0 } a' <<<"$1" | sort
}

answer_lines() { awk '/^;; ANSWER SECTION:/ { a = 1; next } /^$/ { a = 0 } a' <<<"$1" | grep -c .; }

# dns_expect_same STATUS ANSWERS NAME TYPE [DIG OPTIONS...]: asks vznet from the guest and dnsmasq directly
# from VZ; both must agree, with the expected status and number of answer records. Sets DNS_VIA (vznet's).
dns_expect_same() {
  local status=$1 answers=$2 name=$3 qtype=$4 via direct
  shift 4
  DNS_VIA=$(dns_dig "$NS_GUEST" "$GATEWAY" "$@" "$name" "$qtype") || fail "dig $* $name $qtype via vznet: $DNS_VIA"
  direct=$(dns_dig "$NS_VZ" "$DNS_UPSTREAM_IP" -p "${DNS_PORT:-53}" "$@" "$name" "$qtype") ||
    fail "dig $* $name $qtype at dnsmasq: $direct"
  via=$(dns_summary "$DNS_VIA")
  direct=$(dns_summary "$direct")
  [ "$via" = "$direct" ] || fail "$name $qtype $*: vznet and dnsmasq differ:
--- via vznet:
$via
--- dnsmasq:
$direct"
  grep -q "status: $status" <<<"$via" || fail "$name $qtype $*: expected $status, got: $(head -n 1 <<<"$via")"
  [ "$(answer_lines "$DNS_VIA")" = "$answers" ] ||
    fail "$name $qtype $*: expected $answers answer records, got $(answer_lines "$DNS_VIA"):
$DNS_VIA"
}

# Points the guest's libc resolver at vznet: `ip netns exec` bind-mounts /etc/netns/NS/resolv.conf over
# /etc/resolv.conf. The directory is ours to remove (dns_teardown, before lib.sh's teardown).
dns_use_vznet_resolver() {
  DNS_NETNS_DIR=/etc/netns/$NS_GUEST
  mkdir -p "$DNS_NETNS_DIR" || fail "mkdir $DNS_NETNS_DIR"
  trap dns_teardown EXIT
  printf 'nameserver %s\noptions timeout:3 attempts:1\n' "$GATEWAY" >"$DNS_NETNS_DIR/resolv.conf"
  : >"$DNS_NETNS_DIR/hosts"  # nothing from the host's /etc/hosts: names must come from vznet
}

dns_teardown() {
  local rc=$?
  if [ -n "$DNS_NETNS_DIR" ]; then
    rm -rf "$DNS_NETNS_DIR"
    rmdir /etc/netns 2>/dev/null  # only if no one else uses it
  fi
  (exit "$rc")
  teardown
}

# --- scenarios ---------------------------------------------------------------------------------------------

scenario_dns_answers() {
  dns_start_upstream
  local transport
  for transport in +notcp +tcp; do
    dns_expect_same NOERROR 1 alpha.test A "$transport"
    dns_expect_same NOERROR 1 v6.test AAAA "$transport"
    dns_expect_same NOERROR 0 alpha.test AAAA "$transport"
    dns_expect_same NOERROR 2 mail.test MX "$transport"
    dns_expect_same NOERROR 1 txt.test TXT "$transport"
    dns_expect_same NOERROR 3 c1.test A "$transport"  # c1 -> c2 -> c3 -> A
    dns_expect_same NOERROR 1 _http._tcp.srv.test SRV "$transport"
    dns_expect_same NOERROR 1 10.0.77.10.in-addr.arpa PTR "$transport"
    dns_expect_same NXDOMAIN 0 nosuch.test A "$transport"
    dns_expect_same REFUSED 0 other.example A "$transport"  # the upstream's RCODE, not vznet's
  done
  pass "A, AAAA, MX, TXT, CNAME chain, SRV, PTR, NXDOMAIN, REFUSED through vznet equal dnsmasq's, over UDP and TCP"
}

scenario_dns_truncation() {
  dns_start_upstream
  # Without EDNS the guest takes 512 bytes, with dig's default EDNS 1232: big.test exceeds both.
  local edns
  for edns in +noedns +edns; do
    dns_expect_same NOERROR 100 big.test A "$edns"
    grep -q ';; Truncated, retrying in TCP mode' <<<"$DNS_VIA" ||
      fail "big.test $edns: no TC from vznet (dig did not retry over TCP): $(grep -E 'MSG SIZE|flags' <<<"$DNS_VIA")"
    grep -q 'MSG SIZE  rcvd: 1[0-9][0-9][0-9]' <<<"$DNS_VIA" || fail "big.test $edns: the full answer did not arrive"
  done
  # medium.test (about 700 bytes) fits the guest's EDNS size, so it must come over UDP, whole.
  dns_expect_same NOERROR 40 medium.test A +edns
  ! grep -q 'Truncated' <<<"$DNS_VIA" || fail "medium.test truncated although the guest offered 1232 bytes"
  dns_expect_same NOERROR 40 medium.test A +noedns
  grep -q 'Truncated, retrying in TCP mode' <<<"$DNS_VIA" || fail "medium.test +noedns: no TC over 512 bytes"
  pass "large answers: TC over UDP by the guest's size (512 or EDNS), full answer over TCP"
}

scenario_dns_zone() {
  dns_start_upstream
  local out name
  for name in host.vz.internal HOST.Vz.Internal gateway.vz.internal; do
    out=$(dns_dig "$NS_GUEST" "$GATEWAY" +short "$name" A) || fail "dig $name: $out"
    [ "$out" = "$GATEWAY" ] || fail "$name: expected $GATEWAY, got '$out'"
  done
  out=$(dns_dig "$NS_GUEST" "$GATEWAY" +tcp +short host.vz.internal A)
  [ "$out" = "$GATEWAY" ] || fail "host.vz.internal over TCP: '$out'"
  out=$(dns_dig "$NS_GUEST" "$GATEWAY" host.vz.internal AAAA)
  if ! grep -q 'status: NOERROR' <<<"$out" || ! grep -q 'ANSWER: 0' <<<"$out"; then
    fail "host.vz.internal AAAA: expected NOERROR without answers: $out"
  fi
  out=$(dns_dig "$NS_GUEST" "$GATEWAY" nothing.vz.internal A)
  grep -q 'status: NXDOMAIN' <<<"$out" || fail "nothing.vz.internal: expected NXDOMAIN: $out"
  out=$(dns_dig "$NS_GUEST" "$GATEWAY" +short -x "$GATEWAY")
  [ "$out" = "gateway.vz.internal." ] || fail "PTR of $GATEWAY: '$out'"
  out=$(dns_dig "$NS_GUEST" "$GATEWAY" +short db.vz.internal A)
  [ "$out" = "$LAN_IP" ] || fail "--dns-record db.vz.internal: '$out'"
  out=$(dns_dig "$NS_GUEST" "$GATEWAY" +short printer.example.test A)
  [ "$out" = 10.77.0.9 ] || fail "--dns-record Printer.Example.Test: '$out'"
  dns_expect_same NOERROR 1 alpha.test A  # and the rest still goes upstream

  # The guest's own resolver (glibc via resolv.conf), then curl by name to the host's loopback and the LAN.
  dns_use_vznet_resolver
  out=$(in_guest timeout 10 getent ahostsv4 host.vz.internal | awk 'NR == 1 { print $1 }')
  [ "$out" = "$GATEWAY" ] || fail "getent host.vz.internal in the guest: '$out'"
  fetch_and_compare "http://host.vz.internal:8080/index.html"
  fetch_and_compare "http://db.vz.internal/index.html"

  # The server lives in lwIP only: nothing of vznet's listens on port 53 of the host.
  [ -z "$(in_vz ss -Hlnu 'sport = :53')" ] ||
    fail "something listens on UDP port 53 in VZ: $(in_vz ss -Hlnup 'sport = :53')"
  [ -z "$(in_vz ss -Hlnt 'sport = :53')" ] ||
    fail "something listens on TCP port 53 in VZ: $(in_vz ss -Hlntp 'sport = :53')"
  pass "host.vz.internal, gateway.vz.internal, --dns-record, PTR, NXDOMAIN below vz.internal;" \
    "curl by name reaches the host's loopback and the LAN"
}

# dig_timed NAME: one query via vznet (dig waits up to 8 s); sets DIG_MS and DIG_OUT.
dig_timed() {
  local start
  start=$(now_ms)
  DIG_OUT=$(ip netns exec "$NS_GUEST" timeout 15 dig "@$GATEWAY" +time=8 +tries=1 "$1" A 2>&1)
  DIG_MS=$(($(now_ms) - start))
}

# dig_silent_upstream: the test upstream answers alpha.test, then stops (its socket queues our queries, nothing
# answers) for one query, which must get SERVFAIL; sets DIG_MS (how long it took) and DIG_OUT.
dig_silent_upstream() {
  dns_start_upstream
  dns_expect_same NOERROR 1 alpha.test A
  kill -STOP "$DNSMASQ_PID" || fail "SIGSTOP dnsmasq"
  dig_timed silent.test
  kill -CONT "$DNSMASQ_PID"
  grep -q 'status: SERVFAIL' <<<"$DIG_OUT" || fail "silent upstream: expected SERVFAIL after ${DIG_MS} ms: $DIG_OUT"
}

scenario_dns_upstream_down() {
  local out
  dig_silent_upstream  # SERVFAIL within 5 s
  [ "$DIG_MS" -lt 5000 ] || fail "silent upstream: SERVFAIL took $DIG_MS ms (limit 5000)"
  log "silent upstream: SERVFAIL after $DIG_MS ms"
  dns_expect_same NOERROR 1 alpha.test A  # recovered once it answers again
  # A dead upstream (port closed: ICMP port unreachable): SERVFAIL, sooner still.
  stop_pid "$DNSMASQ_PID"
  dig_timed dead.test
  grep -q 'status: SERVFAIL' <<<"$DIG_OUT" || fail "dead upstream: expected SERVFAIL after ${DIG_MS} ms: $DIG_OUT"
  [ "$DIG_MS" -lt 5000 ] || fail "dead upstream: SERVFAIL took $DIG_MS ms (limit 5000)"
  log "dead upstream: SERVFAIL after $DIG_MS ms"
  out=$(dns_dig "$NS_GUEST" "$GATEWAY" +short host.vz.internal A)
  [ "$out" = "$GATEWAY" ] || fail "the zone stopped answering with the upstream down: '$out'"
  pass "upstream silent or dead: SERVFAIL within 5 s; the zone still answers"
}

scenario_dns_timeout_flag() {
  dig_silent_upstream
  # --dns-timeout 1.5: not before 1.5 s, and well before the default's 4 s.
  if [ "$DIG_MS" -lt 1400 ] || [ "$DIG_MS" -ge 3000 ]; then fail "--dns-timeout 1.5: SERVFAIL after $DIG_MS ms"; fi
  pass "--dns-timeout 1.5: a silent upstream's query got SERVFAIL after $DIG_MS ms"
}

# A DNS load generator for the guest: COUNT queries for distinct names below burst.test, at most WINDOW
# outstanding, over UDP (one socket) or TCP (one pipelined connection); no retransmissions, so every loss
# shows. Prints "answered=N wrong=N sent=N ms=N"; exit 0 only if every query got a correct answer.
dns_write_burst_client() {
  cat >"$TMP/dns_burst.py" <<'EOF'
import select, socket, struct, sys, time

server, transport = sys.argv[1], sys.argv[2]
count, window, limit = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
def query(i):
    name = b"".join(bytes([len(p)]) + p for p in (b"n%d" % i, b"burst", b"test")) + b"\0"
    return struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
def good(msg):
    qid, flags, qd, an = struct.unpack(">HHHH", msg[:8])
    return qid, (flags & 0x800F) == 0x8000 and an == 1 and msg[-4:] == bytes([10, 77, 0, 50])
tcp = transport == "tcp"
s = socket.create_connection((server, 53), timeout=5) if tcp else socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if not tcp:
    s.connect((server, 53))
s.setblocking(False)
start = time.monotonic()
sent = answered = wrong = 0
outstanding, pending_out, stream = set(), b"", b""
while answered + wrong < count and time.monotonic() - start < limit:
    while sent < count and len(outstanding) < window:
        q = query(sent)
        if tcp:
            pending_out += struct.pack(">H", len(q)) + q
        else:
            s.send(q)
        outstanding.add(sent)
        sent += 1
    readable, writable, _ = select.select([s], [s] if pending_out else [], [], 0.5)
    if writable:
        pending_out = pending_out[s.send(pending_out):]
    if not readable:
        continue
    if tcp:
        data = s.recv(65536)
        if not data:
            break
        stream += data
        messages = []
        while len(stream) >= 2 and len(stream) >= 2 + struct.unpack(">H", stream[:2])[0]:
            n = struct.unpack(">H", stream[:2])[0]
            messages.append(stream[2:2 + n])
            stream = stream[2 + n:]
    else:
        messages = [s.recv(4096)]
    for m in messages:
        qid, ok = good(m)
        if qid in outstanding:
            outstanding.discard(qid)
            answered += ok
            wrong += not ok
print("answered=%d wrong=%d sent=%d ms=%d" % (answered, wrong, sent, (time.monotonic() - start) * 1000))
sys.exit(0 if answered == count else 1)
EOF
}

vznet_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$VZNET_PID/status"; }

scenario_dns_burst() {
  DNS_PORT=$DNS_BURST_PORT
  dns_start_upstream "$DNS_BURST_PORT"
  dns_expect_same NOERROR 1 first.burst.test A
  dns_write_burst_client
  local out rss_before
  rss_before=$(vznet_rss_kib)
  # UDP: 200 outstanding (the guest's and dnsmasq's socket buffers, not vznet, would drop more at once).
  out=$(in_guest timeout 60 "$PY" "$TMP/dns_burst.py" "$GATEWAY" udp 2000 200 45 2>&1) ||
    fail "2000 queries over UDP, 200 at a time: $out"
  log "burst over UDP: $out"
  # TCP: all 2000 at once on one connection (~76 kB, more than vznet buffers per connection), so vznet's
  # backpressure, not the client, paces them.
  out=$(in_guest timeout 60 "$PY" "$TMP/dns_burst.py" "$GATEWAY" tcp 2000 2000 45 2>&1) ||
    fail "2000 queries pipelined over one TCP connection: $out"
  log "burst over TCP: $out"
  log "vznet RSS: $rss_before KiB before, $(vznet_rss_kib) KiB after the bursts"
  dns_expect_same NOERROR 1 last.burst.test A
  pass "2000 queries over UDP (200 outstanding) and 2000 pipelined over one TCP connection:" \
    "all answered (upstream on port $DNS_BURST_PORT)"
}
