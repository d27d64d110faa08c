// The IPv4 identification of the packets vznet sends to guests: a counter per destination (as Linux keys its
// own), kept in buckets chosen by a keyed hash of the destination and started at random values. lwIP 2.1.3
// numbers every packet from one global counter, which tells a guest how many packets every other guest got in
// between. Called by lwIP through LWIP_HOOK_IP4_ID (third_party/lwip/patches/0007-ip4-id-hook.patch).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace vznet::stack {

class Ip4Ids {
 public:
  using Key = std::array<std::uint8_t, 16>;
  static constexpr std::size_t kBuckets = 4096;

  /// Counters under `key`, starting at `first` (random in production; tests choose).
  Ip4Ids(const Key& key, const std::array<std::uint16_t, kBuckets>& first);
  /// The identification for the next packet to `destination` (an IPv4 address, network byte order).
  std::uint16_t next(std::uint32_t destination);
  /// The bucket whose counter `destination` uses (guests share one only by a collision of the keyed hash).
  std::size_t bucket(std::uint32_t destination) const;

 private:
  Key key_;
  std::array<std::uint16_t, kBuckets> counters_;
};

/// This process's counters: random key and starting values, drawn on first use. Throws std::runtime_error if
/// libsodium cannot start.
Ip4Ids& process_ip4_ids();

}  // namespace vznet::stack
