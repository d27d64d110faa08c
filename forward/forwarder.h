// The Forwarder turns what the catch-all hands over (guest SYNs, UDP datagrams, echo requests) into flows in
// the flow table, and closes a guest's flows when it detaches. It is the stack's GuestTraffic.
#pragma once

#include <optional>

#include <asio/io_context.hpp>

#include "forward/flow_table.h"
#include "forward/forward_context.h"
#include "stack/guest_traffic.h"

namespace vznet::forward {

class Forwarder final : public stack::GuestTraffic {
 public:
  Forwarder(asio::io_context& io, stack::Stack& stack, const ForwardConfig& config, ForwardCounters& counters);
  ~Forwarder() override;

  FlowTable& flows() { return table_; }
  ForwardContext& context() { return ctx_; }
  const FlowTable& flows() const { return table_; }

  SynVerdict tcp_syn(const FlowKey& key, pbuf* packet) override;
  err_t guest_tcp_established(tcp_pcb* pcb) override;
  void udp_datagram(const FlowKey& key, stack::PbufPtr payload) override;
  void icmp_echo_request(const stack::IcmpEcho& echo) override;
  void guest_detached(virtio::PortId port) override;

 private:
  bool admit_new_flow(const FlowKey& key);
  /// Where a new flow may be dialed on the host, or nothing: refused as unroutable (dial_target.h), or denied
  /// by the egress policy judging that host endpoint (counted as `denied_event`). Refusals are counted and
  /// logged (rate-limited); with --egress-log, allowed flows are logged too.
  std::optional<Ipv4Endpoint> approve_dial(const FlowKey& key, ForwardEvent denied_event);
  /// Below --max-pending-connects for `port`, by dropping its oldest dials (see pending_dials.h).
  void make_room_for_a_dial(virtio::PortId port);

  ForwardContext ctx_;
  FlowTable table_;
  bool icmp_unavailable_ = false;  ///< ping sockets refused once: said so in the log, stop trying
};

}  // namespace vznet::forward
