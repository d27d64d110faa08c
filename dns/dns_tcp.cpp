// DNS over TCP (see dns_tcp.h). A connection's life: accepted (if under the limits) -> messages framed out of
// its input and handed to the owner (at most kMaxTcpQueriesInFlight at once, none while kMaxTcpOutput
// bytes of replies wait for lwIP), replies framed into its output as they come -> closed when the guest
// has sent FIN and every query is answered and written, or after the idle timeout, or by an lwIP error, or
// when the flow table terminates it. Closing releases the flow; the table frees it at the end of the loop turn,
// and only then is the pcb let go (lwIP may still be inside one of its callbacks when it closes).
#include "dns/dns_tcp.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "base/byte_order.h"
#include "lwip/tcp.h"
#include "stack/lwip_address.h"
#include "stack/tcp_pcb.h"

namespace vznet::dns {

namespace {
constexpr std::uint16_t kDnsPort = 53;
}  // namespace

class DnsTcpService::Connection final : public forward::Flow {
 public:
  Connection(forward::FlowTable& table, const FlowKey& key, virtio::PortId port, DnsTcpService& service, tcp_pcb* pcb)
      : Flow(table, key, port), service_(service), stack_(service.stack_), pcb_(pcb) {
    tcp_arg(pcb, this);
    tcp_recv(pcb, &Connection::on_recv);
    tcp_sent(pcb, &Connection::on_sent);
    tcp_err(pcb, &Connection::on_error);
    tcp_nagle_disable(pcb);  // each reply is complete: send it now, not when the previous one is acknowledged
  }

  ~Connection() override {
    if (pcb_ == nullptr) return;
    if (abort_) {
      stack::abort_tcp_pcb(pcb_);
    } else {
      stack::close_tcp_pcb(pcb_);
    }
    stack_.schedule_timers();
  }

  void terminate() override { close(true); }

  void tick(forward::Clock::time_point now) override {
    if (in_flight_ > 0 || now - last_activity() < service_.idle_timeout_) return;
    service_.counters_.events.add(DnsEvent::tcp_idle_closed);
    close(!output_.empty());  // a guest that stopped reading gets an RST, not a FIN after the data
  }

  const char* state_name() const override { return guest_finished_ ? "dns-finishing" : "dns"; }

  void reply(std::span<const std::uint8_t> message) {
    if (message.size() <= kMaxMessageSize) {
      base::append_be16(output_, static_cast<std::uint16_t>(message.size()));
      output_.insert(output_.end(), message.begin(), message.end());
      flush();
    }
    end_query();
  }

  void end_query() {
    if (in_flight_ > 0) --in_flight_;
    touch();
    process_input();  // a slot is free: the next waiting query may start
  }

 private:
  // lwIP's callbacks. After close() the connection is released but alive until the end of the loop turn: its
  // callbacks stay attached (lwIP must be able to report the pcb freed) and do no work.
  static err_t on_recv(void* arg, tcp_pcb*, pbuf* p, err_t) { return static_cast<Connection*>(arg)->receive(p); }
  static err_t on_sent(void* arg, tcp_pcb*, std::uint16_t) {
    auto* c = static_cast<Connection*>(arg);
    if (c->closing_) return ERR_OK;
    c->touch();
    c->flush();
    c->process_input();  // room again: queries held back by a full output may start
    return ERR_OK;
  }
  static void on_error(void* arg, err_t) {
    auto* c = static_cast<Connection*>(arg);
    c->pcb_ = nullptr;  // lwIP has freed it already
    c->close(true);
  }

  err_t receive(pbuf* p) {
    if (p == nullptr) {
      guest_finished_ = true;
      maybe_finish();
      return ERR_OK;
    }
    if (closing_) {
      tcp_recved(pcb_, p->tot_len);
      pbuf_free(p);
      return ERR_OK;
    }
    // Refused data stays with lwIP, which offers it again from its timer; meanwhile the guest's further
    // segments are not acknowledged, so its window closes: backpressure, not buffering.
    if (input_.size() + p->tot_len > kMaxTcpInput) return ERR_MEM;
    const std::size_t old_size = input_.size();
    input_.resize(old_size + p->tot_len);
    pbuf_copy_partial(p, input_.data() + old_size, p->tot_len, 0);
    tcp_recved(pcb_, p->tot_len);
    count_to_host(p->tot_len);
    pbuf_free(p);
    process_input();
    return ERR_OK;
  }

