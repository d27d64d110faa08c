// The catch-all: how lwIP, which normally serves only its own address, is made to terminate every guest TCP
// connection and UDP flow whatever the destination, and to dial before it accepts.
//
// Theory of operation
// -------------------
// 1. IP. Patch 0001 makes ip4_input() accept every unicast destination on our (only) netif, so packets
//    to 10.0.0.7 or 93.184.216.34 reach lwIP's transport layer as if they were addressed to us.
// 2. A look before lwIP. LWIP_HOOK_IP4_INPUT runs at the top of ip4_input(), before lwIP acts on a packet.
//    Here (Stack::on_ip4_input):
//    - a TCP SYN without ACK goes to forward/ (unless it is for a service vznet runs itself on the gateway,
//      such as DNS over TCP: those go straight to lwIP's own listener, see Stack::serve_tcp_locally)
//      (GuestTraffic::tcp_syn). For a new 4-tuple forward/ keeps the packet, starts the host connect and says
//      "consumed"; lwIP never sees it, so the guest gets no SYN-ACK yet. Retransmitted SYNs while the connect is
//      pending are consumed (dropped) too. When the host connect succeeds, forward/ calls Stack::reinject(), which
//      feeds the kept SYN to ip4_input() past this hook; when it fails, the guest gets an RST (refused) or ICMP host
//      unreachable (unreachable, timed out). This is rule 6 of STYLE.md: TCP connects before it accepts. A SYN for the
//      4-tuple of a connection lwIP still holds after vznet closed it (TIME_WAIT above all) ends that connection first
//      (Forwarder::tcp_syn, forward/lingering_tcp.h).
//    - an ICMP echo request to anything but the gateway goes to forward/, which pings the real host through
//      an ICMP datagram socket and answers only if that host answers. lwIP would otherwise reply to any
//      address itself (patch 0001 made them all "ours"), which would fake reachability.
//    - fragmented TCP and fragmented ICMP echo to remote hosts are dropped (counted): the hook runs before
//      reassembly, guests set DF on TCP, and a reassembled echo would again be answered by lwIP itself.
// 3. TCP. Patch 0002: a SYN for a port with no listener goes to the catch-all listener (bound to an
//    ephemeral port, created below), and the accepted pcb takes the segment's port, so pcb->local_ip:port is
//    the guest's real destination. lwIP completes the handshake and calls on_tcp_accept(), which hands the
//    pcb to forward/; forward/ finds its pending flow by 4-tuple.
// 4. UDP. Patch 0003: a datagram for a port with no pcb goes to the catch-all UDP pcb (after lwIP's
//    reassembly). Its destination comes from the IP/UDP headers of the current packet. Replies are sent by
//    Stack::send_udp() with the original destination as source. Services on the gateway (DHCP, DNS) bind
//    their own pcbs, which match first.
// 5. Everything else (ARP, ICMP to the gateway, segments of existing connections) is ordinary lwIP.
#include <string>

#include <spdlog/spdlog.h>

#include "base/byte_order.h"
#include "lwip/ip.h"
#include "lwip/ip4.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "stack/lwip_address.h"
#include "stack/stack.h"
#include "vznet_lwip_hooks.h"

