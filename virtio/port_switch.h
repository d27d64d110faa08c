// The virtual switch between guest ports and the stack: learns which port each guest MAC lives behind, hands
// guest frames to the stack, and sends the stack's frames to the right port (broadcast/unknown: every port).
// Optionally switches frames between guests, asks a FrameFilter which guest frames may enter at all (the
// anti-spoofing policy itself lives in stack/guest_guard.h: virtio knows frames, not IP), and shows every frame
// that crosses a port to a FrameTap (the packet capture, app/pcap_capture.h).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>

#include "base/mac_address.h"
#include "virtio/guest_port.h"

namespace vznet::virtio {

/// The stack side of the switch.
class GuestNetwork {
 public:
  virtual ~GuestNetwork() = default;
  virtual void guest_attached(PortId port) = 0;
  virtual void guest_frame(PortId port, Frame frame) = 0;
  virtual void guest_detached(PortId port) = 0;
};

/// What a FrameFilter decides about one guest frame.
enum class Admission : std::uint8_t {
  drop,        ///< not admitted: it reaches nobody and teaches the switch nothing (the filter counts why)
  stack_only,  ///< to the stack, never to another guest (traffic the filter cannot vouch for between guests)
  forward,     ///< to the stack and, with guest-to-guest traffic on, to other guests
};

/// Decides which guest frames may enter the network, and watches what is sent to guests (anti-spoofing lives
/// behind this, in stack/guest_guard.h). Single-threaded, called on the loop; frames are valid during the call.
class FrameFilter {
 public:
  virtual ~FrameFilter() = default;
  /// A frame `port` sent (at least an Ethernet header long).
  virtual Admission admit(PortId port, Frame frame) = 0;
  /// A frame about to be delivered to `port`, from the stack or from another guest.
  virtual void to_guest(PortId port, Frame frame) = 0;
  /// `port` is gone; forget it.
  virtual void port_detached(PortId port) = 0;
};

/// Sees every frame that crosses a guest port: each frame a guest sends, before the filter judges it (so a
/// capture shows what was dropped too), and each frame delivered to a port (a broadcast once per port).
/// Single-threaded, called on the loop; the frame is valid during the call.
class FrameTap {
 public:
  enum class Direction : std::uint8_t { from_guest, to_guest };
  virtual ~FrameTap() = default;
  virtual void frame(PortId port, Direction direction, Frame frame) = 0;
};

/// Routing, in frame_received:
///  - filter set and not admitted: dropped.
///  - guest-to-guest off (default), or the filter says stack_only: to the stack only.
///  - guest-to-guest on: unicast to a MAC learned on another port goes to that port only; unicast to the stack's
///    MAC (or to the sender's own) to the stack only; group and unknown destinations to the stack and every
///    other port (never back to the sender).
/// Every delivery to a port passes through FrameFilter::to_guest first.
class PortSwitch final : public PortEvents {
 public:
  explicit PortSwitch(GuestNetwork& network) : network_(network) {}

  /// A frame from the stack: to the port that owns the destination MAC, or to every port for
  /// broadcast, multicast and not-yet-learned destinations.
  void send_to_guests(Frame frame);
  std::size_t port_count() const { return ports_.size(); }

  /// Installs (or, with nullptr, removes) the filter every guest frame must pass. Not owned; it must outlive
  /// the switch or be removed first. Without a filter every frame is admitted (forward).
  void set_filter(FrameFilter* filter) { filter_ = filter; }
  /// Installs (or, with nullptr, removes) the tap; not owned, as for the filter.
  void set_tap(FrameTap* tap) { tap_ = tap; }
  /// Lets guests reach each other (--allow-guest-traffic). Off by default: guest frames reach the stack only.
  void set_guest_to_guest(bool allowed) { guest_to_guest_ = allowed; }
  bool guest_to_guest() const { return guest_to_guest_; }
  /// The stack's own MAC (stack::StackConfig::gateway_mac): unicast to it goes to the stack only, and no guest
  /// port ever learns it. If never set, it is taken from the source of the first frame the stack sends.
  void set_stack_mac(const base::MacAddress& mac) { stack_mac_ = mac; }
  /// Called once a detached port has been forgotten by the switch, the filter and the network (vznet's
  /// --exit-on-disconnect watches this).
  void set_detach_observer(std::function<void(PortId)> observer) { detach_observer_ = std::move(observer); }

  void port_attached(GuestPort& port) override;
  void frame_received(GuestPort& port, Frame frame) override;
  void port_detached(GuestPort& port) override;

 private:
  void learn(const base::MacAddress& source, PortId port);
  /// A frame on one port uses a MAC learned on another, still attached, port: usually the same guest back on
  /// a new socket while its old datagram port lingers (a datagram peer only detaches when a send to it
  /// fails). A harmless frame to the old port (at most once a second) lets its transport find out.
  void probe_previous_owner(PortId owner, const base::MacAddress& mac);
  void deliver(GuestPort& port, Frame frame);
  void switch_between_guests(PortId from, Frame frame);

  GuestNetwork& network_;
  FrameFilter* filter_ = nullptr;
  FrameTap* tap_ = nullptr;
  std::function<void(PortId)> detach_observer_;
  bool guest_to_guest_ = false;
  std::optional<base::MacAddress> stack_mac_;
  std::unordered_map<PortId, std::chrono::steady_clock::time_point> last_probe_;
  std::unordered_map<PortId, GuestPort*> ports_;
  std::unordered_map<base::MacAddress, PortId, base::MacHash> port_by_mac_;
};

}  // namespace vznet::virtio
