#!/usr/bin/env bash
# clang-tidy, with the checked-in configuration (.clang-tidy), over every translation unit of ours in a build's
# compile_commands.json (app, base, dns, forward, stack, virtio, tools, tests; never lwIP), several files at a time. Any
# finding fails, and so does a file clang cannot compile (clang-diagnostic-error): this is also what keeps vznet
# building with clang. ctest runs it as static.clang_tidy (label static); see docs/RELIABILITY.md.
# Usage: tools/clang-tidy.sh [BUILD_DIR] [PATH_REGEX]   default ./build and every file of ours; PATH_REGEX keeps
#                                                     only the files whose path matches (e.g. 'stack/dhcp')
#        CLANG_TIDY_JOBS=N                            clang-tidy processes at once (default: every core)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
only=${2:-}
jobs=${CLANG_TIDY_JOBS:-$(nproc)}

if ! command -v clang-tidy >/dev/null; then
  echo "clang-tidy.sh: clang-tidy is not installed (tools/install-deps.sh test installs it)" >&2
  exit 2
fi
build=$(cd "$build" && pwd)
db=$build/compile_commands.json
if [ ! -f "$db" ]; then
  echo "clang-tidy.sh: no $db (configure the build first)" >&2
  exit 2
fi

# CMake writes one '"file": "/absolute/path",' line per entry. Ours are the sources under our folders; lwIP's are
# unpacked into the build tree and never match.
mapfile -t files < <(sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p' "$db" |
  grep -E "^$root/(app|base|dns|forward|stack|virtio|tools|tests)/" | grep -E -e "${only:-.}" | sort -u)
if [ ${#files[@]} -eq 0 ]; then
  echo "clang-tidy.sh: no files of ours in $db${only:+ matching $only}" >&2
  exit 2
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
started=$(date +%s)
# One clang-tidy per file; each writes its own log so that parallel output does not interleave. --quiet: nothing
# for a clean file. A file that fails (finding or compile error) leaves its name in $logs/failed.
# shellcheck disable=SC2016  # the inner script's $1..$3 are its own arguments
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -I{} sh -c '
  log="$3/$(printf %s "$2" | tr / _).log"
  clang-tidy -p "$1" --quiet "$2" >"$log" 2>&1 || printf "%s\n" "$2" >>"$3/failed"' _ "$build" {} "$logs"
elapsed=$(($(date +%s) - started))

if [ -s "$logs/failed" ]; then
  sort "$logs/failed" | while read -r f; do echo "== $f"; cat "$logs/$(printf %s "$f" | tr / _).log"; done
  echo
  echo "clang-tidy findings by check:"
  sort "$logs/failed" | while read -r f; do cat "$logs/$(printf %s "$f" | tr / _).log"; done |
    grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error): ' | sort -u |
    sed -E 's/.*\[([^],]+)(,-warnings-as-errors)?\]$/\1/; t; s/.*/(no check named)/' | sort | uniq -c | sort -rn
  echo "clang-tidy.sh: $(sort -u "$logs/failed" | wc -l) of ${#files[@]} files have findings (${elapsed} s)" >&2
  exit 1
fi
echo "clang-tidy.sh: ${#files[@]} files, no findings (${elapsed} s, $jobs at a time)"
