// The memory budgets of flow data: what guest data waiting for a host socket really costs and the budget it must
// stay within, per flow and in total; and the total of host data lwIP holds for the guests. Payload bytes alone
// undercount: every guest segment is its own pbuf allocation holding the whole frame, so a guest sending 1-byte
// segments turned a 2 MiB window into some 200 MB. A flow over budget refuses further segments (lwIP keeps the one
// refused and drops the rest until the host has drained the queue).
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

/// Host->guest, in total: host bytes lwIP holds for the guests (not sent yet, or sent and not acknowledged).
/// Per flow lwIP's send buffer bounds them (TCP_SND_BUF, 2 MiB), but a guest that acknowledges nothing across
/// 10,000 flows would have them hold 20 GB; past this total, flows read no more from their host sockets.
inline constexpr std::size_t kMaxHeldForGuestsTotal = 256 * 1024 * 1024;
/// What a flow may hold for its guest however much the others hold, so every flow still moves while the total
/// is spent (16,384 flows hold at most 256 MiB more).
inline constexpr std::size_t kHeldForGuestReservePerFlow = 16 * 1024;

/// A total shared by all flows (one thread, no locks).
class BufferBudget {
 public:
  explicit BufferBudget(std::size_t limit) : limit_(limit) {}
  bool try_charge(std::size_t bytes) {
    if (used_ + bytes > limit_) return false;
    used_ += bytes;
    return true;
  }
  void release(std::size_t bytes) { used_ -= bytes; }
  /// Replaces a charge of `before` by one of `after`, past the limit if need be (the bytes are held already).
  void recharge(std::size_t before, std::size_t after) { used_ = used_ - before + after; }
  std::size_t used() const { return used_; }
  std::size_t room() const { return used_ < limit_ ? limit_ - used_ : 0; }

 private:
  std::size_t limit_;
  std::size_t used_ = 0;
};

}  // namespace vznet::forward
