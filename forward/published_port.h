// One published host port: a TCP listener or UDP socket bound on the host whose every client becomes an
// inbound flow to one guest port. What the guest sees as the client's address is decided here too
// (guest_visible_source). The set of published ports, and the -p spec, live in port_publisher.h.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <unordered_map>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>

#include "base/life_guard.h"
#include "forward/flow_table.h"
#include "forward/forward_context.h"
#include "forward/publish_spec.h"
#include "forward/udp_flow.h"

namespace vznet::forward {

/// What published ports need from the rest of vznet.
struct PublishEnvironment {
  ForwardContext& ctx;
  FlowTable& flows;
  /// The address of the first guest that holds a DHCP lease, if any (the target when none is given).
  std::function<std::optional<Ipv4Address>()> first_guest;
  /// Whether any guest is attached at all (with none, clients are turned away at once).
  std::function<bool()> guest_attached;
};

/// The address the guest sees a host client as. The client's own address where the guest can answer it
/// through the gateway (as passt does); the gateway for loopback, IPv6 and addresses inside the guest
/// subnet, which the guest would look for on its own link.
Ipv4Address guest_visible_source(const asio::ip::address& client, const Ipv4Subnet& guest_subnet, Ipv4Address gateway);

class PublishedPort {
 public:
  using Protocol = PublishProtocol;

  /// Binds `host` (port 0: any free port). Throws std::system_error if it cannot be bound.
  PublishedPort(PublishEnvironment& env, Protocol protocol, const asio::ip::address& host_address,
                std::uint16_t host_port, std::optional<Ipv4Address> guest_address, std::uint16_t guest_port);
  /// Stops listening. Established TCP flows continue; UDP flows end (they share this socket).
  ~PublishedPort();
  PublishedPort(const PublishedPort&) = delete;
  PublishedPort& operator=(const PublishedPort&) = delete;

  /// Starts accepting clients / reading datagrams.
  void start();
  std::uint16_t host_port() const { return host_port_; }

 private:
  /// The guest address and port a new client goes to, or nothing (counted, logged) if no guest can take it.
  std::optional<Ipv4Endpoint> guest_target();
  void accept_next();
  void on_accepted(asio::ip::tcp::socket client);
  void read_datagrams();
  void on_datagram(const asio::ip::udp::endpoint& client, std::span<const std::uint8_t> payload);
  UdpFlow* udp_flow_for(const asio::ip::udp::endpoint& client, const Ipv4Endpoint& target);

  PublishEnvironment& env_;
  Protocol protocol_;
  std::optional<Ipv4Address> guest_address_;
  std::uint16_t guest_port_;
  std::uint16_t host_port_ = 0;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::udp::socket udp_;
  asio::steady_timer accept_retry_;  ///< after an accept error (e.g. out of descriptors), retry later
  std::unordered_map<asio::ip::udp::endpoint, FlowId> udp_clients_;  ///< each client's flow (maybe gone)
  std::size_t udp_sweep_at_;  ///< udp_clients_ is swept of ended flows when it reaches this size
  PublishedShare share_;      ///< this port's clients' share of the flow table
  base::LifeGuard guard_;
};

}  // namespace vznet::forward
