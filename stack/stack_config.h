// The guest network as the stack serves it (subnet, gateway, MTU, the gateway's MAC), and the one place for
// its defaults: the DHCP, guard and DNS configurations and the app's flags start from these.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/mac_address.h"
#include "stack/ipv4_address.h"

namespace vznet::stack {

inline constexpr std::uint16_t kDefaultMtu = 1500;
/// Locally administered (bit 1 of the first byte set), so it cannot be a vendor's MAC.
inline constexpr base::MacAddress kDefaultGatewayMac{0x5a, 0x94, 0xef, 0x76, 0x7a, 0x01};
/// 192.168.64.0/24, the subnet of Apple's shared NAT, which macOS VM users know; the gateway is its first host.
inline Ipv4Subnet default_subnet() { return *Ipv4Subnet::parse("192.168.64.0/24"); }
/// vznet's gateway (DHCP server, DNS server, the host's loopback) in `subnet`: its first host, .1.
inline Ipv4Address gateway_of(const Ipv4Subnet& subnet) { return subnet.host(1); }

/// With offload (--offload), the largest frame either way. lwIP holds a frame in one pbuf, whose length is 16
/// bits: 65535 bytes, Ethernet header included. Linux's segmentation offload stays below it (its TSO packets are
/// at most 65536 bytes less the headroom it keeps); krunkit documents buffers of 65550.
inline constexpr std::size_t kOffloadMaxFrame = 65535;

struct StackConfig {
  Ipv4Subnet subnet = default_subnet();
  Ipv4Address gateway = gateway_of(default_subnet());
  std::uint16_t mtu = kDefaultMtu;  ///< the guest's MTU (and the link's, without offload)
  /// The guest's NIC offloads segmentation and checksums (krunkit offloading=on, vmnet-helper with TSO): TCP
  /// segments of up to 64 KiB cross the link both ways while the guest keeps `mtu` (DHCP still hands out `mtu`).
  /// Its checksums may be left unfilled (vznet never checks a guest's checksums). Datagrams to it are not
  /// fragmented either: such a NIC receives up to 64 KiB whole.
  bool offload = false;
  /// The netif's MTU: what lwIP sizes segments and fragments by. With offload, 65520: lwIP's pbuf lengths are
  /// 16 bits, so an IP packet must leave room for its Ethernet header (a 65535-byte one cannot be sent at all).
  std::uint16_t link_mtu() const { return offload ? std::uint16_t{65520} : mtu; }
  /// The largest frame the link carries: the link MTU plus the Ethernet header, kOffloadMaxFrame with offload.
  std::size_t max_frame_size() const { return offload ? kOffloadMaxFrame : std::size_t{mtu} + 14; }
  base::MacAddress gateway_mac = kDefaultGatewayMac;
};

}  // namespace vznet::stack
