// One guest UDP flow (guest address:port -> destination address:port) relayed through one connected host
// socket; replies go back to the guest from the address it sent to. Closed after --udp-timeout idle.
#pragma once

#include <asio/ip/udp.hpp>

#include "forward/flow_table.h"
#include "forward/forward_context.h"
#include "stack/pbuf_ptr.h"

namespace vznet::forward {

class UdpFlow final : public Flow {
 public:
  UdpFlow(FlowTable& table, const FlowKey& key, virtio::PortId port, ForwardContext& context);

  /// Opens and connects the host socket; false (and logged) if the host refuses.
  bool open();
  /// Sends one guest datagram to the host; dropped (counted) if the socket is full.
  void send_to_host(const pbuf* payload);

  void terminate() override;
  void tick(Clock::time_point now) override;
  const char* state_name() const override { return "open"; }

 private:
  void read_from_host();

  ForwardContext& ctx_;
  asio::ip::udp::socket host_;
  bool read_armed_ = false;
};

}  // namespace vznet::forward
