// Owning an lwIP UDP pcb: the owner type that removes it, and opening one bound and receiving into a member
// function, written once for the catch-all, the DHCP server and the DNS server.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "lwip/udp.h"
#include "stack/ipv4_address.h"
#include "stack/lwip_address.h"

namespace vznet::stack {

struct UdpPcbRemove {
  void operator()(udp_pcb* pcb) const noexcept { udp_remove(pcb); }
};
/// Owns a UDP pcb; removing it stops its receive callback.
using UdpPcbPtr = std::unique_ptr<udp_pcb, UdpPcbRemove>;

/// A new pcb that is not bound (for sending only). Throws std::runtime_error when lwIP has no memory.
inline UdpPcbPtr new_udp_pcb(const std::string& what) {
  UdpPcbPtr pcb{udp_new()};
  if (!pcb) throw std::runtime_error("lwIP has no memory for " + what);
  return pcb;
}

/// A pcb bound to `address`:`port` (Ipv4Address{} for any address, port 0 for every port no other pcb has) whose
/// datagrams go to (owner->*Receive)(p, source, source_port), which owns `p`. Throws std::runtime_error naming
/// `what` when lwIP cannot.
template <auto Receive, class Owner>
UdpPcbPtr open_udp_pcb(Owner* owner, Ipv4Address address, std::uint16_t port, const std::string& what) {
  UdpPcbPtr pcb = new_udp_pcb(what);
  const ip_addr_t local = to_lwip_ip(address);
  if (udp_bind(pcb.get(), &local, port) != ERR_OK) {
    throw std::runtime_error("lwIP cannot bind " + what + " to " + address.to_string() + ":" + std::to_string(port));
  }
  udp_recv(
      pcb.get(),
      [](void* arg, udp_pcb*, pbuf* p, const ip_addr_t* source, u16_t source_port) {
        (static_cast<Owner*>(arg)->*Receive)(p, source, source_port);
      },
      owner);
  return pcb;
}

}  // namespace vznet::stack
