// DhcpServer: the lwIP side of the DHCP server (see dhcp_server.h). Its pcb is bound to 0.0.0.0:67, and the
// catch-all (patch 0001) makes every unicast address "ours", so datagrams to port 67 of some other host
// also land here: those are handed to the catch-all like any other guest UDP flow, so a guest talking to a
// real DHCP server elsewhere is relayed, not answered by vznet.
// Replies are built here whole (Ethernet, IPv4, UDP) rather than sent through the pcb: lwIP would broadcast
// them on the link (or ARP for a renewing client), and the switch floods broadcasts to every guest. Addressed
// to the asking client's MAC instead, a reply reaches that guest's port only (issue 12); the IP destination
// stays what RFC 2131 says (255.255.255.255 before the client has an address), which every client accepts.
#include "stack/dhcp_server.h"

#include <cstring>
#include <stdexcept>

#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/udp.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"
#include "stack/lwip_address.h"
#include "stack/pbuf_ptr.h"
#include "stack/stack.h"

namespace vznet::stack {

namespace {

/// TTL of the replies: they never leave the link, any value does; the usual default.
constexpr u8_t kReplyTtl = 64;

}  // namespace

DhcpServer::DhcpServer(Stack& stack, const DhcpConfig& config, DhcpCounters& counters, Clock clock)
    : stack_(stack), counters_(counters), responder_(config, counters), clock_(std::move(clock)) {
  pcb_ = open_udp_pcb<&DhcpServer::on_datagram>(this, Ipv4Address{}, dhcp::kServerPort, "the DHCP server");
  const DhcpRange r = config.effective_range();
  spdlog::info("DHCP: serving {}-{} on {} ({} static), lease {} s", r.first.to_string(), r.last.to_string(),
               config.subnet.to_string(), config.statics.size(), config.lease_time.count());
}

DhcpServer::~DhcpServer() = default;

void DhcpServer::on_datagram(pbuf* p, const ip_addr_t* source, std::uint16_t source_port) {
  const Ipv4Address destination = from_lwip(*ip4_current_dest_addr());
  const DhcpConfig& config = responder_.config();
  if (!destination.is_broadcast() && destination != config.subnet.broadcast() && destination != config.gateway) {
    stack_.on_udp(p, source, source_port);  // to port 67 of another host: an ordinary relayed flow
    return;
  }
  PbufPtr datagram{p};
  std::vector<std::uint8_t> payload(p->tot_len);
  pbuf_copy_partial(p, payload.data(), p->tot_len, 0);
  const Ipv4Address from = from_lwip(*source);
  if (auto reply = responder_.handle(payload, from, clock_())) send(*reply);
}

void DhcpServer::send(const DhcpOutgoing& reply) {
  const std::size_t udp_length = UDP_HLEN + reply.payload.size();           // at most the MTU less IP: reply_limit()
  pbuf* p = pbuf_alloc(PBUF_IP, static_cast<u16_t>(udp_length), PBUF_RAM);  // room for the IP and link headers
  if (p == nullptr) {
    counters_.drops.add(DhcpDrop::no_memory);
    return;
  }
  PbufPtr datagram{p};
  const ip4_addr_t source = to_lwip(responder_.config().gateway);
  const ip4_addr_t destination = to_lwip(reply.destination);
  auto* udp = static_cast<udp_hdr*>(p->payload);
  udp->src = lwip_htons(dhcp::kServerPort);
  udp->dest = lwip_htons(dhcp::kClientPort);
  udp->len = lwip_htons(static_cast<u16_t>(udp_length));
  udp->chksum = 0;
  std::memcpy(static_cast<std::uint8_t*>(p->payload) + UDP_HLEN, reply.payload.data(), reply.payload.size());
  const u16_t sum = inet_chksum_pseudo(p, IP_PROTO_UDP, static_cast<u16_t>(udp_length), &source, &destination);
  udp->chksum = sum == 0 ? 0xFFFF : sum;  // 0 would mean "no checksum"

  if (pbuf_add_header(p, IP_HLEN) != 0) {
    counters_.drops.add(DhcpDrop::no_memory);
    return;
  }
  auto* ip = static_cast<ip_hdr*>(p->payload);
  IPH_VHL_SET(ip, 4, IP_HLEN / 4);
  IPH_TOS_SET(ip, 0);
  IPH_LEN_SET(ip, lwip_htons(p->tot_len));
  IPH_ID_SET(ip, 0);
  IPH_OFFSET_SET(ip, 0);
  IPH_TTL_SET(ip, kReplyTtl);
  IPH_PROTO_SET(ip, IP_PROTO_UDP);
  ip4_addr_copy(ip->src, source);
  ip4_addr_copy(ip->dest, destination);
  IPH_CHKSUM_SET(ip, 0);
  IPH_CHKSUM_SET(ip, inet_chksum(ip, IP_HLEN));

  netif* guests = stack_.guest_netif();
  eth_addr client;
  std::memcpy(client.addr, reply.client_mac.data(), ETH_HWADDR_LEN);
  const err_t err = ethernet_output(guests, p, reinterpret_cast<const eth_addr*>(guests->hwaddr), &client, ETHTYPE_IP);
  if (err != ERR_OK) {
    spdlog::debug("DHCP: reply to {} not sent (lwIP error {})", base::format_mac(reply.client_mac),
                  static_cast<int>(err));
  }
}

}  // namespace vznet::stack
