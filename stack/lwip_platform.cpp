// What lwIP needs from the platform with NO_SYS=1: a millisecond clock, random numbers, somewhere to report
// assertion failures (a broken lwIP invariant is a bug: log it and abort, never limp on), and the checksum
// (base/internet_checksum.h, under lwIP's names).
#include <chrono>
#include <cstdlib>
#include <random>

#include <spdlog/spdlog.h>

#include "base/internet_checksum.h"
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

// Declared in arch/cc.h; installed as LWIP_CHKSUM and LWIP_CHKSUM_COPY in lwipopts.h.
u16_t vznet_lwip_chksum(const void* data, int length) {
  return vznet::base::internet_sum(data, static_cast<std::size_t>(length));
}

u16_t vznet_lwip_chksum_copy(void* destination, const void* source, u16_t length) {
  return vznet::base::copy_and_sum(destination, source, length);
}

}  // extern "C"
