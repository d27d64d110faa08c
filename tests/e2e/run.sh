#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Runs one e2e scenario over one framing in namespaces of its own (see README.md). Needs root.
#   tests/e2e/run.sh [--vznet PATH] [--relay PATH] SCENARIO FRAMING
#   tests/e2e/run.sh [--vznet PATH] [--relay PATH] all FRAMING     (every scenario, one after another)
#   tests/e2e/run.sh --list
# FRAMING: unix | unixgram | unixpacket (bad_flags and accel_probe take 'any'). Defaults: binaries from build-e2e/.
# Environment: VZNET_E2E_STANDIN=1 tests the harness and relay against standin_vznet.py instead of vznet;
# E2E_KEEP_LOGS=1 keeps the logs of a failed run; BULK_MIB sets the bulk transfer size (default 100).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
VZNET=$repo/build-e2e/app/vznet
RELAY=$repo/build-e2e/tools/vznet-guest-relay

# scenario -> how to set up: "guest" (full topology + relay), "jumbo" (same at MTU 65520), "vznet" (no relay),
# "bare" (namespaces only).
declare -A SETUP=(
  [http_loopback]=guest [http_lan]=guest [udp_echo]=guest [ping]=guest [bulk]=guest [half_close]=guest
  [refused]=guest [pending_connects]=guest [relay_restart]=guest [no_route]=guest [bulk_jumbo]=jumbo
  [vznet_stops]=guest [connect_timeout]=guest [exit_on_disconnect]=guest [reset]=guest [udp_large]=guest
  [udp_large_jumbo]=jumbo [backpressure]=guest [icmp_disabled]=guest
  [bad_flags]=bare [qemu]=vznet [accel_probe]=bare
)
ORDER=(no_route http_loopback http_lan udp_echo ping half_close refused pending_connects bulk bulk_jumbo
  relay_restart vznet_stops connect_timeout exit_on_disconnect reset udp_large udp_large_jumbo backpressure
  icmp_disabled bad_flags qemu accel_probe)
# scenario -> extra vznet flags
declare -A FLAGS=(
  [connect_timeout]="--connect-timeout 2" [exit_on_disconnect]="--exit-on-disconnect"
)

# register_scenario NAME SETUP [VZNET FLAGS...]: how scenario files beyond the core set (scenarios_*.sh, one
# per feature) add themselves. SETUP "custom" calls the file's own setup_NAME function.
register_scenario() {
  SETUP[$1]=$2
  ORDER+=("$1")
  FLAGS[$1]="${*:3}"
}
for scenario_file in "$here"/scenarios_*.sh; do
  # shellcheck disable=SC1090  # feature scenario files are found at run time
  [ -f "$scenario_file" ] && . "$scenario_file"
done

while [ $# -gt 0 ]; do
  case "$1" in
    --vznet) VZNET=$2; shift 2 ;;
    --relay) RELAY=$2; shift 2 ;;
    --list) printf '%s\n' "${ORDER[@]}"; exit 0 ;;
    -h | --help) sed -n '3,9p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { sed -n '3,9p' "$0" >&2; exit 2; }
scenario=$1 framing=$2
case "$framing" in
  unix | unixgram | unixpacket | any) ;;
  *) echo "run.sh: unknown framing '$framing'" >&2; exit 2 ;;
esac

if [ "$scenario" = all ]; then
  failed=0 passed=0
  for s in "${ORDER[@]}"; do
    [ "$s" = qemu ] && [ "$framing" = unixpacket ] && continue
    if "$0" --vznet "$VZNET" --relay "$RELAY" "$s" "$framing"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAILED: $s $framing" >&2
    fi
  done
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
  exit
fi

setup_kind=${SETUP[$scenario]:-}
[ -n "$setup_kind" ] || { echo "run.sh: unknown scenario '$scenario' (see --list)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces); skipped" >&2; exit 77; }
if [ "$framing" = any ] && [ "$setup_kind" != bare ]; then
  echo "run.sh: $scenario needs a framing (unix|unixgram|unixpacket)" >&2
  exit 2
fi
[ -x "$RELAY" ] || { echo "run.sh: relay binary $RELAY not found (build vznet-guest-relay)" >&2; exit 2; }
if [ "${VZNET_E2E_STANDIN:-0}" != 1 ] && [ ! -x "$VZNET" ]; then
  echo "run.sh: vznet binary $VZNET not found" >&2
  exit 2
fi

if [ "${VZNET_E2E_STANDIN:-0}" = 1 ] && [ "$scenario" = bad_flags ]; then
  echo "SKIP: bad_flags tests vznet's own flag checks; nothing to test against the stand-in"
  exit 0
fi

# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=scenarios.sh
. "$here/scenarios.sh"
# shellcheck source=qemu_guest.sh
. "$here/qemu_guest.sh"

log "e2e: $scenario over $framing"
FRAMING=$framing  # used by lib.sh and the scenarios
read -ra VZNET_FLAGS <<<"${FLAGS[$scenario]:-}"
export FRAMING
case "$setup_kind" in
  guest) setup "$framing" 1500 ;;
  jumbo) setup "$framing" 65520 ;;
  vznet) make_namespaces; start_servers; start_vznet ;;
  bare) make_namespaces ;;
  custom) "setup_$scenario" ;;
esac
case "$scenario" in
  bulk_jumbo) scenario_bulk ;;
  udp_large_jumbo) scenario_udp_large ;;
  *) "scenario_$scenario" ;;
esac
