// Helpers shared by the fuzz targets: a check that reports a broken invariant as a crash libFuzzer keeps, and
// quiet logs (spdlog at "off": a target must not print per input, and formatting logs is not what is fuzzed).
#pragma once

#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

namespace vznet::fuzz {

/// Aborts (so libFuzzer saves the input) when `condition` is false: a round trip or invariant the code promises.
inline void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

/// Call once per process (a function-local static in LLVMFuzzerTestOneInput is enough).
inline bool quiet_logs() {
  spdlog::set_level(spdlog::level::off);
  return true;
}

}  // namespace vznet::fuzz
