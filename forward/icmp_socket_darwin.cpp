// macOS echo replies (see icmp_socket.h): they arrive with their IP header in front.
#include "forward/icmp_socket.h"

#include "base/byte_order.h"

namespace vznet::forward {

std::optional<EchoReply> parse_echo_reply(std::span<const std::uint8_t> received) {
  constexpr std::uint8_t kEchoReply = 0;
  if (received.empty()) return std::nullopt;
  const std::size_t ip_header = static_cast<std::size_t>(received[0] & 0x0F) * 4;
  if (received.size() < ip_header + 8) return std::nullopt;
  auto icmp = received.subspan(ip_header);
  if (icmp[0] != kEchoReply) return std::nullopt;
  return EchoReply{base::load_be16(icmp, 6), icmp.subspan(8)};
}

}  // namespace vznet::forward
