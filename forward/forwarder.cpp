// Forwarder: flow creation for each kind of guest traffic, and per-guest clean-up (see forwarder.h).
#include "forward/forwarder.h"

#include <spdlog/spdlog.h>

#include "forward/icmp_flow.h"
#include "forward/tcp_flow.h"
#include "forward/udp_flow.h"
#include "lwip/tcp.h"
#include "stack/tcp_pcb.h"

namespace vznet::forward {

Forwarder::Forwarder(asio::io_context& io, stack::Stack& stack, const ForwardConfig& config, ForwardCounters& counters)
    : ctx_{stack, config, counters},
      table_(io,
             FlowLimits{.max_flows = config.max_flows,
                        .max_per_guest = config.max_flows_per_guest,
                        .max_per_published_port = config.max_flows_per_published_port,
                        .max_linger = config.tcp_drain_timeout},
             counters) {
  stack.set_traffic(this);
}

Forwarder::~Forwarder() {
  table_.terminate_all();
  ctx_.stack.set_traffic(nullptr);
}

bool Forwarder::admit_new_flow(const FlowKey& key) {
  const virtio::PortId port = ctx_.stack.current_port();
  if (table_.admit(port)) return true;
  ctx_.counters.events.add(ForwardEvent::flow_limit);
  ctx_.flow_log.log(spdlog::level::warn,
                    "{}: refused, --max-flows ({}) or this guest's --max-flows-per-guest ({}) "
                    "reached",
                    key.to_string(), ctx_.config.max_flows, ctx_.config.max_flows_per_guest);
  return false;
}

std::optional<Ipv4Endpoint> Forwarder::approve_dial(const FlowKey& key, ForwardEvent denied_event) {
  const DialTarget target = ctx_.dial_target(key.destination);
  if (!target.dialable()) {
    ctx_.counters.events.add(ForwardEvent::unroutable_destination);
    ctx_.flow_log.log(spdlog::level::info, "{}: refused: {}", key.to_string(), describe(*target.refusal));
    return std::nullopt;
  }
  const auto& policy = ctx_.config.egress;
  if (policy.empty() && !ctx_.config.egress_log) return target.endpoint;
  const EgressDecision decision = policy.decide(key.protocol, target.endpoint);
  if (!decision.allowed) {
    ctx_.counters.events.add(denied_event);
    ctx_.flow_log.log(spdlog::level::warn, "{}: denied by egress policy ({})", key.to_string(), decision.describe());
    return std::nullopt;
  }
  if (ctx_.config.egress_log) spdlog::info("{}: allowed ({})", key.to_string(), decision.describe());
  return target.endpoint;
}

void Forwarder::make_room_for_a_dial(virtio::PortId port) {
  while (ctx_.pending_dials.count(port) >= ctx_.config.max_pending_dials) {
    auto* oldest = table_.live<TcpFlow>(*ctx_.pending_dials.oldest(port));
    if (oldest == nullptr) break;         // cannot happen: a dial leaves the list before its flow is released
    if (oldest->settle_dial()) continue;  // it had connected (or failed): no longer pending
    ctx_.counters.events.add(ForwardEvent::dial_evicted);
    ctx_.flow_log.log(spdlog::level::warn,
                      "{}: dropped: guest port {} has {} connects in flight "
                      "(--max-pending-connects)",
                      oldest->key().to_string(), port, ctx_.config.max_pending_dials);
    oldest->terminate();  // silently: its SYN may come again, as after a lost SYN-ACK
  }
}

Forwarder::SynVerdict Forwarder::tcp_syn(const FlowKey& key, pbuf* packet) {
  if (Flow* existing = table_.find(key)) {
    // A retransmitted SYN: swallowed while we dial, lwIP's business once the handshake was approved. Every TCP
    // flow with a key the catch-all hands here is a TcpFlow: the table's other TCP flows, DNS-over-TCP connections,
    // are to the gateway's port 53, which the catch-all leaves to lwIP (Stack::serve_tcp_locally).
    auto* flow = static_cast<TcpFlow*>(existing);
    return flow->state() == TcpFlow::State::dialing ? SynVerdict::consumed : SynVerdict::pass_to_stack;
  }
  // A guest reusing the 4-tuple of a connection lwIP still holds after vznet closed it (TIME_WAIT above all:
  // a guest whose peer closed first keeps none and reuses the port at once) has forgotten it: lwIP would
  // answer the new SYN with an ACK of the old connection and the connect would hang. RFC 6191 lets a host
  // accept such a SYN; the host socket keeps the real TIME_WAIT towards the server.
  if (table_.lingering().abort(key)) ctx_.counters.events.add(ForwardEvent::tcp_linger_reused);
  const auto target = admit_new_flow(key) ? approve_dial(key, ForwardEvent::egress_denied_tcp) : std::nullopt;
  if (!target) {
    ctx_.stack.send_tcp_reset(key, TcpFlow::sequence_of(packet) + 1);
    return SynVerdict::consumed;
  }
  make_room_for_a_dial(ctx_.stack.current_port());
  table_.emplace<TcpFlow>(key, ctx_.stack.current_port(), ctx_, packet).dial(*target);
  return SynVerdict::consumed;
}

err_t Forwarder::guest_tcp_established(tcp_pcb* pcb) {
  const FlowKey key = stack::guest_tcp_key(pcb);
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
    const auto target = approve_dial(key, ForwardEvent::egress_denied_udp);
    if (!target) {
      ctx_.stack.send_icmp_unreachable_for_udp(payload.get(), stack::kIcmpAdministrativelyProhibited);
      return;
    }
    flow = &table_.emplace<UdpFlow>(key, ctx_.stack.current_port(), ctx_);
    if (!flow->open(*target)) {
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
    const auto target = approve_dial(key, ForwardEvent::egress_denied_icmp);
    if (!target) {
      ctx_.stack.send_icmp_unreachable(echo.packet, stack::kIcmpAdministrativelyProhibited);
      return;
    }
    if (icmp_unavailable_) {
      ctx_.counters.events.add(ForwardEvent::icmp_unavailable);
      return;
    }
    if (!admit_new_flow(key)) return;
    flow = &table_.emplace<IcmpFlow>(key, ctx_.stack.current_port(), ctx_);
    const IcmpSocketOpen opened = flow->open(target->address);
    if (opened.fd < 0) {
      flow->terminate();
      if (opened.ping_sockets_refused) {
        icmp_unavailable_ = true;
        ctx_.counters.events.add(ForwardEvent::icmp_unavailable);
        spdlog::warn(
            "ICMP echo to remote hosts is disabled: this host does not permit ICMP datagram sockets "
            "({}); on Linux allow them with sysctl net.ipv4.ping_group_range",
            opened.error.message());
      } else {
        ctx_.flow_log.log(spdlog::level::info, "{}: the host refuses echoes there: {}", key.to_string(),
                          opened.error.message());
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
