// Test helpers: build guest Ethernet frames (ARP, IPv4 with ICMP/TCP/UDP) and read the frames the stack sends
// back. Only for tests; deliberately small and explicit rather than general.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>

#include <asio/io_context.hpp>
#include <optional>
#include <span>
#include <vector>

#include "stack/ipv4_address.h"

namespace vznet::test {

using Bytes = std::vector<std::uint8_t>;
using Mac = std::array<std::uint8_t, 6>;

inline constexpr Mac kGuestMac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
inline constexpr Mac kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

inline void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
inline void put32(Bytes& b, std::size_t at, std::uint32_t v) {
  put16(b, at, static_cast<std::uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<std::uint16_t>(v));
}
inline std::uint16_t get16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
inline std::uint32_t get32(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint32_t{get16(b, at)} << 16) | get16(b, at + 2);
}

inline std::uint16_t checksum(std::span<const std::uint8_t> data, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < data.size(); i += 2) sum += static_cast<std::uint32_t>((data[i] << 8) | data[i + 1]);
  if (data.size() % 2) sum += static_cast<std::uint32_t>(data.back() << 8);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

inline Bytes ethernet(const Mac& dst, const Mac& src, std::uint16_t type, std::span<const std::uint8_t> payload) {
  Bytes f(14);
  std::copy(dst.begin(), dst.end(), f.begin());
  std::copy(src.begin(), src.end(), f.begin() + 6);
  put16(f, 12, type);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

inline Bytes arp_request(Ipv4Address sender, Ipv4Address target) {
  Bytes a(28);
  put16(a, 0, 1);
  put16(a, 2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  put16(a, 6, 1);
  std::copy(kGuestMac.begin(), kGuestMac.end(), a.begin() + 8);
  put32(a, 14, sender.value);
  put32(a, 24, target.value);
  return ethernet(kBroadcastMac, kGuestMac, 0x0806, a);
}

/// An IPv4 packet (header + `l4`) in an Ethernet frame to `dst_mac`; the L4 checksum is filled by the caller.
inline Bytes ipv4(const Mac& dst_mac, Ipv4Address src, Ipv4Address dst, std::uint8_t protocol,
                  std::span<const std::uint8_t> l4) {
  Bytes ip(20);
  ip[0] = 0x45;
  put16(ip, 2, static_cast<std::uint16_t>(20 + l4.size()));
  put16(ip, 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = protocol;
  put32(ip, 12, src.value);
  put32(ip, 16, dst.value);
  put16(ip, 10, checksum(ip));
  ip.insert(ip.end(), l4.begin(), l4.end());
  return ethernet(dst_mac, kGuestMac, 0x0800, ip);
}

inline std::uint32_t pseudo_sum(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol, std::size_t length) {
  return (src.value >> 16) + (src.value & 0xFFFF) + (dst.value >> 16) + (dst.value & 0xFFFF) + protocol +
         static_cast<std::uint32_t>(length);
}

inline Bytes icmp_echo(const Mac& gw, Ipv4Address src, Ipv4Address dst, std::uint16_t id, std::uint16_t seq) {
  Bytes icmp(8 + 16, 0xAB);
  icmp[0] = 8;
  icmp[1] = 0;
  put16(icmp, 2, 0);
  put16(icmp, 4, id);
  put16(icmp, 6, seq);
  put16(icmp, 2, checksum(icmp));
  return ipv4(gw, src, dst, 1, icmp);
}

inline Bytes tcp_syn(const Mac& gw, Ipv4Endpoint src, Ipv4Endpoint dst, std::uint32_t seq) {
  Bytes tcp(24, 0);
  put16(tcp, 0, src.port);
  put16(tcp, 2, dst.port);
  put32(tcp, 4, seq);
  tcp[12] = 6 << 4;  // 24-byte header: one MSS option
  tcp[13] = 0x02;    // SYN
  put16(tcp, 14, 65535);
  tcp[20] = 2;
  tcp[21] = 4;
  put16(tcp, 22, 1460);
  put16(tcp, 16, checksum(tcp, pseudo_sum(src.address, dst.address, 6, tcp.size())));
  return ipv4(gw, src.address, dst.address, 6, tcp);
}

/// Any TCP segment (20-byte header, no options): flags as in the header's byte 13 (0x10 ACK, 0x02 SYN, 0x01 FIN,
/// 0x04 RST), the window as sent (unscaled field).
inline Bytes tcp_segment(const Mac& gw, Ipv4Endpoint src, Ipv4Endpoint dst, std::uint32_t seq, std::uint32_t ack,
                         std::uint8_t flags, std::span<const std::uint8_t> data = {}, std::uint16_t window = 65535) {
  Bytes tcp(20, 0);
  put16(tcp, 0, src.port);
  put16(tcp, 2, dst.port);
  put32(tcp, 4, seq);
  put32(tcp, 8, ack);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  put16(tcp, 14, window);
  tcp.insert(tcp.end(), data.begin(), data.end());
  put16(tcp, 16, checksum(tcp, pseudo_sum(src.address, dst.address, 6, tcp.size())));
  return ipv4(gw, src.address, dst.address, 6, tcp);
}

inline Bytes udp_datagram(const Mac& gw, Ipv4Endpoint src, Ipv4Endpoint dst, std::span<const std::uint8_t> data) {
  Bytes udp(8);
  put16(udp, 0, src.port);
  put16(udp, 2, dst.port);
  put16(udp, 4, static_cast<std::uint16_t>(8 + data.size()));
  udp.insert(udp.end(), data.begin(), data.end());
  put16(udp, 6, checksum(udp, pseudo_sum(src.address, dst.address, 17, udp.size())));
  return ipv4(gw, src.address, dst.address, 17, udp);
}

/// A view of a frame the stack sent: Ethernet type and, for IPv4, the header fields tests look at.
struct SeenFrame {
  Bytes bytes;
  std::uint16_t ethertype() const { return get16(bytes, 12); }
  std::span<const std::uint8_t> ip() const { return std::span(bytes).subspan(14); }
  std::uint8_t protocol() const { return ip()[9]; }
  Ipv4Address ip_src() const { return Ipv4Address{get32(ip(), 12)}; }
  Ipv4Address ip_dst() const { return Ipv4Address{get32(ip(), 16)}; }
  std::span<const std::uint8_t> l4() const { return ip().subspan(static_cast<std::size_t>(ip()[0] & 0x0F) * 4); }
};

/// Runs `io` until a frame in `sent` satisfies `match` (removing and returning it) or `limit` passes.
inline std::optional<SeenFrame> take_frame(asio::io_context& io, std::vector<SeenFrame>& sent,
                                           const std::function<bool(const SeenFrame&)>& match,
                                           std::chrono::milliseconds limit = std::chrono::seconds(3)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    for (auto it = sent.begin(); it != sent.end(); ++it) {
      if (match(*it)) {
        SeenFrame f = std::move(*it);
        sent.erase(it);
        return f;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
}

}  // namespace vznet::test
