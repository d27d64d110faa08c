// Internet checksum, eight bytes per addition. One's-complement addition is associative and commutative and
// does not care which end of a word carries, so summing 64-bit native loads with end-around carry and folding
// to 16 bits gives the same result as summing 16-bit native words (RFC 1071 §2). A 128-bit accumulator keeps
// the carries (one add-with-carry per word); they are folded back at the end.
#include "base/internet_checksum.h"

#include <cstring>

#include "base/byte_order.h"

namespace vznet::base {
namespace {

using Accumulator = unsigned __int128;

std::uint64_t load64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// The 1..7 bytes after the last whole word, at the start of a zeroed word: they keep their offsets modulo 8,
/// so a last odd byte pairs with a zero byte exactly as RFC 1071 pads it.
std::uint64_t load_tail(const unsigned char* p, std::size_t length) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, length);
  return v;
}

std::uint16_t fold(Accumulator sum) {
  std::uint64_t low = static_cast<std::uint64_t>(sum);
  const std::uint64_t high = static_cast<std::uint64_t>(sum >> 64);
  std::uint64_t s = low + high;
  if (s < low) ++s;  // end-around carry
  s = (s & 0xFFFFFFFFu) + (s >> 32);
  s = (s & 0xFFFFFFFFu) + (s >> 32);
  s = (s & 0xFFFFu) + (s >> 16);
  s = (s & 0xFFFFu) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

}  // namespace

std::uint16_t internet_sum(const void* data, std::size_t length) {
  const auto* p = static_cast<const unsigned char*>(data);
  Accumulator sum = 0;
  for (; length >= 32; p += 32, length -= 32) {
    sum += load64(p);
    sum += load64(p + 8);
    sum += load64(p + 16);
    sum += load64(p + 24);
  }
  for (; length >= 8; p += 8, length -= 8) sum += load64(p);
  if (length > 0) sum += load_tail(p, length);
  return fold(sum);
}

std::uint16_t copy_and_sum(void* destination, const void* source, std::size_t length) {
  auto* out = static_cast<unsigned char*>(destination);
  const auto* in = static_cast<const unsigned char*>(source);
  Accumulator sum = 0;
  for (; length >= 32; in += 32, out += 32, length -= 32) {
    const std::uint64_t a = load64(in), b = load64(in + 8), c = load64(in + 16), d = load64(in + 24);
    std::memcpy(out, &a, 8);
    std::memcpy(out + 8, &b, 8);
    std::memcpy(out + 16, &c, 8);
    std::memcpy(out + 24, &d, 8);
    sum += a;
    sum += b;
    sum += c;
    sum += d;
  }
  for (; length >= 8; in += 8, out += 8, length -= 8) {
    const std::uint64_t a = load64(in);
    std::memcpy(out, &a, 8);
    sum += a;
  }
  if (length > 0) {
    std::memcpy(out, in, length);
    sum += load_tail(in, length);
  }
  return fold(sum);
}

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes) {
  // The folded sum of native-order words, stored natively, is the big-endian sum's bytes (RFC 1071 §2(B)).
  const auto sum = static_cast<std::uint16_t>(~internet_sum(bytes.data(), bytes.size()));
  std::uint8_t wire[2];
  std::memcpy(wire, &sum, sizeof wire);
  return load_be16(wire);
}

}  // namespace vznet::base
