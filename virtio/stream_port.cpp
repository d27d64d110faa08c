// StreamPort: reads in 256 KiB chunks through the StreamDecoder (many frames per read, frames split across reads
// reassembled); writes the whole coalesced output buffer with one send per flush, waiting for writability on a
// short write. A bad length prefix closes the connection.
#include "virtio/stream_port.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "virtio/socket_platform.h"

namespace vznet::virtio {
namespace {
/// Reads per loop turn before yielding to other sockets (up to 1 MiB).
constexpr int kReadsPerTurn = 4;
}  // namespace

StreamPort::StreamPort(const PortContext& context, PortOwner& owner, std::string_view label, UniqueFd fd)
    : PortBase(context, owner, OutputFraming::length_prefixed, label),
      watcher_(context.io, std::move(fd)),
      decoder_(context.max_frame_size),
      read_buffer_(new std::uint8_t[kStreamReadChunk]) {}  // not zeroed

void StreamPort::start() {
  watcher_.start_reading([this] { return drain(); });
}

SocketWatcher::Drain StreamPort::drain() {
  for (int read = 0; read < kReadsPerTurn;) {
    const ssize_t n = ::recv(watcher_.fd(), read_buffer_.get(), kStreamReadChunk, MSG_DONTWAIT);
    if (n > 0) {
      ++read;
      if (!decoder_.feed(Frame(read_buffer_.get(), static_cast<std::size_t>(n)), *this)) {
        fail("bad length prefix");
        return SocketWatcher::Drain::stop;
      }
      if (closed()) return SocketWatcher::Drain::stop;
      continue;
    }
    if (n == 0) {
      fail("peer closed the connection");
      return SocketWatcher::Drain::stop;
    }
    if (errno == EINTR) continue;
    if (would_block(errno)) return SocketWatcher::Drain::would_block;
    fail(std::strerror(errno));
    return SocketWatcher::Drain::stop;
  }
  return SocketWatcher::Drain::budget_used;
}

void StreamPort::flush() {
  if (write_waiting_ || closed() || output().empty()) return;
  const Frame pending = output().unwritten();
  ssize_t n;
  do {
    n = ::send(watcher_.fd(), pending.data(), pending.size(), MSG_DONTWAIT | platform_send_flags());
  } while (n < 0 && errno == EINTR);
  if (n < 0 && !would_block(errno)) {
    fail(std::strerror(errno));
    return;
  }
  if (n > 0) output().wrote(static_cast<std::size_t>(n), [this](std::size_t length) { count_sent(length); });
  if (output().empty()) {
    queue_emptied();
    return;
  }
  // Short write: the socket buffer is full. Keep the rest (partial frame included) for when it drains.
  output().compact();
  write_waiting_ = true;
  watcher_.wait_writable([this] {
    write_waiting_ = false;
    flush();
  });
}

void StreamPort::close_io() { watcher_.close(); }

}  // namespace vznet::virtio
