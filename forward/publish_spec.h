// Docker-style port publish specs ("-p 8080:80", POST /forwards): parsing, validation and the canonical text
// form. Pure: no sockets, no name lookups. Binding the host ports and choosing the guest is port_publisher's job.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <asio/ip/address.hpp>

#include "stack/ipv4_address.h"

namespace vznet::forward {

enum class PublishProtocol : std::uint8_t { tcp, udp };

/// "tcp" or "udp".
std::string_view to_string(PublishProtocol protocol);

/// An inclusive range of ports; a single port has first == last.
struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;

  /// Number of ports in the range (1 for a single port, and for {0, 0}).
  constexpr std::size_t size() const { return std::size_t{last} - first + 1; }
  friend constexpr bool operator==(const PortRange&, const PortRange&) = default;
};

/// One parsed spec: `[HOST_IP:]HOST_PORT[-END]:[GUEST_IP:]GUEST_PORT[-END][/tcp|/udp]`, with docker's meaning:
///  - host ports {0, 0}: any free port, chosen by the OS ("80", "127.0.0.1::80"), one per guest port;
///  - equal-length ranges map port to port ("8080-8089:80-89");
///  - a host range with one guest port: the first free host port of the range ("8000-8010:80").
struct PublishSpec {
  PublishProtocol protocol = PublishProtocol::tcp;
  /// Where to listen on the host. Loopback unless given (docker's default is 0.0.0.0: deliberately not ours).
  asio::ip::address host_address = asio::ip::address_v4::loopback();
  PortRange host_ports;
  /// The guest to forward to; absent: the first guest's leased address, resolved by the caller.
  std::optional<Ipv4Address> guest_address;
  PortRange guest_ports;

  /// The host port is left to the OS (host_ports is {0, 0}).
  bool host_port_any() const { return host_ports.first == 0; }
  /// A host range with a single guest port: publish one pair, on the first host port of the range that binds.
  bool host_port_pick_one() const { return host_ports.size() > 1 && guest_ports.size() == 1; }
  /// How many (host port, guest port) pairs this spec publishes (1 for "pick one" and for "any" with one guest
  /// port; a guest range with "any" publishes one OS-chosen host port per guest port).
  std::size_t pair_count() const { return guest_ports.size(); }
  /// Canonical form that parse_publish_spec() reads back to an equal spec, e.g. "127.0.0.1:8080:80/tcp",
  /// "127.0.0.1::80/tcp", "[::1]:8080-8081:192.168.64.3:80-81/udp".
  std::string to_string() const;
  friend bool operator==(const PublishSpec&, const PublishSpec&) = default;
};

/// Parses one spec. Host address: IPv4, or IPv6 in brackets ("[::1]:8080:80"); zone ids and host names are
/// refused. With three ':'-separated fields the first is the host address if it is bracketed or holds anything
/// but digits and '-' (HOST_IP:HOST_PORT:GUEST_PORT), else the host port (HOST_PORT:GUEST_IP:GUEST_PORT). The guest
/// address, when given, must be a unicast IPv4 address. Ports are 1..65535 (0 only by omitting the host port).
/// Throws std::invalid_argument with one lowercase sentence quoting the bad part and the spec, e.g.
/// `invalid port "0" in "0:80"` (the caller prefixes the flag or field name).
PublishSpec parse_publish_spec(std::string_view text);

}  // namespace vznet::forward
