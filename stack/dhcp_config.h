// What the DHCP server hands out: subnet, gateway, the dynamic range, static reservations, lease time and the
// options (MTU, DNS, search domains), and the checks that make it usable. Pure: no I/O. The flags that fill
// it are parsed in app/config.cpp.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mac_address.h"
#include "stack/ipv4_address.h"
#include "stack/stack_config.h"

namespace vznet::stack {

/// --dhcp-static MAC=IP: `address` is given to `mac` only, and never to anyone else.
struct DhcpStatic {
  base::MacAddress mac{};
  Ipv4Address address;
  friend bool operator==(const DhcpStatic&, const DhcpStatic&) = default;
};

/// --dhcp-range FIRST-LAST (inclusive).
struct DhcpRange {
  Ipv4Address first;
  Ipv4Address last;
  friend bool operator==(const DhcpRange&, const DhcpRange&) = default;
};

/// The DHCP server's configuration. app/ fills it from flags: subnet, gateway and mtu from the stack's,
/// dns_server = the gateway (vznet's DNS server), the rest from --dhcp-range, --dhcp-static, --lease-time,
/// --dns-search. The network's defaults are StackConfig's (stack_config.h).
struct DhcpConfig {
  Ipv4Subnet subnet = default_subnet();
  Ipv4Address gateway = gateway_of(default_subnet());
  std::optional<DhcpRange> range;  ///< unset: every address after the gateway up to broadcast - 1
  std::vector<DhcpStatic> statics;
  std::chrono::seconds lease_time{3600};
  std::uint16_t mtu = kDefaultMtu;  ///< option 26
  Ipv4Address dns_server = gateway_of(default_subnet());
  std::vector<std::string> search_domains;  ///< option 119; the first is also the domain name (15)

  /// The range in effect (the explicit one, or the default described at `range`).
  DhcpRange effective_range() const;
  /// nullopt when usable; otherwise one sentence naming the flag at fault ("--dhcp-static ...: ...").
  /// Rules: range and static addresses inside the subnet and never the network, broadcast or gateway
  /// address; no MAC or address reserved twice; lease time kMinLeaseTime..kMaxLeaseTime; search
  /// domains valid DNS names that fit one reply. DhcpServer refuses (throws) a config that fails it.
  std::optional<std::string> validate() const;
};

/// Shortest lease accepted: T1 (half of it) must still be at least a second, and clients poll no faster.
inline constexpr std::chrono::seconds kMinLeaseTime{4};
/// Longest lease accepted: option 51 is 32 bits, and 0xFFFFFFFF means "infinite", which vznet never grants.
inline constexpr std::chrono::seconds kMaxLeaseTime{0xFFFFFFFE};
/// Bytes of option 119 that still leave room for the other options in a 548-byte reply.
inline constexpr std::size_t kMaxSearchListBytes = 255;

}  // namespace vznet::stack
