// The seam between the stack and the flows: what the catch-all hands to forward/ (implemented by
// forward::Forwarder). Everything here runs on the loop thread, inside lwIP input processing.
#pragma once

#include <cstdint>
#include <span>

#include "lwip/err.h"
#include "stack/flow_key.h"
#include "stack/pbuf_ptr.h"
#include "virtio/guest_port.h"

struct tcp_pcb;

namespace vznet::stack {

struct IcmpEcho {
  Ipv4Address guest;
  Ipv4Address destination;
  std::uint16_t identifier = 0;
  std::uint16_t sequence = 0;
  std::span<const std::uint8_t> data;  ///< the echo payload; valid only during the call
  pbuf* packet = nullptr;              ///< the whole IPv4 packet (for an ICMP error about it); during the call
};

class GuestTraffic {
 public:
  virtual ~GuestTraffic() = default;

  enum class SynVerdict { pass_to_stack, consumed };
  /// A guest SYN (without ACK) for any destination. `packet` starts at the IPv4 header and stays owned by
  /// the caller; keep it with share_pbuf(). `pass_to_stack`: lwIP handles it now (the handshake for this
  /// 4-tuple was already approved); `consumed`: it is dropped or kept for Stack::reinject() later.
  virtual SynVerdict tcp_syn(const FlowKey& key, pbuf* packet) = 0;
  /// The catch-all listener completed a guest handshake; pcb->local_ip/port is the guest's destination.
  /// Return ERR_OK having taken the pcb, or call tcp_abort() and return ERR_ABRT.
  virtual err_t guest_tcp_established(tcp_pcb* pcb) = 0;
  /// A guest UDP datagram to a destination no service in the stack owns.
  virtual void udp_datagram(const FlowKey& key, PbufPtr payload) = 0;
  /// An ICMP echo request to an address other than the gateway (which the stack answers itself).
  virtual void icmp_echo_request(const IcmpEcho& echo) = 0;
  /// A guest port went away: close the flows it had.
  virtual void guest_detached(virtio::PortId port) = 0;
};

}  // namespace vznet::stack
