// What every flow needs from its surroundings: the stack (to answer the guest), the limits and timeouts,
// the counters, the data-path log limiter, and where "the host" is.
#pragma once

#include <chrono>
#include <cstddef>

#include "base/rate_limited_log.h"
#include "forward/buffer_budget.h"
#include "forward/dial_target.h"
#include "forward/egress_policy.h"
#include "forward/forward_config.h"
#include "forward/forward_counters.h"
#include "forward/pending_dials.h"
#include "stack/ipv4_address.h"
#include "stack/stack.h"

namespace vznet::forward {

struct ForwardContext {
  stack::Stack& stack;
  ForwardConfig config;
  ForwardCounters& counters;
  base::RateLimitedLog flow_log{};
  PendingDials pending_dials{};
  BufferBudget guest_to_host_budget{kMaxQueuedFootprintTotal};  ///< guest data queued for host sockets, all flows
  BufferBudget held_for_guests{config.max_held_for_guests};     ///< host data lwIP holds for the guests, all flows

  /// Where a guest destination is dialed on the host, or why it is not (see dial_target.h).
  DialTarget dial_target(const Ipv4Endpoint& destination) const {
    return forward::dial_target({stack.config().subnet, stack.config().gateway, config.host_loopback}, destination);
  }
};

}  // namespace vznet::forward
