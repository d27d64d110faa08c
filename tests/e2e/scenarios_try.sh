# shellcheck shell=bash
# The one-minute demo (tools/try.sh runs it; as an e2e test it keeps the demo working): a throwaway QEMU guest
# (busybox initramfs, TCG when KVM does not run) attached to vznet in this run's namespaces shows its DHCP lease,
# resolves host.vz.internal, fetches a page from a server on the host's loopback, and serves a page the host
# fetches through a -p forward.

TRY_MARKER=VZNET-TRY
TRY_HOST_PORT=8081  # -p 127.0.0.1:8081:80
register_scenario try custom -p "127.0.0.1:$TRY_HOST_PORT:80"

setup_try() {
  make_namespaces
  start_servers
  echo "hello from the host's loopback" >"$TMP/www/hello.html"
  start_vznet
}

# The guest's /init, appended to the standard initramfs: DHCP by busybox udhcpc, a DNS lookup by busybox
# nslookup (its own resolver: the static busybox has no NSS), a fetch from the host, and an httpd on port 80.
try_overlay() {
  local root="$TMP/try-overlay"
  mkdir -p "$root/etc" "$root/www"
  echo "hello from the guest" >"$root/www/index.html"
  cat >"$root/udhcpc.script" <<SCRIPT
#!/bin/sh
[ "\$1" = bound ] || exit 0
ifconfig "\$interface" "\$ip" netmask "\$subnet" up
route add default gw "\$router"
echo "nameserver \$dns" >/etc/resolv.conf
echo "$TRY_MARKER lease \$ip router \$router dns \$dns" >/dev/console  # udhcpc's output is silenced
SCRIPT
  {
    guest_init_prelude
    cat <<INIT
ip link set eth0 up
udhcpc -i eth0 -s /udhcpc.script -q -n -t 10 -T 2 >/dev/null 2>&1 || echo "$TRY_MARKER lease none"
server=\$(sed -n 's/^nameserver //p' /etc/resolv.conf)
host=\$(nslookup host.vz.internal \$server 2>/dev/null | sed -n '/^Name:/,\$ s/^Address: *//p' | head -n 1)
echo "$TRY_MARKER dns host.vz.internal \${host:-unresolved}"
page=\$(timeout 20 wget -q -O - "http://\$host:8080/hello.html" 2>/dev/null)
echo "$TRY_MARKER page \${page:-fetch-failed}"
httpd -p 80 -h /www
echo "$TRY_MARKER ready"
sleep 300
poweroff -f
INIT
  } >"$root/init"
  chmod +x "$root/init" "$root/udhcpc.script"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >>"$TMP/initramfs.gz" || fail "cpio of the try overlay"
}

try_ready() { grep -aq "$TRY_MARKER ready" "$TMP/qemu.log"; }
# try_said WHAT: the rest of the guest's "VZNET-TRY WHAT ..." line.
try_said() { grep -a -o -m1 "$TRY_MARKER $1 [^[:cntrl:]]*" "$TMP/qemu.log" | cut -d' ' -f3-; }

# shellcheck disable=SC2034  # the hook is read by boot_qemu_guest (qemu_guest.sh)
scenario_try() {
  QEMU_INITRAMFS_HOOK=try_overlay
  boot_qemu_guest
  wait_for "the guest to come up" "$QEMU_DEADLINE_S" try_ready
  local booted lease dns page published
  booted=$(($(now_ms) - QEMU_STARTED))
  lease=$(try_said lease)
  dns=$(try_said dns)
  page=$(try_said page)
  published=$(in_vz timeout 10 curl -sS --max-time 5 "http://127.0.0.1:$TRY_HOST_PORT/" 2>&1)
  log "-----------------------------------------------------------------------------------------------"
  log "  a guest ($ACCEL) booted and was on the network in $booted ms; what it saw:"
  log "  DHCP lease:       $lease"
  log "  DNS:              $dns"
  log "  the host's page:  $page (http://host.vz.internal:8080/: the host's 127.0.0.1:8080)"
  log "  -p $TRY_HOST_PORT:80:       $published (curl http://127.0.0.1:$TRY_HOST_PORT/ on the host)"
  log "-----------------------------------------------------------------------------------------------"
  [ "$lease" = "$GUEST_IP router $GATEWAY dns $GATEWAY" ] || fail "lease: '$lease'"
  [ "$dns" = "host.vz.internal $GATEWAY" ] || fail "host.vz.internal: '$dns'"
  [ "$page" = "$(cat "$TMP/www/hello.html")" ] || fail "the host's page: '$page'"
  [ "$published" = "hello from the guest" ] || fail "the -p forward: '$published'"
  pass "try: lease, host.vz.internal, the host's page and a -p forward into the guest ($ACCEL, $FRAMING)"
}
