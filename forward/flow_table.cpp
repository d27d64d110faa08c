// Flow table: registration, lookup, the sweep timer and end-of-turn reaping (see flow_table.h).
#include "forward/flow_table.h"

#include <asio/post.hpp>

namespace vznet::forward {

namespace {
/// How often timeouts are checked. Timeouts are in seconds, so a second of slack is fine, and one timer
/// for all flows costs nothing per flow.
constexpr auto kSweepInterval = std::chrono::seconds(1);
}  // namespace

Flow::Flow(FlowTable& table, const FlowKey& key, virtio::PortId port, FlowDirection direction)
    : table_(table), key_(key), port_(port), direction_(direction) {}

void Flow::release() {
  if (released_) return;
  released_ = true;
  table_.release(*this);
}

namespace {
template <class Key>
std::size_t share_of(const std::unordered_map<Key, std::size_t>& shares, Key key) {
  auto it = shares.find(key);
  return it == shares.end() ? 0 : it->second;
}

template <class Key>
void leave_share(std::unordered_map<Key, std::size_t>& shares, Key key) {
  if (auto it = shares.find(key); it != shares.end() && --it->second == 0) shares.erase(it);
}
}  // namespace

FlowTable::FlowTable(asio::io_context& io, const FlowLimits& limits, ForwardCounters& counters)
    : io_(io), limits_(limits), counters_(counters), sweep_(io) {}

bool FlowTable::admit(virtio::PortId port, PublishedShare published) {
  if (published != 0 && share_of(per_published_, published) >= limits_.max_per_published_port) return false;
  while (share_of(per_port_, port) + lingering_.count(port) >= limits_.max_per_guest) {
    if (!lingering_.abort_oldest(port)) return false;
    counters_.events.add(ForwardEvent::tcp_linger_evicted);
  }
  while (by_id_.size() + lingering_.size() >= limits_.max_flows) {
    if (!lingering_.abort_oldest(std::nullopt)) return false;
    counters_.events.add(ForwardEvent::tcp_linger_evicted);
  }
  return true;
}

FlowTable::~FlowTable() {
  guard_.revoke();  // what the flows post or await while they end below never runs
  sweep_.cancel();
  terminate_all();
  reap();
}

std::size_t FlowTable::count(IpProtocol protocol) const {
  std::size_t n = 0;
  for (const auto& [id, flow] : by_id_) n += flow->key().protocol == protocol ? 1 : 0;
  return n;
}

void FlowTable::adopt(std::unique_ptr<Flow> flow) {
  flow->id_ = next_id_++;
  flow->quota_port_ = flow->port();
  ++per_port_[flow->quota_port_];
  if (flow->published_share_ != 0) ++per_published_[flow->published_share_];
  by_key_[flow->key()] = flow->id_;
  by_id_.emplace(flow->id_, std::move(flow));
  if (!sweep_armed_) arm_sweep();
}

Flow* FlowTable::find(const FlowKey& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : find(it->second);
}

Flow* FlowTable::find(FlowId id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

void FlowTable::release(Flow& flow) {
  auto key_it = by_key_.find(flow.key());
  if (key_it != by_key_.end() && key_it->second == flow.id()) by_key_.erase(key_it);
  auto it = by_id_.find(flow.id());
  if (it == by_id_.end()) return;
  leave_share(per_port_, flow.quota_port_);
  if (flow.published_share_ != 0) leave_share(per_published_, flow.published_share_);
  reaping_.push_back(std::move(it->second));
  by_id_.erase(it);
  if (!reap_posted_) {
    reap_posted_ = true;
    asio::post(io_, guard_.wrap([this] { reap(); }));
  }
}

void FlowTable::reap() {
  reap_posted_ = false;
  auto dead = std::move(reaping_);
  reaping_.clear();
  dead.clear();  // destructors may release more flows: they land in reaping_ and a new reap is posted
}

std::size_t FlowTable::terminate_port(virtio::PortId port) {
  std::vector<FlowId> ids;
  for (const auto& [id, flow] : by_id_) {
    if (flow->port() == port) ids.push_back(id);
  }
  for (FlowId id : ids) {
    if (Flow* flow = find(id)) flow->terminate();
  }
  lingering_.abort_port(port);
  return ids.size();
}

void FlowTable::terminate_all() {
  std::vector<FlowId> ids;
  for (const auto& [id, flow] : by_id_) ids.push_back(id);
  for (FlowId id : ids) {
    if (Flow* flow = find(id)) flow->terminate();
  }
  lingering_.abort_all();
}

void FlowTable::for_each(const std::function<void(const Flow&)>& fn) const {
  for (const auto& [id, flow] : by_id_) fn(*flow);
}

void FlowTable::arm_sweep() {
  sweep_armed_ = true;
  sweep_.expires_after(kSweepInterval);
  sweep_.async_wait(guard_.wrap([this](const std::error_code& ec) {
    sweep_armed_ = false;
    if (ec) return;
    const auto now = Clock::now();
    std::vector<FlowId> ids;
    ids.reserve(by_id_.size());
    for (const auto& [id, flow] : by_id_) ids.push_back(id);
    for (FlowId id : ids) {
      if (Flow* flow = live<Flow>(id)) flow->tick(now);
    }
    for (std::size_t n = lingering_.abort_closed_before(now - limits_.max_linger); n > 0; --n) {
      counters_.events.add(ForwardEvent::tcp_linger_timeout);
    }
    if (!by_id_.empty() || lingering_.size() != 0) arm_sweep();
  }));
}

}  // namespace vznet::forward
