# shellcheck shell=bash
# Scenario 13: a real VM. Builds a busybox initramfs at test time (busybox-static + the virtio-net modules of
# the kernel in /boot), boots it with QEMU attached to vznet (unix:// as -netdev stream, unixgram:// as
# -netdev dgram), and waits for the guest's marker line with the checksum of what it fetched.

QEMU_MARKER=E2E-QEMU-RESULT
# Under TCG (no KVM) the Debian kernel takes tens of seconds to boot on a small machine.
QEMU_DEADLINE_S=${QEMU_DEADLINE_S:-150}

pick_kernel() {
  local k
  k=$(find /boot -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
  [ -n "$k" ] || fail "no /boot/vmlinuz-* (install linux-image-amd64)"
  KERNEL=$k
  KVER=${k#/boot/vmlinuz-}
  [ -d "/lib/modules/$KVER" ] || fail "no /lib/modules/$KVER for $KERNEL"
}

# modules_for NAME...: prints module paths (relative to /lib/modules/KVER) in load order, dependencies first.
modules_for() {
  local dep="/lib/modules/$KVER/modules.dep" name line path
  declare -A seen=()
  _load() {
    local p=$1 d
    [ -n "${seen[$p]:-}" ] && return
    seen[$p]=1
    line=$(grep -m1 "^$p:" "$dep")
    for d in ${line#*:}; do _load "$d"; done
    echo "$p"
  }
  for name in "$@"; do
    path=$(grep -m1 -E "/$name\.ko(\.xz|\.zst|\.gz)?:" "$dep" | cut -d: -f1)
    [ -n "$path" ] || continue  # built into the kernel (or absent): nothing to load
    _load "$path"
  done
}

# Copies one module into the initramfs, uncompressed (busybox insmod reads plain .ko).
install_module() {
  local src="/lib/modules/$KVER/$1" dst=$2
  case "$src" in
    *.ko.xz) xz -dc "$src" >"$dst" ;;
    *.ko.zst) zstd -q -dc "$src" >"$dst" ;;
    *.ko.gz) gzip -dc "$src" >"$dst" ;;
    *) cp "$src" "$dst" ;;
  esac
}

# The start of every test guest's /init: busybox applets, the usual mounts, the NIC driver, lo up.
guest_init_prelude() {
  cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r file name; do insmod /modules/$file || echo "insmod $name failed"; done </modules.order
ip link set lo up
EOF
}

# The end of every test guest's /init: fetch the host's page through vznet, print the marker with its
# checksum, power off. (busybox 1.35 wget crashes on -T; timeout bounds it instead.)
guest_init_fetch_and_power_off() {
  cat <<EOF
if timeout 30 wget -q -O /tmp/f http://$GATEWAY:8080/index.html; then
  echo "$QEMU_MARKER sha256=\$(sha256sum /tmp/f | cut -d' ' -f1)"
else
  echo "$QEMU_MARKER wget-failed"
fi
poweroff -f
EOF
}

build_initramfs() {
  local root="$TMP/initramfs" m i=0 busybox
  busybox=$(command -v busybox) || fail "busybox not installed (busybox-static)"
  [[ $(ldd "$busybox" 2>&1) == *"not a dynamic"* ]] || fail "$busybox is not static (install busybox-static)"
  mkdir -p "$root"/{bin,dev,proc,sys,tmp,modules}
  cp "$busybox" "$root/bin/busybox"
  : >"$root/modules.order"
  for m in $(modules_for virtio_pci virtio_net); do
    i=$((i + 1))
    install_module "$m" "$root/modules/$i.ko"
    echo "$i.ko $(basename "$m")" >>"$root/modules.order"
  done
  {
    guest_init_prelude
    cat <<EOF
ip link set eth0 up
ip addr add $GUEST_IP/24 dev eth0
ip route add default via $GATEWAY
EOF
    guest_init_fetch_and_power_off
  } >"$root/init"
  chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$TMP/initramfs.gz" || fail "cpio of the initramfs"
  log "initramfs: busybox + $i modules for $KVER"
}

# KVM when it really runs guest code, else TCG. /dev/kvm can exist on a CPU without hardware virtualization
# (a cloud VM without nested virtualization): there QEMU starts with -accel kvm, and a real boot then hangs
# until the scenario's deadline. So the probe boots a guest: accel_runs_guest_code.
pick_accel() {
  ACCEL=tcg
  [ -e /dev/kvm ] || return 0
  if [ -w /dev/kvm ] && accel_runs_guest_code kvm; then
    ACCEL=kvm
  else
    log "/dev/kvm is there but KVM did not run the probe guest within ${ACCEL_PROBE_TIMEOUT_S:-10} s: TCG"
  fi
}

