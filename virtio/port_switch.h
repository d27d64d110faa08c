// The virtual switch between guest ports and the stack: learns which port each guest MAC lives behind, hands
// guest frames to the stack, and sends the stack's frames to the right port (broadcast/unknown: every port).
// Guests never see each other's frames here; guest-to-guest policy belongs to a later layer.
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>

#include "virtio/guest_port.h"

namespace vznet::virtio {

using MacAddress = std::array<std::uint8_t, 6>;

/// The stack side of the switch.
class GuestNetwork {
 public:
  virtual ~GuestNetwork() = default;
  virtual void guest_attached(PortId port) = 0;
  virtual void guest_frame(PortId port, Frame frame) = 0;
  virtual void guest_detached(PortId port) = 0;
};

class PortSwitch final : public PortEvents {
 public:
  explicit PortSwitch(GuestNetwork& network) : network_(network) {}

  /// A frame from the stack: to the port that owns the destination MAC, or to every port for
  /// broadcast, multicast and not-yet-learned destinations.
  void send_to_guests(Frame frame);
  std::size_t port_count() const { return ports_.size(); }

  void port_attached(GuestPort& port) override;
  void frame_received(GuestPort& port, Frame frame) override;
  void port_detached(GuestPort& port) override;

 private:
  struct MacHash {
    std::size_t operator()(const MacAddress& m) const noexcept;
  };
  GuestNetwork& network_;
  std::unordered_map<PortId, GuestPort*> ports_;
  std::unordered_map<MacAddress, PortId, MacHash> port_by_mac_;
};

}  // namespace vznet::virtio
