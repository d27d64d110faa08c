// MacAddress: an Ethernet address as its six bytes in wire order, with what every layer does with one: read it
// from a frame, hash it (the switch's and the lease pool's maps), tell a group address, and write and parse its
// text form ("52:54:00:12:34:56"). Pure. Not here: which MAC lives behind which port (virtio/port_switch.h) and
// which a guest may use (stack/guest_guard.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vznet::base {

/// An Ethernet (EUI-48) address, in wire order.
using MacAddress = std::array<std::uint8_t, 6>;

/// Hash for unordered containers keyed by MacAddress (std::hash cannot be specialised for std::array).
struct MacHash {
  std::size_t operator()(const MacAddress& mac) const noexcept;
};

/// The address at bytes[offset..offset+6); the caller has checked the length.
MacAddress mac_at(std::span<const std::uint8_t> bytes, std::size_t offset);

/// A group address (broadcast or multicast): the I/G bit of the first byte.
constexpr bool is_group(const MacAddress& mac) { return (mac[0] & 0x01) != 0; }

/// "52:54:00:12:34:56" (lower case), for logs, flags and the lease list.
std::string format_mac(const MacAddress& mac);

/// "52:54:00:12:34:56" or "52-54-00-12-34-56", either case; nullopt for anything else.
std::optional<MacAddress> parse_mac(std::string_view text);

}  // namespace vznet::base
