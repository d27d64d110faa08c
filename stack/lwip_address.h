// Conversions between vznet's Ipv4Address (host byte order) and lwIP's address types (network byte order):
// the one place they are written, for every file that talks to lwIP.
#pragma once

#include "lwip/ip_addr.h"
#include "stack/ipv4_address.h"

namespace vznet::stack {

inline ip4_addr_t to_lwip(Ipv4Address a) {
  ip4_addr_t out;
  ip4_addr_set_u32(&out, lwip_htonl(a.value));
  return out;
}

inline ip_addr_t to_lwip_ip(Ipv4Address a) {
  ip_addr_t out;
  ip_addr_set_ip4_u32_val(out, lwip_htonl(a.value));
  return out;
}

/// lwIP is built without IPv6, so ip_addr_t is ip4_addr_t and this serves both.
inline Ipv4Address from_lwip(const ip4_addr_t& a) { return Ipv4Address{lwip_ntohl(ip4_addr_get_u32(&a))}; }

}  // namespace vznet::stack
