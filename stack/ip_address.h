// Addresses, subnets and endpoints of either IP family as plain values: what code that must not care about the
// family (the egress policy first; flow keys, published ports and the config as IPv6 arrives) holds. Pure (no I/O,
// no lwIP). The IPv4-only types of ipv4_address.h convert to these implicitly.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stack/ipv4_address.h"

namespace vznet {

enum class IpFamily : std::uint8_t { v4, v6 };

/// An IPv4 or IPv6 address. An IPv4 address is held as the IPv4-mapped IPv6 address (::ffff:a.b.c.d) with family
/// v4, so one byte layout serves comparison, hashing and prefix matching for both families. An address written in
/// IPv6 form stays family v6 even when it is IPv4-mapped: unmapped() says which IPv4 address it carries.
class IpAddress {
 public:
  using Bytes = std::array<std::uint8_t, 16>;

  /// 0.0.0.0.
  constexpr IpAddress() : IpAddress(Ipv4Address{}) {}
  /// Every IPv4 address is an IpAddress: a widening, like int to long, so it is implicit.
  // cppcheck-suppress noExplicitConstructor // a widening conversion, implicit on purpose
  constexpr IpAddress(Ipv4Address v4)  // NOLINT(google-explicit-constructor)
      : family_(IpFamily::v4),
        bytes_{0,
               0,
               0,
               0,
               0,
               0,
               0,
               0,
               0,
               0,
               0xff,
               0xff,
               static_cast<std::uint8_t>(v4.value >> 24),
               static_cast<std::uint8_t>(v4.value >> 16),
               static_cast<std::uint8_t>(v4.value >> 8),
               static_cast<std::uint8_t>(v4.value)} {}
  /// The IPv6 address with these 16 bytes (network order).
  static constexpr IpAddress v6(const Bytes& bytes) { return IpAddress(IpFamily::v6, bytes); }
  /// A dotted quad as Ipv4Address::parse() takes it, or an IPv6 address in RFC 4291 text ("fd00::1",
  /// "::ffff:10.0.0.1"); no brackets, no zone index.
  static std::optional<IpAddress> parse(std::string_view text);

  constexpr IpFamily family() const { return family_; }
  constexpr bool is_v4() const { return family_ == IpFamily::v4; }
  /// The IPv4 address (meaningful only when is_v4()).
  constexpr Ipv4Address v4() const {
    return Ipv4Address{std::uint32_t{bytes_[12]} << 24 | std::uint32_t{bytes_[13]} << 16 |
                       std::uint32_t{bytes_[14]} << 8 | bytes_[15]};
  }
  /// True for an IPv6 address of the form ::ffff:a.b.c.d.
  constexpr bool is_v4_mapped() const { return !is_v4() && has_v4_mapped_prefix(); }
  /// True for an IPv4-compatible IPv6 address (::a.b.c.d, deprecated by RFC 4291) outside ::/104, which holds
  /// IPv6's own :: and ::1.
  constexpr bool is_v4_compatible() const {
    if (is_v4()) return false;
    for (int i = 0; i < 12; ++i) {
      if (bytes_[i] != 0) return false;
    }
    return bytes_[12] != 0;
  }
  /// An IPv4-mapped IPv6 address as the IPv4 address it carries; any other address unchanged.
  constexpr IpAddress unmapped() const { return is_v4_mapped() ? IpAddress(v4()) : *this; }
  /// The 16 bytes: the IPv6 address, or the IPv4-mapped form of an IPv4 one.
  constexpr const Bytes& bytes() const { return bytes_; }
  /// The address's length in bits: 32 or 128.
  constexpr unsigned bit_count() const { return is_v4() ? 32 : 128; }
  /// Dotted quad, or RFC 5952 text for IPv6 ("fd00::1").
  std::string to_string() const;

  friend constexpr auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  constexpr IpAddress(IpFamily family, const Bytes& bytes) : family_(family), bytes_(bytes) {}
  constexpr bool has_v4_mapped_prefix() const {
    for (int i = 0; i < 10; ++i) {
      if (bytes_[i] != 0) return false;
    }
    return bytes_[10] == 0xff && bytes_[11] == 0xff;
  }

  IpFamily family_;
  Bytes bytes_;
};

/// A network prefix of either family, stored with host bits cleared. An IPv4 prefix length counts IPv4 bits (0..32).
class IpSubnet {
 public:
  /// 0.0.0.0/0.
  constexpr IpSubnet() = default;
  /// Every IPv4 subnet is an IpSubnet (implicit, as for IpAddress).
  // cppcheck-suppress noExplicitConstructor // a widening conversion, implicit on purpose
  constexpr IpSubnet(const Ipv4Subnet& v4)  // NOLINT(google-explicit-constructor)
      : network_(v4.network), prefix_length_(v4.prefix_length) {}
  /// `network`/`prefix_length`, or nullopt when the length is longer than the family's address or `network` has
  /// host bits set (ambiguous intent, as everywhere in vznet).
  static std::optional<IpSubnet> make(const IpAddress& network, unsigned prefix_length);
  /// "A.B.C.D/N" (N 0..32, as Ipv4Subnet::parse) or "IPV6/N" (N 0..128, RFC 4291 text). Host bits set are an
  /// error. On failure `error`, when given, says why in a few words.
  static std::optional<IpSubnet> parse(std::string_view text, std::string* error = nullptr);

  const IpAddress& network() const { return network_; }
  unsigned prefix_length() const { return prefix_length_; }
  IpFamily family() const { return network_.family(); }
  /// Whether `address` (of the same family) lies in this subnet; an address of the other family never does.
  bool contains(const IpAddress& address) const;
  /// The highest address of the subnet (for IPv4, its broadcast address).
  IpAddress last() const;
  /// A prefix inside ::ffff:0:0/96 (IPv4-mapped, written in IPv6 form) as the IPv4 subnet it covers; any other
  /// subnet unchanged.
  IpSubnet unmapped() const;
  /// "10.0.0.0/8", "fd00::/8".
  std::string to_string() const;

  friend bool operator==(const IpSubnet&, const IpSubnet&) = default;

 private:
  IpAddress network_;
  std::uint8_t prefix_length_ = 0;
};

/// An address of either family and a port.
struct IpEndpoint {
  IpAddress address;
  std::uint16_t port = 0;

  constexpr IpEndpoint() = default;
  constexpr IpEndpoint(const IpAddress& a, std::uint16_t p) : address(a), port(p) {}
  /// Every IPv4 endpoint is an IpEndpoint (implicit, as for IpAddress).
  // cppcheck-suppress noExplicitConstructor // a widening conversion, implicit on purpose
  constexpr IpEndpoint(const Ipv4Endpoint& v4)  // NOLINT(google-explicit-constructor)
      : address(v4.address), port(v4.port) {}
  /// "10.0.0.1:80", "[fd00::1]:80".
  std::string to_string() const;

  friend constexpr auto operator<=>(const IpEndpoint&, const IpEndpoint&) = default;
};

}  // namespace vznet
