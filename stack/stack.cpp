// The Stack: lwIP's netif for the gateway, frames in and out, lwIP timers on the Asio loop, and the
// helpers forward/ uses to answer the guest (RST, ICMP errors, UDP and echo replies).
#include "stack/stack.h"

#include <cstring>

#include <spdlog/spdlog.h>

#include "lwip/etharp.h"
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/icmp.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"
#include "stack/lwip_address.h"
#include "stack/tcp_pcb.h"

namespace vznet::stack {

Stack* Stack::instance_ = nullptr;

namespace {

void lwip_init_once() {
  static bool done = false;
  if (!done) {
    lwip_init();
    done = true;
  }
}

/// Aborts every pcb lwIP still has (TIME_WAIT, closing ones whose flows are gone) without calling back.
void abort_all_tcp_pcbs() {
  for (tcp_pcb** list : {&tcp_active_pcbs, &tcp_tw_pcbs}) {
    while (*list != nullptr) {
      abort_tcp_pcb(*list);
    }
  }
}

}  // namespace

Stack::Stack(asio::io_context& io, const StackConfig& config, FrameOutput output, StackCounters& counters)
    : io_(io), config_(config), output_(std::move(output)), counters_(counters), timer_(io) {
  if (instance_ != nullptr) throw std::logic_error("only one vznet Stack may exist at a time");
  instance_ = this;
  lwip_init_once();

  ip4_addr_t address = to_lwip(config_.gateway);
  ip4_addr_t netmask = to_lwip(Ipv4Address{config_.subnet.mask()});
  ip4_addr_t no_gateway = to_lwip(Ipv4Address{});
  netif_add(&netif_, &address, &netmask, &no_gateway, this, &Stack::netif_init, ethernet_input);
  netif_set_default(&netif_);
  netif_set_up(&netif_);
  netif_set_link_up(&netif_);
  create_catch_all();
  schedule_timers();
}

Stack::~Stack() {
  abort_all_tcp_pcbs();
  if (listener_ != nullptr) tcp_close(reinterpret_cast<tcp_pcb*>(listener_));
  udp_catch_all_.reset();
  udp_reply_.reset();
  netif_remove(&netif_);
  timer_.cancel();
  instance_ = nullptr;
}

err_t Stack::netif_init(netif* nif) {
  auto* self = static_cast<Stack*>(nif->state);
  nif->name[0] = 'v';
  nif->name[1] = 'z';
  nif->mtu = self->config_.link_mtu();
  nif->hwaddr_len = ETH_HWADDR_LEN;
  std::memcpy(nif->hwaddr, self->config_.gateway_mac.data(), ETH_HWADDR_LEN);
  nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  nif->output = etharp_output;
  nif->linkoutput = &Stack::link_output;
  return ERR_OK;
}

err_t Stack::link_output(netif* nif, pbuf* p) {
  auto* self = static_cast<Stack*>(nif->state);
  if (p->next == nullptr) {
    self->output_(virtio::Frame{static_cast<const std::uint8_t*>(p->payload), p->len});
    return ERR_OK;
  }
  self->output_scratch_.resize(p->tot_len);
  pbuf_copy_partial(p, self->output_scratch_.data(), p->tot_len, 0);
  self->output_(virtio::Frame{self->output_scratch_.data(), self->output_scratch_.size()});
  return ERR_OK;
}

void Stack::guest_attached(virtio::PortId) {}

void Stack::guest_frame(virtio::PortId port, virtio::Frame frame) {
  constexpr std::size_t kEthernetHeader = 14;
  if (frame.size() > kEthernetHeader && frame[12] == 0x08 && frame[13] == 0x00 && (frame[14] >> 4) != 4) {
    counters_.drops.add(StackDrop::malformed_ip);  // lwIP drops these before the catch-all could count them
    return;
  }
  if (frame.size() > 0xFFFF) {  // a pbuf's length is 16 bits
    counters_.drops.add(StackDrop::oversized_frame);
    return;
  }
  pbuf* p = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(frame.size()), PBUF_RAM);
  if (p == nullptr) {
    counters_.drops.add(StackDrop::no_memory);
    return;
  }
  std::memcpy(p->payload, frame.data(), frame.size());
  current_port_ = port;
  if (netif_.input(p, &netif_) != ERR_OK) pbuf_free(p);
  current_port_ = 0;
  schedule_timers();
}

void Stack::guest_detached(virtio::PortId port) {
  if (traffic_ != nullptr) traffic_->guest_detached(port);
  // The next guest may reuse the address with another MAC: forget what ARP learned (others re-resolve).
  etharp_cleanup_netif(&netif_);
  schedule_timers();
}

void Stack::reinject(PbufPtr ip_packet) {
  reinjecting_ = true;
  ip4_input(ip_packet.release(), &netif_);  // ip4_input consumes the pbuf in every case
  reinjecting_ = false;
  schedule_timers();
}

