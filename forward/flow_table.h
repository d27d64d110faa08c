// The flow table owns every flow (TCP, UDP, ICMP echo) between the guest and host sockets: creation, lookup
// by 4-tuple or id, the once-a-second sweep that drives timeouts, and reaping. Flows never destroy
// themselves: release() unlinks a flow at once and the table deletes it at the end of the loop turn, so no
// flow dies inside its own lwIP or Asio callback (STYLE rule 4).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "base/life_guard.h"
#include "forward/forward_counters.h"
#include "forward/lingering_tcp.h"
#include "stack/flow_key.h"
#include "virtio/guest_port.h"

namespace vznet::forward {

using FlowId = std::uint64_t;
using Clock = std::chrono::steady_clock;
class FlowTable;
/// The inbound flows of one published port, counted together (FlowTable::new_published_share); 0 is none.
using PublishedShare = std::uint32_t;

/// What one flow table may hold (ForwardConfig says why each default is what it is).
struct FlowLimits {
  std::size_t max_flows = 16384;              ///< flows and lingering connections together
  std::size_t max_per_guest = 12288;          ///< one guest port's share; inbound flows count as port 0
  std::size_t max_per_published_port = 4096;  ///< the clients of one published port
  std::chrono::seconds max_linger{30};        ///< how long a closed connection may take to finish closing
};

/// Who opened a flow: the guest (through the catch-all) or a host client (through a published port).
enum class FlowDirection : std::uint8_t { outbound, inbound };

/// Base of every flow: identity, owning guest port, activity time, byte counts. The key is always written
/// from the guest's side: `guest` is the guest's address and port, `destination` the other end as the guest
/// sees it (for an inbound flow, the host client's address or the gateway).
class Flow {
 public:
  Flow(FlowTable& table, const FlowKey& key, virtio::PortId port, FlowDirection direction = FlowDirection::outbound);
  virtual ~Flow() = default;
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;

  FlowId id() const { return id_; }
  const FlowKey& key() const { return key_; }
  virtio::PortId port() const { return port_; }
  FlowDirection direction() const { return direction_; }
  bool released() const { return released_; }
  Clock::time_point created() const { return created_; }
  Clock::time_point last_activity() const { return last_activity_; }
  std::uint64_t bytes_to_host() const { return bytes_to_host_; }
  std::uint64_t bytes_to_guest() const { return bytes_to_guest_; }

  /// Ends the flow now, abortively on both sides (guest detached, shutdown, limits).
  virtual void terminate() = 0;
  /// About once a second: idle and connect timeouts.
  virtual void tick(Clock::time_point now) = 0;
  /// One word for logs and the API ("dialing", "open"...).
  virtual const char* state_name() const = 0;

 protected:
  /// Unlinks the flow from the table; it is deleted at the end of the loop turn. Call once, last.
  void release();
  void touch() { last_activity_ = Clock::now(); }
  /// An inbound flow learns its guest port from the guest's first answer.
  void set_port(virtio::PortId port) { port_ = port; }
  void count_to_host(std::size_t n) {
    bytes_to_host_ += n;
    touch();
  }
  void count_to_guest(std::size_t n) {
    bytes_to_guest_ += n;
    touch();
  }
  FlowTable& table() { return table_; }

  /// Waits until `socket` is ready for `what`, then calls (self->*then)() if the flow is still alive and
  /// not released. `*armed` is true while the wait is pending, so callers do not wait twice.
  template <class Self, class Socket, class Wait>
  void await_ready(Socket& socket, Wait what, bool Self::*armed, void (Self::*then)());
  /// Calls (self->*then)() later in this loop turn, after the handler that is running now (and the frames it
  /// is still delivering) returns, if the flow is still alive. `*armed` is true until then. This is how work
  /// per segment becomes work per batch: many guest segments, one host write.
  template <class Self>
  void defer(bool Self::*armed, void (Self::*then)());
  /// The resumption both share: the flow with `id` if it is still alive, its `*armed` cleared.
  template <class Self>
  static Self* disarm(FlowTable& table, FlowId id, bool Self::*armed);

 private:
  friend class FlowTable;
  FlowTable& table_;
  FlowId id_ = 0;
  FlowKey key_;
  virtio::PortId port_;
  virtio::PortId quota_port_ = 0;       ///< port_ at creation: whose share of the table this flow uses
  PublishedShare published_share_ = 0;  ///< an inbound flow's published port
  FlowDirection direction_;
  bool released_ = false;
  Clock::time_point created_ = Clock::now();
  Clock::time_point last_activity_ = created_;
  std::uint64_t bytes_to_host_ = 0, bytes_to_guest_ = 0;
};

class FlowTable {
 public:
  /// `counters` counts the lingering connections aborted early (evicted, timed out).
  FlowTable(asio::io_context& io, const FlowLimits& limits, ForwardCounters& counters);
  ~FlowTable();

