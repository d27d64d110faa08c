// DNS over TCP on gateway:53 (RFC 7766): the lwIP listener and, per connection, the 2-byte length framing,
// pipelined queries answered as they complete (in any order), bounded buffers and an idle timeout.
// It does not know what a message means: complete messages go to the owner, replies come back by handle.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "base/life_guard.h"
#include "dns/dns_counters.h"
#include "dns/dns_message.h"
#include "lwip/err.h"
#include "stack/ipv4_address.h"
#include "stack/stack.h"

struct tcp_pcb;
struct pbuf;

namespace vznet::dns {

/// Connections at once. A guest uses TCP to its resolver after a truncated answer, one short connection
/// each; 32 at once is far beyond that. Each costs at most kMaxTcpInput plus its pending replies.
inline constexpr std::size_t kMaxTcpConnections = 32;
/// Queries of one connection being answered at once (pipelining). Further complete queries wait in the
/// input buffer, then in the guest's TCP window, so one connection cannot occupy the whole pending table.
inline constexpr unsigned kMaxTcpQueriesInFlight = 16;
/// Unprocessed input per connection: one largest message with its length prefix always fits, so a
/// connection never stalls on a message it could not hold; beyond it, lwIP keeps the data (backpressure).
inline constexpr std::size_t kMaxTcpInput = 2 + kMaxMessageSize;
/// Framed replies lwIP's send buffer could not take yet (the guest is not reading). Beyond it no further
/// query is started until the guest reads, so a guest that only writes cannot make replies pile up.
inline constexpr std::size_t kMaxTcpOutput = 2 + kMaxMessageSize;

class DnsTcpService {
 public:
  using ConnectionId = std::uint64_t;
  /// A complete message from connection `id`. The owner ends it with exactly one reply() or finish().
  using MessageHandler = std::function<void(ConnectionId id, std::span<const std::uint8_t> message)>;

  /// Listens on `gateway`:53. Throws std::runtime_error when lwIP cannot bind or listen.
  DnsTcpService(asio::io_context& io, stack::Stack& stack, Ipv4Address gateway, std::chrono::milliseconds idle_timeout,
                DnsCounters& counters, MessageHandler handler);
  ~DnsTcpService();
  DnsTcpService(const DnsTcpService&) = delete;
  DnsTcpService& operator=(const DnsTcpService&) = delete;

  /// Sends `message` (at most 65535 bytes) on connection `id`, if it is still open, ending one query.
  void reply(ConnectionId id, std::span<const std::uint8_t> message);
  /// Ends one query of connection `id` that gets no reply.
  void finish(ConnectionId id);
  std::size_t connections() const { return connections_.size(); }

 private:
  struct Connection;

  static err_t on_accept(void* arg, tcp_pcb* pcb, err_t err);
  static err_t on_recv(void* arg, tcp_pcb* pcb, pbuf* p, err_t err);
  static err_t on_sent(void* arg, tcp_pcb* pcb, std::uint16_t length);
  static void on_error(void* arg, err_t err);

  err_t accept(tcp_pcb* pcb);
  err_t receive(Connection& c, pbuf* p);
  void process_input(Connection& c);
  void end_query(Connection& c);
  void flush(Connection& c);
  void maybe_finish(Connection& c);
  void close(Connection& c, bool abort);
  void schedule_reap();
  void reap();
  void arm_sweep();
  void sweep();

  asio::io_context& io_;
  stack::Stack& stack_;
  std::chrono::milliseconds idle_timeout_;
  DnsCounters& counters_;
  MessageHandler handler_;
  tcp_pcb* listener_ = nullptr;
  std::map<ConnectionId, std::unique_ptr<Connection>> connections_;
  ConnectionId next_id_ = 1;
  bool reap_posted_ = false;
  asio::steady_timer sweep_timer_;
  bool sweep_armed_ = false;
  base::LifeGuard guard_;  ///< queued handlers and callbacks do nothing once we are gone
};

}  // namespace vznet::dns
