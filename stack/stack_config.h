// The guest network as the stack serves it (subnet, gateway, MTU, the gateway's MAC), and the one place for
// its defaults: the DHCP, guard and DNS configurations and the app's flags start from these.
#pragma once

#include <cstdint>

#include "base/mac_address.h"
#include "stack/ipv4_address.h"

namespace vznet::stack {

inline constexpr std::uint16_t kDefaultMtu = 1500;
/// Locally administered (bit 1 of the first byte set), so it cannot be a vendor's MAC.
inline constexpr base::MacAddress kDefaultGatewayMac{0x5a, 0x94, 0xef, 0x76, 0x7a, 0x01};
/// 192.168.64.0/24, the subnet of Apple's shared NAT, which macOS VM users know; the gateway is its first host.
inline Ipv4Subnet default_subnet() { return *Ipv4Subnet::parse("192.168.64.0/24"); }
/// vznet's gateway (DHCP server, DNS server, the host's loopback) in `subnet`: its first host, .1.
inline Ipv4Address gateway_of(const Ipv4Subnet& subnet) { return subnet.host(1); }

struct StackConfig {
  Ipv4Subnet subnet = default_subnet();
  Ipv4Address gateway = gateway_of(default_subnet());
  std::uint16_t mtu = kDefaultMtu;
  base::MacAddress gateway_mac = kDefaultGatewayMac;
};

}  // namespace vznet::stack
