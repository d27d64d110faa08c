// The DNS server on the gateway (UDP and TCP port 53, inside lwIP only: never on a host port). It answers
// the built-in zone itself and forwards everything else, unchanged, to the upstream resolver; it restores
// the guest's query ID, truncates UDP answers the guest cannot take, and bounds the queries it holds.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <unordered_map>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "base/life_guard.h"
#include "base/rate_limited_log.h"
#include "dns/dns_config.h"
#include "dns/dns_counters.h"
#include "dns/dns_message.h"
#include "dns/dns_tcp.h"
#include "dns/dns_zone.h"
#include "dns/upstream_resolver.h"
#include "stack/stack.h"
#include "stack/udp_pcb.h"

struct udp_pcb;

namespace vznet::dns {

class DnsServer {
 public:
  /// Serves `config.gateway`:53 in `stack`, forwarding through c-ares; DNS-over-TCP connections are flows of
  /// `flows`. Throws std::runtime_error (one sentence) when lwIP cannot bind port 53 or c-ares cannot start.
  /// Destroy it before the flow table and the Stack.
  DnsServer(asio::io_context& io, stack::Stack& stack, forward::FlowTable& flows, DnsConfig config);
  /// The same with another upstream (tests use a fake).
  DnsServer(asio::io_context& io, stack::Stack& stack, forward::FlowTable& flows, DnsConfig config,
            std::unique_ptr<UpstreamResolver> upstream);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  const DnsCounters& counters() const { return counters_; }
  /// Queries sent upstream whose answer has not come back yet (including ones already given SERVFAIL).
  std::size_t pending_queries() const { return pending_.size(); }
  std::size_t tcp_connections() const { return tcp_->connections(); }

 private:
  /// Where a query came from and so where its answer goes: a UDP guest endpoint or a TCP connection.
  struct Origin {
    Ipv4Endpoint guest;
    std::optional<DnsTcpService::ConnectionId> connection;
  };
  /// A query waiting for the upstream, keyed by the ID it was sent upstream with.
  struct Pending {
    Origin origin;
    Query query;
    std::uint64_t serial = 0;  ///< tells this query from an earlier one that used the same upstream ID
    bool timed_out = false;    ///< the guest already got SERVFAIL; the answer, when it comes, is dropped
  };
  struct Deadline {
    std::chrono::steady_clock::time_point due;
    std::uint16_t upstream_id;
    std::uint64_t serial;
  };

  void start(const std::string& upstream_description);
  void on_udp(pbuf* p, const ip_addr_t* source, std::uint16_t port);
  void handle(std::span<const std::uint8_t> message, const Origin& origin);
  void forward(const Query& query, std::span<const std::uint8_t> message, const Origin& origin);
  void on_upstream(std::uint16_t upstream_id, std::uint64_t serial, UpstreamError error,
                   std::span<const std::uint8_t> answer);
  void on_deadline();
  void arm_deadline();
  std::uint16_t allocate_upstream_id();
  void respond(const Origin& origin, Bytes message, std::size_t udp_limit);
  void respond_error(const Origin& origin, const Query& query, Rcode rcode);
  void no_response(const Origin& origin);
  void send_udp(const Ipv4Endpoint& guest, std::span<const std::uint8_t> message);

  asio::io_context& io_;
  stack::Stack& stack_;
  forward::FlowTable& flows_;
  DnsConfig config_;
  DnsCounters counters_;
  Zone zone_;
  std::unique_ptr<UpstreamResolver> upstream_;
  stack::UdpPcbPtr udp_;
  std::unique_ptr<DnsTcpService> tcp_;
  std::unordered_map<std::uint16_t, Pending> pending_;
  std::deque<Deadline> deadlines_;  ///< in order of due time (the timeout is the same for every query)
  asio::steady_timer deadline_timer_;
  bool deadline_armed_ = false;
  std::uint64_t next_serial_ = 1;
  /// Upstream query IDs are random, not the guest's: a guest's IDs need not be unique across its sockets
  /// (or guests), and a predictable ID would make forging answers easier.
  std::mt19937 random_{std::random_device{}()};
  base::RateLimitedLog log_;
  base::LifeGuard guard_;  ///< queued handlers and callbacks do nothing once we are gone
};

}  // namespace vznet::dns
