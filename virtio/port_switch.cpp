// PortSwitch: learns guest MACs from source addresses, hands every guest frame to the stack (never to another
// guest), and delivers the stack's frames to the owning port or, for group/unknown destinations, to every port.
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

MacAddress mac_at(Frame frame, std::size_t offset) {
  MacAddress mac;
  std::memcpy(mac.data(), frame.data() + offset, mac.size());
  return mac;
}

bool is_group_address(const MacAddress& mac) { return (mac[0] & 0x01) != 0; }

}  // namespace

std::size_t PortSwitch::MacHash::operator()(const MacAddress& m) const noexcept {
  std::uint64_t v = 0;
  for (std::uint8_t byte : m) v = (v << 8) | byte;
  return std::hash<std::uint64_t>{}(v);
}

void PortSwitch::send_to_guests(Frame frame) {
  if (frame.size() < kEthernetHeaderSize || ports_.empty()) return;
  const MacAddress destination = mac_at(frame, 0);
  if (!is_group_address(destination)) {
    auto it = port_by_mac_.find(destination);
    if (it != port_by_mac_.end()) {
      auto port = ports_.find(it->second);
      if (port != ports_.end()) {
        port->second->send_frame(frame);
        return;
      }
    }
  }
  for (auto& [id, port] : ports_) port->send_frame(frame);
}

void PortSwitch::port_attached(GuestPort& port) {
  ports_[port.id()] = &port;
  network_.guest_attached(port.id());
}

void PortSwitch::frame_received(GuestPort& port, Frame frame) {
  if (frame.size() < kEthernetHeaderSize) return;  // transports drop runts; be safe against any other caller
  const MacAddress source = mac_at(frame, 6);
  if (!is_group_address(source)) {
    auto it = port_by_mac_.find(source);
    if (it != port_by_mac_.end()) {
      it->second = port.id();  // a MAC moving between ports (guest restarted on another socket) follows it
    } else if (port_by_mac_.size() < kMaxLearnedMacs) {
      port_by_mac_.emplace(source, port.id());
    }
  }
  network_.guest_frame(port.id(), frame);
}

void PortSwitch::port_detached(GuestPort& port) {
  const PortId id = port.id();
  if (ports_.erase(id) == 0) return;
  std::erase_if(port_by_mac_, [id](const auto& entry) { return entry.second == id; });
  network_.guest_detached(id);
}

}  // namespace vznet::virtio
