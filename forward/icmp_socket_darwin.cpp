// macOS ICMP datagram sockets (see icmp_socket.h): unprivileged by default; replies arrive with their IP
// header, and the identifier is ours to choose (the flow matches replies by socket, so any value works).
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "forward/icmp_socket.h"

namespace vznet::forward {

int open_icmp_echo_socket(Ipv4Address destination, std::error_code& error) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  if (fd < 0) {
    error = std::error_code(errno, std::system_category());
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  sockaddr_in address{};
  address.sin_len = sizeof address;
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
  if (received.empty()) return std::nullopt;
  const std::size_t ip_header = static_cast<std::size_t>(received[0] & 0x0F) * 4;
  if (received.size() < ip_header + 8) return std::nullopt;
  auto icmp = received.subspan(ip_header);
  if (icmp[0] != kEchoReply) return std::nullopt;
  return EchoReply{static_cast<std::uint16_t>((icmp[6] << 8) | icmp[7]), icmp.subspan(8)};
}

}  // namespace vznet::forward
