// Per-destination IPv4 identification (see ip4_id.h) and the lwIP hook that uses it.
#include "stack/ip4_id.h"

#include <cstring>
#include <memory>
#include <stdexcept>

#include <sodium.h>

#include "lwip/ip_addr.h"
#include "vznet_lwip_hooks.h"

namespace vznet::stack {

static_assert(crypto_shorthash_KEYBYTES == std::tuple_size_v<Ip4Ids::Key>);

Ip4Ids::Ip4Ids(const Key& key, const std::array<std::uint16_t, kBuckets>& first) : key_(key), counters_(first) {}

std::size_t Ip4Ids::bucket(std::uint32_t destination) const {
  std::array<std::uint8_t, crypto_shorthash_BYTES> hash{};
  crypto_shorthash(hash.data(), reinterpret_cast<const unsigned char*>(&destination), sizeof destination, key_.data());
  std::uint32_t value = 0;
  std::memcpy(&value, hash.data(), sizeof value);
  return value % kBuckets;
}

std::uint16_t Ip4Ids::next(std::uint32_t destination) { return counters_[bucket(destination)]++; }

Ip4Ids& process_ip4_ids() {
  static const std::unique_ptr<Ip4Ids> ids = [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium: cannot initialize its random source");
    Ip4Ids::Key key;
    crypto_shorthash_keygen(key.data());
    std::array<std::uint16_t, Ip4Ids::kBuckets> first;
    randombytes_buf(first.data(), sizeof first);
    return std::make_unique<Ip4Ids>(key, first);
  }();
  return *ids;
}

}  // namespace vznet::stack

extern "C" uint16_t vznet_hook_ip4_id(const ip4_addr* destination) {
  return vznet::stack::process_ip4_ids().next(ip4_addr_get_u32(destination));
}
