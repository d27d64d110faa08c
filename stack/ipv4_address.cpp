// Parsing and formatting for the IPv4 value types (see ipv4_address.h).
#include "stack/ipv4_address.h"

#include <charconv>

namespace vznet {

std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t min, std::uint64_t max) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < min || v > max) return std::nullopt;
  return v;
}

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    auto dot = text.find('.');
    std::string_view part = (i < 3) ? text.substr(0, dot) : text;
    if ((i < 3 && dot == std::string_view::npos) || part.empty() || part.size() > 3) return std::nullopt;
    if (part.size() > 1 && part[0] == '0') return std::nullopt;  // "010" is octal to inet_aton: refuse
    auto octet = parse_decimal(part, 0, 255);
    if (!octet) return std::nullopt;
    value = (value << 8) | static_cast<std::uint32_t>(*octet);
    if (i < 3) text.remove_prefix(dot + 1);
  }
  return Ipv4Address{value};
}

std::string Ipv4Address::to_string() const {
  return std::to_string(value >> 24) + '.' + std::to_string((value >> 16) & 0xFF) + '.' +
         std::to_string((value >> 8) & 0xFF) + '.' + std::to_string(value & 0xFF);
}

std::optional<Ipv4Subnet> Ipv4Subnet::parse(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<Ipv4Subnet> {
    if (error) *error = why;
    return std::nullopt;
  };
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return fail("expected ADDRESS/PREFIX, e.g. 192.168.64.0/24");
  auto address = Ipv4Address::parse(text.substr(0, slash));
  if (!address) return fail("not an IPv4 address before '/'");
  auto prefix = parse_decimal(text.substr(slash + 1), 0, 32);
  if (!prefix) return fail("prefix length must be 0..32");
  Ipv4Subnet subnet{*address, static_cast<std::uint8_t>(*prefix)};
  if ((address->value & ~subnet.mask()) != 0) return fail("host bits are set (did you mean the network address?)");
  return subnet;
}

std::string Ipv4Subnet::to_string() const { return network.to_string() + '/' + std::to_string(prefix_length); }

std::optional<Ipv4Endpoint> Ipv4Endpoint::parse(std::string_view text, std::optional<std::uint16_t> default_port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    if (!default_port) return std::nullopt;
    auto address = Ipv4Address::parse(text);
    if (!address) return std::nullopt;
    return Ipv4Endpoint{*address, *default_port};
  }
  auto address = Ipv4Address::parse(text.substr(0, colon));
  auto port = parse_decimal(text.substr(colon + 1), 1, 65535);
  if (!address || !port) return std::nullopt;
  return Ipv4Endpoint{*address, static_cast<std::uint16_t>(*port)};
}

std::string Ipv4Endpoint::to_string() const { return address.to_string() + ':' + std::to_string(port); }

}  // namespace vznet
