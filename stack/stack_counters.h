// Counters the stack keeps for operators: drops by reason at the IP/transport layer. Plain integers, one
// thread. The link layer counts its own (virtio/link_counters.h); flows count theirs (forward/).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/counters.h"

namespace vznet::stack {

enum class StackDrop : std::uint8_t {
  no_memory,           ///< pbuf allocation failed
  malformed_ip,        ///< truncated or inconsistent IPv4/TCP/UDP/ICMP header seen by the catch-all
  tcp_fragment,        ///< fragmented TCP segment (guests set DF on TCP; refusing keeps SYN handling exact)
  broadcast_flow,      ///< UDP/TCP to a broadcast or multicast address (not relayed)
  no_handler,          ///< traffic arrived before the flows were wired
  unspecified_source,  ///< TCP/UDP/ICMP from 0.0.0.0 (lwIP admits it for DHCP only; no flow may carry it)
  oversized_frame,     ///< a frame longer than lwIP's 16-bit pbuf length (the links' limits keep them out)
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(StackDrop::count_)> kStackDropNames{
    "no_memory",  "malformed_ip",       "tcp_fragment",   "broadcast_flow",
    "no_handler", "unspecified_source", "oversized_frame"};

struct StackCounters {
  base::Counts<StackDrop> drops;
};

}  // namespace vznet::stack
