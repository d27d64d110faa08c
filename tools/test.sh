#!/usr/bin/env bash
# Installs what the tests need (Debian 12, as root), builds, and runs the whole test suite with ctest:
# unit tests, stack tests and the end-to-end tests with real guest kernels.
# Usage: tools/test.sh               everything, in ./build
#        tools/test.sh --sanitizers  ASan+UBSan build in ./build-asan: unit and stack tests, and the end-to-end
#                                    core, publish, egress and attack scenarios over the stream framing
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
cmake_options=()
ctest_options=()
# The end-to-end scenarios run against the sanitizer build (real guest traffic through an instrumented vznet):
# the core paths, published ports, the egress policy and the attacks, once each, over the stream framing.
# (Not backpressure: it bounds vznet's RSS, which ASan's quarantine of freed memory inflates by design.)
sanitized_e2e='^e2e\.(http_loopback|http_lan|udp_echo|ping|half_close|refused|reset|pending_connects|udp_large|publish_(http|udp|refused|api)|egress_.*|hostile_.*|tcp_port_reuse|attack_.*)\.unix$'
if [ "${1:-}" = "--sanitizers" ]; then
  build=build-asan
  cmake_options=(-DENABLE_SANITIZERS=ON)
  ctest_options=(-L "unit|stack")
fi

tools/install-deps.sh test
cmake -S . -B "$build" -G Ninja "${cmake_options[@]}"
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure "${ctest_options[@]}"
if [ "$build" = build-asan ]; then
  ctest --test-dir "$build" --output-on-failure -R "$sanitized_e2e"
fi
