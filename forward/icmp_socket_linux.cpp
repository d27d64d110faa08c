// Linux ICMP datagram sockets (see icmp_socket.h): allowed for groups in net.ipv4.ping_group_range; the kernel
// replaces the echo identifier with the socket's and returns replies without the IP header.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "forward/icmp_socket.h"

namespace vznet::forward {

int open_icmp_echo_socket(Ipv4Address destination, std::error_code& error) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) {
    error = std::error_code(errno, std::system_category());
    return -1;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(destination.value);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    error = std::error_code(errno, std::system_category());
    ::close(fd);
    return -1;
  }
  return fd;
}

std::optional<EchoReply> parse_echo_reply(std::span<const std::uint8_t> received) {
  constexpr std::uint8_t kEchoReply = 0;
  if (received.size() < 8 || received[0] != kEchoReply) return std::nullopt;
  return EchoReply{static_cast<std::uint16_t>((received[6] << 8) | received[7]), received.subspan(8)};
}

}  // namespace vznet::forward
