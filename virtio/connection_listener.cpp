// ConnectionListener: accept loop (drain until would-block, bounded per turn), one port per connection. Running
// out of descriptors backs off on a timer instead of spinning.
#include "virtio/connection_listener.h"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

#include "virtio/packet_port.h"
#include "virtio/socket_platform.h"
#include "virtio/stream_port.h"

namespace vznet::virtio {
namespace {
/// Connections accepted per loop turn before yielding.
constexpr int kAcceptsPerTurn = 16;
/// Pause before accepting again after running out of descriptors or memory: the condition rarely clears at once.
constexpr std::chrono::milliseconds kAcceptBackoff{100};
}  // namespace

ConnectionListener::ConnectionListener(asio::io_context& io, ListenUri uri, std::string label, int socket_type,
                                       const LinkOptions& options, PortEvents& events, LinkCounters& counters,
                                       UniqueFd socket, SocketFile file)
    : uri_(std::move(uri)),
      label_(std::move(label)),
      socket_type_(socket_type),
      context_{io, events, counters, options.max_frame_size},
      watcher_(io, std::move(socket)),
      file_(std::move(file)),
      ports_(io, events) {
  watcher_.start_reading([this] { return drain(); });
}

SocketWatcher::Drain ConnectionListener::drain() {
  for (int accepted = 0; accepted < kAcceptsPerTurn;) {
    UniqueFd connection(::accept(watcher_.fd(), nullptr, nullptr));
    if (connection) {
      ++accepted;
      adopt(std::move(connection));
      if (closed_) return SocketWatcher::Drain::stop;
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (would_block(errno) && errno != ENOBUFS) return SocketWatcher::Drain::would_block;
    spdlog::warn("{}: accept failed: {}; retrying in {} ms", uri_.text, std::strerror(errno), kAcceptBackoff.count());
    watcher_.run_after(kAcceptBackoff, [this] { watcher_.start_reading([this] { return drain(); }); });
    return SocketWatcher::Drain::stop;
  }
  return SocketWatcher::Drain::budget_used;
}

void ConnectionListener::adopt(UniqueFd connection) {
  if (!prepare_guest_socket(connection.get())) {
    spdlog::warn("{}: cannot configure accepted connection: {}", uri_.text, std::strerror(errno));
    return;
  }
  set_socket_buffers(connection.get(), kGuestSocketBufferBytes);
  if (socket_type_ == SOCK_STREAM) {
    ports_.attach(std::make_unique<StreamPort>(context_, *this, label_, std::move(connection)));
  } else {
    ports_.attach(
        std::make_unique<PacketPort>(context_, *this, label_, std::move(connection), PacketPort::Owned::connection));
  }
}

void ConnectionListener::close() {
  if (closed_) return;
  closed_ = true;
  watcher_.close();
  ports_.detach_all("listener closed");
  file_.remove();
}

}  // namespace vznet::virtio
