// Unprivileged ICMP echo: opening an ICMP datagram ("ping") socket (icmp_socket.cpp, POSIX) and reading an
// echo reply from it. Linux: icmp_socket_linux.cpp (no IP header on receive, the kernel owns the identifier);
// macOS: icmp_socket_darwin.cpp (IP header included on receive).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include "stack/ipv4_address.h"

namespace vznet::forward {

/// What open_icmp_echo_socket() did: a descriptor, or the error and whether it is the host's refusal of ping
/// sockets altogether (then no destination will work) rather than of this destination (a broadcast address
/// fails the connect with EACCES too, and must not turn ping off for every guest).
struct IcmpSocketOpen {
  int fd = -1;
  std::error_code error;
  bool ping_sockets_refused = false;  ///< socket() failed: EACCES/EPERM (net.ipv4.ping_group_range), EPROTONOSUPPORT
};

/// Opens a non-blocking ICMP datagram socket connected to `destination`.
IcmpSocketOpen open_icmp_echo_socket(Ipv4Address destination);

struct EchoReply {
  std::uint16_t sequence = 0;
  std::span<const std::uint8_t> data;
};

/// Parses what one recv() on the socket returned; nullopt if it is not an echo reply.
std::optional<EchoReply> parse_echo_reply(std::span<const std::uint8_t> received);

}  // namespace vznet::forward
