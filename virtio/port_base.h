// What every GuestPort implementation shares: identity, the per-turn flush post, size checks and counting on the
// way in and out, and orderly shutdown; plus PortSet, which owns a listener's ports and reports attach/detach.
// and the output queue (output_queue.h) in the transport's framing. Transports (stream_port, packet_port) supply
// the I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "base/life_guard.h"
#include "virtio/guest_port.h"
#include "virtio/link_counters.h"
#include "virtio/output_queue.h"

namespace vznet::virtio {

/// Bound on the frames (bytes) queued towards one guest. 4 MiB is ~2,700 MTU-sized frames: enough to absorb
/// what the stack can emit for one guest in a loop turn (several full TCP windows) while the guest's vCPU is
/// briefly descheduled, small enough that a guest that stopped reading costs little. Beyond it frames are
/// dropped whole (queue_full) and the guest's TCP recovers by retransmission.
inline constexpr std::size_t kMaxPortQueueBytes = 4 * 1024 * 1024;

/// Storage an emptied output queue keeps for good. A backlog toward a guest that stopped reading for a moment
/// grows the queue's storage up to kMaxPortQueueBytes (and a vector's doubling beyond); kept, every port would
/// hold its worst moment for as long as it lives (tools/soak saw the heap step up by a MiB and stay). 256 KiB
/// holds a busy loop turn's frames at MTU 1500.
inline constexpr std::size_t kPortQueueKeptBytes = 256 * 1024;
/// How long an emptied queue keeps storage beyond kPortQueueKeptBytes: a link that is busy now and again
/// reuses it rather than reallocating after every backlog.
inline constexpr std::chrono::seconds kPortQueueIdleRelease{1};

/// Socket buffer size asked for on every guest socket. vfkit and gvproxy use MiB-sized buffers; macOS needs
/// them for large datagrams and both platforms for bursts at 10+ Gbit/s.
inline constexpr int kGuestSocketBufferBytes = 4 * 1024 * 1024;

/// What a port needs from its surroundings. All references outlive the port.
struct PortContext {
  asio::io_context& io;
  PortEvents& events;
  LinkCounters& counters;
  std::size_t max_frame_size;
};

class PortBase;

/// The listener side of a port: told when the port hits EOF or a fatal error.
class PortOwner {
 public:
  /// `port` failed (`PortBase::detach_reason()` says why): detach it. Called at most once per port.
  virtual void port_failed(PortBase& port) = 0;

 protected:
  ~PortOwner() = default;
};

/// Base of every transport's port. send_frame() checks and queues, then posts one flush for the loop turn.
class PortBase : public GuestPort {
 public:
  /// Named "<label>#<id>", plus " (<detail>)" when detail is not empty.
  PortBase(const PortContext& context, PortOwner& owner, OutputFraming framing, std::string_view label,
           std::string_view detail = {});

  bool send_frame(Frame frame) final;
  PortId id() const final { return id_; }
  const std::string& name() const final { return name_; }

  /// Begins receiving. Called once, after PortEvents::port_attached.
  virtual void start() = 0;
  /// Stops all I/O and callbacks, drops queued frames (counted as send_failed), closes owned sockets. Idempotent.
  void shutdown();
  bool closed() const { return closed_; }
  /// Why the port failed ("" unless it did).
  const std::string& detach_reason() const { return detach_reason_; }

 protected:
  /// Writes as much of output() as the socket takes now; arranges its own retry if it could not finish.
  virtual void flush() = 0;
  /// Closes sockets and timers; no callback may run afterwards.
  virtual void close_io() = 0;
  /// The frames taken for the guest and not yet written.
  OutputQueue& output() { return output_; }
  /// The transport's flush() wrote the whole queue: clears it, and storage over kPortQueueKeptBytes is freed if
  /// the queue is still empty kPortQueueIdleRelease later (otherwise at the end of the backlog then draining).
  void queue_emptied();

  /// A message or decoded frame from the guest: size-checked, counted, reported (not after shutdown).
  void deliver(Frame frame);
  /// Fatal condition: records `reason` and asks the owner to detach this port (once).
  void fail(std::string reason);
  /// Counts one frame of `size` bytes as sent to the guest.
  void count_sent(std::size_t size) {
    ++context_.counters.frames_out;
    context_.counters.bytes_out += size;
  }
  LinkCounters& counters() { return context_.counters; }
  asio::io_context& io() { return context_.io; }
  std::size_t max_frame_size() const { return context_.max_frame_size; }
  /// Wraps handlers so they do nothing after shutdown().
  const base::LifeGuard& guard() const { return guard_; }

 private:
  PortContext context_;
  PortOwner& owner_;
  OutputQueue output_;
  PortId id_;
  std::string name_;
  std::string detach_reason_;
  bool closed_ = false;
  bool flush_posted_ = false;
  bool release_armed_ = false;
  asio::steady_timer release_timer_;
  base::LifeGuard guard_;
};

/// The ports one listener owns. Attaching reports port_attached and starts the port; detaching shuts it down,
/// reports port_detached and destroys it on a later loop turn (never inside its own callback).
class PortSet {
 public:
  PortSet(asio::io_context& io, PortEvents& events) : io_(io), events_(events) {}
  PortSet(const PortSet&) = delete;
  PortSet& operator=(const PortSet&) = delete;
  ~PortSet() { detach_all("listener closed"); }

  /// Takes ownership of `port`, logs, reports it, starts it. Returns it.
  PortBase& attach(std::unique_ptr<PortBase> port);
  /// Detaches `port` (a member of this set) for `reason`. Idempotent.
  void detach(PortBase& port, std::string_view reason);
  /// Detaches every port.
  void detach_all(std::string_view reason);
  std::size_t size() const { return ports_.size(); }

 private:
  asio::io_context& io_;
  PortEvents& events_;
  std::unordered_map<PortId, std::unique_ptr<PortBase>> ports_;
};

}  // namespace vznet::virtio
