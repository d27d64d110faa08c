// DhcpServer: the lwIP side of the DHCP server (see dhcp_server.h). Its pcb is bound to 0.0.0.0:67, and the
// catch-all (patch 0001) makes every unicast address "ours", so datagrams to port 67 of some other host
// also land here: those are handed to the catch-all like any other guest UDP flow, so a guest talking to a
// real DHCP server elsewhere is relayed, not answered by vznet.
#include "stack/dhcp_server.h"

#include <cstring>
#include <stdexcept>

#include "lwip/ip.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"
#include "stack/pbuf_ptr.h"
#include "stack/stack.h"

namespace vznet::stack {

namespace {

ip_addr_t to_lwip_ip(Ipv4Address a) {
  ip_addr_t out;
  ip_addr_set_ip4_u32_val(out, lwip_htonl(a.value));
  return out;
}

}  // namespace

DhcpServer::DhcpServer(Stack& stack, const DhcpConfig& config, DhcpCounters& counters, Clock clock)
    : stack_(stack), counters_(counters), responder_(config, counters), clock_(std::move(clock)) {
  pcb_ = udp_new();
  if (pcb_ == nullptr) throw std::runtime_error("lwIP: no memory for the DHCP server's pcb");
  if (udp_bind(pcb_, IP4_ADDR_ANY, dhcp::kServerPort) != ERR_OK) {
    udp_remove(pcb_);
    throw std::runtime_error("lwIP: cannot bind the DHCP server to port 67");
  }
  udp_recv(pcb_, [](void* arg, udp_pcb*, pbuf* p, const ip_addr_t* addr, u16_t port) {
    static_cast<DhcpServer*>(arg)->on_datagram(p, addr, port);
  }, this);
  const DhcpRange r = config.effective_range();
  spdlog::info("DHCP: serving {}-{} on {} ({} static), lease {} s", r.first.to_string(), r.last.to_string(),
               config.subnet.to_string(), config.statics.size(), config.lease_time.count());
}

DhcpServer::~DhcpServer() {
  if (pcb_ != nullptr) udp_remove(pcb_);
}

void DhcpServer::on_datagram(pbuf* p, const ip_addr_t* source, std::uint16_t source_port) {
  const Ipv4Address destination{lwip_ntohl(ip4_addr_get_u32(ip4_current_dest_addr()))};
  const DhcpConfig& config = responder_.config();
  if (!destination.is_broadcast() && destination != config.subnet.broadcast() && destination != config.gateway) {
    stack_.on_udp(p, source, source_port);  // to port 67 of another host: an ordinary relayed flow
    return;
  }
  PbufPtr datagram{p};
  std::vector<std::uint8_t> payload(p->tot_len);
  pbuf_copy_partial(p, payload.data(), p->tot_len, 0);
  const Ipv4Address from{lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(source)))};
  if (auto reply = responder_.handle(payload, from, clock_())) send(*reply);
}

void DhcpServer::send(const DhcpOutgoing& reply) {
  pbuf* p = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(reply.payload.size()), PBUF_RAM);
  if (p == nullptr) {
    counters_.drop(DhcpDrop::no_memory);
    return;
  }
  PbufPtr datagram{p};
  std::memcpy(p->payload, reply.payload.data(), reply.payload.size());
  const ip_addr_t destination = to_lwip_ip(reply.destination);
  const ip_addr_t gateway = to_lwip_ip(responder_.config().gateway);
  const err_t err = udp_sendto_if_src(pcb_, p, &destination, dhcp::kClientPort, stack_.guest_netif(), &gateway);
  if (err != ERR_OK) spdlog::debug("DHCP: reply to {} not sent (lwIP error {})", reply.destination.to_string(), err);
  stack_.schedule_timers();  // a unicast reply may have started ARP, and with it lwIP's ARP timer
}

}  // namespace vznet::stack
