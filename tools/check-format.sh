#!/usr/bin/env bash
# Checks that our C++ sources are laid out as .clang-format says (ctest lint.clang_format): prints what differs
# and fails. tools/check-format.sh --fix rewrites them instead. lwIP's port headers (stack/lwip_port/, C in
# lwIP's own style) and fetched or generated files are left alone. Needs Debian 12's clang-format (14): other
# versions lay some lines out differently.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(--dry-run --Werror)
[ "${1:-}" = --fix ] && mode=(-i)
mapfile -t files < <(find app base virtio stack forward dns tests tools -path stack/lwip_port -prune -o \
  \( -name '*.h' -o -name '*.cpp' \) -print | sort)
clang-format "${mode[@]}" "${files[@]}"
