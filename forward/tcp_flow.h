// One guest TCP connection proxied through one host socket: connect-first handshake, bytes both ways with
// backpressure, half-close and reset propagation, timeouts. Created by the Forwarder on the guest's SYN
// (outbound), or by a published port for an accepted host client (inbound: lwIP connects to the guest).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

#include <asio/ip/tcp.hpp>

#include "forward/flow_table.h"
#include "forward/forward_context.h"
#include "stack/pbuf_ptr.h"

struct tcp_pcb;

namespace vznet::forward {

class TcpFlow final : public Flow {
 public:
  /// Life cycle. Outbound: dialing -> handshaking -> open -> closed, or dialing/handshaking -> closed.
  /// Inbound: connecting_guest -> open -> closed, or connecting_guest -> closed.
  ///  dialing     host connect in flight; the guest's SYN is held and its retransmits are dropped, so the
  ///              guest hears nothing until we know whether the destination answers.
  ///  handshaking host connected; the SYN was re-injected and lwIP is completing the guest handshake.
  ///              Only terminate() and tick() (handshake timeout) act here.
  ///  connecting_guest  inbound: the host client is accepted (its bytes wait in the kernel) and lwIP's SYN
  ///              is on its way to the guest. A guest RST or --connect-timeout resets the client.
  ///  open        bytes both ways; guest_fin_/host_eof_ record the half-closes. Data operations are legal
  ///              only here. Once both directions are done the flow stays ("draining", still counted against
  ///              the limits) until the guest has acknowledged every byte lwIP holds for it, so a guest that
  ///              stops acknowledging cannot leave lwIP holding data no flow accounts for; without progress
  ///              for ForwardConfig::tcp_drain_timeout it is reset.
  ///  closed      released; both sides detached; waiting to be reaped.
  enum class State : std::uint8_t { dialing, handshaking, connecting_guest, open, closed, count_ };
  static constexpr std::array<std::string_view, 5> kStateNames{"dialing", "handshaking", "connecting_guest", "open",
                                                               "closed"};
  static_assert(kStateNames.size() == static_cast<std::size_t>(State::count_));

  /// Outbound: the guest's SYN `syn` asks for key.destination.
  TcpFlow(FlowTable& table, const FlowKey& key, virtio::PortId port, ForwardContext& context, pbuf* syn);
  /// Inbound: `client` was accepted on a published port; `pcb` is bound to key.destination (see
  /// bind_inbound_pcb) and will connect to key.guest. `port` is 0 until the guest answers.
  TcpFlow(FlowTable& table, const FlowKey& key, virtio::PortId port, ForwardContext& context,
          asio::ip::tcp::socket client, tcp_pcb* pcb);
  ~TcpFlow() override;

  /// A new lwIP pcb bound to `source` (what the guest will see as the client), or to source's address and
  /// a free port if that port is taken; nullptr if lwIP has no memory.
  static tcp_pcb* bind_inbound_pcb(const Ipv4Endpoint& source);
  /// The local endpoint a bound pcb ended up with.
  static Ipv4Endpoint local_endpoint(const tcp_pcb* pcb);
  /// Inbound: sends the SYN to the guest (connecting_guest).
  void connect_guest();

  State state() const { return state_; }
  /// True once this flow called tcp_abort() on its pcb (an lwIP callback must then return ERR_ABRT).
  bool aborted_pcb() const { return pcb_aborted_; }
  /// The sequence number of a SYN held as an IPv4 packet.
  static std::uint32_t sequence_of(const pbuf* ip_packet);
  /// Starts the host connect (dialing) to `target`, the endpoint Forwarder::approve_dial() chose.
  void dial(const Ipv4Endpoint& target);
  /// While dialing: if the host connect has finished already (its completion not yet run by the loop), acts
  /// on it now and returns true. A flood of SYNs can fill the pending dials within one read of the link, before
  /// the loop runs any completion; this keeps a dial that succeeded from being taken for a silent one.
  bool settle_dial();
  /// lwIP completed the guest handshake for this flow's 4-tuple.
  void attach(tcp_pcb* pcb);

