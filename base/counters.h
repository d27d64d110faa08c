// Counts<Enum>: one 64-bit counter per value of an enum class that ends in `count_`, the shape of every counter
// set vznet reports (link, stack and guard drops, DHCP drops and events, DNS and flow events). Plain integers,
// one thread (the loop's). Not here: the name tables (next to each enum) and the /stats JSON (app/api_routes.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace vznet::base {

/// How often each value of `Enum` happened. `Enum` is an enum class whose last enumerator is `count_`.
template <class Enum>
class Counts {
 public:
  static constexpr std::size_t kSize = static_cast<std::size_t>(Enum::count_);

  /// Counts `e` once, or `n` times.
  void add(Enum e, std::uint64_t n = 1) { values_[static_cast<std::size_t>(e)] += n; }
  /// How often `e` was counted.
  std::uint64_t get(Enum e) const { return values_[static_cast<std::size_t>(e)]; }

  /// By position, in the enum's order: what the name tables (k...Names) and reports walk.
  std::uint64_t operator[](std::size_t i) const { return values_[i]; }
  static constexpr std::size_t size() { return kSize; }
  auto begin() const { return values_.begin(); }
  auto end() const { return values_.end(); }

 private:
  std::array<std::uint64_t, kSize> values_{};
};

}  // namespace vznet::base
