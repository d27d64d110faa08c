#!/usr/bin/env bash
# cppcheck over every translation unit of ours in a build's compile_commands.json (app, base, dns, forward, stack,
# virtio, tools, tests; never lwIP), with the checked-in suppressions (tools/cppcheck-suppressions.txt, a reason on
# each line) and inline ones (`// cppcheck-suppress ID // why`). Any finding fails. ctest runs it as static.cppcheck
# (label static); see docs/RELIABILITY.md, "Static analysis".
# Usage: tools/cppcheck.sh [BUILD_DIR]     default ./build
#        CPPCHECK_JOBS=N                   files at once (default: every core)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
jobs=${CPPCHECK_JOBS:-$(nproc)}

if ! command -v cppcheck >/dev/null; then
  echo "cppcheck.sh: cppcheck is not installed (tools/install-deps.sh test installs it)" >&2
  exit 2
fi
build=$(cd "$build" && pwd)
if [ ! -f "$build/compile_commands.json" ]; then
  echo "cppcheck.sh: no $build/compile_commands.json (configure the build first)" >&2
  exit 2
fi

filters=()
for folder in app base dns forward stack virtio tools tests; do filters+=("--file-filter=$root/$folder/*"); done
# The results cache (--cppcheck-build-dir) makes a second run over unchanged files almost free.
mkdir -p "$build/cppcheck"
started=$(date +%s)
# warning: likely bugs; style: includes cppcheck's logic checks (conditions always true, duplicate branches,
# redundant assignments), its noisy parts are suppressed by id in the suppressions file; performance, portability.
# googletest and posix: cppcheck's descriptions of those APIs (TEST() macros, POSIX calls and their contracts).
cppcheck --project="$build/compile_commands.json" "${filters[@]}" \
  --enable=warning,style,performance,portability --library=posix --library=googletest \
  --inline-suppr --suppressions-list="$root/tools/cppcheck-suppressions.txt" \
  --cppcheck-build-dir="$build/cppcheck" -j "$jobs" --quiet --error-exitcode=1 \
  --template='{file}:{line}:{column}: {severity}: {message} [{id}]'
echo "cppcheck.sh: no findings ($(($(date +%s) - started)) s, $jobs at a time)"
