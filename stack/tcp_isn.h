// Initial sequence numbers for lwIP's TCP connections, as RFC 6528 asks: ISN = M + F(4-tuple, secret). M is a
// clock ticking every 4 microseconds; F is SipHash-2-4 (libsodium's crypto_shorthash) of the 4-tuple under a
// secret drawn once per process. Another connection's ISN cannot be guessed without the secret, and one
// 4-tuple's ISNs still grow with time. lwIP 2.1.3's own ISN is a tick counter anyone can predict.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace vznet::stack {

using TcpIsnSecret = std::array<std::uint8_t, 16>;

/// The 4-tuple as lwIP holds it (addresses in network byte order, ports in host byte order).
struct TcpFourTuple {
  std::uint32_t local_address = 0;
  std::uint16_t local_port = 0;
  std::uint32_t remote_address = 0;
  std::uint16_t remote_port = 0;
};

/// RFC 6528's ISN for `tuple` at `clock` (any monotonic time), under `secret`. Pure.
std::uint32_t tcp_isn(const TcpIsnSecret& secret, const TcpFourTuple& tuple, std::chrono::nanoseconds clock);

/// This process's secret: random, drawn on first use. Throws std::runtime_error if libsodium cannot start.
const TcpIsnSecret& process_tcp_isn_secret();

}  // namespace vznet::stack