namespace vznet::stack {

namespace {

constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kTcpMinHeader = 20;
constexpr std::size_t kIcmpEchoHeader = 8;

constexpr std::uint16_t kDhcpServerPort = 67;

/// The UDP destination port of an (unfragmented) packet, or 0 if it has none.
std::uint16_t read_udp_destination_port(const std::uint8_t* ip, std::size_t header_len, std::size_t total_len) {
  return total_len >= header_len + 8 ? base::load_be16(ip + header_len + 2) : 0;
}

bool is_broadcast_or_multicast(const Ipv4Subnet& subnet, Ipv4Address a) {
  return a.is_broadcast() || a.is_multicast() || a == subnet.broadcast();
}

}  // namespace

void Stack::create_catch_all() {
  tcp_pcb* pcb = tcp_new();
  if (pcb == nullptr) throw std::runtime_error("lwIP: no memory for the catch-all listener");
  if (const err_t err = tcp_bind(pcb, IP4_ADDR_ANY, 0); err != ERR_OK) {
    tcp_close(pcb);
    throw std::runtime_error("lwIP: cannot bind the catch-all listener (err_t " + std::to_string(err) + ")");
  }
  tcp_pcb* listening = tcp_listen(pcb);
  if (listening == nullptr) {
    tcp_close(pcb);
    throw std::runtime_error("lwIP: no memory for the catch-all listener");
  }
  listener_ = reinterpret_cast<tcp_pcb_listen*>(listening);
  tcp_arg(listening, this);
  tcp_accept(listening, [](void* arg, tcp_pcb* newpcb, err_t err) {
    return static_cast<Stack*>(arg)->on_tcp_accept(newpcb, err);
  });

  udp_catch_all_ = open_udp_pcb<&Stack::on_udp>(this, Ipv4Address{}, 0, "the catch-all UDP pcb");
  udp_reply_ = new_udp_pcb("the UDP reply pcb");
}

int Stack::on_ip4_input(pbuf* p) {
  if (reinjecting_) return 0;
  const auto* ip = static_cast<const std::uint8_t*>(p->payload);
  auto consume = [p](void) {
    pbuf_free(p);
    return 1;
  };
  // lwIP would drop these too, but silently: checking here makes every malformed packet a counted drop.
  const std::size_t header_len = p->len >= kIpv4MinHeader ? static_cast<std::size_t>(ip[0] & 0x0F) * 4 : 0;
  const std::size_t total_len = p->len >= kIpv4MinHeader ? base::load_be16(ip + 2) : 0;
  if (p->len < kIpv4MinHeader || (ip[0] >> 4) != 4 || header_len < kIpv4MinHeader || p->len < header_len ||
      total_len < header_len || total_len > p->tot_len) {
    counters_.drops.add(StackDrop::malformed_ip);
    return consume();
  }
  const bool fragmented = (base::load_be16(ip + 6) & 0x3FFF) != 0;  // MF set or offset non-zero
  const auto protocol = static_cast<IpProtocol>(ip[9]);
  const Ipv4Address source{base::load_be32(ip + 12)};
  const Ipv4Address destination{base::load_be32(ip + 16)};
  // lwIP admits a 0.0.0.0 source for DHCP clients (LWIP_IP_ACCEPT_UDP_PORT); nothing else may use it.
  const bool dhcp_request =
      protocol == IpProtocol::udp && read_udp_destination_port(ip, header_len, total_len) == kDhcpServerPort;
  if (source.is_unspecified() && !dhcp_request) {
    counters_.drops.add(StackDrop::unspecified_source);
    return consume();
  }

  if (protocol == IpProtocol::tcp) {
    if (fragmented) {
      counters_.drops.add(StackDrop::tcp_fragment);
      return consume();
    }
    if (total_len < header_len + kTcpMinHeader) {
      counters_.drops.add(StackDrop::malformed_ip);
      return consume();
    }
    const std::uint8_t* tcp = ip + header_len;
    const std::uint8_t flags = tcp[13];
    if ((flags & (TCP_SYN | TCP_ACK)) != TCP_SYN) return 0;
    if (is_gateway(destination) && local_tcp_ports_.contains(base::load_be16(tcp + 2))) return 0;  // served in-stack
    if (is_broadcast_or_multicast(config_.subnet, destination)) {
      counters_.drops.add(StackDrop::broadcast_flow);
      return consume();
    }
    if (traffic_ == nullptr) {
      counters_.drops.add(StackDrop::no_handler);
      return consume();
    }
    FlowKey key{IpProtocol::tcp, {source, base::load_be16(tcp)}, {destination, base::load_be16(tcp + 2)}};
    if (traffic_->tcp_syn(key, p) == GuestTraffic::SynVerdict::pass_to_stack) return 0;
    schedule_timers();
    return consume();
  }

  if (protocol == IpProtocol::icmp && !is_gateway(destination)) {
    if (fragmented) {
      counters_.drops.add(StackDrop::malformed_ip);
      return consume();
    }
    if (total_len < header_len + kIcmpEchoHeader || p->len < header_len + kIcmpEchoHeader) {
      counters_.drops.add(StackDrop::malformed_ip);
      return consume();
    }
    const std::uint8_t* icmp = ip + header_len;
    if (icmp[0] != ICMP_ECHO) return 0;  // errors from the guest: lwIP reads and ignores them
    if (is_broadcast_or_multicast(config_.subnet, destination)) {
      counters_.drops.add(StackDrop::broadcast_flow);
      return consume();
    }
    const std::size_t ip_total = std::min<std::size_t>(total_len, p->len);
    if (traffic_ != nullptr) {
      IcmpEcho echo{source,
                    destination,
                    base::load_be16(icmp + 4),
                    base::load_be16(icmp + 6),
                    {icmp + kIcmpEchoHeader, ip_total - header_len - kIcmpEchoHeader},
                    p};
      traffic_->icmp_echo_request(echo);
    } else {
      counters_.drops.add(StackDrop::no_handler);
    }
    return consume();
  }
  return 0;
}

err_t Stack::on_tcp_accept(tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
  if (traffic_ == nullptr) {
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  use_link_segment_size(pcb);
  return traffic_->guest_tcp_established(pcb);
}

void Stack::on_udp(pbuf* p, const ip_addr_t* src, std::uint16_t src_port) {
  PbufPtr payload{p};
  const auto* ip = reinterpret_cast<const std::uint8_t*>(ip4_current_header());
  const std::uint8_t* udp = ip + static_cast<std::size_t>(ip[0] & 0x0F) * 4;
  const Ipv4Address destination = from_lwip(*ip4_current_dest_addr());
  if (is_broadcast_or_multicast(config_.subnet, destination)) {
    counters_.drops.add(StackDrop::broadcast_flow);
    return;
  }
  if (traffic_ == nullptr) {
    counters_.drops.add(StackDrop::no_handler);
    return;
  }
  FlowKey key{IpProtocol::udp, {from_lwip(*src), src_port}, {destination, base::load_be16(udp + 2)}};
  traffic_->udp_datagram(key, std::move(payload));
}

}  // namespace vznet::stack

extern "C" {

int vznet_hook_ip4_input(struct pbuf* p, struct netif*) {
  auto* stack = vznet::stack::Stack::instance();
  return stack != nullptr ? stack->on_ip4_input(p) : 0;
}

struct tcp_pcb_listen* vznet_hook_tcp_listen_fallback(void) {
  auto* stack = vznet::stack::Stack::instance();
  return stack != nullptr ? stack->catch_all_listener() : nullptr;
}

struct udp_pcb* vznet_hook_udp_fallback_pcb(void) {
  auto* stack = vznet::stack::Stack::instance();
  return stack != nullptr ? stack->catch_all_udp() : nullptr;
}

}  // extern "C"
