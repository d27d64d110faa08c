// PublishedPort: a host listener whose clients become inbound flows into the guest (see published_port.h).
#include "forward/published_port.h"

#include <array>

#include <spdlog/spdlog.h>
#include <asio/ip/v6_only.hpp>

#include "forward/tcp_flow.h"
#include "lwip/tcp.h"

namespace vznet::forward {

namespace {
/// Inbound flows are created before a guest answers, on port 0: all published ports share that one guest's
/// share of the flow table (FlowTable::admit), so their clients cannot take every guest's flows; each published
/// port has a share of its own within it, so one port's clients cannot take the other ports'.
constexpr virtio::PortId kInboundShare = 0;
}  // namespace

namespace {
/// Datagrams read per readiness event before yielding to other work.
constexpr int kMaxDatagramsPerTurn = 32;
/// After a failed accept (EMFILE, ENOBUFS) wait this long instead of spinning on the same error.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
/// Client-to-flow entries are swept of ended flows when the map grows past this many.
constexpr std::size_t kUdpClientSweepThreshold = 1024;
/// The largest UDP payload; one buffer for every published port (one thread).
std::array<std::uint8_t, 65507> g_datagram;

bool is_aborted(const std::error_code& ec) { return ec == asio::error::operation_aborted; }
}  // namespace

Ipv4Address guest_visible_source(const asio::ip::address& client, const Ipv4Subnet& guest_subnet, Ipv4Address gateway) {
  asio::ip::address_v4 v4;
  if (client.is_v4()) {
    v4 = client.to_v4();
  } else if (client.to_v6().is_v4_mapped()) {
    v4 = asio::ip::make_address_v4(asio::ip::v4_mapped, client.to_v6());
  } else {
    return gateway;
  }
  const Ipv4Address address{v4.to_uint()};
  if (address.is_loopback() || address.is_unspecified() || address.is_multicast() || address.is_broadcast() ||
      guest_subnet.contains(address)) {
    return gateway;
  }
  return address;
}

PublishedPort::PublishedPort(PublishEnvironment& env, Protocol protocol, const asio::ip::address& host_address,
                             std::uint16_t host_port, std::optional<Ipv4Address> guest_address,
                             std::uint16_t guest_port)
    : env_(env),
      protocol_(protocol),
      guest_address_(guest_address),
      guest_port_(guest_port),
      acceptor_(env.flows.io()),
      udp_(env.flows.io()),
      accept_retry_(env.flows.io()),
      udp_sweep_at_(kUdpClientSweepThreshold),
      share_(env.flows.new_published_share()) {
  if (protocol_ == Protocol::tcp) {
    const asio::ip::tcp::endpoint local(host_address, host_port);
    acceptor_.open(local.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));             // restart while old clients linger
    if (host_address.is_v6()) acceptor_.set_option(asio::ip::v6_only(true));  // [::] and 0.0.0.0 coexist
    acceptor_.bind(local);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    host_port_ = acceptor_.local_endpoint().port();
  } else {
    const asio::ip::udp::endpoint local(host_address, host_port);
    udp_.open(local.protocol());
    if (host_address.is_v6()) udp_.set_option(asio::ip::v6_only(true));
    udp_.bind(local);
    udp_.non_blocking(true);
    host_port_ = udp_.local_endpoint().port();
  }
}

PublishedPort::~PublishedPort() {
  guard_.revoke();
  std::error_code ignored;
  acceptor_.close(ignored);
  for (const auto& [client, id] : udp_clients_) {
    if (auto* flow = env_.flows.live<UdpFlow>(id)) flow->terminate();
  }
  udp_.close(ignored);
}

void PublishedPort::start() {
  if (protocol_ == Protocol::tcp) {
    accept_next();
  } else {
    read_datagrams();
  }
}

std::optional<Ipv4Endpoint> PublishedPort::guest_target() {
  std::optional<Ipv4Address> address = guest_address_;
  if (!address) address = env_.first_guest();
  if (!address || !env_.guest_attached()) {
    env_.ctx.counters.events.add(ForwardEvent::inbound_no_guest);
    env_.ctx.flow_log.log(spdlog::level::warn, "published port {}/{}: client turned away: {}", host_port_,
                          to_string(protocol_),
                          address ? "no guest is attached"
                                  : "no guest holds a DHCP lease (publish to an explicit GUEST_IP:PORT for guests "
                                    "with static addresses)");
    return std::nullopt;
  }
  return Ipv4Endpoint{*address, guest_port_};
}

// ---- TCP ----

