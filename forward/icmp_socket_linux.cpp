// Linux echo replies (see icmp_socket.h): the kernel returns them without the IP header, and has replaced the
// identifier with the socket's own.
#include "forward/icmp_socket.h"

#include "base/byte_order.h"

namespace vznet::forward {

std::optional<EchoReply> parse_echo_reply(std::span<const std::uint8_t> received) {
  constexpr std::uint8_t kEchoReply = 0;
  if (received.size() < 8 || received[0] != kEchoReply) return std::nullopt;
  return EchoReply{base::load_be16(received, 6), received.subspan(8)};
}

}  // namespace vznet::forward
