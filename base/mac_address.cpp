// MacAddress's hash, text form and parsing (base/mac_address.h).
#include "base/mac_address.h"

#include <algorithm>
#include <functional>

namespace vznet::base {

std::size_t MacHash::operator()(const MacAddress& mac) const noexcept {
  std::uint64_t v = 0;
  for (std::uint8_t byte : mac) v = (v << 8) | byte;
  return std::hash<std::uint64_t>{}(v);
}

MacAddress mac_at(std::span<const std::uint8_t> bytes, std::size_t offset) {
  MacAddress mac;
  std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(offset), mac.size(), mac.begin());
  return mac;
}

std::string format_mac(const MacAddress& mac) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < mac.size(); ++i) {
    if (i > 0) out += ':';
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0x0F];
  }
  return out;
}

std::optional<MacAddress> parse_mac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  MacAddress mac{};
  for (std::size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':' && text[i * 3 - 1] != '-') return std::nullopt;
    unsigned value = 0;
    for (char c : text.substr(i * 3, 2)) {
      value <<= 4;
      if (c >= '0' && c <= '9') value |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') value |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') value |= static_cast<unsigned>(c - 'A' + 10);
      else return std::nullopt;
    }
    mac[i] = static_cast<std::uint8_t>(value);
  }
  return mac;
}

}  // namespace vznet::base