void Stack::send_tcp_reset(const FlowKey& key, std::uint32_t ackno) {
  ip_addr_t local = to_lwip_ip(key.destination.address);
  ip_addr_t remote = to_lwip_ip(key.guest.address);
  tcp_rst(nullptr, 0, ackno, &local, &remote, key.destination.port, key.guest.port);
}

void Stack::send_icmp_unreachable(pbuf* ip_packet, std::uint8_t code) {
  icmp_dest_unreach(ip_packet, static_cast<icmp_dur_type>(code));
}

void Stack::send_icmp_unreachable_for_udp(pbuf* payload, std::uint8_t code) {
  // As lwIP's udp_input() does for its own port-unreachable: the headers are still in front of the payload.
  if (pbuf_add_header_force(payload, static_cast<size_t>(ip_current_header_tot_len()) + UDP_HLEN) != 0) return;
  icmp_dest_unreach(payload, static_cast<icmp_dur_type>(code));
}

bool Stack::send_udp(const Ipv4Endpoint& from, const Ipv4Endpoint& to_guest, std::span<const std::uint8_t> payload) {
  if (payload.size() > 0xFFFF - 8 - 20) return false;
  pbuf* p = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(payload.size()), PBUF_RAM);
  if (p == nullptr) {
    counters_.drops.add(StackDrop::no_memory);
    return false;
  }
  std::memcpy(p->payload, payload.data(), payload.size());
  ip_addr_t src = to_lwip_ip(from.address);
  ip_addr_t dst = to_lwip_ip(to_guest.address);
  // udp_sendto_if_src() takes the source port from the pcb: the reply pcb is never bound (so it never
  // receives), and its port is set to the one the guest addressed just before each send.
  udp_reply_->local_port = from.port;
  err_t err = udp_sendto_if_src(udp_reply_.get(), p, &dst, to_guest.port, &netif_, &src);
  pbuf_free(p);
  schedule_timers();
  return err == ERR_OK;
}

bool Stack::send_icmp_echo_reply(Ipv4Address from, Ipv4Address to_guest, std::uint16_t identifier,
                                 std::uint16_t sequence, std::span<const std::uint8_t> data) {
  if (data.size() > 0xFFFF - sizeof(icmp_echo_hdr) - 20) return false;
  pbuf* p = pbuf_alloc(PBUF_IP, static_cast<u16_t>(sizeof(icmp_echo_hdr) + data.size()), PBUF_RAM);
  if (p == nullptr) {
    counters_.drops.add(StackDrop::no_memory);
    return false;
  }
  auto* echo = static_cast<icmp_echo_hdr*>(p->payload);
  ICMPH_TYPE_SET(echo, ICMP_ER);
  ICMPH_CODE_SET(echo, 0);
  echo->id = lwip_htons(identifier);
  echo->seqno = lwip_htons(sequence);
  echo->chksum = 0;
  std::memcpy(reinterpret_cast<std::uint8_t*>(echo) + sizeof(icmp_echo_hdr), data.data(), data.size());
  echo->chksum = inet_chksum(echo, p->len);
  ip4_addr_t src = to_lwip(from);
  ip4_addr_t dst = to_lwip(to_guest);
  err_t err = ip4_output_if(p, &src, &dst, ICMP_TTL, 0, IP_PROTO_ICMP, &netif_);
  pbuf_free(p);
  return err == ERR_OK;
}

void Stack::use_link_segment_size(tcp_pcb* pcb) const {
  if (!config_.offload) return;
  // The guest's MSS option bounded pcb->mss during the handshake: the link's is the netif's MTU less headers.
  pcb->mss = static_cast<u16_t>(netif_.mtu - IP_HLEN - TCP_HLEN);
  // The handshake also sized the congestion window by the guest's MSS. tcp_output() never sends a segment
  // larger than the window, and for a congestion window (as opposed to the peer's) it starts no persist timer
  // ("a cwnd smaller than 1 SMSS implies in-flight data"): with nothing in flight, the flow would stall. Two
  // segments, as RFC 5681 allows for a large MSS.
  pcb->cwnd = static_cast<tcpwnd_size_t>(2U * pcb->mss);
}

void Stack::schedule_timers() {
  u32_t sleep_ms = sys_timeouts_sleeptime();
  if (sleep_ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE) return;
  auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(sleep_ms);
  if (due >= timer_due_) return;
  timer_due_ = due;
  timer_.expires_at(due);
  timer_.async_wait([this](const std::error_code& ec) {
    if (ec) return;  // re-armed earlier, or shutting down
    run_timers();
  });
}

void Stack::run_timers() {
  timer_due_ = std::chrono::steady_clock::time_point::max();
  sys_check_timeouts();
  schedule_timers();
}

}  // namespace vznet::stack
