#!/usr/bin/env bash
# Installs everything vznet needs to build and test on Debian 12, as root.
# Usage: tools/install-deps.sh [build|test|bench]   (default: build)
#   build: compiler, CMake and the libraries vznet links against.
#   test:  build + the real clients the end-to-end tests drive (curl, socat, iperf3, dig, qemu, busybox...),
#          the attack tools (scapy, hping3), clang with libFuzzer for the fuzz targets, and the static analysers
#          (clang-tidy, cppcheck) and clang-format that run as tests.
#   bench: test + the peers the benchmark compares against (passt, slirp4netns, sockperf).
# It also enables deb-src entries (derived from the existing apt sources) so that third_party/lwip can
# fetch Debian's original lwIP tarball with `apt-get source`.
set -euo pipefail
what=${1:-build}
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: must run as root (apt-get install)" >&2
  exit 2
fi

add_deb_src() {
  local out=/etc/apt/sources.list.d/vznet-deb-src.sources
  [ -f "$out" ] && return 0
  local tmp; tmp=$(mktemp)
  # deb822 files: copy each stanza with its Types switched to deb-src.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    [ "$f" = "$out" ] && continue
    sed -E 's/^Types:.*/Types: deb-src/' "$f" >>"$tmp"
    echo >>"$tmp"
  done
  # one-line sources.list: "deb URI SUITE COMP" -> "deb-src URI SUITE COMP" (written as a .list file).
  if [ -f /etc/apt/sources.list ]; then
    grep -E '^deb ' /etc/apt/sources.list | sed -E 's/^deb /deb-src /' \
      >/etc/apt/sources.list.d/vznet-deb-src.list || true
  fi
  mv "$tmp" "$out"
}

build_pkgs=(build-essential cmake ninja-build pkg-config dpkg-dev xz-utils
  libasio-dev libc-ares-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libcli11-dev
  nlohmann-json3-dev libcpp-httplib-dev libsodium-dev libpcap-dev help2man)
test_pkgs=(klibc-utils iproute2 curl socat iperf3 dnsutils dnsmasq-base isc-dhcp-client busybox-static
  qemu-system-x86 linux-image-amd64 cpio python3 iputils-ping procps psmisc coreutils iputils-arping
  shellcheck zstd python3-scapy hping3 clang libclang-rt-14-dev clang-tidy cppcheck clang-format tshark
  python3-prometheus-client)
bench_pkgs=(passt slirp4netns sockperf)

pkgs=("${build_pkgs[@]}")
case "$what" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "install-deps.sh: unknown set '$what' (build|test|bench)" >&2; exit 2 ;;
esac

add_deb_src
apt-get update -qq
# --no-install-recommends keeps the kernel package from pulling firmware and initramfs tooling we do not need.
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
