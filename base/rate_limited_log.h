// Rate-limited logging for the data path: one bad flow or a flood of bad frames must not flood the log.
// A token bucket per call site: `burst` lines at once, then `per_minute` on average; the count of suppressed
// lines is reported with the next line that gets through. Used by stack/ (guard, DHCP), forward/ and dns/.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

#include <spdlog/spdlog.h>

namespace vznet::base {

class RateLimitedLog {
 public:
  explicit RateLimitedLog(std::uint32_t burst = 10, std::uint32_t per_minute = 60)
      : burst_(burst), per_minute_(per_minute), tokens_(burst) {}

  template <class... Args>
  void log(spdlog::level::level_enum level, spdlog::format_string_t<Args...> fmt, Args&&... args) {
    if (!spdlog::should_log(level)) return;
    if (!take()) {
      ++suppressed_;
      return;
    }
    if (suppressed_ > 0) {
      spdlog::log(level, "({} similar messages suppressed)", std::exchange(suppressed_, 0));
    }
    spdlog::log(level, fmt, std::forward<Args>(args)...);
  }

 private:
  bool take() {
    auto now = std::chrono::steady_clock::now();
    auto refill =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - last_refill_).count() * per_minute_ / 60000;
    if (refill > 0) {
      tokens_ = std::min<std::uint64_t>(burst_, tokens_ + static_cast<std::uint64_t>(refill));
      last_refill_ = now;
    }
    if (tokens_ == 0) return false;
    --tokens_;
    return true;
  }

  std::uint32_t burst_, per_minute_;
  std::uint64_t tokens_;
  std::uint64_t suppressed_ = 0;
  std::chrono::steady_clock::time_point last_refill_ = std::chrono::steady_clock::now();
};

}  // namespace vznet::base
