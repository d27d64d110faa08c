// SocketWatcher: one non-blocking socket registered with the io_context, and the "drain until would-block, then
// wait" read pump every transport uses. Asio's reactor is edge-triggered, so a drain that stops early (budget
// spent) must be resumed by a post, not by waiting for readiness again.
#pragma once

#include <chrono>
#include <functional>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include "base/life_guard.h"
#include "virtio/unix_socket.h"

namespace vznet::virtio {

/// Owns a socket and reports readability/writability; never reads or writes itself.
class SocketWatcher {
 public:
  /// What a drain callback found.
  enum class Drain {
    would_block,  ///< the socket is empty: wait for readability
    budget_used,  ///< stopped early so other sockets get a turn: resume on the next loop turn
    stop,         ///< the owner is done with this socket (EOF, error, closed): no more callbacks
  };

  SocketWatcher(asio::io_context& io, UniqueFd fd);
  SocketWatcher(const SocketWatcher&) = delete;
  SocketWatcher& operator=(const SocketWatcher&) = delete;
  ~SocketWatcher() { close(); }

  int fd() const { return fd_; }
  /// Starts the read pump: `drain` runs on the next loop turn, then whenever the socket turns readable (or right
  /// away on the following turn after Drain::budget_used), until it returns Drain::stop or close().
  void start_reading(std::function<Drain()> drain);
  /// One-shot: `ready` runs once the socket is writable (or has an error to report on the next write).
  void wait_writable(std::function<void()> ready);
  /// One-shot: `fn` runs after `delay`; for readiness that cannot be waited for (see PacketPort).
  void run_after(std::chrono::milliseconds delay, std::function<void()> fn);
  /// Cancels everything and closes the socket; no callback runs afterwards. Idempotent.
  void close();
  bool closed() const { return fd_ < 0; }

 private:
  void run_drain();

  asio::io_context& io_;
  asio::posix::stream_descriptor descriptor_;
  asio::steady_timer timer_;
  int fd_;
  std::function<Drain()> drain_;
  base::LifeGuard guard_;
};

}  // namespace vznet::virtio
