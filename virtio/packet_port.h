// PacketPort: a guest port that carries one frame per message. Three shapes: a unixgram peer (sends on the
// datagram listener's shared socket to the peer's address; the listener reads), a seqpacket connection, and an
// inherited connected datagram socket (those two own their socket and read it themselves).
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/steady_timer.hpp>

#include "virtio/port_base.h"
#include "virtio/socket_platform.h"
#include "virtio/socket_watcher.h"

namespace vznet::virtio {

/// A send that would block on a socket whose writability cannot be trusted is retried after this long. Linux
/// reports an unconnected datagram socket writable even while the peer's receive queue is full (a peer that is
/// not connected back to us, like QEMU's dgram socket, accepts only net.unix.max_dgram_qlen = 10 queued
/// datagrams), and macOS does similar, so waiting for writability would spin. 250 us lets a peer that drains
/// promptly still take ~40k batches a second while an idle one costs little.
inline constexpr std::chrono::microseconds kBlockedSendRetry{250};

class PacketPort final : public PortBase {
 public:
  /// How an owned socket's messages are read.
  enum class Owned {
    connection,  ///< seqpacket: a zero-length message is the end of the connection
    datagram,    ///< connected datagram socket: zero-length is a runt; the vfkit greeting is skipped
  };

  /// A datagram peer at `peer` on the listener's socket `shared_fd` (not owned). The listener reads and calls
  /// receive().
  PacketPort(const PortContext& context, PortOwner& owner, std::string_view label, int shared_fd,
             const sockaddr_un& peer, socklen_t peer_length);
  /// A connected socket this port owns and reads.
  PacketPort(const PortContext& context, PortOwner& owner, std::string_view label, UniqueFd fd, Owned mode);

  void start() override;
  /// A message the datagram listener received from this peer.
  void receive(Frame message) { deliver(message); }
  /// The peer's address bytes (listener's lookup key); empty for owned sockets.
  std::string_view peer_key() const { return peer_key_; }

 private:
  void flush() override;
  void close_io() override;

  SocketWatcher::Drain drain();
  void wait_for_room(bool writable_helps);
  int fd() const { return watcher_ ? watcher_->fd() : shared_fd_; }

  // Sending.
  int shared_fd_ = -1;
  sockaddr_un peer_{};
  socklen_t peer_length_ = 0;
  std::string peer_key_;
  bool blocked_ = false;  ///< waiting for room; a retry is armed
  bool woke_on_writable_ = false;
  asio::steady_timer retry_timer_;

  // Receiving (owned sockets only).
  std::optional<SocketWatcher> watcher_;
  std::unique_ptr<PacketReceiver> receiver_;
  Owned mode_ = Owned::datagram;
};

}  // namespace vznet::virtio
