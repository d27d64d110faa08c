// What the forwarder is configured with: timeouts, flow limits, the egress policy and where "the host" is;
// the one place for their defaults (app/config.h embeds this struct, and its flags start from it).
#pragma once

#include <chrono>
#include <cstddef>

#include "forward/buffer_budget.h"
#include "forward/egress_policy.h"
#include "stack/ipv4_address.h"

namespace vznet::forward {

struct ForwardConfig {
  std::chrono::seconds connect_timeout{10};      ///< --connect-timeout: host connect must finish within this
  std::chrono::seconds tcp_idle_timeout{86400};  ///< --tcp-timeout: no bytes either way for this long
  std::chrono::seconds udp_idle_timeout{60};     ///< --udp-timeout
  /// Both sides closed, lwIP still holds bytes for the guest, and the guest acknowledges none of them for this
  /// long (a zero window it never opens): the flow is reset. A guest that reads at all makes progress well within
  /// it. Also how long a closed connection may take to finish closing (lingering_tcp.h): a guest that answers at
  /// all acknowledges a FIN within milliseconds, and TIME_WAIT lasts 2 s here.
  std::chrono::seconds tcp_drain_timeout{30};
  std::chrono::seconds icmp_idle_timeout{10};  ///< echo socket kept this long after the last request
  std::size_t max_flows = 16384;               ///< --max-flows: TCP + UDP + ICMP flows together
  /// --max-flows-per-guest: one guest's share (the clients of all published ports count as one guest), three
  /// quarters by default, so a guest that takes all it may still leaves the others a quarter of the table.
  std::size_t max_flows_per_guest = 12288;
  /// --max-flows-per-published-port: the clients of one published port (all published ports together are
  /// bounded by the inbound share above). A quarter of the table: one LAN client spraying a published UDP port
  /// from many source ports cannot lock the clients of the other published ports out.
  std::size_t max_flows_per_published_port = 4096;
  /// --max-pending-connects: host connects in flight per guest; past it the guest's oldest gives way. A real
  /// workload's connects finish in milliseconds (a parallel download or build keeps tens to hundreds in
  /// flight); 512 leaves it room while a SYN flood to silent addresses holds at most 512 sockets per guest.
  std::size_t max_pending_dials = 512;
  std::size_t max_held_for_guests = kMaxHeldForGuestsTotal;  ///< buffer_budget.h says why (tests lower it)
  Ipv4Address host_loopback{127, 0, 0, 1};                   ///< what the gateway address means on the host
  EgressPolicy egress;                                       ///< which host destinations new flows may reach
  bool egress_log = false;                                   ///< --egress-log: one line per allowed flow, for audit
};

}  // namespace vznet::forward
