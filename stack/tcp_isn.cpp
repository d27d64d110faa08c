// RFC 6528 ISNs (see tcp_isn.h) and the lwIP hook that uses them.
#include "stack/tcp_isn.h"

#include <cstring>
#include <stdexcept>

#include <sodium.h>

#include "lwip/ip_addr.h"
#include "vznet_lwip_hooks.h"

namespace vznet::stack {

static_assert(crypto_shorthash_KEYBYTES == std::tuple_size_v<TcpIsnSecret>);

std::uint32_t tcp_isn(const TcpIsnSecret& secret, const TcpFourTuple& tuple, std::chrono::nanoseconds clock) {
  std::array<std::uint8_t, 12> message{};
  std::memcpy(message.data(), &tuple.local_address, 4);
  std::memcpy(message.data() + 4, &tuple.remote_address, 4);
  std::memcpy(message.data() + 8, &tuple.local_port, 2);
  std::memcpy(message.data() + 10, &tuple.remote_port, 2);
  std::array<std::uint8_t, crypto_shorthash_BYTES> hash{};
  crypto_shorthash(hash.data(), message.data(), message.size(), secret.data());
  std::uint32_t offset = 0;
  std::memcpy(&offset, hash.data(), sizeof offset);
  const auto ticks = static_cast<std::uint32_t>(clock.count() / 4000);  // RFC 6528's 4-microsecond timer
  return ticks + offset;
}

const TcpIsnSecret& process_tcp_isn_secret() {
  static const TcpIsnSecret secret = [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium: cannot initialize its random source");
    TcpIsnSecret s;
    crypto_shorthash_keygen(s.data());
    return s;
  }();
  return secret;
}

}  // namespace vznet::stack

extern "C" uint32_t vznet_hook_tcp_isn(const ip4_addr* local_ip, uint16_t local_port, const ip4_addr* remote_ip,
                                       uint16_t remote_port) {
  using namespace vznet::stack;
  const TcpFourTuple tuple{ip4_addr_get_u32(local_ip), local_port, ip4_addr_get_u32(remote_ip), remote_port};
  return tcp_isn(process_tcp_isn_secret(), tuple, std::chrono::steady_clock::now().time_since_epoch());
}
