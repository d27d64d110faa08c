// The embedded lwIP stack as the guest sees it: the gateway's netif (ARP, IPv4, ICMP, TCP, UDP), lwIP's timers
// on the Asio loop, frames in from the switch and out to it, and the catch-all that hands every guest flow
// to forward/ (see catch_all.cpp for the theory of operation). Exactly one Stack exists at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <unordered_set>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "base/mac_address.h"
#include "lwip/netif.h"
#include "stack/guest_traffic.h"
#include "stack/ipv4_address.h"
#include "stack/pbuf_ptr.h"
#include "stack/stack_config.h"
#include "stack/stack_counters.h"
#include "stack/udp_pcb.h"
#include "virtio/port_switch.h"

struct tcp_pcb;
struct tcp_pcb_listen;
struct udp_pcb;

namespace vznet::stack {

/// ICMP destination-unreachable code 13, "communication administratively prohibited" (RFC 1812): the answer
/// to a flow vznet refuses by policy.
inline constexpr std::uint8_t kIcmpAdministrativelyProhibited = 13;

class Stack final : public virtio::GuestNetwork {
 public:
  /// Frames the stack sends towards the guests (an Ethernet frame, valid during the call).
  using FrameOutput = std::function<void(virtio::Frame)>;

  Stack(asio::io_context& io, const StackConfig& config, FrameOutput output, StackCounters& counters);
  ~Stack() override;
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  void set_traffic(GuestTraffic* traffic) { traffic_ = traffic; }
  const StackConfig& config() const { return config_; }
  bool is_gateway(Ipv4Address a) const { return a == config_.gateway; }

  // virtio::GuestNetwork
  void guest_attached(virtio::PortId port) override;
  void guest_frame(virtio::PortId port, virtio::Frame frame) override;
  void guest_detached(virtio::PortId port) override;

  /// Feeds a held IPv4 packet (a SYN whose host connect succeeded) back into lwIP, past the catch-all.
  void reinject(PbufPtr ip_packet);
  /// RST to the guest for a SYN that will not be accepted (ack = SYN seq + 1).
  void send_tcp_reset(const FlowKey& key, std::uint32_t ackno);
  /// ICMP destination unreachable (code: 1 host, 3 port, 13 administratively prohibited) about `ip_packet`.
  void send_icmp_unreachable(pbuf* ip_packet, std::uint8_t code);
  /// The same about the UDP datagram whose `payload` GuestTraffic::udp_datagram() is handling (only during
  /// that call: lwIP's current IP header is the datagram's). Uncovers the headers of `payload`.
  void send_icmp_unreachable_for_udp(pbuf* payload, std::uint8_t code);
  /// A UDP datagram to the guest, from `from` (the address and port the guest originally sent to).
  bool send_udp(const Ipv4Endpoint& from, const Ipv4Endpoint& to_guest, std::span<const std::uint8_t> payload);
  /// An ICMP echo reply to the guest from `from`.
  bool send_icmp_echo_reply(Ipv4Address from, Ipv4Address to_guest, std::uint16_t identifier, std::uint16_t sequence,
                            std::span<const std::uint8_t> data);
  /// TCP to gateway:`port` is served by an lwIP listener inside vznet (e.g. DNS over TCP), not dialed on the
  /// host: the catch-all lets those SYNs through to lwIP. The caller creates the listener.
  void serve_tcp_locally(std::uint16_t port) { local_tcp_ports_.insert(port); }
  /// With offload, lets `pcb` (its handshake done) send segments as large as the link carries, whatever MSS
  /// the guest announced: its NIC segments them (see StackConfig::offload). Without offload, nothing.
  void use_link_segment_size(tcp_pcb* pcb) const;
  /// Re-arms the lwIP timer if lwIP now wants to run earlier (call after work that may start lwIP timers).
  void schedule_timers();

  // Catch-all internals, reached from the C hooks (catch_all.cpp).
  int on_ip4_input(pbuf* p);
  tcp_pcb_listen* catch_all_listener() const { return listener_; }
  udp_pcb* catch_all_udp() const { return udp_catch_all_.get(); }
  err_t on_tcp_accept(tcp_pcb* pcb, err_t err);
  void on_udp(pbuf* p, const ip_addr_t* src, std::uint16_t src_port);

  /// The guest-facing netif, for in-stack services that send with udp_sendto_if_src() (the DHCP server).
  netif* guest_netif() { return &netif_; }

  /// The port the frame being processed came from (0 when none).
  virtio::PortId current_port() const { return current_port_; }
  static Stack* instance() { return instance_; }

 private:
  static err_t netif_init(netif* nif);
  static err_t link_output(netif* nif, pbuf* p);
  void create_catch_all();
  void run_timers();

  asio::io_context& io_;
  StackConfig config_;
  FrameOutput output_;
  StackCounters& counters_;
  GuestTraffic* traffic_ = nullptr;
  netif netif_{};
  tcp_pcb_listen* listener_ = nullptr;
  UdpPcbPtr udp_catch_all_;
  UdpPcbPtr udp_reply_;  ///< never bound; its local port is set per reply (see send_udp)
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point timer_due_ = std::chrono::steady_clock::time_point::max();
  bool reinjecting_ = false;
  virtio::PortId current_port_ = 0;
  std::vector<std::uint8_t> output_scratch_;           ///< linearizes chained pbufs for the switch
  std::unordered_set<std::uint16_t> local_tcp_ports_;  ///< see serve_tcp_locally()
  static Stack* instance_;
};

}  // namespace vznet::stack
