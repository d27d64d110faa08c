// Half-open dials per guest: the connect-first TCP flows whose host connect is still in flight, oldest
// first. A guest may hold only so many (ForwardConfig::max_pending_dials): past that, its own oldest dial
// gives way, so a SYN flood to addresses that never answer cannot fill the flow table, and a connection to
// a host that answers still gets through.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>

#include "forward/flow_table.h"
#include "virtio/guest_port.h"

namespace vznet::forward {

class PendingDials {
 public:
  /// Where one dial is kept; stays valid until remove().
  using Entry = std::list<FlowId>::iterator;

  Entry add(virtio::PortId port, FlowId id) {
    auto& dials = by_port_[port];
    return dials.insert(dials.end(), id);
  }
  void remove(virtio::PortId port, Entry entry) {
    auto it = by_port_.find(port);
    it->second.erase(entry);
    if (it->second.empty()) by_port_.erase(it);
  }
  std::size_t count(virtio::PortId port) const {
    auto it = by_port_.find(port);
    return it == by_port_.end() ? 0 : it->second.size();
  }
  /// The port's longest-waiting dial, if it has any.
  std::optional<FlowId> oldest(virtio::PortId port) const {
    auto it = by_port_.find(port);
    if (it == by_port_.end()) return std::nullopt;
    return it->second.front();
  }

 private:
  std::unordered_map<virtio::PortId, std::list<FlowId>> by_port_;
};

}  // namespace vznet::forward