  asio::io_context& io() { return io_; }
  /// Revoked when the table goes: every handler posted or awaited for the table or its flows is wrapped by it,
  /// so a handler that runs after the table is gone does nothing (flows are found again by id, see live()).
  const base::LifeGuard& life_guard() const { return guard_; }
  /// Whether a new flow for guest `port` fits: not over --max-flows, the port's share (inbound flows: port 0,
  /// which all published ports share), nor, for an inbound flow, its published port's share. Lingering
  /// connections count too: the oldest of them are aborted to make room before a flow is refused.
  bool admit(virtio::PortId port, PublishedShare published = 0);
  std::size_t size() const { return by_id_.size(); }
  std::size_t count(IpProtocol protocol) const;
  /// A share of its own for a new published port's inbound flows.
  PublishedShare new_published_share() { return next_published_share_++; }
  /// Connections vznet has closed and lwIP still holds (TcpFlow hands them over when it closes).
  LingeringTcp& lingering() { return lingering_; }
  const LingeringTcp& lingering() const { return lingering_; }

  /// Creates and registers a flow of type F (constructed as F(table, key, port, args...)).
  template <class F, class... Args>
  F& emplace(const FlowKey& key, virtio::PortId port, Args&&... args) {
    return emplace_in_share<F>(0, key, port, std::forward<Args>(args)...);
  }
  /// The same for an inbound flow of the published port that owns `share` (guest port not known yet: 0).
  template <class F, class... Args>
  F& emplace_inbound(PublishedShare share, const FlowKey& key, Args&&... args) {
    return emplace_in_share<F>(share, key, virtio::PortId{0}, std::forward<Args>(args)...);
  }

  Flow* find(const FlowKey& key) const;
  Flow* find(FlowId id) const;
  /// The live flow `id` as F, or nullptr if it is gone or released (for Asio handlers that outlive flows).
  template <class F>
  F* live(FlowId id) const {
    Flow* flow = find(id);
    return flow != nullptr && !flow->released() ? static_cast<F*>(flow) : nullptr;
  }

  /// Terminates every flow of one guest port, and aborts its lingering connections; returns how many flows.
  std::size_t terminate_port(virtio::PortId port);
  /// Terminates every flow and lingering connection (shutdown).
  void terminate_all();
  /// Calls fn for every live flow (for the API and stats).
  void for_each(const std::function<void(const Flow&)>& fn) const;

 private:
  friend class Flow;
  template <class F, class... Args>
  F& emplace_in_share(PublishedShare share, const FlowKey& key, virtio::PortId port, Args&&... args) {
    auto flow = std::make_unique<F>(*this, key, port, std::forward<Args>(args)...);
    F& ref = *flow;
    flow->published_share_ = share;
    adopt(std::move(flow));
    return ref;
  }
  void adopt(std::unique_ptr<Flow> flow);
  void release(Flow& flow);
  void reap();
  void arm_sweep();

  asio::io_context& io_;
  FlowLimits limits_;
  ForwardCounters& counters_;
  /// Live flows per guest port, as the port was when the flow was created (inbound flows: port 0).
  std::unordered_map<virtio::PortId, std::size_t> per_port_;
  /// Live inbound flows per published port.
  std::unordered_map<PublishedShare, std::size_t> per_published_;
  PublishedShare next_published_share_ = 1;
  LingeringTcp lingering_;
  FlowId next_id_ = 1;
  std::unordered_map<FlowId, std::unique_ptr<Flow>> by_id_;
  std::unordered_map<FlowKey, FlowId, FlowKeyHash> by_key_;
  std::vector<std::unique_ptr<Flow>> reaping_;
  bool reap_posted_ = false;
  base::LifeGuard guard_;
  asio::steady_timer sweep_;
  bool sweep_armed_ = false;  ///< only while flows or lingering connections exist: an idle vznet does not wake up
};

template <class Self>
Self* Flow::disarm(FlowTable& table, FlowId id, bool Self::*armed) {
  Self* flow = table.template live<Self>(id);
  if (flow != nullptr) flow->*armed = false;
  return flow;
}

template <class Self, class Socket, class Wait>
void Flow::await_ready(Socket& socket, Wait what, bool Self::*armed, void (Self::*then)()) {
  static_cast<Self*>(this)->*armed = true;
  socket.async_wait(what,
                    table_.life_guard().wrap([table = &table_, id = id_, armed, then](const std::error_code& error) {
                      if (Self* flow = disarm(*table, id, armed); flow != nullptr && !error) (flow->*then)();
                    }));
}

template <class Self>
void Flow::defer(bool Self::*armed, void (Self::*then)()) {
  static_cast<Self*>(this)->*armed = true;
  asio::post(table_.io(), table_.life_guard().wrap([table = &table_, id = id_, armed, then] {
    if (Self* flow = disarm(*table, id, armed)) (flow->*then)();
  }));
}

}  // namespace vznet::forward
