// Multi-guest isolation and anti-spoofing (as in Cirrus Labs' Softnet): which guest frames may enter the network,
// judged from each port's MAC (learned from its first frame) and IPv4 address (snooped from the DHCP ACK the stack
// delivers to it, or reserved by --dhcp-static). Pure: frames in, verdicts and counters out (and rate-limited
// warnings), no I/O. Routing between guests is the switch's (virtio/port_switch.h); this only says what may be
// routed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "base/counters.h"
#include "base/mac_address.h"
#include "base/rate_limited_log.h"
#include "stack/dhcp_config.h"
#include "stack/ipv4_address.h"
#include "virtio/port_switch.h"

namespace vznet::stack {

/// Why the guard dropped a guest frame.
enum class GuardDrop : std::uint8_t {
  malformed,          ///< truncated Ethernet, IPv4, UDP or ARP header, or an ARP that is not Ethernet/IPv4
  foreign_mac,        ///< source MAC (or DHCP chaddr) not the port's own, or a group source MAC
  mac_taken,          ///< first frame's MAC already belongs to another attached port, or is the gateway's
  ip_spoof,           ///< IPv4 source neither the port's address nor (DHCP client messages only) 0.0.0.0
  no_lease,           ///< IPv4 other than DHCP from a port that has no address yet
  arp_spoof,          ///< ARP sender MAC not the port's, or sender IP neither its address nor 0.0.0.0 (probe)
  dhcp_server_spoof,  ///< UDP from port 67 or to port 68, or a BOOTREPLY: only vznet's DHCP server answers
  dhcp_not_holder,    ///< DHCP RELEASE, DECLINE or INFORM naming an address the port does not hold
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(GuardDrop::count_)> kGuardDropNames{
    "malformed", "foreign_mac", "mac_taken",         "ip_spoof",
    "no_lease",  "arp_spoof",   "dhcp_server_spoof", "dhcp_not_holder"};
static_assert(!kGuardDropNames.back().empty(), "every GuardDrop needs a name");

/// The guard's drops by reason. Plain integers, one thread (the loop's).
struct GuardCounters {
  base::Counts<GuardDrop> drops;
};

/// What the guard needs to know about the network. app/ fills it from StackConfig (subnet, gateway,
/// gateway_mac) and DhcpConfig (statics); the defaults are StackConfig's.
struct GuardConfig {
  Ipv4Subnet subnet = default_subnet();
  Ipv4Address gateway = gateway_of(default_subnet());
  base::MacAddress gateway_mac = kDefaultGatewayMac;
  /// --dhcp-static: the port whose MAC is listed may use that address without a DHCP exchange.
  std::vector<DhcpStatic> statics;
};

/// One guest port as the guard sees it (for the control API).
struct GuardedPort {
  virtio::PortId port = 0;
  std::optional<base::MacAddress> mac;  ///< learned from its first admitted frame
  std::optional<Ipv4Address> leased;    ///< from the last DHCP ACK delivered to it
  std::optional<Ipv4Address> reserved;  ///< --dhcp-static for its MAC
  /// The address the port may send from: the leased one, else the reserved one.
  std::optional<Ipv4Address> address() const { return leased ? leased : reserved; }
  friend bool operator==(const GuardedPort&, const GuardedPort&) = default;
};

/// Theory of operation. A port goes through three states:
///   new      no MAC yet. Its first frame with a unicast source MAC that no other attached port (nor the gateway)
///            uses is judged as if it had that MAC; if admitted, the MAC is the port's for good (mac_taken
///            otherwise: two ports never share a MAC, so a guest restarted on a new socket is refused until
///            its old port detaches).
///   learned  a MAC, no address. Every frame must carry the MAC (foreign_mac). Admitted: DHCP client
///            messages (UDP 68 -> 67, to the broadcast or gateway address, from 0.0.0.0, chaddr = the MAC)
///            and ARP probes (sender IP 0.0.0.0); other IPv4 is no_lease, other ARP arp_spoof.
///   bound    a MAC and an address: a DHCP ACK from the gateway (Ethernet and IP source) with chaddr = the
///            MAC was delivered to the port (yiaddr becomes its address, and no other port's), or the MAC
///            has a --dhcp-static reservation (from the moment the MAC is learned). IPv4 and ARP must use
///            the address (ip_spoof, arp_spoof); DHCP may also still use 0.0.0.0.
/// A NAK delivered to the port, or a RELEASE or DECLINE it sends, clears the leased address (not a reservation):
/// back to learned. A RELEASE (ciaddr), DECLINE (option 50) or INFORM (ciaddr, else the IP source) must name an
/// address the port holds (dhcp_not_holder): one guest's message never gives up, quarantines or asks about
/// another's address (issue 12). REQUESTs are the DHCP server's to judge (it knows leases; the guard only knows
/// what it snooped). port_detached forgets the port.
/// In every state: UDP from port 67 or to port 68, and BOOTREPLYs, are dhcp_server_spoof; other EtherTypes
/// (IPv6, LLDP, VLAN-tagged...) with the port's MAC are admitted to the stack only, uncounted (lwIP ignores
/// them, and Linux sends IPv6 DAD/MLD at link-up: not an attack). DHCP client messages also go to the stack
/// only. IPv4 and ARP that pass may be switched to other guests (virtio::Admission::forward).
class GuestGuard final : public virtio::FrameFilter {
 public:
  explicit GuestGuard(GuardConfig config) : config_(std::move(config)) {}

  virtio::Admission admit(virtio::PortId port, virtio::Frame frame) override;
  void to_guest(virtio::PortId port, virtio::Frame frame) override;
  void port_detached(virtio::PortId port) override { ports_.erase(port); }

  const GuardCounters& counters() const { return counters_; }
  /// Every port the guard has seen a frame from, by port id.
  std::vector<GuardedPort> ports() const;
  const GuardConfig& config() const { return config_; }

 private:
  struct PortState {
    std::optional<base::MacAddress> mac;
    std::optional<Ipv4Address> leased;
    std::optional<Ipv4Address> reserved;
    bool owns(Ipv4Address a) const { return (leased && *leased == a) || (reserved && *reserved == a); }
    bool has_address() const { return leased || reserved; }
  };
  /// An admission, or a drop and its reason.
  struct Decision {
    virtio::Admission admission = virtio::Admission::forward;
    GuardDrop reason = GuardDrop::malformed;
  };

  Decision decide(virtio::PortId port, PortState& state, virtio::Frame frame);
  Decision decide_ipv4(virtio::PortId port, PortState& state, std::span<const std::uint8_t> ip);
  Decision decide_dhcp_client(virtio::PortId port, PortState& state, Ipv4Address source,
                              std::span<const std::uint8_t> dhcp);
  Decision decide_arp(const PortState& state, std::span<const std::uint8_t> arp) const;
  bool mac_in_use(const base::MacAddress& mac, virtio::PortId except) const;
  std::optional<Ipv4Address> reservation(const base::MacAddress& mac) const;
  void snoop_dhcp_reply(virtio::PortId port, PortState& state, std::span<const std::uint8_t> dhcp);

  GuardConfig config_;
  GuardCounters counters_;
  std::map<virtio::PortId, PortState> ports_;
  base::RateLimitedLog not_holder_log_;  ///< a guest can send these as fast as it likes
};

}  // namespace vznet::stack
