// PortSwitch: learns guest MACs from the source addresses of admitted frames, hands guest frames to the stack
// (and, with guest-to-guest on, to the port owning the destination, or floods them), and delivers the stack's
// frames to the owning port or, for group/unknown destinations, to every port. Policy is the FrameFilter's.
#include "virtio/port_switch.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "virtio/frame_codec.h"

namespace vznet::virtio {
namespace {

/// Learned MACs across all ports. Guests normally have one MAC each; the bound keeps a guest that forges
/// source addresses from growing the table without limit. Unlearned destinations are flooded, which stays correct.
constexpr std::size_t kMaxLearnedMacs = 4096;

}  // namespace

void PortSwitch::send_to_guests(Frame frame) {
  if (frame.size() < kEthernetHeaderSize || ports_.empty()) return;
  if (!stack_mac_) {
    const base::MacAddress source = base::mac_at(frame, 6);
    if (!base::is_group(source)) stack_mac_ = source;
  }
  const base::MacAddress destination = base::mac_at(frame, 0);
  if (!base::is_group(destination)) {
    auto it = port_by_mac_.find(destination);
    if (it != port_by_mac_.end()) {
      auto port = ports_.find(it->second);
      if (port != ports_.end()) {
        deliver(*port->second, frame);
        return;
      }
    }
  }
  for (auto& [id, port] : ports_) deliver(*port, frame);
}

void PortSwitch::port_attached(GuestPort& port) {
  ports_[port.id()] = &port;
  network_.guest_attached(port.id());
}

void PortSwitch::probe_previous_owner(PortId owner, const base::MacAddress& mac) {
  auto port = ports_.find(owner);
  if (port == ports_.end()) return;
  const auto now = std::chrono::steady_clock::now();
  auto [last, first_time] = last_probe_.try_emplace(owner, now);
  if (!first_time && now - last->second < std::chrono::seconds(1)) return;
  last->second = now;
  // IEEE 802 "local experimental" EtherType: every guest stack ignores it.
  std::array<std::uint8_t, 60> probe{};
  std::memcpy(probe.data(), mac.data(), mac.size());
  if (stack_mac_) std::memcpy(probe.data() + 6, stack_mac_->data(), stack_mac_->size());
  probe[12] = 0x88;
  probe[13] = 0xB5;
  port->second->send_frame(probe);
}

void PortSwitch::frame_received(GuestPort& port, Frame frame) {
  if (frame.size() < kEthernetHeaderSize) return;  // transports drop runts; be safe against any other caller
  if (tap_ != nullptr) tap_->frame(port.id(), FrameTap::Direction::from_guest, frame);
  if (auto owner = port_by_mac_.find(base::mac_at(frame, 6));
      owner != port_by_mac_.end() && owner->second != port.id()) {
    probe_previous_owner(owner->second, owner->first);
  }
  const Admission admission = filter_ != nullptr ? filter_->admit(port.id(), frame) : Admission::forward;
  if (admission == Admission::drop) return;
  learn(base::mac_at(frame, 6), port.id());
  if (guest_to_guest_ && admission == Admission::forward) {
    switch_between_guests(port.id(), frame);
  } else {
    network_.guest_frame(port.id(), frame);
  }
}

void PortSwitch::port_detached(GuestPort& port) {
  const PortId id = port.id();
  if (ports_.erase(id) == 0) return;
  std::erase_if(port_by_mac_, [id](const auto& entry) { return entry.second == id; });
  last_probe_.erase(id);
  if (filter_ != nullptr) filter_->port_detached(id);
  network_.guest_detached(id);
  if (detach_observer_) detach_observer_(id);
}

void PortSwitch::learn(const base::MacAddress& source, PortId port) {
  // Group sources are never learned, nor the stack's own MAC: a guest claiming it must not draw other guests'
  // frames meant for the stack. With a filter, only the port's own MAC gets this far.
  if (base::is_group(source) || (stack_mac_ && source == *stack_mac_)) return;
  auto it = port_by_mac_.find(source);
  if (it != port_by_mac_.end()) {
    it->second = port;  // a MAC moving between ports (guest restarted on another socket) follows it
  } else if (port_by_mac_.size() < kMaxLearnedMacs) {
    port_by_mac_.emplace(source, port);
  }
}

void PortSwitch::deliver(GuestPort& port, Frame frame) {
  if (filter_ != nullptr) filter_->to_guest(port.id(), frame);
  if (tap_ != nullptr) tap_->frame(port.id(), FrameTap::Direction::to_guest, frame);
  port.send_frame(frame);
}

void PortSwitch::switch_between_guests(PortId from, Frame frame) {
  const base::MacAddress destination = base::mac_at(frame, 0);
  if (!base::is_group(destination)) {
    if (stack_mac_ && destination == *stack_mac_) {
      network_.guest_frame(from, frame);
      return;
    }
    auto it = port_by_mac_.find(destination);
    if (it != port_by_mac_.end()) {
      auto port = ports_.find(it->second);
      if (it->second != from && port != ports_.end()) {
        deliver(*port->second, frame);
      } else {
        network_.guest_frame(from, frame);  // to the sender's own MAC: the stack ignores it, as without switching
      }
      return;
    }
  }
  network_.guest_frame(from, frame);
  // Group or not yet learned: flooded like a learning switch does, to everyone but the sender.
  for (auto& [id, port] : ports_) {
    if (id != from) deliver(*port, frame);
  }
}

}  // namespace vznet::virtio
