// Network byte order (big-endian) loads and stores over raw bytes: every wire field vznet reads or writes itself
// (Ethernet, ARP, IPv4, TCP/UDP/ICMP headers, DHCP, DNS, the QEMU stream framing's length prefix). Not here:
// values inside lwIP's own structs, which lwIP converts with lwip_htons()/lwip_ntohl().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace vznet::base {

/// The big-endian 16-bit value at p[0..2).
constexpr std::uint16_t load_be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((std::uint16_t{p[0]} << 8) | p[1]);
}

/// The big-endian 32-bit value at p[0..4).
constexpr std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

/// The big-endian 16-bit value at bytes[at..at+2); the caller has checked the length.
constexpr std::uint16_t load_be16(std::span<const std::uint8_t> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((std::uint16_t{bytes[at]} << 8) | bytes[at + 1]);
}

/// The big-endian 32-bit value at bytes[at..at+4); the caller has checked the length.
constexpr std::uint32_t load_be32(std::span<const std::uint8_t> bytes, std::size_t at) {
  return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) | (std::uint32_t{bytes[at + 2]} << 8) |
         bytes[at + 3];
}

/// Writes `v` big-endian to p[0..2).
constexpr void store_be16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

/// Writes `v` big-endian to p[0..4).
constexpr void store_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

/// Writes `v` big-endian to bytes[at..at+2); the caller has checked the length.
constexpr void store_be16(std::span<std::uint8_t> bytes, std::size_t at, std::uint16_t v) {
  bytes[at] = static_cast<std::uint8_t>(v >> 8);
  bytes[at + 1] = static_cast<std::uint8_t>(v);
}

/// Writes `v` big-endian to bytes[at..at+4); the caller has checked the length.
constexpr void store_be32(std::span<std::uint8_t> bytes, std::size_t at, std::uint32_t v) {
  store_be16(bytes, at, static_cast<std::uint16_t>(v >> 16));
  store_be16(bytes, at + 2, static_cast<std::uint16_t>(v));
}

/// Appends `v` big-endian (two bytes) to `out`.
inline void append_be16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

/// Appends `v` big-endian (four bytes) to `out`.
inline void append_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  append_be16(out, static_cast<std::uint16_t>(v >> 16));
  append_be16(out, static_cast<std::uint16_t>(v));
}

}  // namespace vznet::base
