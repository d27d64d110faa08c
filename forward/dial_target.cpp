// dial_target(): the guest-destination -> host-endpoint mapping and its refusals (see dial_target.h).
#include "forward/dial_target.h"

namespace vznet::forward {

std::string_view describe(Unroutable why) {
  switch (why) {
    case Unroutable::this_network: return "0.0.0.0/8 is not a destination (a host connect there reaches loopback)";
    case Unroutable::loopback: return "127.0.0.0/8 is the host's loopback, reached through the gateway address only";
    case Unroutable::multicast: return "multicast is not forwarded";
    case Unroutable::reserved: return "240.0.0.0/4 is reserved";
    case Unroutable::broadcast: return "broadcast is not forwarded";
    case Unroutable::guest_subnet: return "the guest subnet is not routed through the gateway";
    case Unroutable::count_: break;
  }
  return "unroutable";
}

DialTarget dial_target(const DialMap& map, const Ipv4Endpoint& destination) {
  const Ipv4Address a = destination.address;
  auto refuse = [&](Unroutable why) { return DialTarget{destination, why}; };
  if (a == map.gateway) return {{map.host_loopback, destination.port}, std::nullopt};
  if ((a.value >> 24) == 0) return refuse(Unroutable::this_network);
  if (a.is_loopback()) return refuse(Unroutable::loopback);
  if (a.is_multicast()) return refuse(Unroutable::multicast);
  if (a.is_broadcast() || a == map.guest_subnet.broadcast()) return refuse(Unroutable::broadcast);
  if ((a.value >> 28) == 0xF) return refuse(Unroutable::reserved);
  if (map.guest_subnet.contains(a)) return refuse(Unroutable::guest_subnet);
  return {destination, std::nullopt};
}

}  // namespace vznet::forward
