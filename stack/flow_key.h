// The identity of a guest flow: protocol, guest address/port, destination address/port as the guest sent it.
// Pure value type with hashing and a log-friendly form.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "stack/ipv4_address.h"

namespace vznet {

enum class IpProtocol : std::uint8_t { icmp = 1, tcp = 6, udp = 17 };

/// "tcp", "udp" or "icmp", for logs and the API.
constexpr const char* protocol_name(IpProtocol p) {
  return p == IpProtocol::tcp ? "tcp" : p == IpProtocol::udp ? "udp" : "icmp";
}

struct FlowKey {
  IpProtocol protocol = IpProtocol::tcp;
  Ipv4Endpoint guest;        ///< the guest's source address and port (ICMP: echo identifier)
  Ipv4Endpoint destination;  ///< where the guest sent it (ICMP: port 0)
  friend bool operator==(const FlowKey&, const FlowKey&) = default;

  /// "tcp 192.168.64.2:40000 -> 10.0.0.1:80"
  std::string to_string() const {
    return std::string(protocol_name(protocol)) + ' ' + guest.to_string() + " -> " + destination.to_string();
  }
};

struct FlowKeyHash {
  std::size_t operator()(const FlowKey& k) const noexcept {
    std::uint64_t a = (std::uint64_t{k.guest.address.value} << 32) | k.destination.address.value;
    std::uint64_t b = (std::uint64_t{k.guest.port} << 24) | (std::uint64_t{k.destination.port} << 8) |
                      static_cast<std::uint8_t>(k.protocol);
    return std::hash<std::uint64_t>{}(a * 0x9E3779B97F4A7C15ull ^ b);
  }
};

}  // namespace vznet
