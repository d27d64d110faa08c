// The Internet checksum (RFC 1071), the one vznet has: lwIP's LWIP_CHKSUM and LWIP_CHKSUM_COPY (installed by
// stack/lwip_platform.cpp, see lwipopts.h) and every header vznet checksums itself (forward/'s ICMP echoes). Fast:
// lwIP's own routine adds 16 bits at a time and was the largest single cost of moving host bytes to the guest.
// Pure: no lwIP state, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vznet::base {

/// One's-complement sum of `data[0..length)`, folded to 16 bits, in native byte order (not inverted): lwIP's
/// contract for LWIP_CHKSUM, the first byte at an even offset.
std::uint16_t internet_sum(const void* data, std::size_t length);

/// Copies `length` bytes from `source` to `destination` and returns internet_sum() of them, in one pass.
std::uint16_t copy_and_sum(void* destination, const void* source, std::size_t length);

/// The checksum field for a header whose checksum field is zero in `bytes`: the inverted sum, as a big-endian
/// value (store it with base::store_be16).
std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes);

}  // namespace vznet::base
