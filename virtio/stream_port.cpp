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
    : PortBase(context, owner, label),
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

bool StreamPort::enqueue(Frame frame) {
  if (out_.size() - out_head_ + kStreamPrefixSize + frame.size() > kMaxPortQueueBytes) return false;
  append_stream_frame(out_, frame);
  ends_.push_back({out_.size(), frame.size()});
  return true;
}

void StreamPort::flush() {
  if (write_waiting_ || closed() || out_head_ == out_.size()) return;
  ssize_t n;
  do {
    n = ::send(watcher_.fd(), out_.data() + out_head_, out_.size() - out_head_, MSG_DONTWAIT | platform_send_flags());
  } while (n < 0 && errno == EINTR);
  if (n < 0 && !would_block(errno)) {
    fail(std::strerror(errno));
    return;
  }
  if (n > 0) {
    out_head_ += static_cast<std::size_t>(n);
    count_written();
  }
  if (out_head_ == out_.size()) {
    out_.clear();
    out_head_ = 0;
    ends_.clear();
    ends_head_ = 0;
    queue_emptied();
    return;
  }
  // Short write: the socket buffer is full. Keep the rest (partial frame included) for when it drains.
  compact_output();
  write_waiting_ = true;
  watcher_.wait_writable([this] {
    write_waiting_ = false;
    flush();
  });
}

void StreamPort::count_written() {
  while (ends_head_ < ends_.size() && ends_[ends_head_].end <= out_head_) count_sent(ends_[ends_head_++].length);
}

void StreamPort::compact_output() {
  out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_head_));
  ends_.erase(ends_.begin(), ends_.begin() + static_cast<std::ptrdiff_t>(ends_head_));
  for (FrameEnd& e : ends_) e.end -= out_head_;
  out_head_ = 0;
  ends_head_ = 0;
}

void StreamPort::release_queue_storage() {
  std::vector<std::uint8_t>().swap(out_);
  std::vector<FrameEnd>().swap(ends_);
}

std::size_t StreamPort::discard_queue() {
  const std::size_t dropped = ends_.size() - ends_head_;
  out_.clear();
  ends_.clear();
  out_head_ = 0;
  ends_head_ = 0;
  return dropped;
}

void StreamPort::close_io() { watcher_.close(); }

}  // namespace vznet::virtio
