// What lwIP needs from the platform with NO_SYS=1: a millisecond clock, random numbers, and somewhere to
// report assertion failures (a broken lwIP invariant is a bug: log it and abort, never limp on).
#include <chrono>
#include <cstdlib>
#include <random>

#include <spdlog/spdlog.h>

#include "lwip/arch.h"
#include "lwip/sys.h"
#include "vznet_lwip_hooks.h"

extern "C" {

u32_t sys_now(void) {
  using namespace std::chrono;
  return static_cast<u32_t>(duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

unsigned int vznet_lwip_rand(void) {
  static std::mt19937 generator{std::random_device{}()};
  return generator();
}

void vznet_lwip_diag(const char* msg) { spdlog::debug("lwip: {}", msg); }

void vznet_lwip_assert(const char* msg, const char* file, int line) {
  spdlog::critical("lwIP assertion failed: {} ({}:{})", msg, file, line);
  spdlog::shutdown();
  std::abort();
}

}  // extern "C"
