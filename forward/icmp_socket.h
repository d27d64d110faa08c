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

/// Opens a non-blocking ICMP datagram socket connected to `destination`; returns the fd or -1 with `error`
/// set (EACCES/EPERM where the host does not permit ping sockets, e.g. Linux's net.ipv4.ping_group_range).
int open_icmp_echo_socket(Ipv4Address destination, std::error_code& error);

struct EchoReply {
  std::uint16_t sequence = 0;
  std::span<const std::uint8_t> data;
};

/// Parses what one recv() on the socket returned; nullopt if it is not an echo reply.
std::optional<EchoReply> parse_echo_reply(std::span<const std::uint8_t> received);

}  // namespace vznet::forward
