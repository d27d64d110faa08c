#!/usr/bin/env bash
# The layering lint: each folder of ours includes only from itself and the folders below it, in the order
# base < virtio < stack < forward < dns < app (docs/ARCHITECTURE.md, "Layers"). tests/ and tools/ are exempt, and
# so are includes that do not start with one of these folders (lwIP's, the standard library's, third parties').
# Each include running up the layers is printed as FILE:LINE and fails the check. It reads the sources only.
# ctest runs it as lint.layers (label lint).
# Usage: tools/check-layers.sh [SOURCE_DIR]   default: the checkout this script is in
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
layers=(base virtio stack forward dns app)  # lowest first

files=0
violations=0
for ((i = 0; i < ${#layers[@]}; i++)); do
  folder=${layers[$i]}
  [ -d "$root/$folder" ] || continue  # an older tree without base/, say
  above=$(IFS='|'; echo "${layers[*]:i+1}")  # e.g. "forward|dns|app" for stack/; empty for app/
  files=$((files + $(find "$root/$folder" -type f \( -name '*.h' -o -name '*.c' -o -name '*.cpp' \) | wc -l)))
  [ -n "$above" ] || continue
  # FILE:LINE:TEXT for every #include line of the folder's sources.
  while IFS= read -r hit; do
    file=${hit%%:*}
    rest=${hit#*:}
    line=${rest%%:*}
    text=${rest#*:}
    [[ $text =~ include[[:space:]]*[\"\<]([^\"\>]+)[\"\>] ]] || continue
    included=${BASH_REMATCH[1]}
    if [[ $included =~ ^($above)/ ]]; then
      echo "${file#"$root"/}:$line: $folder/ includes $included, from ${BASH_REMATCH[1]}/ above it"
      violations=$((violations + 1))
    fi
  done < <(grep -rnE --include='*.h' --include='*.c' --include='*.cpp' '^[[:space:]]*#[[:space:]]*include' \
    "$root/$folder" || true)
done

if [ "$files" -eq 0 ]; then
  echo "check-layers.sh: no sources under $root" >&2
  exit 2
fi
if [ "$violations" -gt 0 ]; then
  echo "check-layers.sh: $violations include(s) running up the layers (order, lowest first: ${layers[*]})" >&2
  exit 1
fi
echo "check-layers.sh: $files files, every include from the same layer or one below (${layers[*]})"
