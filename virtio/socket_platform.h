// The few socket operations that differ by platform: batched packet receive/send (recvmmsg/sendmmsg on Linux,
// a recvmsg/sendmsg loop elsewhere) and SIGPIPE suppression. Linux: socket_platform_linux.cpp; everything else:
// socket_platform_posix.cpp (chosen by CMake).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include "virtio/guest_port.h"

namespace vznet::virtio {

/// Messages taken per receive call. 64 keeps the arena at ~100 KiB for MTU-sized frames while cutting
/// syscalls 64-fold under load.
inline constexpr std::size_t kPacketBatch = 64;

/// Flags added to every send on a guest socket (MSG_NOSIGNAL where the platform has it).
int platform_send_flags();
/// Per-socket setup the platform needs (SO_NOSIGPIPE where MSG_NOSIGNAL does not exist).
void platform_prepare_socket(int fd);

/// True for errors that mean "try again later" on a send or receive. ENOBUFS is how macOS reports a unix
/// datagram receiver whose buffer is full.
inline bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS; }

/// Receives datagrams or seqpacket messages in batches into a preallocated arena, one slot per message.
/// Slots are max_frame_size + 1 bytes, so a longer message shows up as size() > max_frame_size (truncated).
class PacketReceiver {
 public:
  explicit PacketReceiver(std::size_t max_frame_size, std::size_t slots = kPacketBatch)
      : slot_size_(max_frame_size + 1),
        slots_(slots < kPacketBatch ? slots : kPacketBatch),
        arena_(new std::uint8_t[slot_size_ * slots_]),  // not zeroed: pages are touched only as data arrives
        lengths_(slots_),
        sources_(slots_),
        source_lengths_(slots_) {}

  /// One batch from non-blocking `fd`. Returns how many messages arrived; 0 with `ec` set on error
  /// (std::errc::resource_unavailable_try_again when nothing is queued).
  std::size_t receive(int fd, std::error_code& ec);

  /// Message `i` of the last batch, valid until the next receive().
  Frame bytes(std::size_t i) const { return Frame(slot(i), lengths_[i]); }
  /// Its sender's address (datagram sockets; unnamed or empty for connected ones).
  const sockaddr_un& source(std::size_t i) const { return sources_[i]; }
  socklen_t source_length(std::size_t i) const { return source_lengths_[i]; }

 private:
  std::uint8_t* slot(std::size_t i) const { return arena_.get() + i * slot_size_; }

  std::size_t slot_size_;
  std::size_t slots_;
  std::unique_ptr<std::uint8_t[]> arena_;
  std::vector<std::size_t> lengths_;
  std::vector<sockaddr_un> sources_;
  std::vector<socklen_t> source_lengths_;
};

/// Sends each of `frames` as one message on non-blocking `fd`, to `destination` (nullptr on a connected
/// socket). Returns how many left. Fewer than frames.size() with `ec` set means message [returned] failed
/// with `ec`; fewer without `ec` means the kernel stopped early: call again with the rest.
std::size_t send_packets(int fd, const sockaddr_un* destination, socklen_t destination_length,
                         std::span<const iovec> frames, std::error_code& ec);

}  // namespace vznet::virtio
