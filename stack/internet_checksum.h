// The Internet checksum (RFC 1071) over a buffer, fast: lwIP's own routine adds 16 bits at a time and was the
// largest single cost of moving host bytes to the guest. These are installed as LWIP_CHKSUM and
// LWIP_CHKSUM_COPY (lwipopts.h) and keep lwIP's contract: the folded, non-inverted one's-complement sum of
// the bytes read as native-order 16-bit words, the first byte at an even offset. Pure: no lwIP state.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vznet::stack {

/// One's-complement sum of `data[0..length)`, folded to 16 bits, in native byte order (not inverted).
std::uint16_t internet_sum(const void* data, std::size_t length);

/// Copies `length` bytes from `source` to `destination` and returns internet_sum() of them, in one pass.
std::uint16_t copy_and_sum(void* destination, const void* source, std::size_t length);

}  // namespace vznet::stack
