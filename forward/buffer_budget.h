// What guest data waiting for a host socket really costs, and the budget it must stay within, per flow and in
// total. Payload bytes alone undercount: every guest segment is its own pbuf allocation holding the whole
// frame, so a guest sending 1-byte segments turned a 2 MiB window into some 200 MB. A flow over budget refuses
// further segments (lwIP keeps the one refused and drops the rest until the host has drained the queue).
#pragma once

#include <cstddef>

#include "lwip/pbuf.h"

namespace vznet::forward {

/// The bytes one queued pbuf chain holds on the heap: each pbuf's data plus what every allocation carries
/// besides (the pbuf struct, the Ethernet/IP/TCP headers stripped in front of the payload, malloc's own),
/// rounded up to 128 from 32 + 54 + 16.
inline std::size_t heap_footprint(const pbuf* chain) {
  constexpr std::size_t kPerPbufOverhead = 128;
  std::size_t bytes = 0;
  for (const pbuf* q = chain; q != nullptr; q = q->next) bytes += q->len + kPerPbufOverhead;
  return bytes;
}

/// Per flow: a full window of full segments (2 MiB of data at MTU 1500 is about 2.2 MiB with overhead) fits
/// with room; tiny segments hit it after some 32,000 of them.
inline constexpr std::size_t kMaxQueuedFootprintPerFlow = 4 * 1024 * 1024;
/// In total: guest data waiting for host sockets across every flow. Enough for a hundred flows with full windows
/// stalled at once; past it, flows wait for the host to drain, and vznet's memory stays bounded however many
/// flows a guest opens.
inline constexpr std::size_t kMaxQueuedFootprintTotal = 256 * 1024 * 1024;

/// The total, shared by all flows (one thread, no locks).
class BufferBudget {
 public:
  bool try_charge(std::size_t bytes) {
    if (used_ + bytes > kMaxQueuedFootprintTotal) return false;
    used_ += bytes;
    return true;
  }
  void release(std::size_t bytes) { used_ -= bytes; }
  std::size_t used() const { return used_; }

 private:
  std::size_t used_ = 0;
};

}  // namespace vznet::forward
