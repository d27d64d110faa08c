// GuestGuard (see guest_guard.h for the theory of operation): bounds-checked reads of the Ethernet, IPv4, UDP,
// ARP and BOOTP headers a verdict needs, the per-port MAC and address state, and DHCP snooping.
#include "stack/guest_guard.h"

#include <algorithm>
#include <string>

#include <spdlog/spdlog.h>

#include "base/byte_order.h"
#include "stack/dhcp_message.h"

namespace vznet::stack {
namespace {

using virtio::Admission;
using ByteSpan = std::span<const std::uint8_t>;

constexpr std::size_t kEthernetHeader = 14;
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeArp = 0x0806;
constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::uint8_t kProtocolUdp = 17;
constexpr std::size_t kUdpHeader = 8;
constexpr std::size_t kArpEthernetIpv4 = 28;
constexpr std::uint16_t kArpRequest = 1;
constexpr std::uint8_t kBootReply = 2;
constexpr std::size_t kCiaddrOffset = 12;
constexpr std::size_t kYiaddrOffset = 16;
constexpr std::size_t kChaddrOffset = 28;
constexpr std::array<std::uint8_t, 4> kMagicCookie{99, 130, 83, 99};

/// The IPv4 header fields a verdict needs, and the bytes after the header (within the total length).
struct Ipv4View {
  Ipv4Address source, destination;
  std::uint8_t protocol = 0;
  bool first_fragment = true;  ///< fragment offset 0: the transport header is here
  ByteSpan payload;
};

/// nullopt when the header is truncated or inconsistent (version, IHL, total length past the frame).
std::optional<Ipv4View> parse_ipv4(ByteSpan ip) {
  if (ip.size() < kIpv4MinHeader || (ip[0] >> 4) != 4) return std::nullopt;
  const std::size_t header = static_cast<std::size_t>(ip[0] & 0x0F) * 4;
  const std::size_t total = base::load_be16(ip, 2);
  if (header < kIpv4MinHeader || total < header || total > ip.size()) return std::nullopt;
  Ipv4View view;
  view.source = Ipv4Address{base::load_be32(ip, 12)};
  view.destination = Ipv4Address{base::load_be32(ip, 16)};
  view.protocol = ip[9];
  view.first_fragment = (base::load_be16(ip, 6) & 0x1FFF) == 0;
  view.payload = ip.subspan(header, total - header);
  return view;
}

struct UdpView {
  std::uint16_t source_port = 0, destination_port = 0;
  ByteSpan payload;  ///< what this packet holds of it (a first fragment holds only the start)
};

std::optional<UdpView> parse_udp(ByteSpan udp) {
  if (udp.size() < kUdpHeader) return std::nullopt;
  const std::size_t length = base::load_be16(udp, 4);
  if (length < kUdpHeader) return std::nullopt;
  return UdpView{base::load_be16(udp, 0), base::load_be16(udp, 2),
                 udp.subspan(kUdpHeader, std::min(length, udp.size()) - kUdpHeader)};
}

/// The first option `code` of a BOOTP payload with the DHCP magic cookie (the options field only, as the
/// server reads it); nullopt when absent or malformed.
std::optional<ByteSpan> find_option(ByteSpan dhcp, std::uint8_t wanted) {
  if (dhcp.size() < dhcp::kOptionsOffset ||
      !std::equal(kMagicCookie.begin(), kMagicCookie.end(), dhcp.begin() + dhcp::kFixedHeaderSize)) {
    return std::nullopt;
  }
  for (std::size_t at = dhcp::kOptionsOffset; at < dhcp.size();) {
    const std::uint8_t code = dhcp[at];
    if (code == dhcp::option::pad) {
      ++at;
      continue;
    }
    if (code == dhcp::option::end || at + 1 >= dhcp.size()) break;
    const std::size_t length = dhcp[at + 1];
    if (at + 2 + length > dhcp.size()) break;
    if (code == wanted) return dhcp.subspan(at + 2, length);
    at += 2 + length;
  }
  return std::nullopt;
}

/// Option 53; nullopt when absent or malformed.
std::optional<dhcp::MessageType> message_type(ByteSpan dhcp) {
  const std::optional<ByteSpan> type = find_option(dhcp, dhcp::option::message_type);
  if (!type || type->size() != 1) return std::nullopt;
  return static_cast<dhcp::MessageType>((*type)[0]);
}

/// The address a RELEASE, DECLINE or INFORM is about, as the server reads it: ciaddr (RELEASE), option 50
/// (DECLINE), ciaddr or else the IP source (INFORM). nullopt for other messages, or when none is named.
std::optional<Ipv4Address> named_address(dhcp::MessageType type, Ipv4Address source, ByteSpan dhcp) {
  const Ipv4Address ciaddr{base::load_be32(dhcp, kCiaddrOffset)};
  std::optional<Ipv4Address> named;
  switch (type) {
    case dhcp::MessageType::release: named = ciaddr; break;
    case dhcp::MessageType::inform: named = ciaddr.is_unspecified() ? source : ciaddr; break;
    case dhcp::MessageType::decline:
      if (auto requested = find_option(dhcp, dhcp::option::requested_address); requested && requested->size() == 4) {
        named = Ipv4Address{base::load_be32(*requested, 0)};
      }
      break;
    default: return std::nullopt;
  }
  if (named && named->is_unspecified()) return std::nullopt;
  return named;
}

bool names_an_address(std::optional<dhcp::MessageType> type) {
  return type == dhcp::MessageType::release || type == dhcp::MessageType::decline || type == dhcp::MessageType::inform;
}

}  // namespace

Admission GuestGuard::admit(virtio::PortId port, virtio::Frame frame) {
  PortState& state = ports_[port];
  const bool learning = !state.mac;
  const Decision decision = decide(port, state, frame);
  if (decision.admission == Admission::drop) {
    counters_.drops.add(decision.reason);
    if (learning) state = PortState{};  // a dropped first frame teaches nothing
  } else if (learning) {
    spdlog::debug("guest port {}: MAC {}{}", port, base::format_mac(*state.mac),
                  state.reserved ? ", reserved " + state.reserved->to_string() : std::string{});
  }
  return decision.admission;
}

GuestGuard::Decision GuestGuard::decide(virtio::PortId port, PortState& state, virtio::Frame frame) {
  if (frame.size() < kEthernetHeader) return {Admission::drop, GuardDrop::malformed};
  const base::MacAddress source = base::mac_at(frame, 6);
  if (base::is_group(source)) return {Admission::drop, GuardDrop::foreign_mac};
  if (!state.mac) {
    if (source == config_.gateway_mac || mac_in_use(source, port)) return {Admission::drop, GuardDrop::mac_taken};
    state.mac = source;  // judged as if the MAC were the port's; admit() undoes this if the frame is dropped
    state.reserved = reservation(source);
  } else if (source != *state.mac) {
    return {Admission::drop, GuardDrop::foreign_mac};
  }
  const ByteSpan payload = frame.subspan(kEthernetHeader);
  switch (base::load_be16(frame, 12)) {
    case kEtherTypeIpv4: return decide_ipv4(port, state, payload);
    case kEtherTypeArp: return decide_arp(port, state, payload);
    default: return {Admission::stack_only};
  }
}

GuestGuard::Decision GuestGuard::decide_ipv4(virtio::PortId port, PortState& state, ByteSpan ip) {
  const std::optional<Ipv4View> view = parse_ipv4(ip);
  if (!view) return {Admission::drop, GuardDrop::malformed};
  if (view->protocol == kProtocolUdp && view->first_fragment) {
    const std::optional<UdpView> udp = parse_udp(view->payload);
    if (!udp) return {Admission::drop, GuardDrop::malformed};
    if (udp->source_port == dhcp::kServerPort || udp->destination_port == dhcp::kClientPort) {
      return {Admission::drop, GuardDrop::dhcp_server_spoof};
    }
    if (udp->destination_port == dhcp::kServerPort) {
      if (!udp->payload.empty() && udp->payload[0] == kBootReply) {
        return {Admission::drop, GuardDrop::dhcp_server_spoof};
      }
      const Ipv4Address to = view->destination;
      if (udp->source_port == dhcp::kClientPort &&
          (to.is_broadcast() || to == config_.subnet.broadcast() || to == config_.gateway)) {
        return decide_dhcp_client(port, state, view->source, udp->payload);
      }
    }
  }
  if (!state.has_address()) return take_address(port, state, view->source);
  if (!state.owns(view->source)) return {Admission::drop, GuardDrop::ip_spoof};
  return {Admission::forward};
}

GuestGuard::Decision GuestGuard::take_address(virtio::PortId port, PortState& state, Ipv4Address address) {
  if (!config_.bind_on_first_use) {
    address_log_.log(spdlog::level::warn, "guest port {} ({}) used {} with no DHCP lease (--dhcp-only): dropped", port,
                     base::format_mac(*state.mac), address.to_string());
    return {Admission::drop, GuardDrop::no_lease};
  }
  const Ipv4Subnet& subnet = config_.subnet;
  if (!subnet.contains(address) || address == config_.gateway || address == subnet.network ||
      address == subnet.broadcast()) {
    address_log_.log(spdlog::level::warn, "guest port {} ({}) used {}, which no guest may have on {}: dropped", port,
                     base::format_mac(*state.mac), address.to_string(), subnet.to_string());
    return {Admission::drop, GuardDrop::address_unusable};
  }
  std::optional<base::MacAddress> holder = other_holder(address, port, *state.mac);
  if (!holder && claims_ != nullptr) {
    const AddressClaim claim = claims_->claim(*state.mac, address);
    if (!claim.granted) holder = claim.holder;
  }
  if (holder) {
    address_log_.log(spdlog::level::warn, "guest port {} ({}) used {}, bound to MAC {}: dropped", port,
                     base::format_mac(*state.mac), address.to_string(), base::format_mac(*holder));
    return {Admission::drop, GuardDrop::address_taken};
  }
  state.in_use = address;
  address_log_.log(spdlog::level::info, "guest port {}: {} (used without DHCP) bound to MAC {}", port,
                   address.to_string(), base::format_mac(*state.mac));
  return {Admission::forward};
}

std::optional<base::MacAddress> GuestGuard::other_holder(Ipv4Address address, virtio::PortId port,
                                                         const base::MacAddress& mac) const {
  for (const auto& [id, other] : ports_) {
    if (id != port && other.mac && other.owns(address)) return other.mac;
  }
  for (const DhcpStatic& s : config_.statics) {
    if (s.address == address && s.mac != mac) return s.mac;
  }
  return std::nullopt;
}

void GuestGuard::port_detached(virtio::PortId port) {
  auto it = ports_.find(port);
  if (it == ports_.end()) return;
  if (it->second.in_use && claims_ != nullptr) claims_->end_use(*it->second.mac, *it->second.in_use);
  ports_.erase(it);
}

GuestGuard::Decision GuestGuard::decide_dhcp_client(virtio::PortId port, PortState& state, Ipv4Address source,
                                                    ByteSpan dhcp) {
  // A port without an address may renew one it held before vznet restarted (the guard never saw that ACK):
  // the message reaches only the stack's DHCP server, which ACKs it only if the address is free or the
  // client's, and the ACK is snooped like any other. A port with an address uses it.
  if (!source.is_unspecified() && state.has_address() && !state.owns(source)) {
    return {Admission::drop, GuardDrop::ip_spoof};
  }
  // A request for another MAC would let one guest drain the pool or take a reservation: one port, one client.
  if (dhcp.size() >= kChaddrOffset + 6 && base::mac_at(dhcp, kChaddrOffset) != *state.mac) {
    return {Admission::drop, GuardDrop::foreign_mac};
  }
  const std::optional<dhcp::MessageType> type = message_type(dhcp);
  if (names_an_address(type)) {
    const std::optional<Ipv4Address> named = named_address(*type, source, dhcp);
    if (!named || !state.owns(*named)) {
      not_holder_log_.log(spdlog::level::warn, "guest port {} ({}): DHCP {} about {}, which it does not hold: dropped",
                          port, base::format_mac(*state.mac), dhcp::to_string(*type),
                          named ? named->to_string() : std::string{"no address"});
      return {Admission::drop, GuardDrop::dhcp_not_holder};
    }
    if (*type != dhcp::MessageType::inform && (state.leased == named || state.in_use == named)) {
      spdlog::debug("guest port {}: {} gives up {}", port, dhcp::to_string(*type), named->to_string());
      if (state.leased == named) state.leased.reset();
      if (state.in_use == named) state.in_use.reset();  // the pool's record went with the message
    }
  }
  return {Admission::stack_only};  // the DHCP server is the stack's; other guests have no business with it
}

GuestGuard::Decision GuestGuard::decide_arp(virtio::PortId port, PortState& state, ByteSpan arp) {
  if (arp.size() < kArpEthernetIpv4 || base::load_be16(arp, 0) != 1 || base::load_be16(arp, 2) != kEtherTypeIpv4 ||
      arp[4] != 6 || arp[5] != 4) {
    return {Admission::drop, GuardDrop::malformed};
  }
  const Ipv4Address sender{base::load_be32(arp, 14)};
  if (base::mac_at(arp, 8) != *state.mac) return {Admission::drop, GuardDrop::arp_spoof};
  // Sender IP 0.0.0.0 is an RFC 5227 probe, which claims nothing; only a request can be one.
  const bool claims_nothing = sender.is_unspecified() && base::load_be16(arp, 6) == kArpRequest;
  if (!claims_nothing && !state.has_address()) return take_address(port, state, sender);
  if (!claims_nothing && !state.owns(sender)) return {Admission::drop, GuardDrop::arp_spoof};
  return {Admission::forward};
}

void GuestGuard::to_guest(virtio::PortId port, virtio::Frame frame) {
  auto it = ports_.find(port);
  if (it == ports_.end() || !it->second.mac) return;
  // Only the stack's DHCP server is believed: Ethernet and IP source are the gateway's (guests cannot use its
  // MAC, and their server messages never get past admit()).
  if (frame.size() < kEthernetHeader || base::load_be16(frame, 12) != kEtherTypeIpv4 ||
      base::mac_at(frame, 6) != config_.gateway_mac) {
    return;
  }
  const std::optional<Ipv4View> ip = parse_ipv4(frame.subspan(kEthernetHeader));
  if (!ip || ip->protocol != kProtocolUdp || !ip->first_fragment || ip->source != config_.gateway) return;
  const std::optional<UdpView> udp = parse_udp(ip->payload);
  if (!udp || udp->source_port != dhcp::kServerPort || udp->destination_port != dhcp::kClientPort) return;
  snoop_dhcp_reply(port, it->second, udp->payload);
}

void GuestGuard::snoop_dhcp_reply(virtio::PortId port, PortState& state, ByteSpan dhcp) {
  if (dhcp.size() < dhcp::kOptionsOffset || dhcp[0] != kBootReply || base::mac_at(dhcp, kChaddrOffset) != *state.mac) {
    return;  // a reply to another port's guest (broadcasts reach every port)
  }
  const std::optional<dhcp::MessageType> type = message_type(dhcp);
  if (type == dhcp::MessageType::nak) {
    if (state.leased) spdlog::debug("guest port {}: NAK, {} withdrawn", port, state.leased->to_string());
    state.leased.reset();
    return;
  }
  const Ipv4Address address{base::load_be32(dhcp, kYiaddrOffset)};
  // An ACK to an INFORM carries no yiaddr; an address outside the subnet is nothing the server would give.
  if (type != dhcp::MessageType::ack || address.is_unspecified() || !config_.subnet.contains(address)) return;
  for (auto& [id, other] : ports_) {
    if (id == port) continue;
    if (other.leased == address) other.leased.reset();
    if (other.in_use == address) other.in_use.reset();
  }
  if (state.leased != address) spdlog::debug("guest port {}: leased {}", port, address.to_string());
  state.leased = address;
  state.in_use.reset();  // the pool turned the address it used into this lease, or this lease replaces it
}

bool GuestGuard::mac_in_use(const base::MacAddress& mac, virtio::PortId except) const {
  return std::any_of(ports_.begin(), ports_.end(),
                     [&](const auto& entry) { return entry.first != except && entry.second.mac == mac; });
}

std::optional<Ipv4Address> GuestGuard::reservation(const base::MacAddress& mac) const {
  for (const DhcpStatic& s : config_.statics) {
    if (s.mac == mac) return s.address;
  }
  return std::nullopt;
}

std::vector<GuardedPort> GuestGuard::ports() const {
  std::vector<GuardedPort> out;
  out.reserve(ports_.size());
  for (const auto& [id, state] : ports_) {
    out.push_back(GuardedPort{id, state.mac, state.leased, state.reserved, state.in_use});
  }
  return out;
}

}  // namespace vznet::stack
