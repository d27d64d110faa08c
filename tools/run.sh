#!/usr/bin/env bash
# Installs what vznet needs (Debian 12, as root), builds it, and runs it with the defaults (or the flags
# given): it serves unix:// and unixgram:// sockets and logs the QEMU and vfkit arguments to attach.
# Usage: tools/run.sh [vznet flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh build
cmake -S . -B build -G Ninja >/dev/null
cmake --build build -j "$(nproc)"
exec ./build/app/vznet "$@"
