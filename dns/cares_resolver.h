// c-ares as the upstream resolver, on the Asio loop thread with no threads of its own: c-ares says which
// sockets it wants watched (ARES_OPT_SOCK_STATE_CB); each gets a non-owning stream_descriptor whose
// async_wait calls ares_process_fd, and one steady_timer follows ares_timeout(). c-ares owns its sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include "base/life_guard.h"
#include "dns/upstream_resolver.h"
#include "stack/ipv4_address.h"

struct ares_channeldata;

namespace vznet::dns {

class CaresResolver final : public UpstreamResolver {
 public:
  /// Asks `upstreams` in order (empty: the servers of /etc/resolv.conf). c-ares's timeout and tries are
  /// chosen so that all attempts together end within `budget`. Throws std::runtime_error (one sentence)
  /// when c-ares cannot start or takes no server.
  CaresResolver(asio::io_context& io, const std::vector<Ipv4Endpoint>& upstreams, std::chrono::milliseconds budget);
  ~CaresResolver() override;
  CaresResolver(const CaresResolver&) = delete;
  CaresResolver& operator=(const CaresResolver&) = delete;

  void send(std::span<const std::uint8_t> query, Callback done) override;

  /// The servers in use, for the start-up log: "10.0.0.1:53, 10.0.0.2:5353".
  std::string describe_servers() const;

 private:
  /// One socket c-ares asked us to watch; `generation` tells a stale completion from a reused fd's.
  struct Watch {
    asio::posix::stream_descriptor descriptor;
    std::uint64_t generation = 0;
    bool want_read = false, want_write = false;
    bool reading = false, writing = false;
  };
  struct Request;

  static void on_socket_state(void* self, int fd, int readable, int writable);
  static void on_answer(void* request, int status, int timeouts, unsigned char* answer, int length);
  void socket_state(int fd, bool readable, bool writable);
  void start_waits(int fd, Watch& watch);
  void on_ready(int fd, std::uint64_t generation, bool read, const std::error_code& ec);
  void arm_timer();

  asio::io_context& io_;
  ares_channeldata* channel_ = nullptr;
  std::unordered_map<int, std::unique_ptr<Watch>> watches_;
  std::uint64_t next_generation_ = 1;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point timer_due_ = std::chrono::steady_clock::time_point::max();
  bool destroying_ = false;
  /// Handlers queued on the loop hold a weak reference: after the resolver is gone they do nothing.
  base::LifeGuard guard_;  ///< queued handlers and callbacks do nothing once we are gone
};

}  // namespace vznet::dns
