// LingeringTcp: closed connections lwIP still holds, counted, aged and aborted (see lingering_tcp.h).
#include "forward/lingering_tcp.h"

#include <vector>

#include "lwip/tcp.h"

namespace vznet::forward {

namespace {
/// lwIP hands out ext-arg slots once per process (tcp_ext_arg_alloc_id asserts past LWIP_TCP_PCB_NUM_EXT_ARGS),
/// while a process may build several flow tables (tests do), so every LingeringTcp shares this one.
std::uint8_t ext_arg_slot() {
  static const std::uint8_t slot = tcp_ext_arg_alloc_id();
  return slot;
}
}  // namespace

void LingeringTcp::abort_all() {
  for (auto& [port, list] : by_port_) {
    while (!list.empty()) abort_entry(list, list.begin());
  }
}

void LingeringTcp::adopt(tcp_pcb* pcb, virtio::PortId port, const FlowKey& key) {
  static constexpr tcp_ext_arg_callbacks kCallbacks{&LingeringTcp::on_pcb_freed, nullptr};
  List& list = by_port_[port];
  Entry& entry = list.emplace_back(Entry{pcb, key, Clock::now(), port, this, {}});
  entry.self = std::prev(list.end());
  ++size_;
  by_key_[key] = &entry;  // a 4-tuple closed twice (the first one aborted early) keeps the newest
  tcp_ext_arg_set(pcb, ext_arg_slot(), &entry);
  tcp_ext_arg_set_callbacks(pcb, ext_arg_slot(), &kCallbacks);
}

std::size_t LingeringTcp::count(virtio::PortId port) const {
  auto it = by_port_.find(port);
  return it == by_port_.end() ? 0 : it->second.size();
}

void LingeringTcp::on_pcb_freed(unsigned char /*id*/, void* data) {
  if (auto* entry = static_cast<Entry*>(data)) entry->owner->forget(*entry);
}

void LingeringTcp::forget(Entry& entry) {
  --size_;
  if (auto it = by_key_.find(entry.key); it != by_key_.end() && it->second == &entry) by_key_.erase(it);
  by_port_[entry.port].erase(entry.self);  // last: `entry` is gone after this
}

void LingeringTcp::abort_entry(List& list, List::iterator entry) {
  tcp_pcb* pcb = entry->pcb;
  // Detached first (lwIP keeps the callbacks, but without an entry they do nothing), so tcp_abort() does not
  // call back into a list being walked.
  tcp_ext_arg_set(pcb, ext_arg_slot(), nullptr);
  if (auto it = by_key_.find(entry->key); it != by_key_.end() && it->second == &*entry) by_key_.erase(it);
  --size_;
  list.erase(entry);
  tcp_abort(pcb);
}

bool LingeringTcp::abort(const FlowKey& key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return false;
  Entry& entry = *it->second;
  abort_entry(by_port_[entry.port], entry.self);
  return true;
}

bool LingeringTcp::abort_oldest(std::optional<virtio::PortId> port) {
  List* oldest = nullptr;
  if (port) {
    auto it = by_port_.find(*port);
    if (it != by_port_.end() && !it->second.empty()) oldest = &it->second;
  } else {
    for (auto& [p, list] : by_port_) {
      if (!list.empty() && (oldest == nullptr || list.front().closed < oldest->front().closed)) oldest = &list;
    }
  }
  if (oldest == nullptr) return false;
  abort_entry(*oldest, oldest->begin());
  return true;
}

std::size_t LingeringTcp::abort_closed_before(Clock::time_point cutoff) {
  std::size_t aborted = 0;
  for (auto& [port, list] : by_port_) {
    while (!list.empty() && list.front().closed < cutoff) {
      abort_entry(list, list.begin());
      ++aborted;
    }
  }
  return aborted;
}

std::size_t LingeringTcp::abort_port(virtio::PortId port) {
  auto it = by_port_.find(port);
  if (it == by_port_.end()) return 0;
  const std::size_t aborted = it->second.size();
  while (!it->second.empty()) abort_entry(it->second, it->second.begin());
  by_port_.erase(it);
  return aborted;
}

}  // namespace vznet::forward