void PublishedPort::accept_next() {
  acceptor_.async_accept(guard_.wrap([this](const std::error_code& ec, asio::ip::tcp::socket client) {
    if (is_aborted(ec)) return;
    if (ec) {
      env_.ctx.flow_log.log(spdlog::level::warn, "published port {}/tcp: accept failed: {}", host_port_, ec.message());
      accept_retry_.expires_after(kAcceptRetryDelay);
      accept_retry_.async_wait(guard_.wrap([this](const std::error_code& error) {
        if (!error) accept_next();
      }));
      return;
    }
    on_accepted(std::move(client));
    accept_next();
  }));
}

void PublishedPort::on_accepted(asio::ip::tcp::socket client) {
  std::error_code ec;
  const auto peer = client.remote_endpoint(ec);
  if (ec) return;  // the client already left
  // A client that cannot be served is reset, as if the guest had refused it: it must not wait.
  // (An explicit close: Asio's destructor would clear SO_LINGER first, turning the reset into a FIN.)
  const auto turn_away = [&client, &ec] {
    client.set_option(asio::socket_base::linger(true, 0), ec);
    client.close(ec);
  };
  const std::optional<Ipv4Endpoint> target = guest_target();
  if (!target) return turn_away();
  if (!env_.flows.admit(kInboundShare, share_)) {
    env_.ctx.counters.events.add(ForwardEvent::flow_limit);
    return turn_away();
  }
  const Ipv4Address source =
      guest_visible_source(peer.address(), env_.ctx.stack.config().subnet, env_.ctx.stack.config().gateway);
  tcp_pcb* pcb = TcpFlow::bind_inbound_pcb({source, peer.port()});
  if (pcb == nullptr) {
    env_.ctx.counters.events.add(ForwardEvent::flow_limit);
    return turn_away();
  }
  const FlowKey key{IpProtocol::tcp, *target, TcpFlow::local_endpoint(pcb)};
  if (env_.flows.find(key) != nullptr) {  // the guest already has this very 4-tuple open
    tcp_abort(pcb);
    return turn_away();
  }
  env_.flows.emplace_inbound<TcpFlow>(share_, key, env_.ctx, std::move(client), pcb).connect_guest();
}

// ---- UDP ----

void PublishedPort::read_datagrams() {
  for (int i = 0; i < kMaxDatagramsPerTurn; ++i) {
    asio::ip::udp::endpoint client;
    std::error_code ec;
    const std::size_t n = udp_.receive_from(asio::buffer(g_datagram), client, 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (is_aborted(ec) || ec == asio::error::bad_descriptor) return;
    if (ec) continue;  // e.g. ECONNREFUSED left by an ICMP error for an earlier reply
    on_datagram(client, {g_datagram.data(), n});
  }
  udp_.async_wait(asio::socket_base::wait_read, guard_.wrap([this](const std::error_code& ec) {
    if (!ec) read_datagrams();
  }));
}

void PublishedPort::on_datagram(const asio::ip::udp::endpoint& client, std::span<const std::uint8_t> payload) {
  UdpFlow* flow = nullptr;
  if (auto it = udp_clients_.find(client); it != udp_clients_.end()) flow = env_.flows.live<UdpFlow>(it->second);
  if (flow == nullptr) {
    const std::optional<Ipv4Endpoint> target = guest_target();
    if (!target) return;
    flow = udp_flow_for(client, *target);
    if (flow == nullptr) return;
  }
  flow->send_to_guest(payload);
}

UdpFlow* PublishedPort::udp_flow_for(const asio::ip::udp::endpoint& client, const Ipv4Endpoint& target) {
  if (!env_.flows.admit(kInboundShare, share_)) {
    env_.ctx.counters.events.add(ForwardEvent::flow_limit);
    return nullptr;
  }
  const Ipv4Address source =
      guest_visible_source(client.address(), env_.ctx.stack.config().subnet, env_.ctx.stack.config().gateway);
  // The client's port, unless that 4-tuple is taken (two loopback clients both shown as the gateway).
  FlowKey key{IpProtocol::udp, target, {source, client.port()}};
  for (std::uint32_t port = 49152; env_.flows.find(key) != nullptr; ++port) {
    if (port > 65535) return nullptr;
    key.destination.port = static_cast<std::uint16_t>(port);
  }
  if (udp_clients_.size() >= udp_sweep_at_) {
    std::erase_if(udp_clients_,
                  [this](const auto& entry) { return env_.flows.live<UdpFlow>(entry.second) == nullptr; });
    udp_sweep_at_ = std::max(kUdpClientSweepThreshold, 2 * udp_clients_.size());  // amortized O(1) per client
  }
  auto& flow = env_.flows.emplace_inbound<UdpFlow>(share_, key, env_.ctx, udp_, client);
  udp_clients_[client] = flow.id();
  return &flow;
}

}  // namespace vznet::forward
