#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang, ASan+UBSan) in ./build-fuzz and runs them one at a time, each
# on its seeds (tests/fuzz/corpus/<target>) and kept crashes (tests/fuzz/regressions/<target>). What a run finds
# goes to build-fuzz/tests/fuzz/work/<target> (the growing corpus) and, for a crash, artifacts/<target>-crash-*.
# Exits non-zero when any target crashed, leaked or hit a broken invariant.
# Usage: tools/fuzz.sh [--time SECONDS | --runs N] [--timeout S] [TARGET...]
#          each target that long (default 60 s), all targets unless named (e.g. dns_message_fuzz); an input that
#          runs longer than S seconds (default 10) counts as a hang. Long campaigns on a busy machine want a larger
#          S: a fuzzer starved of CPU reports slow inputs that are not slow.
#        tools/fuzz.sh --ci                                       CI: build, then ctest -L fuzz (a few seconds each)
# Needs clang and libclang-rt-dev (tools/install-deps.sh test installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-fuzz
limit=(-max_total_time=60)
hang_seconds=10
ci=false
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) ci=true ;;
    --time) limit=(-max_total_time="$2"); shift ;;
    --runs) limit=(-runs="$2"); shift ;;
    --timeout) hang_seconds="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done

cmake -S . -B "$build" -G Ninja -DVZNET_BUILD_FUZZERS=ON \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
# FUZZ_BUILD_JOBS=N caps the build jobs (default: every core, as tools/test.sh).
cmake --build "$build" -j "${FUZZ_BUILD_JOBS:-$(nproc)}" --target vznet_fuzzers

if $ci; then
  exec ctest --test-dir "$build" -L fuzz --output-on-failure
fi

if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

out="$build/tests/fuzz"
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$out/work/$t" "$out/artifacts"
  inputs=("$out/work/$t" "tests/fuzz/corpus/$t")
  [ -d "tests/fuzz/regressions/$t" ] && inputs+=("tests/fuzz/regressions/$t")
  log="$out/$t.log"
  echo "== $t (${limit[*]})"
  if "$out/$t" "${limit[@]}" -timeout="$hang_seconds" -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/$t-" "${inputs[@]}" >"$log" 2>&1; then
    status=clean
  else
    status=FAILED
    failed+=("$t")
    grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz invariant)|runtime error|artifact_prefix|Test unit written' "$log" |
      head -20 || true
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  seconds=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || true)
  echo "   $status: ${runs:-?} executions in ${seconds:-?} s, $cov (log: $log)"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crashes in: ${failed[*]} (inputs in $out/artifacts/)" >&2
  exit 1
fi
