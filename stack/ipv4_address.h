// IPv4 addresses, subnets and endpoints as plain values, with parsing and formatting. Pure (no I/O, no lwIP),
// shared by config, stack and forward. Addresses are kept in host byte order.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vznet {

/// An IPv4 address in host byte order (10.0.0.1 is 0x0A000001).
struct Ipv4Address {
  std::uint32_t value = 0;

  constexpr Ipv4Address() = default;
  constexpr explicit Ipv4Address(std::uint32_t host_order) : value(host_order) {}
  constexpr Ipv4Address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
      : value((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d) {}

  /// Dotted quad only ("192.168.64.1"); no leading zeros, no shorthand forms.
  static std::optional<Ipv4Address> parse(std::string_view text);
  std::string to_string() const;

  constexpr bool is_loopback() const { return (value >> 24) == 127; }
  constexpr bool is_multicast() const { return (value >> 28) == 0xE; }
  constexpr bool is_broadcast() const { return value == 0xFFFFFFFFu; }
  constexpr bool is_unspecified() const { return value == 0; }
  friend constexpr auto operator<=>(Ipv4Address, Ipv4Address) = default;
};

/// A network prefix ("192.168.64.0/24"). The address is stored with host bits cleared.
struct Ipv4Subnet {
  Ipv4Address network;
  std::uint8_t prefix_length = 0;

  /// "A.B.C.D/N" with 0 <= N <= 32. Host bits set in A.B.C.D are an error (ambiguous intent).
  static std::optional<Ipv4Subnet> parse(std::string_view text, std::string* error = nullptr);
  std::string to_string() const;

  constexpr std::uint32_t mask() const { return prefix_length == 0 ? 0u : ~std::uint32_t{0} << (32 - prefix_length); }
  constexpr bool contains(Ipv4Address a) const { return (a.value & mask()) == network.value; }
  constexpr Ipv4Address broadcast() const { return Ipv4Address{network.value | ~mask()}; }
  /// The n-th address of the subnet (n = 1 is the first host address).
  constexpr Ipv4Address host(std::uint32_t n) const { return Ipv4Address{network.value + n}; }
  /// Number of usable host addresses (excludes network and broadcast addresses).
  constexpr std::uint64_t host_count() const {
    return prefix_length >= 31 ? 0 : (std::uint64_t{1} << (32 - prefix_length)) - 2;
  }
  friend constexpr bool operator==(const Ipv4Subnet&, const Ipv4Subnet&) = default;
};

/// An IPv4 address and port.
struct Ipv4Endpoint {
  Ipv4Address address;
  std::uint16_t port = 0;
  /// "A.B.C.D:PORT" (port 1..65535), or "A.B.C.D" with `default_port` when given.
  static std::optional<Ipv4Endpoint> parse(std::string_view text, std::optional<std::uint16_t> default_port = {});
  std::string to_string() const;
  friend constexpr auto operator<=>(const Ipv4Endpoint&, const Ipv4Endpoint&) = default;
};

/// Parses a decimal integer in [min, max]; no sign, no spaces, no trailing text.
std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t min, std::uint64_t max);

}  // namespace vznet
