// SocketWatcher: the read pump (drain until would-block, then async_wait) and one-shot write/timer waits.
// Every handler is wrapped by a LifeGuard so nothing runs after close().
#include "virtio/socket_watcher.h"

#include <asio/post.hpp>

namespace vznet::virtio {

SocketWatcher::SocketWatcher(asio::io_context& io, UniqueFd fd) : io_(io), descriptor_(io), timer_(io), fd_(fd.get()) {
  descriptor_.assign(fd.release());
}

void SocketWatcher::start_reading(std::function<Drain()> drain) {
  drain_ = std::move(drain);
  // Data may already be queued; the reactor only reports changes, so look once before waiting.
  asio::post(io_, guard_.wrap([this] { run_drain(); }));
}

void SocketWatcher::run_drain() {
  switch (drain_()) {
    case Drain::stop: return;
    case Drain::budget_used: asio::post(io_, guard_.wrap([this] { run_drain(); })); return;
    case Drain::would_block:
      descriptor_.async_wait(asio::posix::stream_descriptor::wait_read,
                             guard_.wrap([this](const std::error_code&) { run_drain(); }));
      return;
  }
}

void SocketWatcher::wait_writable(std::function<void()> ready) {
  descriptor_.async_wait(asio::posix::stream_descriptor::wait_write,
                         guard_.wrap([ready = std::move(ready)](const std::error_code&) { ready(); }));
}

void SocketWatcher::run_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  timer_.expires_after(delay);
  timer_.async_wait(guard_.wrap([fn = std::move(fn)](const std::error_code& ec) {
    if (!ec) fn();
  }));
}

void SocketWatcher::close() {
  if (fd_ < 0) return;
  guard_.revoke();
  std::error_code ignored;
  timer_.cancel();
  descriptor_.close(ignored);
  fd_ = -1;  // drain_ stays: close() may be running inside it
}

}  // namespace vznet::virtio
