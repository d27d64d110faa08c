// TcpFlow: the guest's TCP connection (an lwIP pcb) spliced to a host socket. See tcp_flow.h for states.
// Backpressure: guest bytes are acknowledged to lwIP (tcp_recved) only once the host socket took them, so the
// guest's window closes when the host is slow; the host socket is read only while lwIP has send-buffer room,
// and reading resumes from lwIP's `sent` callback.
#include "forward/tcp_flow.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <span>

#include <asio/ip/address_v4.hpp>

#include "base/byte_order.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "stack/lwip_address.h"
#include "stack/tcp_pcb.h"

namespace vznet::forward {

namespace {

/// iovecs per host write: enough to cover a full 2 MiB window of 1460-byte segments in a few calls.
constexpr std::size_t kMaxIovecs = 64;
/// Host reads per readiness event before yielding to other flows (fairness); 16 x 64 KiB = 1 MiB.
constexpr int kMaxReadsPerTurn = 16;
/// tcp_write() and tcp_recved() take 16-bit lengths.
constexpr std::size_t kLwipChunk = 0xFFFF;
/// Host bytes taken beyond the guest's window: at least this much, and at least this many segments.
constexpr std::size_t kSendAheadBytes = 128 * 1024;
constexpr std::size_t kSendAheadSegments = 4;
/// A re-injected SYN whose handshake never completes (guest gone) is dropped after this.
constexpr auto kHandshakeTimeout = std::chrono::seconds(75);

/// Host bytes pass through here on their way into lwIP's send buffer (one thread: one buffer for all flows).
std::array<std::uint8_t, kLwipChunk> g_host_read_buffer;

bool would_block(const std::error_code& ec) { return ec == asio::error::would_block || ec == asio::error::try_again; }

/// ICMP destination-unreachable code for a failed connect.
std::uint8_t unreachable_code(const std::error_code& ec) {
  if (ec == asio::error::network_unreachable) return 0;
  if (ec == asio::error::access_denied || ec == std::errc::operation_not_permitted) {
    return stack::kIcmpAdministrativelyProhibited;
  }
  return 1;  // host unreachable, timed out, anything else
}

}  // namespace

std::uint32_t TcpFlow::sequence_of(const pbuf* ip_packet) {
  const auto* ip = static_cast<const std::uint8_t*>(ip_packet->payload);
  const std::uint8_t* tcp = ip + static_cast<std::size_t>(ip[0] & 0x0F) * 4;
  return base::load_be32(tcp + 4);
}

TcpFlow::TcpFlow(FlowTable& table, const FlowKey& key, virtio::PortId port, ForwardContext& context, pbuf* syn)
    : Flow(table, key, port),
      ctx_(context),
      syn_(stack::share_pbuf(syn)),
      syn_seq_(sequence_of(syn)),
      host_(table.io()) {}

TcpFlow::TcpFlow(FlowTable& table, const FlowKey& key, virtio::PortId port, ForwardContext& context,
                 asio::ip::tcp::socket client, tcp_pcb* pcb)
    : Flow(table, key, port, FlowDirection::inbound),
      ctx_(context),
      state_(State::connecting_guest),
      host_(std::move(client)),
      pcb_(pcb) {
  std::error_code ignored;
  host_.non_blocking(true, ignored);
  host_.set_option(asio::ip::tcp::no_delay(true), ignored);
  tcp_arg(pcb_, this);
  tcp_err(pcb_, &TcpFlow::on_lwip_error);
}

TcpFlow::~TcpFlow() {
  while (!to_host_.empty()) pop_to_host();
  abort_pcb();
}

tcp_pcb* TcpFlow::bind_inbound_pcb(const Ipv4Endpoint& source) {
  tcp_pcb* pcb = tcp_new();
  if (pcb == nullptr) return nullptr;
  ip_addr_t address = stack::to_lwip_ip(source.address);
  // The client's own port keeps the guest's view faithful (as passt does); any free port will do otherwise.
  if (tcp_bind(pcb, &address, source.port) != ERR_OK && tcp_bind(pcb, &address, 0) != ERR_OK) {
    tcp_abort(pcb);
    return nullptr;
  }
  return pcb;
}

Ipv4Endpoint TcpFlow::local_endpoint(const tcp_pcb* pcb) { return {stack::from_lwip(pcb->local_ip), pcb->local_port}; }

void TcpFlow::connect_guest() {
  ip_addr_t guest = stack::to_lwip_ip(key().guest.address);
  if (tcp_connect(pcb_, &guest, key().guest.port, &TcpFlow::on_lwip_connected) != ERR_OK) {
    ctx_.counters.events.add(ForwardEvent::inbound_tcp_unreachable);
    return terminate();
  }
  ctx_.stack.schedule_timers();
}

err_t TcpFlow::on_lwip_connected(void* arg, tcp_pcb* pcb, err_t) {
  auto* self = static_cast<TcpFlow*>(arg);
  if (self->state_ != State::connecting_guest) return ERR_OK;
  self->set_port(self->ctx_.stack.current_port());  // the port the guest's SYN-ACK came from
  self->ctx_.stack.use_link_segment_size(pcb);
  self->ctx_.counters.events.add(ForwardEvent::inbound_tcp_opened);
  self->attach(pcb);
  return self->pcb_aborted_ ? ERR_ABRT : ERR_OK;
}

void TcpFlow::dial(const Ipv4Endpoint& target) {
  pending_dial_ = ctx_.pending_dials.add(port(), id());
  std::error_code ec;
  host_.open(asio::ip::tcp::v4(), ec);
  if (ec) return refuse_guest(ec);
  // Non-blocking before the connect: async_connect then skips its own FIONBIO (one syscall per connection
  // fewer), and the data path's read_some/write_some never block.
  host_.non_blocking(true, ec);
  if (ec) return refuse_guest(ec);
  host_.async_connect({asio::ip::address_v4(target.address.value), target.port},
                      table().life_guard().wrap([table = &table(), id = id()](const std::error_code& error) {
                        if (auto* flow = table->live<TcpFlow>(id)) flow->on_connected(error);
                      }));
}

void TcpFlow::on_connected(const std::error_code& ec) {
  if (state_ != State::dialing) return;
  end_dialing();
  // A server that accepts and resets at once (an abortive close) completes the connect with ECONNRESET: the
  // connection did exist, so the guest gets it too, then the reset, as it would from the server directly.
  // Refusing it instead would tell the guest "no route to host".
  host_reset_while_dialing_ = ec == asio::error::connection_reset;
  if (ec && !host_reset_while_dialing_) return refuse_guest(ec);
  std::error_code ignored;
  host_.set_option(asio::ip::tcp::no_delay(true), ignored);  // the guest already decided segment sizes
  state_ = State::handshaking;
  phase_started_ = Clock::now();
  ctx_.counters.events.add(ForwardEvent::tcp_opened);
  ctx_.stack.reinject(std::move(syn_));
}

bool TcpFlow::settle_dial() {
  if (state_ != State::dialing) return true;
  pollfd watch{host_.native_handle(), POLLOUT, 0};
  if (::poll(&watch, 1, 0) != 1) return false;  // still connecting
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(host_.native_handle(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  on_connected(std::error_code(error, asio::error::get_system_category()));
  return true;
}

void TcpFlow::end_dialing() {
  if (!pending_dial_) return;
  ctx_.pending_dials.remove(port(), *pending_dial_);
  pending_dial_.reset();
}

void TcpFlow::refuse_guest(const std::error_code& ec) {
  end_dialing();
  if (ec == asio::error::connection_refused) {
    ctx_.counters.events.add(ForwardEvent::tcp_refused);
    ctx_.stack.send_tcp_reset(key(), syn_seq_ + 1);
  } else {
    ctx_.counters.events.add(ec == asio::error::timed_out ? ForwardEvent::tcp_connect_timeout
                                                          : ForwardEvent::tcp_unreachable);
    ctx_.flow_log.log(spdlog::level::debug, "{}: connect failed: {}", key().to_string(), ec.message());
    ctx_.stack.send_icmp_unreachable(syn_.get(), unreachable_code(ec));
  }
  syn_.reset();
  close_host(false);
  state_ = State::closed;
  release();
}

void TcpFlow::attach(tcp_pcb* pcb) {
  pcb_ = pcb;
  state_ = State::open;
  touch();
  tcp_arg(pcb, this);
  tcp_recv(pcb, &TcpFlow::on_lwip_recv);
  tcp_sent(pcb, &TcpFlow::on_lwip_sent);
  tcp_err(pcb, &TcpFlow::on_lwip_error);
  tcp_nagle_disable(pcb);  // the host application already decided when to send
  if (host_reset_while_dialing_) return reset_guest(ForwardEvent::tcp_reset_by_host);
  read_from_host();
}

// ---- guest -> host ----

err_t TcpFlow::on_lwip_recv(void* arg, tcp_pcb*, pbuf* p, err_t) {
  auto* self = static_cast<TcpFlow*>(arg);
  if (p == nullptr) {
    self->on_guest_fin();
  } else if (!self->on_guest_data(p)) {
    return ERR_MEM;  // lwIP keeps `p` and offers it again later; the guest's next segments wait meanwhile
  }
  // A flow that aborted its pcb inside this callback must say so, or lwIP would touch the freed pcb.
  return self->pcb_aborted_ ? ERR_ABRT : ERR_OK;
}

bool TcpFlow::on_guest_data(pbuf* p) {
  if (state_ != State::open || guest_fin_) {
    pbuf_free(p);
    return true;
  }
  const std::size_t footprint = heap_footprint(p);
  if (to_host_footprint_ + footprint > kMaxQueuedFootprintPerFlow || !ctx_.guest_to_host_budget.try_charge(footprint)) {
    ctx_.counters.events.add(ForwardEvent::guest_data_refused);
    return false;
  }
  to_host_footprint_ += footprint;
  to_host_.emplace_back(p);
  // One host write for all the segments this loop turn delivers (a 256 KiB link read holds ~180 at MTU
  // 1500), not one write per segment.
  if (!host_write_armed_) defer(&TcpFlow::host_write_armed_, &TcpFlow::write_to_host);
  return true;
}

void TcpFlow::pop_to_host() {
  const std::size_t footprint = heap_footprint(to_host_.front().get());
  to_host_footprint_ -= footprint;
  ctx_.guest_to_host_budget.release(footprint);
  to_host_.pop_front();
}

void TcpFlow::on_guest_fin() {
  guest_fin_ = true;
  if (to_host_.empty() && !host_write_armed_) write_to_host();  // passes the FIN on
}

void TcpFlow::write_to_host() {
  while (!to_host_.empty()) {
    std::array<asio::const_buffer, kMaxIovecs> buffers;
    std::size_t count = 0;
    std::size_t skip = to_host_offset_;
    for (const auto& chain : to_host_) {
      for (const pbuf* q = chain.get(); q != nullptr && count < kMaxIovecs; q = q->next) {
        if (skip >= q->len) {
          skip -= q->len;
          continue;
        }
        buffers[count++] = asio::buffer(static_cast<const std::uint8_t*>(q->payload) + skip, q->len - skip);
        skip = 0;
      }
      if (count == kMaxIovecs) break;
    }
    std::error_code ec;
    const std::size_t written = host_.write_some(std::span<asio::const_buffer>(buffers.data(), count), ec);
    if (would_block(ec)) {
      await_ready(host_, asio::socket_base::wait_write, &TcpFlow::host_write_armed_, &TcpFlow::write_to_host);
      return;
    }
    if (ec) return reset_guest(ForwardEvent::tcp_reset_by_host);
    std::size_t left = written;
    while (left > 0) {
      const std::size_t front_left = to_host_.front()->tot_len - to_host_offset_;
      if (left < front_left) {
        to_host_offset_ += left;
        break;
      }
      left -= front_left;
      pop_to_host();
      to_host_offset_ = 0;
    }
    count_to_host(written);
    acknowledge_guest(written);
  }
  if (guest_fin_ && !host_shut_) {
    std::error_code ignored;
    host_.shutdown(asio::socket_base::shutdown_send, ignored);
    host_shut_ = true;
    maybe_finish();
  }
}

void TcpFlow::acknowledge_guest(std::size_t bytes) {
  if (pcb_ == nullptr) return;
  while (bytes > 0) {
    const auto chunk = static_cast<std::uint16_t>(std::min(bytes, kLwipChunk));
    tcp_recved(pcb_, chunk);
    bytes -= chunk;
  }
}

// ---- host -> guest ----

std::size_t TcpFlow::guest_send_room() const {
  if (pcb_ == nullptr) return 0;
  const std::size_t buffer_room = tcp_sndbuf(pcb_);
  const std::size_t queued = tcp_sndqueuelen(pcb_);
  // Each segment of at most one MSS is one pbuf in lwIP's queue; keep two spare for a FIN and rounding.
  const std::size_t queue_room = queued + 2 < TCP_SND_QUEUELEN ? (TCP_SND_QUEUELEN - queued - 2) * tcp_mss(pcb_) : 0;
  // Bytes beyond what the guest's window (and lwIP's cwnd) lets out soon only lengthen lwIP's unsent list,
  // which tcp_write() walks to its tail on every call (that walk was most of tcp_write's time in perf). Keep
  // them in the host socket's buffer instead: take the window plus a few segments to send as ACKs arrive.
  // The few segments also keep data queued while the window is shut, so ACKs (and on_lwip_sent) keep coming.
  const std::size_t send_ahead = std::max<std::size_t>(kSendAheadBytes, kSendAheadSegments * tcp_mss(pcb_));
  const std::size_t in_lwip = pcb_->snd_lbb - pcb_->lastack;  // unacknowledged plus unsent
  const std::size_t allowed = std::min<std::size_t>(pcb_->snd_wnd, pcb_->cwnd) + send_ahead;
  const std::size_t window_room = in_lwip < allowed ? allowed - in_lwip : 0;
  // What all flows hold for their guests is bounded too; past the total, a flow keeps only its reserve.
  const std::size_t reserve =
      held_for_guest_ < kHeldForGuestReservePerFlow ? kHeldForGuestReservePerFlow - held_for_guest_ : 0;
  const std::size_t budget_room = std::max(ctx_.held_for_guests.room(), reserve);
  return std::min({buffer_room, queue_room, window_room, budget_room, kLwipChunk});
}

void TcpFlow::recount_held_for_guest() {
  const std::size_t held = pcb_ != nullptr ? static_cast<std::size_t>(pcb_->snd_lbb - pcb_->lastack) : 0;
  ctx_.held_for_guests.recharge(held_for_guest_, held);
  held_for_guest_ = held;
}

bool TcpFlow::push_backlog_to_guest() {
  if (to_guest_backlog_.empty()) return true;
  if (guest_send_room() < to_guest_backlog_.size()) return false;
  if (tcp_write(pcb_, to_guest_backlog_.data(), static_cast<std::uint16_t>(to_guest_backlog_.size()),
                TCP_WRITE_FLAG_COPY) != ERR_OK) {
    return false;
  }
  count_to_guest(to_guest_backlog_.size());
  recount_held_for_guest();
  to_guest_backlog_.clear();
  return true;
}

void TcpFlow::read_from_host() {
  if (state_ != State::open || host_eof_ || host_read_armed_ || pcb_ == nullptr) return;
  if (!push_backlog_to_guest()) return;  // resumed by on_lwip_sent
  for (int i = 0; i < kMaxReadsPerTurn; ++i) {
    const std::size_t room = guest_send_room();
    if (room == 0) break;  // lwIP's send buffer is full: on_lwip_sent resumes reading
    std::error_code ec;
    const std::size_t n = host_.read_some(asio::buffer(g_host_read_buffer.data(), room), ec);
    if (ec == asio::error::eof) {
      host_eof_ = true;
      tcp_output(pcb_);
      return maybe_finish();
    }
    if (would_block(ec)) break;
    if (ec) return reset_guest(ForwardEvent::tcp_reset_by_host);
    err_t err = tcp_write(pcb_, g_host_read_buffer.data(), static_cast<std::uint16_t>(n), TCP_WRITE_FLAG_COPY);
    if (err == ERR_OK) {
      count_to_guest(n);
      recount_held_for_guest();
    } else {
      to_guest_backlog_.assign(g_host_read_buffer.begin(), g_host_read_buffer.begin() + n);
      tcp_output(pcb_);
      return;  // resumed by on_lwip_sent
    }
  }
  tcp_output(pcb_);
  if (guest_send_room() == 0) return;
  await_ready(host_, asio::socket_base::wait_read, &TcpFlow::host_read_armed_, &TcpFlow::read_from_host);
}

err_t TcpFlow::on_lwip_sent(void* arg, tcp_pcb*, std::uint16_t) {
  auto* self = static_cast<TcpFlow*>(arg);
  self->touch();
  self->recount_held_for_guest();
  if (self->host_eof_) {
    if (self->push_backlog_to_guest()) self->maybe_finish();
  } else if (!self->host_read_armed_) {
    // Each guest ACK frees a little room; the ACKs one link read delivers are answered with one host read
    // of all the room they freed, not one small read each.
    self->defer(&TcpFlow::host_read_armed_, &TcpFlow::read_from_host);
  }
  return self->pcb_aborted_ ? ERR_ABRT : ERR_OK;
}

// ---- endings ----

bool TcpFlow::guest_owes_acks() const {
  for (const tcp_seg* list : {pcb_->unsent, pcb_->unacked}) {
    for (const tcp_seg* seg = list; seg != nullptr; seg = seg->next) {
      if (seg->len > 0) return true;
    }
  }
  return false;
}

void TcpFlow::maybe_finish() {
  if (state_ != State::open || pcb_ == nullptr) return;
  const bool host_to_guest_done = host_eof_ && to_guest_backlog_.empty();
  const bool guest_to_host_done = guest_fin_ && host_shut_;
  if (host_to_guest_done && !guest_shut_ && !guest_to_host_done) {
    guest_shut_ = true;
    tcp_shutdown(pcb_, 0, 1);  // FIN to the guest; its direction keeps flowing
    return;
  }
  if (!host_to_guest_done || !guest_to_host_done) return;
  if (guest_owes_acks()) {
    draining_ = true;  // on_lwip_sent calls again as the guest acknowledges; tick() bounds the wait
    return;
  }
  draining_ = false;
  tcp_pcb* pcb = pcb_;
  detach_pcb();
  table().lingering().adopt(pcb, port(), key());  // before tcp_close(), which may free it at once
  if (!stack::close_tcp_pcb(pcb)) pcb_aborted_ = true;
  close_host(false);
  state_ = State::closed;
  release();
}

void TcpFlow::on_lwip_error(void* arg, err_t err) {
  auto* self = static_cast<TcpFlow*>(arg);
  self->pcb_ = nullptr;  // lwIP has freed it
  self->recount_held_for_guest();
  const bool graceful = err == ERR_CLSD;
  if (self->state_ == State::connecting_guest) {
    self->ctx_.counters.events.add(err == ERR_RST ? ForwardEvent::inbound_tcp_refused
                                                  : ForwardEvent::inbound_tcp_unreachable);
  } else if (!graceful) {
    self->ctx_.counters.events.add(ForwardEvent::tcp_reset_by_guest);
  }
  self->close_host(!graceful);
  self->state_ = State::closed;
  self->release();
}

void TcpFlow::reset_guest(ForwardEvent why) {
  ctx_.counters.events.add(why);
  abort_pcb();
  close_host(false);
  state_ = State::closed;
  release();
}

void TcpFlow::abort_pcb() {
  if (pcb_ == nullptr) return;
  tcp_pcb* pcb = pcb_;
  detach_pcb();
  tcp_abort(pcb);
  pcb_aborted_ = true;
}

void TcpFlow::detach_pcb() {
  stack::detach_tcp_callbacks(pcb_);
  pcb_ = nullptr;
  recount_held_for_guest();  // lwIP frees or has delivered what it held: no longer this flow's charge
}

void TcpFlow::close_host(bool with_reset) {
  std::error_code ignored;
  if (with_reset && host_.is_open()) host_.set_option(asio::socket_base::linger(true, 0), ignored);
  host_.close(ignored);
  while (!to_host_.empty()) pop_to_host();
}

void TcpFlow::terminate() {
  if (state_ == State::closed) return;
  end_dialing();
  syn_.reset();
  abort_pcb();
  close_host(true);
  state_ = State::closed;
  release();
}

void TcpFlow::tick(Clock::time_point now) {
  switch (state_) {
    case State::dialing:
      if (now - phase_started_ >= ctx_.config.connect_timeout) refuse_guest(asio::error::timed_out);
      break;
    case State::handshaking:
      if (now - phase_started_ >= kHandshakeTimeout) terminate();
      break;
    case State::connecting_guest:
      if (now - phase_started_ >= ctx_.config.connect_timeout) {
        ctx_.counters.events.add(ForwardEvent::inbound_tcp_unreachable);
        terminate();
      }
      break;
    case State::open:
      if (draining_ && now - last_activity() >= ctx_.config.tcp_drain_timeout) {
        reset_guest(ForwardEvent::tcp_drain_timeout);
      } else if (now - last_activity() >= ctx_.config.tcp_idle_timeout) {
        ctx_.counters.events.add(ForwardEvent::tcp_idle_closed);
        terminate();
      }
      break;
    case State::closed:
    case State::count_: break;
  }
}

}  // namespace vznet::forward
