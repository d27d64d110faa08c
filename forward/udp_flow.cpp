// UdpFlow: guest datagrams out through a connected host UDP socket, replies back through the stack.
#include "forward/udp_flow.h"

#include <array>

#include <asio/ip/address_v4.hpp>

namespace vznet::forward {

namespace {
/// Replies read per readiness event before yielding to other flows.
constexpr int kMaxReadsPerTurn = 32;
/// The largest UDP payload IPv4 can carry; one shared buffer (one thread).
std::array<std::uint8_t, 65507> g_udp_buffer;
}  // namespace

UdpFlow::UdpFlow(FlowTable& table, const FlowKey& key, virtio::PortId port, ForwardContext& context)
    : Flow(table, key, port), ctx_(context), host_(table.io()) {}

UdpFlow::UdpFlow(FlowTable& table, const FlowKey& key, virtio::PortId port, ForwardContext& context,
                 asio::ip::udp::socket& published, const asio::ip::udp::endpoint& client)
    : Flow(table, key, port, FlowDirection::inbound),
      ctx_(context),
      host_(table.io()),
      published_(&published),
      client_(client) {
  ctx_.counters.events.add(ForwardEvent::inbound_udp_opened);
}

bool UdpFlow::open(const Ipv4Endpoint& target) {
  std::error_code ec;
  host_.open(asio::ip::udp::v4(), ec);
  if (!ec) host_.non_blocking(true, ec);
  if (!ec) host_.connect({asio::ip::address_v4(target.address.value), target.port}, ec);
  if (ec) {
    ctx_.flow_log.log(spdlog::level::debug, "{}: cannot open host socket: {}", key().to_string(), ec.message());
    return false;
  }
  ctx_.counters.events.add(ForwardEvent::udp_opened);
  read_from_host();
  return true;
}

void UdpFlow::send_to_host(const pbuf* payload) {
  asio::const_buffer datagram(payload->payload, payload->len);
  if (payload->next != nullptr) {
    const u16_t n = pbuf_copy_partial(payload, g_udp_buffer.data(), payload->tot_len, 0);
    datagram = asio::buffer(g_udp_buffer.data(), n);
  }
  std::error_code ec;
  if (published_ != nullptr) {
    published_->send_to(datagram, client_, 0, ec);
  } else {
    host_.send(datagram, 0, ec);
  }
  if (ec) {
    ctx_.counters.events.add(ForwardEvent::udp_send_dropped);
    return;
  }
  count_to_host(payload->tot_len);
}

void UdpFlow::read_from_host() {
  for (int i = 0; i < kMaxReadsPerTurn; ++i) {
    std::error_code ec;
    const std::size_t n = host_.receive(asio::buffer(g_udp_buffer), 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) continue;  // e.g. ECONNREFUSED from an earlier ICMP error: the socket stays usable
    if (ctx_.stack.send_udp(key().destination, key().guest, {g_udp_buffer.data(), n})) count_to_guest(n);
  }
  await_ready(host_, asio::socket_base::wait_read, &UdpFlow::read_armed_, &UdpFlow::read_from_host);
}

void UdpFlow::send_to_guest(std::span<const std::uint8_t> payload) {
  if (ctx_.stack.send_udp(key().destination, key().guest, payload)) count_to_guest(payload.size());
}

void UdpFlow::terminate() {
  std::error_code ignored;
  host_.close(ignored);
  release();
}

void UdpFlow::tick(Clock::time_point now) {
  if (now - last_activity() >= ctx_.config.udp_idle_timeout) {
    ctx_.counters.events.add(ForwardEvent::udp_idle_closed);
    terminate();
  }
}

}  // namespace vznet::forward
