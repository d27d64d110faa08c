// One guest "ping session" (guest address, destination, echo identifier) relayed through an unprivileged ICMP
// datagram socket: requests go out as real echoes, and the guest gets a reply only when the host answered.
#pragma once

#include <asio/posix/stream_descriptor.hpp>

#include "forward/flow_table.h"
#include "forward/forward_context.h"
#include "forward/icmp_socket.h"
#include "stack/guest_traffic.h"

namespace vznet::forward {

class IcmpFlow final : public Flow {
 public:
  IcmpFlow(FlowTable& table, const FlowKey& key, virtio::PortId port, ForwardContext& context);

  /// Opens the socket for echoes to `target` (the address Forwarder::approve_dial() chose).
  IcmpSocketOpen open(Ipv4Address target);
  void send_echo(const stack::IcmpEcho& echo);

  void terminate() override;
  void tick(Clock::time_point now) override;
  const char* state_name() const override { return "open"; }

 private:
  void read_replies();

  ForwardContext& ctx_;
  asio::posix::stream_descriptor socket_;
  bool read_armed_ = false;
};

}  // namespace vznet::forward