  void process_input() {
    if (processing_) return;  // the loop below is already running further up the stack
    processing_ = true;
    while (!closing_ && in_flight_ < kMaxTcpQueriesInFlight && output_.size() <= kMaxTcpOutput && input_.size() >= 2) {
      const std::size_t length = base::load_be16(input_, 0);
      if (input_.size() - 2 < length) break;
      const Bytes message(input_.begin() + 2, input_.begin() + 2 + static_cast<std::ptrdiff_t>(length));
      input_.erase(input_.begin(), input_.begin() + 2 + static_cast<std::ptrdiff_t>(length));
      ++in_flight_;
      service_.counters_.events.add(DnsEvent::tcp_query);
      service_.handler_(id(), message);  // may reply at once (zone answers), or close this connection
    }
    processing_ = false;
    maybe_finish();
  }

  void flush() {
    if (closing_ || pcb_ == nullptr || output_.empty()) return;
    std::size_t written = 0;
    while (written < output_.size()) {
      const std::size_t n = std::min({std::size_t{tcp_sndbuf(pcb_)}, output_.size() - written, std::size_t{0xFFFF}});
      if (n == 0) break;  // lwIP's send buffer is full: on_sent() continues
      const err_t err = tcp_write(pcb_, output_.data() + written, static_cast<std::uint16_t>(n), TCP_WRITE_FLAG_COPY);
      if (err == ERR_MEM) break;  // segment queue full: likewise
      if (err != ERR_OK) {
        close(true);
        return;
      }
      written += n;
    }
    output_.erase(output_.begin(), output_.begin() + static_cast<std::ptrdiff_t>(written));
    if (written > 0) {
      count_to_guest(written);
      tcp_output(pcb_);
      stack_.schedule_timers();
    }
  }

  void maybe_finish() {
    // After the guest's FIN, answer what it asked (a partial message can never complete), then FIN back.
    if (!closing_ && !processing_ && guest_finished_ && in_flight_ == 0 && output_.empty()) close(false);
  }

  void close(bool abort) {
    if (closing_) return;
    closing_ = true;
    abort_ = abort;
    service_.open_.erase(id());
    release();  // last: the table frees this connection, and lets go of the pcb, at the end of the loop turn
  }

  DnsTcpService& service_;  ///< valid while !closing_: the service terminates its open connections when it goes
  stack::Stack& stack_;
  tcp_pcb* pcb_;                 ///< null once lwIP freed it
  Bytes input_;                  ///< received, not yet framed into messages (at most kMaxTcpInput)
  Bytes output_;                 ///< framed replies lwIP has not taken yet
  unsigned in_flight_ = 0;       ///< messages handed to the owner and not yet ended
  bool guest_finished_ = false;  ///< FIN received: no more queries will come
  bool closing_ = false;         ///< released: freed, and the pcb let go, at the end of the loop turn
  bool abort_ = false;           ///< let the pcb go with RST rather than FIN
  bool processing_ = false;      ///< inside process_input(): nested calls leave the work to that loop
};

DnsTcpService::DnsTcpService(stack::Stack& stack, forward::FlowTable& flows, Ipv4Address gateway,
                             std::chrono::milliseconds idle_timeout, DnsCounters& counters, MessageHandler handler)
    : stack_(stack), flows_(flows), idle_timeout_(idle_timeout), counters_(counters), handler_(std::move(handler)) {
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
  const std::vector<ConnectionId> open(open_.begin(), open_.end());
  for (ConnectionId id : open) {
    if (Connection* c = find(id)) c->terminate();
  }
  if (listener_ != nullptr) tcp_close(listener_);
}

err_t DnsTcpService::on_accept(void* arg, tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
  return static_cast<DnsTcpService*>(arg)->accept(pcb);
}

err_t DnsTcpService::accept(tcp_pcb* pcb) {
  const virtio::PortId port = stack_.current_port();
  if (open_.size() >= kMaxTcpConnections || !flows_.admit(port)) {
    counters_.events.add(DnsEvent::tcp_refused);
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  open_.insert(flows_.emplace<Connection>(stack::guest_tcp_key(pcb), port, *this, pcb).id());
  counters_.events.add(DnsEvent::tcp_accepted);
  return ERR_OK;
}

DnsTcpService::Connection* DnsTcpService::find(ConnectionId id) const {
  return open_.contains(id) ? flows_.live<Connection>(id) : nullptr;
}

void DnsTcpService::reply(ConnectionId id, std::span<const std::uint8_t> message) {
  if (Connection* c = find(id)) c->reply(message);  // nullptr: the guest went away meanwhile
}

void DnsTcpService::finish(ConnectionId id) {
  if (Connection* c = find(id)) c->end_query();
}

}  // namespace vznet::dns
