// Multi-guest isolation and anti-spoofing (as in Cirrus Labs' Softnet): which guest frames may enter the network,
// judged from each port's MAC (learned from its first frame) and IPv4 address (snooped from the DHCP ACK the stack
// delivers to it, reserved by --dhcp-static, or bound on first use to a guest with a static address). Pure: frames
// in, verdicts and counters out (and rate-limited logs), no I/O. Routing between guests is the switch's
// (virtio/port_switch.h); this only says what may be routed.
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
#include "stack/address_claims.h"
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
  no_lease,           ///< IPv4 other than DHCP, or ARP, from a port that has no address yet, under --dhcp-only
  address_taken,      ///< a port with no address used one another MAC holds (lease, offer, reservation, use)
  address_unusable,   ///< a port with no address used one no guest may have (outside the subnet, gateway...)
  arp_spoof,          ///< ARP sender MAC not the port's, or sender IP neither its address nor 0.0.0.0 (probe)
  dhcp_server_spoof,  ///< UDP from port 67 or to port 68, or a BOOTREPLY: only vznet's DHCP server answers
  dhcp_not_holder,    ///< DHCP RELEASE, DECLINE or INFORM naming an address the port does not hold
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(GuardDrop::count_)> kGuardDropNames{
    "malformed",     "foreign_mac",      "mac_taken", "ip_spoof",          "no_lease",
    "address_taken", "address_unusable", "arp_spoof", "dhcp_server_spoof", "dhcp_not_holder"};
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
  /// A port with no address may take a free one by using it (false: --dhcp-only).
  bool bind_on_first_use = true;
};

/// One guest port as the guard sees it (for the control API).
struct GuardedPort {
  virtio::PortId port = 0;
  std::optional<base::MacAddress> mac;  ///< learned from its first admitted frame
  std::optional<Ipv4Address> leased;    ///< from the last DHCP ACK delivered to it
  std::optional<Ipv4Address> reserved;  ///< --dhcp-static for its MAC
  std::optional<Ipv4Address> in_use;    ///< bound on first use (a static address)
  /// The address the port may send from: the leased one, else the reserved one, else the one it uses.
  std::optional<Ipv4Address> address() const {
    if (leased) return leased;
    return reserved ? reserved : in_use;
  }
  friend bool operator==(const GuardedPort&, const GuardedPort&) = default;
};

/// Theory of operation. A port goes through three states:
///   new      no MAC yet. Its first frame with a unicast source MAC that no other attached port (nor the gateway)
///            uses is judged as if it had that MAC; if admitted, the MAC is the port's for good (mac_taken
///            otherwise: two ports never share a MAC, so a guest restarted on a new socket is refused until
///            its old port detaches).
///   learned  a MAC, no address. Every frame must carry the MAC (foreign_mac). Admitted: DHCP client
///            messages (UDP 68 -> 67, to the broadcast or gateway address, from 0.0.0.0, chaddr = the MAC)
///            and ARP probes (sender IP 0.0.0.0); other IPv4 and ARP take an address (bind on first use,
///            below), or are no_lease under --dhcp-only.
///   bound    a MAC and an address: a DHCP ACK from the gateway (Ethernet and IP source) with chaddr = the
///            MAC was delivered to the port (yiaddr becomes its address, and no other port's), or the MAC
///            has a --dhcp-static reservation (from the moment the MAC is learned), or the port used the
///            address first (below). IPv4 and ARP must use the address (ip_spoof, arp_spoof); DHCP may also
///            still use 0.0.0.0.
/// Bind on first use: a learned port that sends IPv4 (other than DHCP) or ARP from an address takes it, as a
/// guest configured with a static address expects, when the address is one a guest may have (in the subnet, not
/// the gateway, network or broadcast address: else address_unusable) and nobody else's: no other port's, no
/// other MAC's reservation, and the AddressClaims (the DHCP pool) grants it (else address_taken, and the log
/// names the holder). The pool then offers it to no other client; when the port detaches, it stays the MAC's for
/// a lease time. A port takes one address, once: after that it is bound like any other. --dhcp-only turns this
/// off (no_lease).
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
  void port_detached(virtio::PortId port) override;
  /// Who grants bind-on-first-use claims (the DHCP server); nullptr: only the guard's own knowledge (other ports,
  /// reservations). Must outlive its use here, or be replaced by nullptr first.
  void set_address_claims(AddressClaims* claims) { claims_ = claims; }

  const GuardCounters& counters() const { return counters_; }
  /// Every port the guard has seen a frame from, by port id.
  std::vector<GuardedPort> ports() const;
  const GuardConfig& config() const { return config_; }

 private:
  struct PortState {
    std::optional<base::MacAddress> mac;
    std::optional<Ipv4Address> leased;
    std::optional<Ipv4Address> reserved;
    std::optional<Ipv4Address> in_use;
    bool owns(Ipv4Address a) const { return leased == a || reserved == a || in_use == a; }
    bool has_address() const { return leased || reserved || in_use; }
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
  Decision decide_arp(virtio::PortId port, PortState& state, std::span<const std::uint8_t> arp);
  /// Bind on first use: `state` (learned, no address) sends from `address`.
  Decision take_address(virtio::PortId port, PortState& state, Ipv4Address address);
  /// The MAC that holds `address` other than through `port`: another port's, or another MAC's reservation.
  std::optional<base::MacAddress> other_holder(Ipv4Address address, virtio::PortId port,
                                               const base::MacAddress& mac) const;
  bool mac_in_use(const base::MacAddress& mac, virtio::PortId except) const;
  std::optional<Ipv4Address> reservation(const base::MacAddress& mac) const;
  void snoop_dhcp_reply(virtio::PortId port, PortState& state, std::span<const std::uint8_t> dhcp);

  GuardConfig config_;
  GuardCounters counters_;
  std::map<virtio::PortId, PortState> ports_;
  AddressClaims* claims_ = nullptr;
  base::RateLimitedLog not_holder_log_;  ///< a guest can send these as fast as it likes
  base::RateLimitedLog address_log_;     ///< addresses taken or refused: a guest can reattach or retry at will
};

}  // namespace vznet::stack
