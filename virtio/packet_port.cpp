// PacketPort: one frame per message. Output is a bounded queue flushed in sendmmsg batches once per loop turn;
// input (owned sockets) is drained in recvmmsg batches. Peer-gone errors detach the port; other send errors
// drop the one frame.
#include "virtio/packet_port.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "virtio/frame_codec.h"

namespace vznet::virtio {
namespace {

/// Receive calls per loop turn before yielding to other sockets (up to 4 x 64 messages).
constexpr int kReceiveCallsPerTurn = 4;

// Errors that mean the peer's socket is gone: nothing will ever reach it again.
bool peer_gone(int error) {
  switch (error) {
    case ECONNREFUSED:  // datagram peer's socket closed, file still there
    case ENOENT:        // datagram peer's socket file removed
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
    case EDESTADDRREQ:
    case EPERM:  // datagram peer now connected to another socket (Linux)
      return true;
    default: return false;
  }
}

}  // namespace

PacketPort::PacketPort(const PortContext& context, PortOwner& owner, std::string_view label, int shared_fd,
                       const sockaddr_un& peer, socklen_t peer_length)
    : PortBase(context, owner, OutputFraming::datagram, label, describe_unix_address(peer, peer_length)),
      shared_fd_(shared_fd),
      peer_(peer),
      peer_length_(peer_length),
      peer_key_(unix_address_key(peer_, peer_length_)),
      retry_timer_(context.io) {}

PacketPort::PacketPort(const PortContext& context, PortOwner& owner, std::string_view label, UniqueFd fd, Owned mode)
    : PortBase(context, owner, OutputFraming::datagram, label),
      retry_timer_(context.io),
      receiver_(std::make_unique<PacketReceiver>(context.max_frame_size)),
      mode_(mode) {
  watcher_.emplace(context.io, std::move(fd));
}

void PacketPort::start() {
  if (watcher_) watcher_->start_reading([this] { return drain(); });
}

SocketWatcher::Drain PacketPort::drain() {
  for (int call = 0; call < kReceiveCallsPerTurn; ++call) {
    std::error_code ec;
    const std::size_t count = receiver_->receive(fd(), ec);
    if (ec) {
      if (would_block(ec.value())) return SocketWatcher::Drain::would_block;
      fail(ec.message());
      return SocketWatcher::Drain::stop;
    }
    for (std::size_t i = 0; i < count; ++i) {
      const Frame message = receiver_->bytes(i);
      if (message.empty() && mode_ == Owned::connection) {
        fail("peer closed the connection");
        return SocketWatcher::Drain::stop;
      }
      if (mode_ == Owned::datagram && is_vfkit_greeting(message)) continue;
      deliver(message);
      if (closed()) return SocketWatcher::Drain::stop;
    }
  }
  return SocketWatcher::Drain::budget_used;
}

void PacketPort::flush() {
  if (blocked_ || closed()) return;
  const sockaddr_un* destination = watcher_ ? nullptr : &peer_;
  const bool after_writable = woke_on_writable_;
  woke_on_writable_ = false;
  bool made_progress = false;
  while (!output().empty()) {
    std::array<iovec, kPacketBatch> batch;
    const auto unsent = output().unsent();
    const std::size_t count = std::min(kPacketBatch, unsent.size());
    for (std::size_t i = 0; i < count; ++i) {
      const Frame frame = output().frame_of(unsent[i]);
      batch[i] = {const_cast<std::uint8_t*>(frame.data()), frame.size()};  // iovec is not const; sending reads only
    }
    std::error_code ec;
    const std::size_t sent = send_packets(fd(), destination, peer_length_, std::span(batch.data(), count), ec);
    for (std::size_t i = 0; i < sent; ++i) count_sent(output().pop());
    made_progress |= sent > 0;
    if (!ec) continue;
    if (would_block(ec.value())) {
      wait_for_room(made_progress || !after_writable);
      return;
    }
    if (peer_gone(ec.value())) {
      fail(ec.message());
      return;
    }
    counters().drops.add(LinkDrop::send_failed);  // this frame only (e.g. EMSGSIZE); go on with the rest
    output().pop();
  }
  queue_emptied();
}

// The socket is full: keep the rest and retry when there is room. Writability is trusted only for a socket
// this port owns, and only while waking on it lets frames out (see kBlockedSendRetry).
void PacketPort::wait_for_room(bool writable_helps) {
  output().compact();
  blocked_ = true;
  const bool trust_writable = watcher_ && writable_helps;
  auto resume = [this](bool on_writable) {
    blocked_ = false;
    woke_on_writable_ = on_writable;
    flush();
  };
  if (trust_writable) {
    watcher_->wait_writable([resume] { resume(true); });
    return;
  }
  retry_timer_.expires_after(kBlockedSendRetry);
  retry_timer_.async_wait(guard().wrap([resume](const std::error_code& ec) {
    if (!ec) resume(false);
  }));
}

void PacketPort::close_io() {
  retry_timer_.cancel();
  if (watcher_) watcher_->close();
}

}  // namespace vznet::virtio
