// TCP connections vznet has closed that lwIP still holds to finish the close with the guest (FIN_WAIT_1/2,
// CLOSING, LAST_ACK, TIME_WAIT). They are no flows any more, but a guest decides how long each one lives (by
// never acknowledging the FIN, or by answering zero-window probes) and each holds memory, so they count against
// the flow limits: the oldest gives way to a new flow (as Linux destroys TIME_WAIT sockets past
// tcp_max_tw_buckets), and none outlives its deadline. lwIP reports each pcb it frees (an ext-arg destroy
// callback), so no pointer kept here outlives its pcb.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>

#include "stack/flow_key.h"
#include "virtio/guest_port.h"

struct tcp_pcb;

namespace vznet::forward {

class LingeringTcp {
 public:
  using Clock = std::chrono::steady_clock;

  LingeringTcp() = default;
  /// Aborts what is left: lwIP must not report a pcb to an object that is gone.
  ~LingeringTcp() { abort_all(); }
  LingeringTcp(const LingeringTcp&) = delete;
  LingeringTcp& operator=(const LingeringTcp&) = delete;

  /// Takes charge of `pcb`, which the flow `key` of guest `port` is about to tcp_close(): call it before
  /// tcp_close(), which may free the pcb at once (then it is forgotten at once).
  void adopt(tcp_pcb* pcb, virtio::PortId port, const FlowKey& key);

  std::size_t size() const { return size_; }
  std::size_t count(virtio::PortId port) const;
  /// Aborts the oldest of guest `port`'s (of every guest's when nullopt); false if there is none.
  bool abort_oldest(std::optional<virtio::PortId> port);
  /// Aborts those closed before `cutoff`; returns how many.
  std::size_t abort_closed_before(Clock::time_point cutoff);
  /// Aborts every one of guest `port`'s (it detached); returns how many.
  std::size_t abort_port(virtio::PortId port);
  /// Aborts every one (shutdown).
  void abort_all();
  /// Aborts the one of flow `key`, if any (TIME_WAIT: freed silently); returns whether there was one.
  bool abort(const FlowKey& key);

 private:
  struct Entry;
  using List = std::list<Entry>;  // oldest first; stable addresses, so lwIP can hold a pointer to an entry
  struct Entry {
    tcp_pcb* pcb;
    FlowKey key;
    Clock::time_point closed;
    virtio::PortId port;
    LingeringTcp* owner;
    List::iterator self;
  };

  static void on_pcb_freed(unsigned char id, void* data);
  void forget(Entry& entry);
  /// Forgets `entry` (in `list`) and aborts its pcb (RST to the guest unless in TIME_WAIT).
  void abort_entry(List& list, List::iterator entry);

  std::unordered_map<virtio::PortId, List> by_port_;
  std::unordered_map<FlowKey, Entry*, FlowKeyHash> by_key_;
  std::size_t size_ = 0;
};

}  // namespace vznet::forward
