// c-ares on the Asio loop (see cares_resolver.h). The contract with c-ares 1.18 (Debian 12) and later:
// ares_send() passes the message through unchanged, so the upstream sees the server's query ID; with
// ARES_FLAG_NOCHECKRESP every answer (SERVFAIL and REFUSED included) reaches the callback, so the guest gets
// the upstream's RCODE; a truncated UDP answer makes c-ares retry over TCP itself (ARES_FLAG_IGNTC unset).
// ARES_FLAG_EDNS stays off: c-ares 1.18 would then, on a FORMERR without OPT, cut 11 bytes off the end of
// our raw query as if it had added an OPT record itself. The price: c-ares 1.18 re-asks over TCP for any
// UDP answer over 512 bytes, one extra round trip for answers between 512 bytes and the guest's EDNS size.
#include "dns/cares_resolver.h"

#include <ares.h>
#include <arpa/inet.h>

#include <algorithm>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace vznet::dns {

namespace {

/// Each server is asked this many times (the second round with twice the timeout, as c-ares does), so one
/// lost datagram does not fail a query.
constexpr int kTries = 2;
/// A first attempt gets at least this long: a recursive upstream may need a few hundred milliseconds for a
/// cold name, and a shorter timeout would only multiply the queries it receives.
constexpr std::chrono::milliseconds kMinAttemptTimeout{300};

void check(int status, const char* what) {
  if (status != ARES_SUCCESS) throw std::runtime_error(std::string("c-ares: ") + what + ": " + ares_strerror(status));
}

int count_servers(ares_channel channel) {
  ares_addr_port_node* servers = nullptr;
  if (ares_get_servers_ports(channel, &servers) != ARES_SUCCESS) return 0;
  int n = 0;
  for (auto* s = servers; s != nullptr; s = s->next) ++n;
  ares_free_data(servers);
  return n;
}

ares_channel make_channel(int timeout_ms, ares_sock_state_cb state_cb, void* state_data) {
  ares_options options{};
  options.flags = ARES_FLAG_NOCHECKRESP;
  options.timeout = timeout_ms;
  options.tries = kTries;
  options.sock_state_cb = state_cb;
  options.sock_state_cb_data = state_data;
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (state_cb != nullptr) mask |= ARES_OPT_SOCK_STATE_CB;
  ares_channel channel = nullptr;
  check(ares_init_options(&channel, &options, mask), "cannot initialise");
  return channel;
}

void set_servers(ares_channel channel, const std::vector<Ipv4Endpoint>& upstreams) {
  if (upstreams.empty()) return;  // keep what c-ares read from /etc/resolv.conf
  std::vector<ares_addr_port_node> nodes(upstreams.size());
  for (std::size_t i = 0; i < upstreams.size(); ++i) {
    nodes[i].family = AF_INET;
    nodes[i].addr.addr4.s_addr = htonl(upstreams[i].address.value);
    nodes[i].udp_port = upstreams[i].port;
    nodes[i].tcp_port = upstreams[i].port;
    nodes[i].next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
  }
  check(ares_set_servers_ports(channel, nodes.data()), "cannot use the --dns-upstream servers");
}

UpstreamError error_for(int status) {
  switch (status) {
    case ARES_ETIMEOUT: return UpstreamError::timeout;
    case ARES_ECONNREFUSED: return UpstreamError::unreachable;
    default: return UpstreamError::failed;
  }
}

}  // namespace

struct CaresResolver::Request {
  CaresResolver* self;
  Callback done;
};

CaresResolver::CaresResolver(asio::io_context& io, const std::vector<Ipv4Endpoint>& upstreams,
                             std::chrono::milliseconds budget)
    : io_(io), timer_(io) {
  check(ares_library_init(ARES_LIB_INIT_ALL), "cannot initialise the library");
  try {
    // The per-attempt timeout depends on how many servers there are, which for resolv.conf only c-ares
    // knows: ask a channel that watches nothing, then make the real one.
    int servers = static_cast<int>(upstreams.size());
    if (servers == 0) {
      ares_channel probe = make_channel(static_cast<int>(kMinAttemptTimeout.count()), nullptr, nullptr);
      servers = count_servers(probe);
      ares_destroy(probe);
    }
    if (servers == 0) throw std::runtime_error("c-ares: no DNS servers in /etc/resolv.conf (use --dns-upstream)");
    // c-ares gives every server `tries` rounds, doubling the timeout each round: 1 + 2 = 3 units per server.
    const auto attempt = std::max(kMinAttemptTimeout, budget / (3 * servers));
    channel_ = make_channel(static_cast<int>(attempt.count()), &CaresResolver::on_socket_state, this);
    set_servers(channel_, upstreams);
  } catch (...) {
    if (channel_ != nullptr) ares_destroy(channel_);
    ares_library_cleanup();
    throw;
  }
}

CaresResolver::~CaresResolver() {
  guard_.revoke();
  destroying_ = true;      // ares_destroy() ends every query with ARES_EDESTRUCTION: nobody is called back
  ares_destroy(channel_);  // closes c-ares's sockets, telling socket_state() to release their descriptors
  for (auto& [fd, watch] : watches_) watch->descriptor.release();
  watches_.clear();
  timer_.cancel();
  ares_library_cleanup();
}

