// The relay loop: one thread, ppoll() on the tap and the socket to vznet, frames moved both ways in
// batches, with backpressure (a full socket stops tap reads; a full tap stops socket reads).
#pragma once

#include <csignal>
#include <string>

#include "tools/guest_relay/link.h"
#include "tools/guest_relay/tap_linux.h"

namespace vznet::relay {

struct RelayEnd {
  int exit_code;        ///< 0: stopped by a signal or vznet closed the connection; 1: an error
  std::string message;  ///< one line for stderr
};

/// Runs until `stop` becomes non-zero (set by a signal handler; signals are blocked except inside ppoll,
/// which waits with `wait_mask`) or the link ends.
RelayEnd run_relay(Tap& tap, Link& link, const sigset_t& wait_mask, const volatile std::sig_atomic_t& stop);

}  // namespace vznet::relay
