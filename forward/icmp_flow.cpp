// IcmpFlow: echo requests out through an ICMP datagram socket, replies back to the guest through the stack.
#include "forward/icmp_flow.h"

#include <sys/socket.h>

#include <array>
#include <cstring>

#include "base/byte_order.h"
#include "base/internet_checksum.h"
#include "forward/icmp_socket.h"

namespace vznet::forward {

namespace {
/// An echo of any size IPv4 allows, with room for the IP header macOS includes.
std::array<std::uint8_t, 65535> g_icmp_buffer;
/// Replies handled per readiness event before yielding to other flows.
constexpr int kMaxRepliesPerTurn = 32;
}  // namespace

IcmpFlow::IcmpFlow(FlowTable& table, const FlowKey& key, virtio::PortId port, ForwardContext& context)
    : Flow(table, key, port), ctx_(context), socket_(table.io()) {}

IcmpSocketOpen IcmpFlow::open(Ipv4Address target) {
  IcmpSocketOpen opened = open_icmp_echo_socket(target);
  if (opened.fd < 0) return opened;
  socket_.assign(opened.fd);
  read_replies();
  return opened;
}

void IcmpFlow::send_echo(const stack::IcmpEcho& echo) {
  const std::size_t length = 8 + echo.data.size();
  if (length > g_icmp_buffer.size()) return;
  std::uint8_t* icmp = g_icmp_buffer.data();
  icmp[0] = 8;  // echo request
  icmp[1] = 0;
  icmp[2] = icmp[3] = 0;
  base::store_be16(icmp + 4, echo.identifier);
  base::store_be16(icmp + 6, echo.sequence);
  std::memcpy(icmp + 8, echo.data.data(), echo.data.size());
  const std::uint16_t checksum = base::internet_checksum({icmp, length});
  base::store_be16(icmp + 2, checksum);
  if (::send(socket_.native_handle(), icmp, length, 0) < 0) return;
  ctx_.counters.events.add(ForwardEvent::icmp_echo_sent);
  count_to_host(echo.data.size());
}

void IcmpFlow::read_replies() {
  for (int i = 0; i < kMaxRepliesPerTurn; ++i) {
    const ssize_t n = ::recv(socket_.native_handle(), g_icmp_buffer.data(), g_icmp_buffer.size(), 0);
    if (n < 0) break;  // EAGAIN, or an error we wait out
    if (auto reply = parse_echo_reply({g_icmp_buffer.data(), static_cast<std::size_t>(n)})) {
      // The guest sees its own identifier; the kernel chose another on the wire.
      ctx_.stack.send_icmp_echo_reply(key().destination.address, key().guest.address, key().guest.port, reply->sequence,
                                      reply->data);
      count_to_guest(reply->data.size());
    }
  }
  await_ready(socket_, asio::posix::stream_descriptor::wait_read, &IcmpFlow::read_armed_, &IcmpFlow::read_replies);
}

void IcmpFlow::terminate() {
  std::error_code ignored;
  socket_.close(ignored);
  release();
}

void IcmpFlow::tick(Clock::time_point now) {
  if (now - last_activity() >= ctx_.config.icmp_idle_timeout) terminate();
}

}  // namespace vznet::forward
