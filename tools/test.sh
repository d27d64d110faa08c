#!/usr/bin/env bash
# Installs what the tests need (Debian 12, as root), builds, and runs the whole test suite with ctest:
# unit tests, stack tests and the end-to-end tests with real guest kernels.
# Usage: tools/test.sh               everything, in ./build
#        tools/test.sh --sanitizers  ASan+UBSan build in ./build-asan, unit + stack tests
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
cmake_options=()
ctest_options=()
if [ "${1:-}" = "--sanitizers" ]; then
  build=build-asan
  cmake_options=(-DENABLE_SANITIZERS=ON)
  ctest_options=(-L "unit|stack")
fi

tools/install-deps.sh test
cmake -S . -B "$build" -G Ninja "${cmake_options[@]}"
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure "${ctest_options[@]}"
