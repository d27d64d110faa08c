// Linux socket specifics: recvmmsg/sendmmsg batching and MSG_NOSIGNAL. The portable fallback is
// socket_platform_posix.cpp; CMake builds exactly one of the two.
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "virtio/socket_platform.h"

namespace vznet::virtio {

int platform_send_flags() { return MSG_NOSIGNAL; }

void platform_prepare_socket(int /*fd*/) {}

std::size_t PacketReceiver::receive(int fd, std::error_code& ec) {
  std::array<mmsghdr, kPacketBatch> messages{};
  std::array<iovec, kPacketBatch> iovs{};
  for (std::size_t i = 0; i < slots_; ++i) {
    iovs[i] = {slot(i), slot_size_};
    msghdr& header = messages[i].msg_hdr;
    header.msg_name = &sources_[i];
    header.msg_namelen = sizeof(sockaddr_un);
    header.msg_iov = &iovs[i];
    header.msg_iovlen = 1;
  }
  int n;
  do {
    n = ::recvmmsg(fd, messages.data(), static_cast<unsigned>(slots_), MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    ec.assign(errno, std::generic_category());
    return 0;
  }
  ec.clear();
  for (int i = 0; i < n; ++i) {
    lengths_[i] = messages[i].msg_len;
    source_lengths_[i] = messages[i].msg_hdr.msg_namelen;
  }
  return static_cast<std::size_t>(n);
}

std::size_t send_packets(int fd, const sockaddr_un* destination, socklen_t destination_length,
                         std::span<const iovec> frames, std::error_code& ec) {
  ec.clear();
  std::array<mmsghdr, kPacketBatch> messages{};
  const std::size_t count = std::min(frames.size(), kPacketBatch);
  for (std::size_t i = 0; i < count; ++i) {
    msghdr& header = messages[i].msg_hdr;
    header.msg_name = const_cast<sockaddr_un*>(destination);
    header.msg_namelen = destination ? destination_length : 0;
    header.msg_iov = const_cast<iovec*>(&frames[i]);
    header.msg_iovlen = 1;
  }
  int n;
  do {
    n = ::sendmmsg(fd, messages.data(), static_cast<unsigned>(count), MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    ec.assign(errno, std::generic_category());
    return 0;
  }
  return static_cast<std::size_t>(n);
}

}  // namespace vznet::virtio
