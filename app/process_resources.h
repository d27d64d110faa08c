// What vznet asks of its own process before it starts: enough file descriptors for --max-flows, and an
// allocator that keeps the memory a busy link recycles instead of returning it to the kernel every turn.
#pragma once

#include <cstddef>

namespace vznet::app {

/// Raises the soft RLIMIT_NOFILE to the hard limit; warns when that still cannot hold `max_flows` sockets.
void raise_descriptor_limit(std::size_t max_flows);

/// glibc only (elsewhere a no-op): see process_resources.cpp.
void keep_packet_memory();

}  // namespace vznet::app
