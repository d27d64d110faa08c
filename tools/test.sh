#!/usr/bin/env bash
# Installs what the tests need (Debian 12, as root), builds, and runs the whole test suite with ctest:
# unit tests, stack tests and the end-to-end tests with real guest kernels; beside them, the static analysis.
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
sanitized_core='http_loopback|http_lan|udp_echo|ping|half_close|refused|reset|pending_connects|udp_large'
sanitized_rest='publish_(http|udp|refused|api)|egress_.*|hostile_.*|tcp_port_reuse|attack_.*|static_address|pcap'
sanitized_e2e="^e2e\\.($sanitized_core|$sanitized_rest)\\.unix\$"
if [ "${1:-}" = "--sanitizers" ]; then
  build="build-asan"
  cmake_options=(-DENABLE_SANITIZERS=ON)
  ctest_options=(-L "unit|stack")
fi

tools/install-deps.sh test
cmake -S . -B "$build" -G Ninja "${cmake_options[@]}"

# Static analysis (ctest label static: clang-tidy and cppcheck, the same scripts) reads only the sources and
# compile_commands.json, so it can start now. It costs about 25 minutes of CPU, and the end-to-end tests mostly wait
# on guest kernels: it runs beside the build and the tests at the lowest priority, on the CPU they leave, instead of
# after them. Its report is printed at the end.
static_pid=
if [ "$build" = build ]; then
  static_log=$build/static-analysis.log
  # In a session of its own, so that an early exit stops clang-tidy's workers too. With Linux's autogroup
  # scheduling (Debian's default), a session is a scheduling group of its own, and nice only ranks processes
  # within their group: without lowering the group's nice too, the analysis took half the CPU from the tests.
  # shellcheck disable=SC2016  # the inner script's $1 is its own argument
  setsid bash -c '
    if [ -w /proc/self/autogroup ]; then echo 19 >/proc/self/autogroup 2>/dev/null || true; fi
    nice -n 19 tools/clang-tidy.sh "$1"; tidy=$?
    nice -n 19 tools/cppcheck.sh "$1"; cppcheck=$?
    [ "$tidy" -eq 0 ] && [ "$cppcheck" -eq 0 ]' _ "$build" >"$static_log" 2>&1 &
  static_pid=$!
  trap '[ -z "$static_pid" ] || kill -- "-$static_pid" 2>/dev/null' EXIT
  ctest_options=(-LE static)
fi

status=0
cmake --build "$build" -j "$(nproc)" || status=$?
if [ "$status" -eq 0 ]; then
  ctest --test-dir "$build" --output-on-failure "${ctest_options[@]}" || status=$?
fi
if [ "$status" -eq 0 ] && [ "$build" = build-asan ]; then
  ctest --test-dir "$build" --output-on-failure -R "$sanitized_e2e" || status=$?
fi
if [ -n "$static_pid" ]; then
  echo "waiting for the static analysis (clang-tidy, cppcheck)..."
  if wait "$static_pid"; then
    grep -E '^(clang-tidy|cppcheck)\.sh: ' "$static_log"
  else
    cat "$static_log"
    echo "test.sh: static analysis failed (above)" >&2
    status=1
  fi
  static_pid=
fi
exit "$status"
