// Parsing, formatting and prefix arithmetic for the family-independent address types (see ip_address.h). IPv6 text
// goes through the C library's inet_pton/inet_ntop, which implement RFC 4291 and RFC 5952.
#include "stack/ip_address.h"

#include <arpa/inet.h>

namespace vznet {
namespace {

/// Bits before the address itself in the 16-byte form: the IPv4-mapped prefix for IPv4, none for IPv6.
unsigned prefix_offset(const IpAddress& a) { return 128 - a.bit_count(); }

/// `bytes` with every bit from `first_bit` on set to `value`.
IpAddress::Bytes fill_from(IpAddress::Bytes bytes, unsigned first_bit, bool value) {
  for (unsigned bit = first_bit; bit < 128; ++bit) {
    const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    bytes[bit / 8] = value ? (bytes[bit / 8] | mask) : (bytes[bit / 8] & ~mask);
  }
  return bytes;
}

IpAddress with_bytes(const IpAddress& like, const IpAddress::Bytes& bytes) {
  if (like.is_v4()) return IpAddress(IpAddress::v6(bytes).unmapped().v4());
  return IpAddress::v6(bytes);
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (auto v4 = Ipv4Address::parse(text)) return IpAddress(*v4);
  if (text.find(':') == std::string_view::npos || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  const std::string copy(text);
  Bytes bytes{};
  if (inet_pton(AF_INET6, copy.c_str(), bytes.data()) != 1) return std::nullopt;
  return v6(bytes);
}

std::string IpAddress::to_string() const {
  if (is_v4()) return v4().to_string();
  char text[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, bytes_.data(), text, sizeof text) != nullptr ? std::string(text) : std::string("?");
}

std::optional<IpSubnet> IpSubnet::make(const IpAddress& network, unsigned prefix_length) {
  if (prefix_length > network.bit_count()) return std::nullopt;
  if (fill_from(network.bytes(), prefix_offset(network) + prefix_length, false) != network.bytes()) return std::nullopt;
  IpSubnet subnet;
  subnet.network_ = network;
  subnet.prefix_length_ = static_cast<std::uint8_t>(prefix_length);
  return subnet;
}

std::optional<IpSubnet> IpSubnet::parse(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<IpSubnet> {
    if (error) *error = why;
    return std::nullopt;
  };
  const auto slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  if (address_text.find(':') == std::string_view::npos) {
    auto v4 = Ipv4Subnet::parse(text, error);
    return v4 ? std::optional<IpSubnet>(*v4) : std::nullopt;
  }
  if (slash == std::string_view::npos) return fail("expected ADDRESS/PREFIX, e.g. fd00::/8");
  const auto address = IpAddress::parse(address_text);
  if (!address) return fail("not an IPv6 address before '/'");
  const auto prefix = parse_decimal(text.substr(slash + 1), 0, 128);
  if (!prefix) return fail("prefix length must be 0..128");
  auto subnet = make(*address, static_cast<unsigned>(*prefix));
  if (!subnet) return fail("host bits are set (did you mean the network address?)");
  return subnet;
}

bool IpSubnet::contains(const IpAddress& address) const {
  if (address.family() != network_.family()) return false;
  return fill_from(address.bytes(), prefix_offset(address) + prefix_length_, false) == network_.bytes();
}

IpAddress IpSubnet::last() const {
  return with_bytes(network_, fill_from(network_.bytes(), prefix_offset(network_) + prefix_length_, true));
}

IpSubnet IpSubnet::unmapped() const {
  if (!network_.is_v4_mapped() || prefix_length_ < 96) return *this;
  IpSubnet v4;
  v4.network_ = network_.unmapped();
  v4.prefix_length_ = static_cast<std::uint8_t>(prefix_length_ - 96);
  return v4;
}

std::string IpSubnet::to_string() const { return network_.to_string() + '/' + std::to_string(prefix_length_); }

std::string IpEndpoint::to_string() const {
  if (address.is_v4()) return address.to_string() + ':' + std::to_string(port);
  return '[' + address.to_string() + "]:" + std::to_string(port);
}

}  // namespace vznet
