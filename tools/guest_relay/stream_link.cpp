// StreamLink: BE32-length framing over a unix stream socket (see stream_link.h).
#include "tools/guest_relay/stream_link.h"

#include <cerrno>
#include <cstring>

#include <sys/socket.h>
#include <unistd.h>

namespace vznet::relay {
namespace {

constexpr std::size_t kPrefix = 4;
// Bytes queued towards vznet before the relay stops reading the tap. 2 MiB is a few milliseconds at
// 10 Gbit/s: enough for large sends, small enough that the tap's own queue absorbs the rest.
constexpr std::size_t kOutHighWater = 2 << 20;
// Receive buffer: many frames per recv(); always holds at least one whole frame after compaction.
constexpr std::size_t kInCapacity = 4 << 20;
// recv() calls per receive(): bounds one turn so tap->vznet traffic is not starved.
constexpr int kReadsPerTurn = 8;

void put_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t get_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

StreamLink::StreamLink(int fd, bool frame_per_write)
    : fd_(fd), frame_per_write_(frame_per_write), out_(kOutHighWater + kPrefix + kMaxFrame), in_(kInCapacity) {}

StreamLink::~StreamLink() { ::close(fd_); }

bool StreamLink::has_room() const { return out_tail_ - out_head_ < kOutHighWater; }

std::span<std::uint8_t> StreamLink::frame_slot() {
  if (out_tail_ + kPrefix + kMaxFrame > out_.size()) {
    // Compact: queued bytes are below the high-water mark, so a whole frame fits behind them.
    std::memmove(out_.data(), out_.data() + out_head_, out_tail_ - out_head_);
    out_tail_ -= out_head_;
    out_head_ = 0;
  }
  return {out_.data() + out_tail_ + kPrefix, kMaxFrame};
}

void StreamLink::commit_frame(std::size_t size) {
  put_be32(out_.data() + out_tail_, static_cast<std::uint32_t>(size));
  out_tail_ += kPrefix + size;
}

IoStatus StreamLink::io_error(const char* what, int err) { return link_error(what, err, reason_); }

IoStatus StreamLink::flush() {
  while (out_head_ < out_tail_) {
    std::size_t chunk = out_tail_ - out_head_;
    if (frame_per_write_) {
      if (frame_rest_ == 0) frame_rest_ = kPrefix + get_be32(out_.data() + out_head_);
      chunk = frame_rest_;
    }
    ssize_t n = ::send(fd_, out_.data() + out_head_, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return IoStatus::idle;
      return io_error("send to vznet", errno);
    }
    out_head_ += static_cast<std::size_t>(n);
    if (frame_per_write_) frame_rest_ -= static_cast<std::size_t>(n);
  }
  out_head_ = out_tail_ = 0;
  return IoStatus::idle;
}

IoStatus StreamLink::deliver(FrameSink& sink) {
  while (in_tail_ - in_head_ >= kPrefix) {
    std::uint32_t size = get_be32(in_.data() + in_head_);
    if (size < kMinFrame || size > kMaxFrame) {
      reason_ = "vznet sent a frame length of " + std::to_string(size) + " bytes: framing is broken";
      return IoStatus::failed;
    }
    if (in_tail_ - in_head_ < kPrefix + size) break;  // the rest of this frame has not arrived yet
    if (sink.put({in_.data() + in_head_ + kPrefix, size}) == PutResult::blocked) return IoStatus::sink_blocked;
    in_head_ += kPrefix + size;
  }
  if (in_head_ == in_tail_) {
    in_head_ = in_tail_ = 0;
  } else if (in_.size() - in_tail_ < kPrefix + kMaxFrame) {
    // Not enough room behind a partial frame for its remainder: move it to the front.
    std::memmove(in_.data(), in_.data() + in_head_, in_tail_ - in_head_);
    in_tail_ -= in_head_;
    in_head_ = 0;
  }
  return IoStatus::idle;
}

IoStatus StreamLink::receive(FrameSink& sink) {
  for (int reads = 0;; ++reads) {
    if (IoStatus st = deliver(sink); st != IoStatus::idle) return st;
    if (reads == kReadsPerTurn) return IoStatus::idle;
    ssize_t n = ::recv(fd_, in_.data() + in_tail_, in_.size() - in_tail_, MSG_DONTWAIT);
    if (n == 0) {
      reason_ =
          in_tail_ > in_head_ ? "vznet closed the connection in the middle of a frame" : "vznet closed the connection";
      return IoStatus::closed;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return IoStatus::idle;
      return io_error("receive from vznet", errno);
    }
    in_tail_ += static_cast<std::size_t>(n);
  }
}

}  // namespace vznet::relay
