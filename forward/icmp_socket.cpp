// Opening an ICMP datagram ("ping") socket: the same POSIX calls on Linux and macOS (see icmp_socket.h).
#include "forward/icmp_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace vznet::forward {

IcmpSocketOpen open_icmp_echo_socket(Ipv4Address destination) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  if (fd < 0) {
    // Out of descriptors is a passing trouble; these three mean ping sockets are off on this host.
    const bool refused = errno == EACCES || errno == EPERM || errno == EPROTONOSUPPORT;
    return {-1, std::error_code(errno, std::system_category()), refused};
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(destination.value);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const std::error_code error(errno, std::system_category());
    ::close(fd);
    return {-1, error, false};
  }
  return {fd, {}, false};
}

}  // namespace vznet::forward
