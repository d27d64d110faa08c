// Forwarder: flow creation for each kind of guest traffic, and per-guest clean-up (see forwarder.h).
#include "forward/forwarder.h"

#include <spdlog/spdlog.h>

#include "forward/icmp_flow.h"
#include "forward/tcp_flow.h"
#include "forward/udp_flow.h"
#include "lwip/tcp.h"

namespace vznet::forward {

Forwarder::Forwarder(asio::io_context& io, stack::Stack& stack, const ForwardConfig& config,
                     ForwardCounters& counters)
    : ctx_{stack, config, counters}, table_(io, config.max_flows) {
  stack.set_traffic(this);
}

Forwarder::~Forwarder() {
  table_.terminate_all();
  ctx_.stack.set_traffic(nullptr);
}

bool Forwarder::admit_new_flow(const FlowKey& key) {
  if (!table_.full()) return true;
  ctx_.counters.add(ForwardEvent::flow_limit);
  ctx_.flow_log.log(spdlog::level::warn, "{}: refused, --max-flows ({}) reached", key.to_string(),
                    ctx_.config.max_flows);
  return false;
}

bool Forwarder::egress_allowed(const FlowKey& key, ForwardEvent denied_event) {
  const auto& subnet = ctx_.stack.config().subnet;
  if (subnet.contains(key.destination.address) && !ctx_.stack.is_gateway(key.destination.address)) {
    // Another guest's address (or a free one) through the gateway: guests meet on the link or not at all,
    // and the host's network may well use the same prefix.
    ctx_.counters.add(denied_event);
    ctx_.flow_log.log(spdlog::level::info, "{}: denied: the guest subnet is not routed through the gateway",
                      key.to_string());
    return false;
  }
  const auto& policy = ctx_.config.egress;
  if (policy.empty() && !ctx_.config.egress_log) return true;
  const Ipv4Endpoint target = ctx_.host_target(key.destination);
  const EgressDecision decision = policy.decide(key.protocol, target);
  if (!decision.allowed) {
    ctx_.counters.add(denied_event);
    ctx_.flow_log.log(spdlog::level::warn, "{}: denied by egress policy ({})", key.to_string(), decision.describe());
    return false;
  }
  if (ctx_.config.egress_log) spdlog::info("{}: allowed ({})", key.to_string(), decision.describe());
  return true;
}

Forwarder::SynVerdict Forwarder::tcp_syn(const FlowKey& key, pbuf* packet) {
  if (Flow* existing = table_.find(key)) {
    // A retransmitted SYN: swallowed while we dial, lwIP's business once the handshake was approved.
    auto* flow = static_cast<TcpFlow*>(existing);
    return flow->state() == TcpFlow::State::dialing ? SynVerdict::consumed : SynVerdict::pass_to_stack;
  }
  if (!admit_new_flow(key) || !egress_allowed(key, ForwardEvent::egress_denied_tcp)) {
    ctx_.stack.send_tcp_reset(key, TcpFlow::sequence_of(packet) + 1);
    return SynVerdict::consumed;
  }
  table_.emplace<TcpFlow>(key, ctx_.stack.current_port(), ctx_, packet).dial();
  return SynVerdict::consumed;
}

err_t Forwarder::guest_tcp_established(tcp_pcb* pcb) {
  const FlowKey key{IpProtocol::tcp,
                    {Ipv4Address{lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)))}, pcb->remote_port},
                    {Ipv4Address{lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip)))}, pcb->local_port}};
  auto* flow = static_cast<TcpFlow*>(table_.find(key));
  if (flow == nullptr || flow->state() != TcpFlow::State::handshaking) {
    tcp_abort(pcb);  // no approved dial for this 4-tuple (it timed out, or the guest was detached)
    return ERR_ABRT;
  }
  flow->attach(pcb);
  return flow->aborted_pcb() ? ERR_ABRT : ERR_OK;
}

void Forwarder::udp_datagram(const FlowKey& key, stack::PbufPtr payload) {
  auto* flow = static_cast<UdpFlow*>(table_.find(key));
  if (flow == nullptr) {
    if (!admit_new_flow(key)) return;
    if (!egress_allowed(key, ForwardEvent::egress_denied_udp)) {
      ctx_.stack.send_icmp_unreachable_for_udp(payload.get(), stack::kIcmpAdministrativelyProhibited);
      return;
    }
    flow = &table_.emplace<UdpFlow>(key, ctx_.stack.current_port(), ctx_);
    if (!flow->open()) {
      flow->terminate();
      return;
    }
  } else if (flow->direction() == FlowDirection::inbound) {
    flow->guest_answered(ctx_.stack.current_port());
  }
  flow->send_to_host(payload.get());
}

void Forwarder::icmp_echo_request(const stack::IcmpEcho& echo) {
  const FlowKey key{IpProtocol::icmp, {echo.guest, echo.identifier}, {echo.destination, 0}};
  auto* flow = static_cast<IcmpFlow*>(table_.find(key));
  if (flow == nullptr) {
    if (!egress_allowed(key, ForwardEvent::egress_denied_icmp)) {
      ctx_.stack.send_icmp_unreachable(echo.packet, stack::kIcmpAdministrativelyProhibited);
      return;
    }
    if (icmp_unavailable_) {
      ctx_.counters.add(ForwardEvent::icmp_unavailable);
      return;
    }
    if (!admit_new_flow(key)) return;
    flow = &table_.emplace<IcmpFlow>(key, ctx_.stack.current_port(), ctx_);
    std::error_code error;
    if (!flow->open(error)) {
      flow->terminate();
      if (error == std::errc::permission_denied || error == std::errc::operation_not_permitted ||
          error == std::errc::protocol_not_supported) {
        icmp_unavailable_ = true;
        ctx_.counters.add(ForwardEvent::icmp_unavailable);
        spdlog::warn("ICMP echo to remote hosts is disabled: this host does not permit ICMP datagram sockets "
                     "({}); on Linux allow them with sysctl net.ipv4.ping_group_range", error.message());
      }
      return;
    }
  }
  flow->send_echo(echo);
}

void Forwarder::guest_detached(virtio::PortId port) {
  const std::size_t closed = table_.terminate_port(port);
  spdlog::info("guest port {} detached: closed {} flows, {} remain", port, closed, table_.size());
}

}  // namespace vznet::forward
