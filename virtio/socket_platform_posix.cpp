// Portable socket fallback (macOS, BSDs): a recvmsg/sendmsg loop instead of recvmmsg/sendmmsg, and
// SO_NOSIGPIPE instead of MSG_NOSIGNAL. Linux uses socket_platform_linux.cpp; CMake builds exactly one.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "virtio/socket_platform.h"

namespace vznet::virtio {

int platform_send_flags() { return 0; }

void platform_prepare_socket(int fd) {
#ifdef SO_NOSIGPIPE
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#else
  (void)fd;
#endif
}

std::size_t PacketReceiver::receive(int fd, std::error_code& ec) {
  ec.clear();
  std::size_t n = 0;
  while (n < slots_) {
    iovec iov{slot(n), slot_size_};
    msghdr header{};
    header.msg_name = &sources_[n];
    header.msg_namelen = sizeof(sockaddr_un);
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    const ssize_t got = ::recvmsg(fd, &header, MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (n == 0) ec.assign(errno, std::generic_category());
      break;  // an error after some messages is seen again by the next call
    }
    lengths_[n] = static_cast<std::size_t>(got);
    source_lengths_[n] = header.msg_namelen;
    ++n;
    if (got == 0) break;  // end of a seqpacket stream: do not fill the batch with it
  }
  return n;
}

std::size_t send_packets(int fd, const sockaddr_un* destination, socklen_t destination_length,
                         std::span<const iovec> frames, std::error_code& ec) {
  ec.clear();
  std::size_t sent = 0;
  while (sent < frames.size()) {
    msghdr header{};
    header.msg_name = const_cast<sockaddr_un*>(destination);
    header.msg_namelen = destination ? destination_length : 0;
    header.msg_iov = const_cast<iovec*>(&frames[sent]);
    header.msg_iovlen = 1;
    if (::sendmsg(fd, &header, MSG_DONTWAIT) < 0) {
      if (errno == EINTR) continue;
      ec.assign(errno, std::generic_category());
      break;
    }
    ++sent;
  }
  return sent;
}

}  // namespace vznet::virtio
