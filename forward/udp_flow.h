// One UDP flow between a guest address:port and another end, closed after --udp-timeout idle.
// Outbound (the guest sent first): relayed through its own connected host socket; replies go back to the
// guest from the address it sent to. Inbound (a host client of a published port sent first): the published
// port's socket is shared by all its clients; this flow remembers which client it belongs to.
#pragma once

#include <cstdint>
#include <span>

#include <asio/ip/udp.hpp>

#include "forward/flow_table.h"
#include "forward/forward_context.h"
#include "stack/pbuf_ptr.h"

namespace vznet::forward {

class UdpFlow final : public Flow {
 public:
  UdpFlow(FlowTable& table, const FlowKey& key, virtio::PortId port, ForwardContext& context);
  /// Inbound: `published` is the published port's socket (it outlives the flow: the port terminates its
  /// flows when it closes); `client` is the host client this flow answers.
  UdpFlow(FlowTable& table, const FlowKey& key, virtio::PortId port, ForwardContext& context,
          asio::ip::udp::socket& published, const asio::ip::udp::endpoint& client);

  /// Opens the host socket connected to `target` (the endpoint Forwarder::approve_dial() chose); false (and
  /// logged) if the host refuses.
  bool open(const Ipv4Endpoint& target);
  /// Sends one guest datagram to the host; dropped (counted) if the socket is full.
  void send_to_host(const pbuf* payload);
  /// Inbound: one datagram from the client to the guest.
  void send_to_guest(std::span<const std::uint8_t> payload);
  /// Inbound: the guest answered from `port` (learned, so the flow closes when that guest detaches).
  void guest_answered(virtio::PortId port) { set_port(port); }

  void terminate() override;
  void tick(Clock::time_point now) override;
  const char* state_name() const override { return "open"; }

 private:
  void read_from_host();

  ForwardContext& ctx_;
  asio::ip::udp::socket host_;                  ///< outbound only
  asio::ip::udp::socket* published_ = nullptr;  ///< inbound only
  asio::ip::udp::endpoint client_;              ///< inbound only
  bool read_armed_ = false;
};

}  // namespace vznet::forward
