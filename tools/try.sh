#!/usr/bin/env bash
# vznet in one minute, for a newcomer (Debian 12, as root): installs what it needs, builds, then boots a
# throwaway QEMU guest (TCG if KVM does not run here) attached to vznet inside private network namespaces, and
# shows the guest's DHCP lease, host.vz.internal resolving, a page fetched from a server on the host's loopback,
# and a -p forward reaching a server in the guest. Nothing leaves the machine; everything is removed at the end.
# It is the end-to-end scenario "try" (tests/e2e/scenarios_try.sh).
# Usage: tools/try.sh [unix|unixgram]   (the framing: QEMU -netdev stream, the default, or -netdev dgram)
set -euo pipefail
cd "$(dirname "$0")/.."
framing=${1:-unix}
tools/install-deps.sh test
cmake -S . -B build -G Ninja >/dev/null
cmake --build build -j "$(nproc)" --target vznet vznet-guest-relay
exec tests/e2e/run.sh --vznet build/app/vznet --relay build/tools/vznet-guest-relay try "$framing"
