// DNS over TCP on gateway:53 (RFC 7766): the lwIP listener and, per connection, the 2-byte length framing,
// pipelined queries answered as they complete (in any order), bounded buffers and an idle timeout.
// Each connection is a flow in the forwarder's flow table like any other: counted against its guest's share,
// listed by the API, ticked for its idle timeout, terminated when its guest detaches, freed at the end of the
// loop turn. It does not know what a message means: complete messages go to the owner, replies come back by id.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <unordered_set>

#include "dns/dns_counters.h"
#include "dns/dns_message.h"
#include "forward/flow_table.h"
#include "lwip/err.h"
#include "stack/ipv4_address.h"
#include "stack/stack.h"

struct tcp_pcb;

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
  using ConnectionId = forward::FlowId;
  /// A complete message from connection `id`. The owner ends it with exactly one reply() or finish().
  using MessageHandler = std::function<void(ConnectionId id, std::span<const std::uint8_t> message)>;

  /// Listens on `gateway`:53; each connection becomes a flow of `flows`. Throws std::runtime_error when lwIP
  /// cannot bind or listen.
  DnsTcpService(stack::Stack& stack, forward::FlowTable& flows, Ipv4Address gateway,
                std::chrono::milliseconds idle_timeout, DnsCounters& counters, MessageHandler handler);
  /// Closes the listener and terminates the connections still open.
  ~DnsTcpService();
  DnsTcpService(const DnsTcpService&) = delete;
  DnsTcpService& operator=(const DnsTcpService&) = delete;

  /// Sends `message` (at most 65535 bytes) on connection `id`, if it is still open, ending one query.
  void reply(ConnectionId id, std::span<const std::uint8_t> message);
  /// Ends one query of connection `id` that gets no reply.
  void finish(ConnectionId id);
  /// Connections open (accepted, not closing).
  std::size_t connections() const { return open_.size(); }

 private:
  class Connection;

  static err_t on_accept(void* arg, tcp_pcb* pcb, err_t err);
  err_t accept(tcp_pcb* pcb);
  /// The open connection `id`, or nullptr once it is closing or gone.
  Connection* find(ConnectionId id) const;

  stack::Stack& stack_;
  forward::FlowTable& flows_;
  std::chrono::milliseconds idle_timeout_;
  DnsCounters& counters_;
  MessageHandler handler_;
  tcp_pcb* listener_ = nullptr;
  std::unordered_set<ConnectionId> open_;  ///< its connections that are in the table and not closing
};

}  // namespace vznet::dns
