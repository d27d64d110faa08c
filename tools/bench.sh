#!/usr/bin/env bash
# The benchmark in one command (Debian 12, as root): installs iperf3, sockperf, passt and slirp4netns,
# builds vznet optimized (RelWithDebInfo) in ./build-bench, and runs tools/bench/bench.py, which prints a
# markdown table and writes build-bench/bench/bench.{md,json}. Arguments go to bench.py (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh bench
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build-bench -j "$(nproc)" --target vznet vznet-guest-relay vznet-bench-conn
exec tools/bench/bench.py --build build-bench --out build-bench/bench "$@"