# accel_runs_guest_code ACCEL [CODE]: boots a 512-byte boot sector under QEMU with ACCEL and succeeds only if
# its code ran: by default it writes 'K' to the first serial port and then 'K' to QEMU's isa-debug-exit
# port, which ends QEMU with status ('K' << 1) | 1 = 151. ACCEL_PROBE_TIMEOUT_S bounds it (default 10 s; a
# working accelerator needs well under one). CODE (printf escapes) replaces the default code.
#   mov dx,0x3f8; mov al,'K'; out dx,al; mov dx,0xf4; out dx,al; hlt; jmp $-1
ACCEL_PROBE_CODE='\xba\xf8\x03\xb0\x4b\xee\xba\xf4\x00\xee\xf4\xeb\xfd'
accel_runs_guest_code() {
  local image="$TMP/accel-probe.img" serial="$TMP/accel-probe.serial" status=0
  # shellcheck disable=SC2059  # the code is printf escapes on purpose
  printf "${2:-$ACCEL_PROBE_CODE}" >"$image"
  truncate -s 510 "$image"
  printf '\x55\xaa' >>"$image"  # the boot signature
  : >"$serial"
  timeout "${ACCEL_PROBE_TIMEOUT_S:-10}" qemu-system-x86_64 -accel "$1" -display none -nodefaults -m 16 \
    -drive "format=raw,file=$image,if=floppy" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -serial "file:$serial" </dev/null >/dev/null 2>&1 || status=$?
  [ "$status" = 151 ] && [ "$(cat "$serial")" = K ]
}

# Scenario: the accelerator probe itself. Under TCG (always there) the probe guest runs and is seen; a guest
# that never writes its marker (hlt; jmp $-1) fails the probe within its timeout instead of hanging.
scenario_accel_probe() {
  command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 not installed"
  local start
  start=$(now_ms)
  accel_runs_guest_code tcg || fail "the probe guest did not run under TCG"
  log "the probe guest ran under TCG in $(($(now_ms) - start)) ms"
  start=$(now_ms)
  ! ACCEL_PROBE_TIMEOUT_S=3 accel_runs_guest_code tcg '\xf4\xeb\xfd' || fail "a silent guest passed the probe"
  [ $(($(now_ms) - start)) -lt 6000 ] || fail "the probe of a silent guest took $(($(now_ms) - start)) ms (timeout 3 s)"
  pick_accel
  pass "accelerator probe: a guest that runs passes, a silent one fails in 3 s; this machine uses $ACCEL"
}

qemu_marker_seen() { grep -q "$QEMU_MARKER" "$TMP/qemu.log"; }

# boot_qemu_guest: builds the initramfs (and lets QEMU_INITRAMFS_HOOK add to it: another archive appended, whose
# files replace earlier ones), picks the accelerator and starts QEMU in GUEST attached to vznet over $FRAMING (unix
# as -netdev stream, unixgram as -netdev dgram). Sets QEMU_PID and QEMU_STARTED (ms).
boot_qemu_guest() {
  command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 not installed"
  pick_kernel
  build_initramfs
  [ -n "${QEMU_INITRAMFS_HOOK:-}" ] && "$QEMU_INITRAMFS_HOOK"
  pick_accel
  local netdev
  case "$FRAMING" in
    unix) netdev="stream,id=n0,server=off,addr.type=unix,addr.path=$TMP/s.sock" ;;
    unixgram) netdev="dgram,id=n0,local.type=unix,local.path=$TMP/qemu.sock,remote.type=unix,remote.path=$TMP/d.sock" ;;
    *) fail "a QEMU guest runs over unix or unixgram, not $FRAMING" ;;
  esac
  log "booting $KERNEL under $ACCEL over $FRAMING"
  QEMU_STARTED=$(now_ms)
  spawn "$NS_GUEST" qemu qemu-system-x86_64 -accel "$ACCEL" -nographic -no-reboot -m 256 \
    -kernel "$KERNEL" -initrd "$TMP/initramfs.gz" -append "console=ttyS0 panic=-1 quiet${QEMU_APPEND:+ $QEMU_APPEND}" \
    -netdev "$netdev" -device virtio-net-pci,netdev=n0,mac="$GUEST_MAC"
  QEMU_PID=$SPAWNED
}

scenario_qemu() {
  boot_qemu_guest
  wait_for "the guest's $QEMU_MARKER line" "$QEMU_DEADLINE_S" qemu_marker_seen
  local line want
  line=$(grep -a -o -m1 "$QEMU_MARKER [a-z0-9=-]*" "$TMP/qemu.log")
  want="$QEMU_MARKER sha256=$(sha_of "$TMP/www/index.html")"
  [ "$line" = "$want" ] || fail "VM reported '$line', want '$want'"
  wait_for "QEMU to power off" 30 not_running "$QEMU_PID"
  pass "QEMU guest ($ACCEL, $FRAMING) fetched the host-loopback file in $(($(now_ms) - QEMU_STARTED)) ms"
}
