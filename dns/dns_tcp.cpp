// DNS over TCP (see dns_tcp.h). A connection's life: accepted (if under the limit) -> messages framed out of
// its input and handed to the owner (at most kMaxTcpQueriesInFlight at once, none while kMaxTcpOutput
// bytes of replies wait for lwIP), replies framed into its output as they come -> closed when the guest
// has sent FIN and every query is answered and written, or after the idle timeout, or by an lwIP error.
// Closing only marks a connection; it is detached from lwIP and freed at the end of the loop turn.
#include "dns/dns_tcp.h"

#include <algorithm>
#include <stdexcept>

#include <asio/post.hpp>

#include "base/byte_order.h"
#include "lwip/tcp.h"
#include "stack/lwip_address.h"
#include "stack/tcp_pcb.h"

namespace vznet::dns {

namespace {

constexpr std::uint16_t kDnsPort = 53;
/// How often idle connections are looked for: half the timeout, so one is closed at most 1.5 timeouts
/// after its last activity, but not more often than needed to keep that promise.
std::chrono::milliseconds sweep_interval(std::chrono::milliseconds idle_timeout) {
  return std::clamp(idle_timeout / 2, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
}

}  // namespace

struct DnsTcpService::Connection {
  DnsTcpService* service = nullptr;
  ConnectionId id = 0;
  tcp_pcb* pcb = nullptr;       ///< null once lwIP freed it (error) or we let it go
  Bytes input;                  ///< received, not yet framed into messages (at most kMaxTcpInput)
  Bytes output;                 ///< framed replies lwIP has not taken yet
  unsigned in_flight = 0;       ///< messages handed to the owner and not yet ended
  bool guest_finished = false;  ///< FIN received: no more queries will come
  bool closing = false;         ///< to be detached and freed at the end of the loop turn
  bool abort = false;           ///< close with RST rather than FIN
  bool processing = false;      ///< inside process_input(): nested calls leave the work to that loop
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
};

DnsTcpService::DnsTcpService(asio::io_context& io, stack::Stack& stack, Ipv4Address gateway,
                             std::chrono::milliseconds idle_timeout, DnsCounters& counters, MessageHandler handler)
    : io_(io),
      stack_(stack),
      idle_timeout_(idle_timeout),
      counters_(counters),
      handler_(std::move(handler)),
      sweep_timer_(io) {
  tcp_pcb* pcb = tcp_new();
  if (pcb == nullptr) throw std::runtime_error("dns: lwIP has no memory for the TCP listener");
  ip_addr_t address = stack::to_lwip_ip(gateway);
  if (tcp_bind(pcb, &address, kDnsPort) != ERR_OK) {
    tcp_close(pcb);
    throw std::runtime_error("dns: cannot bind " + gateway.to_string() + ":53/tcp in lwIP");
  }
  listener_ = tcp_listen(pcb);
  if (listener_ == nullptr) {
    tcp_close(pcb);
    throw std::runtime_error("dns: cannot listen on " + gateway.to_string() + ":53/tcp in lwIP");
  }
  tcp_arg(listener_, this);
  tcp_accept(listener_, &DnsTcpService::on_accept);
  stack_.serve_tcp_locally(kDnsPort);  // SYNs to gateway:53 reach this listener, not a host dial
}

DnsTcpService::~DnsTcpService() {
  guard_.revoke();
  for (auto& [id, c] : connections_) {
    if (c->pcb != nullptr) stack::abort_tcp_pcb(c->pcb);
  }
  connections_.clear();
  if (listener_ != nullptr) tcp_close(listener_);
  sweep_timer_.cancel();
}

err_t DnsTcpService::on_accept(void* arg, tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
  return static_cast<DnsTcpService*>(arg)->accept(pcb);
}

err_t DnsTcpService::on_recv(void* arg, tcp_pcb*, pbuf* p, err_t) {
  auto* c = static_cast<Connection*>(arg);
  return c->service->receive(*c, p);
}

err_t DnsTcpService::on_sent(void* arg, tcp_pcb*, std::uint16_t) {
  auto* c = static_cast<Connection*>(arg);
  c->last_activity = std::chrono::steady_clock::now();
  c->service->flush(*c);
  c->service->process_input(*c);  // room again: queries held back by a full output may start
  return ERR_OK;
}

void DnsTcpService::on_error(void* arg, err_t) {
  auto* c = static_cast<Connection*>(arg);
  c->pcb = nullptr;  // lwIP has freed it already
  c->closing = true;
  c->service->schedule_reap();
}

err_t DnsTcpService::accept(tcp_pcb* pcb) {
  if (connections_.size() >= kMaxTcpConnections) {
    counters_.events.add(DnsEvent::tcp_refused);
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  auto c = std::make_unique<Connection>();
  c->service = this;
  c->id = next_id_++;
  c->pcb = pcb;
  tcp_arg(pcb, c.get());
  tcp_recv(pcb, &DnsTcpService::on_recv);
  tcp_sent(pcb, &DnsTcpService::on_sent);
  tcp_err(pcb, &DnsTcpService::on_error);
  tcp_nagle_disable(pcb);  // each reply is complete: send it now, not when the previous one is acknowledged
  connections_.emplace(c->id, std::move(c));
  counters_.events.add(DnsEvent::tcp_accepted);
  arm_sweep();
  return ERR_OK;
}

err_t DnsTcpService::receive(Connection& c, pbuf* p) {
  if (p == nullptr) {
    c.guest_finished = true;
    maybe_finish(c);
    return ERR_OK;
  }
  if (c.closing) {
    tcp_recved(c.pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
  }
  // Refused data stays with lwIP, which offers it again from its timer; meanwhile the guest's further
  // segments are not acknowledged, so its window closes: backpressure, not buffering.
  if (c.input.size() + p->tot_len > kMaxTcpInput) return ERR_MEM;
  const std::size_t old_size = c.input.size();
  c.input.resize(old_size + p->tot_len);
  pbuf_copy_partial(p, c.input.data() + old_size, p->tot_len, 0);
  tcp_recved(c.pcb, p->tot_len);
  pbuf_free(p);
  c.last_activity = std::chrono::steady_clock::now();
  process_input(c);
  return ERR_OK;
}

void DnsTcpService::process_input(Connection& c) {
  if (c.processing) return;  // the loop below is already running further up the stack
  c.processing = true;
  while (!c.closing && c.in_flight < kMaxTcpQueriesInFlight && c.output.size() <= kMaxTcpOutput &&
         c.input.size() >= 2) {
    const std::size_t length = base::load_be16(c.input, 0);
    if (c.input.size() - 2 < length) break;
    const Bytes message(c.input.begin() + 2, c.input.begin() + 2 + static_cast<std::ptrdiff_t>(length));
    c.input.erase(c.input.begin(), c.input.begin() + 2 + static_cast<std::ptrdiff_t>(length));
    ++c.in_flight;
    counters_.events.add(DnsEvent::tcp_query);
    handler_(c.id, message);  // may reply at once (zone answers)
  }
  c.processing = false;
  maybe_finish(c);
}

void DnsTcpService::reply(ConnectionId id, std::span<const std::uint8_t> message) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;  // the guest went away meanwhile
  Connection& c = *it->second;
  if (!c.closing && message.size() <= kMaxMessageSize) {
    base::append_be16(c.output, static_cast<std::uint16_t>(message.size()));
    c.output.insert(c.output.end(), message.begin(), message.end());
    flush(c);
  }
  end_query(c);
}

void DnsTcpService::finish(ConnectionId id) {
  auto it = connections_.find(id);
  if (it != connections_.end()) end_query(*it->second);
}

void DnsTcpService::end_query(Connection& c) {
  if (c.in_flight > 0) --c.in_flight;
  c.last_activity = std::chrono::steady_clock::now();
  process_input(c);  // a slot is free: the next waiting query may start
}

void DnsTcpService::flush(Connection& c) {
  if (c.closing || c.pcb == nullptr || c.output.empty()) return;
  std::size_t written = 0;
  while (written < c.output.size()) {
    const std::size_t n = std::min({std::size_t{tcp_sndbuf(c.pcb)}, c.output.size() - written, std::size_t{0xFFFF}});
    if (n == 0) break;  // lwIP's send buffer is full: on_sent() continues
    const err_t err = tcp_write(c.pcb, c.output.data() + written, static_cast<std::uint16_t>(n), TCP_WRITE_FLAG_COPY);
    if (err == ERR_MEM) break;  // segment queue full: likewise
    if (err != ERR_OK) {
      close(c, true);
      return;
    }
    written += n;
  }
  c.output.erase(c.output.begin(), c.output.begin() + static_cast<std::ptrdiff_t>(written));
  if (written > 0) {
    tcp_output(c.pcb);
    stack_.schedule_timers();
  }
}

void DnsTcpService::maybe_finish(Connection& c) {
  // After the guest's FIN, answer what it asked (a partial message can never complete), then FIN back.
  if (!c.closing && !c.processing && c.guest_finished && c.in_flight == 0 && c.output.empty()) close(c, false);
}

void DnsTcpService::close(Connection& c, bool abort) {
  if (c.closing) return;
  c.closing = true;
  c.abort = abort;
  schedule_reap();
}

void DnsTcpService::schedule_reap() {
  if (reap_posted_) return;
  reap_posted_ = true;
  asio::post(io_, guard_.wrap([this] { reap(); }));
}

void DnsTcpService::reap() {
  reap_posted_ = false;
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it->second;
    if (!c.closing) {
      ++it;
      continue;
    }
    if (c.pcb != nullptr && c.abort) {
      stack::abort_tcp_pcb(c.pcb);
    } else if (c.pcb != nullptr) {
      stack::close_tcp_pcb(c.pcb);
    }
    it = connections_.erase(it);
  }
  stack_.schedule_timers();
}

void DnsTcpService::arm_sweep() {
  if (sweep_armed_ || connections_.empty()) return;
  sweep_armed_ = true;
  sweep_timer_.expires_after(sweep_interval(idle_timeout_));
  sweep_timer_.async_wait(guard_.wrap([this](const std::error_code& ec) {
    sweep_armed_ = false;
    if (!ec) sweep();
  }));
}

void DnsTcpService::sweep() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& [id, c] : connections_) {
    if (c->closing || c->in_flight > 0 || now - c->last_activity < idle_timeout_) continue;
    counters_.events.add(DnsEvent::tcp_idle_closed);
    close(*c, !c->output.empty());  // a guest that stopped reading gets an RST, not a FIN after the data
  }
  reap();
  arm_sweep();
}

}  // namespace vznet::dns
