// MessageLink: one frame per datagram or seqpacket message, batched with sendmmsg/recvmmsg (see message_link.h).
#include "tools/guest_relay/message_link.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include <sys/stat.h>
#include <unistd.h>

namespace vznet::relay {
namespace {

// recvmmsg() calls per receive(): bounds one turn so tap->vznet traffic is not starved.
constexpr int kReadsPerTurn = 4;
constexpr std::uint64_t kLoggedDrops = 5;

}  // namespace

MessageLink::MessageLink(int fd, bool seqpacket, std::string peer_path)
    : fd_(fd), seqpacket_(seqpacket), peer_path_(std::move(peer_path)) {
  struct stat st {};
  if (!seqpacket_ && ::stat(peer_path_.c_str(), &st) == 0) {
    peer_dev_ = st.st_dev;
    peer_ino_ = st.st_ino;
  }
  for (std::size_t i = 0; i < kSlots; ++i) {
    for (Batch* b : {&out_, &in_}) {
      b->iov[i] = {b->slot(i), kMaxFrame};
      b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
      b->msgs[i].msg_hdr.msg_iovlen = 1;
    }
  }
}

MessageLink::~MessageLink() { ::close(fd_); }

std::span<std::uint8_t> MessageLink::frame_slot() { return {out_.slot(out_count_), kMaxFrame}; }

void MessageLink::commit_frame(std::size_t size) {
  out_.iov[out_count_].iov_len = size;
  ++out_count_;
}

IoStatus MessageLink::peer_gone(const char* what, int err) { return link_error(what, err, reason_); }

IoStatus MessageLink::flush() {
  while (out_sent_ < out_count_) {
    int n = ::sendmmsg(fd_, &out_.msgs[out_sent_], static_cast<unsigned>(out_count_ - out_sent_),
                       MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return IoStatus::idle;
      if (err == EMSGSIZE || err == ENOBUFS) {  // this frame cannot be sent at all: drop it, keep going
        if (++dropped_oversized_ <= kLoggedDrops) {
          std::fprintf(stderr, "vznet-guest-relay: dropped a %zu-byte frame to vznet: %s\n",
                       out_.iov[out_sent_].iov_len, std::strerror(err));
        }
        ++out_sent_;
        continue;
      }
      return peer_gone("send to vznet", err);
    }
    out_sent_ += static_cast<std::size_t>(n);
  }
  out_sent_ = out_count_ = 0;
  return IoStatus::idle;
}

IoStatus MessageLink::deliver(FrameSink& sink) {
  for (; in_next_ < in_count_; ++in_next_) {
    const mmsghdr& m = in_.msgs[in_next_];
    if (m.msg_len == 0 && seqpacket_) {
      // recvmmsg() reports a seqpacket EOF as empty messages; no frame is empty.
      reason_ = "vznet closed the connection";
      return IoStatus::closed;
    }
    if ((m.msg_hdr.msg_flags & MSG_TRUNC) != 0 || m.msg_len < kMinFrame) {
      if (++dropped_oversized_ <= kLoggedDrops) {
        std::fprintf(stderr, "vznet-guest-relay: dropped a %s frame from vznet (%u bytes)\n",
                     m.msg_len < kMinFrame ? "runt" : "truncated", m.msg_len);
      }
      continue;
    }
    if (sink.put({in_.slot(in_next_), m.msg_len}) == PutResult::blocked) return IoStatus::sink_blocked;
  }
  in_next_ = in_count_ = 0;
  return IoStatus::idle;
}

IoStatus MessageLink::receive(FrameSink& sink) {
  for (int reads = 0;; ++reads) {
    if (IoStatus st = deliver(sink); st != IoStatus::idle) return st;
    if (reads == kReadsPerTurn) return IoStatus::idle;
    for (std::size_t i = 0; i < kSlots; ++i) {
      in_.iov[i].iov_len = kMaxFrame;
      in_.msgs[i].msg_hdr.msg_flags = 0;
    }
    int n = ::recvmmsg(fd_, in_.msgs.data(), static_cast<unsigned>(kSlots), MSG_DONTWAIT, nullptr);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return IoStatus::idle;
      return peer_gone("receive from vznet", err);
    }
    in_count_ = static_cast<std::size_t>(n);
    in_next_ = 0;
  }
}

IoStatus MessageLink::check_peer() {
  if (seqpacket_) return IoStatus::idle;  // a seqpacket peer reports EOF itself
  struct stat st {};
  if (::stat(peer_path_.c_str(), &st) != 0) {
    reason_ = "vznet's socket " + peer_path_ + " is gone";
    return IoStatus::closed;
  }
  if (st.st_dev != peer_dev_ || st.st_ino != peer_ino_) {
    reason_ = "vznet's socket " + peer_path_ + " was replaced (vznet restarted?)";
    return IoStatus::closed;
  }
  return IoStatus::idle;
}

}  // namespace vznet::relay