  void terminate() override;
  void tick(Clock::time_point now) override;
  const char* state_name() const override {
    return draining_ ? "draining" : kStateNames[static_cast<std::size_t>(state_)].data();
  }

 private:
  static err_t on_lwip_recv(void* arg, tcp_pcb* pcb, pbuf* p, err_t err);
  static err_t on_lwip_sent(void* arg, tcp_pcb* pcb, std::uint16_t len);
  static void on_lwip_error(void* arg, err_t err);
  static err_t on_lwip_connected(void* arg, tcp_pcb* pcb, err_t err);

  void on_connected(const std::error_code& ec);
  /// Leaves ForwardContext::pending_dials (the connect finished, failed, or the flow ends).
  void end_dialing();
  void refuse_guest(const std::error_code& ec);
  // guest -> host
  /// False when the queue for the host is over budget: the caller hands `p` back to lwIP (ERR_MEM).
  bool on_guest_data(pbuf* p);
  /// Drops the front of to_host_, giving its footprint back.
  void pop_to_host();
  void on_guest_fin();
  void write_to_host();
  void acknowledge_guest(std::size_t bytes);
  // host -> guest
  void read_from_host();
  bool push_backlog_to_guest();
  std::size_t guest_send_room() const;
  /// Brings this flow's charge to ForwardContext::held_for_guests up to what lwIP holds for the guest now.
  void recount_held_for_guest();
  // endings
  void maybe_finish();
  /// lwIP still holds bytes the guest has not acknowledged (a FIN alone does not count).
  bool guest_owes_acks() const;
  void reset_guest(ForwardEvent why);
  void reset_host(ForwardEvent why);
  /// Resets the guest side (RST) and forgets the pcb; lwIP frees it. No-op once the pcb is gone.
  void abort_pcb();
  void detach_pcb();
  void close_host(bool with_reset);

  ForwardContext& ctx_;
  State state_ = State::dialing;
  stack::PbufPtr syn_;                               ///< the guest's SYN, held while dialing
  std::optional<PendingDials::Entry> pending_dial_;  ///< while dialing: this flow in ctx_.pending_dials
  std::uint32_t syn_seq_ = 0;
  asio::ip::tcp::socket host_;
  tcp_pcb* pcb_ = nullptr;
  Clock::time_point phase_started_ = Clock::now();

  std::deque<stack::PbufPtr> to_host_;  ///< guest bytes not yet taken by the host socket (bounded by TCP_WND)
  std::size_t to_host_offset_ = 0;      ///< bytes of to_host_.front() already written
  std::size_t to_host_footprint_ = 0;   ///< heap bytes to_host_ holds (buffer_budget.h), also charged to the total
  std::size_t held_for_guest_ = 0;      ///< host bytes lwIP holds for the guest, as charged to the total
  std::vector<std::uint8_t> to_guest_backlog_;  ///< host bytes lwIP could not take (rare ERR_MEM; <= 64 KiB)
  bool host_write_armed_ = false;               ///< a host write is deferred to the end of the turn or waits for room
  bool host_read_armed_ = false;                ///< a host read is deferred to the end of the turn or waits for data
  bool guest_fin_ = false;                      ///< guest sent FIN
  bool host_shut_ = false;                      ///< FIN passed on to the host (shutdown(SHUT_WR))
  bool host_eof_ = false;                       ///< host sent EOF
  bool guest_shut_ = false;                     ///< FIN passed on to the guest
  bool host_reset_while_dialing_ = false;       ///< the host accepted and reset before the connect completed
  bool pcb_aborted_ = false;  ///< we called tcp_abort(): an lwIP callback in progress must return ERR_ABRT
  bool draining_ = false;     ///< both directions done; waiting for the guest to acknowledge the rest
};

}  // namespace vznet::forward
