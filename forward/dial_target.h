// Where vznet dials a guest's destination on the host, or why it never will: the one place that maps the
// guest's view (the gateway is the host) to a host address and refuses what no router would forward.
// Pure: no sockets. The egress policy then judges the endpoint this returns, never the guest's field.
//
// Why this exists: a host connect() or sendto() gives some destinations a meaning they do not have on a
// network. 0.0.0.0 (and all of 0.0.0.0/8 on Linux) reaches the host's own loopback; 127.0.0.0/8 is the host
// itself; multicast and broadcast would be sent onto the host's LAN. A guest that names one of these must not
// get the host to do it for it, whatever the policy says, so these are refused before the policy is asked.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "stack/ipv4_address.h"

namespace vznet::forward {

/// The classes of destination vznet never dials on the host (RFC 1122 3.2.1.3, RFC 6890).
enum class Unroutable : std::uint8_t {
  this_network,  ///< 0.0.0.0/8: "this host on this network"; a host connect() reaches loopback
  loopback,      ///< 127.0.0.0/8 named directly: the host's loopback is reached through the gateway only
  multicast,     ///< 224.0.0.0/4
  reserved,      ///< 240.0.0.0/4 (limited broadcast 255.255.255.255 is `broadcast`)
  broadcast,     ///< 255.255.255.255, or the guest subnet's directed broadcast
  guest_subnet,  ///< another guest's (or a free) address of the guest subnet: guests meet on the link or not at all
  count_
};
inline constexpr std::string_view kUnroutableNames[] = {"this_network", "loopback",  "multicast",
                                                        "reserved",     "broadcast", "guest_subnet"};
static_assert(std::size(kUnroutableNames) == static_cast<std::size_t>(Unroutable::count_));

/// One line for logs: why such a destination is not dialed.
std::string_view describe(Unroutable why);

/// What the guest network looks like from the host: the two facts the mapping needs.
struct DialMap {
  Ipv4Subnet guest_subnet;
  Ipv4Address gateway;
  Ipv4Address host_loopback{127, 0, 0, 1};  ///< what the gateway address means on the host
};

/// The host endpoint for a guest's destination (the gateway becomes the host's loopback, anything else is
/// dialed as it is), or the reason vznet will not dial it.
struct DialTarget {
  Ipv4Endpoint endpoint;
  std::optional<Unroutable> refusal;
  bool dialable() const { return !refusal.has_value(); }
};

DialTarget dial_target(const DialMap& map, const Ipv4Endpoint& destination);

}  // namespace vznet::forward
