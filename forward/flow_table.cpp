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

FlowTable::FlowTable(asio::io_context& io, std::size_t max_flows, std::size_t max_per_guest)
    : io_(io), max_flows_(max_flows), max_per_guest_(max_per_guest), sweep_(io) {}

bool FlowTable::admits(virtio::PortId port) const {
  if (full()) return false;
  auto it = per_port_.find(port);
  return it == per_port_.end() || it->second < max_per_guest_;
}

FlowTable::~FlowTable() {
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
  if (auto share = per_port_.find(flow.quota_port_); share != per_port_.end() && --share->second == 0) {
    per_port_.erase(share);
  }
  reaping_.push_back(std::move(it->second));
  by_id_.erase(it);
  if (!reap_posted_) {
    reap_posted_ = true;
    asio::post(io_, [this] { reap(); });
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
  return ids.size();
}

void FlowTable::terminate_all() {
  std::vector<FlowId> ids;
  for (const auto& [id, flow] : by_id_) ids.push_back(id);
  for (FlowId id : ids) {
    if (Flow* flow = find(id)) flow->terminate();
  }
}

void FlowTable::for_each(const std::function<void(const Flow&)>& fn) const {
  for (const auto& [id, flow] : by_id_) fn(*flow);
}

void FlowTable::arm_sweep() {
  sweep_armed_ = true;
  sweep_.expires_after(kSweepInterval);
  sweep_.async_wait([this](const std::error_code& ec) {
    sweep_armed_ = false;
    if (ec) return;
    const auto now = Clock::now();
    std::vector<FlowId> ids;
    ids.reserve(by_id_.size());
    for (const auto& [id, flow] : by_id_) ids.push_back(id);
    for (FlowId id : ids) {
      if (Flow* flow = live<Flow>(id)) flow->tick(now);
    }
    if (!by_id_.empty()) arm_sweep();
  });
}

}  // namespace vznet::forward