void CaresResolver::send(std::span<const std::uint8_t> query, Callback done) {
  auto request = std::make_unique<Request>(Request{this, std::move(done)});
  ares_send(channel_, query.data(), static_cast<int>(query.size()), &CaresResolver::on_answer, request.release());
  arm_timer();
}

std::string CaresResolver::describe_servers() const {
  ares_addr_port_node* servers = nullptr;
  if (ares_get_servers_ports(channel_, &servers) != ARES_SUCCESS) return "(unknown)";
  std::string out;
  for (auto* s = servers; s != nullptr; s = s->next) {
    if (!out.empty()) out += ", ";
    char text[64] = {};
    ares_inet_ntop(s->family, &s->addr, text, sizeof text);
    const int port = s->udp_port != 0 ? s->udp_port : 53;
    out += s->family == AF_INET6 ? "[" + std::string(text) + "]:" + std::to_string(port)
                                 : std::string(text) + ":" + std::to_string(port);
  }
  ares_free_data(servers);
  return out;
}

void CaresResolver::on_answer(void* arg, int status, int, unsigned char* answer, int length) {
  std::unique_ptr<Request> request(static_cast<Request*>(arg));
  if (status == ARES_EDESTRUCTION || request->self->destroying_) return;
  // Any complete message is relayed as it is; with NOCHECKRESP, its RCODE is the upstream's verdict.
  if (answer != nullptr && length >= 12) {
    request->done(UpstreamError::none, std::span<const std::uint8_t>(answer, static_cast<std::size_t>(length)));
  } else {
    request->done(status == ARES_SUCCESS ? UpstreamError::failed : error_for(status), {});
  }
}

void CaresResolver::on_socket_state(void* self, int fd, int readable, int writable) {
  static_cast<CaresResolver*>(self)->socket_state(fd, readable != 0, writable != 0);
}

void CaresResolver::socket_state(int fd, bool readable, bool writable) {
  auto it = watches_.find(fd);
  if (!readable && !writable) {
    // c-ares is about to close the socket: stop watching it without closing it (release() also cancels
    // the waits; their handlers find no watch of their generation and return).
    if (it != watches_.end()) {
      it->second->descriptor.release();
      watches_.erase(it);
    }
    return;
  }
  if (it == watches_.end()) {
    auto watch = std::make_unique<Watch>(Watch{asio::posix::stream_descriptor(io_), next_generation_++});
    std::error_code ec;
    watch->descriptor.assign(fd, ec);
    if (ec) {
      // Not watched, the socket's queries end by c-ares's timeout (SERVFAIL), which is the honest outcome.
      spdlog::warn("dns: cannot watch c-ares socket {}: {}", fd, ec.message());
      return;
    }
    it = watches_.emplace(fd, std::move(watch)).first;
  }
  it->second->want_read = readable;
  it->second->want_write = writable;
  start_waits(fd, *it->second);
}

void CaresResolver::start_waits(int fd, Watch& watch) {
  const std::uint64_t generation = watch.generation;
  if (watch.want_read && !watch.reading) {
    watch.reading = true;
    watch.descriptor.async_wait(
        asio::posix::descriptor_base::wait_read,
        guard_.wrap([this, fd, generation](const std::error_code& ec) { on_ready(fd, generation, true, ec); }));
  }
  if (watch.want_write && !watch.writing) {
    watch.writing = true;
    watch.descriptor.async_wait(
        asio::posix::descriptor_base::wait_write,
        guard_.wrap([this, fd, generation](const std::error_code& ec) { on_ready(fd, generation, false, ec); }));
  }
}

void CaresResolver::on_ready(int fd, std::uint64_t generation, bool read, const std::error_code& ec) {
  auto it = watches_.find(fd);
  if (it == watches_.end() || it->second->generation != generation) return;  // released, maybe fd reused
  (read ? it->second->reading : it->second->writing) = false;
  if (ec == asio::error::operation_aborted) return;
  // Socket errors (EPOLLERR) complete the wait without an error code: c-ares's own recv/send sees them
  // and moves to the next server. An error here means the descriptor itself is unusable: c-ares gets one
  // last look, and the wait is not re-armed (it would complete at once, forever); c-ares's timeout ends
  // whatever the socket still had.
  ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
  it = watches_.find(fd);  // answers run callbacks; c-ares may have closed this socket meanwhile
  if (it != watches_.end() && it->second->generation == generation) {
    if (!ec) {
      start_waits(fd, *it->second);
    } else {
      spdlog::warn("dns: c-ares socket {} cannot be watched: {}", fd, ec.message());
    }
  }
  arm_timer();
}

void CaresResolver::arm_timer() {
  timeval tv{};
  if (ares_timeout(channel_, nullptr, &tv) == nullptr) return;  // nothing pending: leave any wait to expire
  const auto due =
      std::chrono::steady_clock::now() + std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
  if (due >= timer_due_) return;  // already armed for an earlier time; that turn re-arms
  timer_due_ = due;
  timer_.expires_at(due);
  timer_.async_wait(guard_.wrap([this](const std::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    timer_due_ = std::chrono::steady_clock::time_point::max();
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // handles timeouts
    arm_timer();
  }));
}

}  // namespace vznet::dns
