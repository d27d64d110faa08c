// Stack tests: Ethernet frames into a real Stack + Forwarder (lwIP, catch-all, host sockets on loopback only),
// assertions on the frames that come back.
#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include "forward/published_port.h"
#include "lwip/tcp.h"
#include "tests/stack/stack_fixture.h"

namespace vznet::test {
namespace {

/// A loopback port with nothing listening (bound, then closed).
std::uint16_t closed_loopback_port(asio::io_context& io) {
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address_v4("127.0.0.1"), 0});
  auto port = a.local_endpoint().port();
  a.close();
  return port;
}

TEST_F(StackTest, AnswersArpForTheGateway) {
  inject(arp_request(kGuest, kGateway));
  auto reply = await_frame([](const SeenFrame& f) { return f.ethertype() == 0x0806; });
  ASSERT_TRUE(reply);
  auto arp = std::span(reply->bytes).subspan(14);
  EXPECT_EQ(get16(arp, 6), 2);  // reply
  EXPECT_TRUE(std::equal(gateway_mac_.begin(), gateway_mac_.end(), arp.begin() + 8));
  EXPECT_EQ(Ipv4Address{get32(arp, 14)}, kGateway);
  EXPECT_TRUE(std::equal(kGuestMac.begin(), kGuestMac.end(), reply->bytes.begin()));
}

TEST_F(StackTest, DoesNotAnswerArpForOtherAddresses) {
  inject(arp_request(kGuest, Ipv4Address{192, 168, 64, 77}));
  EXPECT_FALSE(await_frame([](const SeenFrame& f) { return f.ethertype() == 0x0806; }));
}

TEST_F(StackTest, AnswersEchoToTheGateway) {
  resolve_gateway();
  inject(icmp_echo(gateway_mac_, kGuest, kGateway, 0x1234, 7));
  auto reply = await_frame([](const SeenFrame& f) { return f.ethertype() == 0x0800 && f.protocol() == 1; });
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->ip_src(), kGateway);
  EXPECT_EQ(reply->ip_dst(), kGuest);
  EXPECT_EQ(reply->l4()[0], 0);  // echo reply
  EXPECT_EQ(get16(reply->l4(), 4), 0x1234);
  EXPECT_EQ(get16(reply->l4(), 6), 7);
  EXPECT_EQ(checksum(reply->l4()), 0);  // a correct checksum sums to zero
}

TEST_F(StackTest, SynToRefusedHostPortGetsRstAndNoSynAck) {
  resolve_gateway();
  const std::uint16_t port = closed_loopback_port(io_);
  inject(tcp_syn(gateway_mac_, {kGuest, 40001}, {kGateway, port}, 1000));
  auto reply = await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 40001); });
  ASSERT_TRUE(reply);
  const std::uint8_t flags = reply->l4()[13];
  EXPECT_EQ(flags & 0x04, 0x04) << "RST expected";
  EXPECT_EQ(flags & 0x02, 0) << "no SYN-ACK for a refused connect";
  EXPECT_EQ(get32(reply->l4(), 8), 1001u) << "acknowledges the SYN";
  EXPECT_EQ(get16(reply->l4(), 0), port);
  EXPECT_EQ(reply->ip_src(), kGateway);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::tcp_refused), 1u);
}

TEST_F(StackTest, SynAckOnlyAfterTheHostAccepted) {
  resolve_gateway();
  asio::ip::tcp::acceptor server(io_, {asio::ip::make_address_v4("127.0.0.1"), 0});
  const std::uint16_t port = server.local_endpoint().port();
  bool host_connected = false;
  asio::ip::tcp::socket accepted(io_);
  server.async_accept(accepted, [&](std::error_code ec) { host_connected = !ec; });
  inject(tcp_syn(gateway_mac_, {kGuest, 40002}, {kGateway, port}, 5000));
  // Nothing may reach the guest before the loop ran the host connect.
  EXPECT_TRUE(std::none_of(sent_.begin(), sent_.end(), [](const SeenFrame& f) { return is_tcp_to_guest(f, 40002); }));
  auto reply = await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 40002); });
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->l4()[13] & 0x12, 0x12) << "SYN-ACK expected";
  EXPECT_EQ(get32(reply->l4(), 8), 5001u);
  io_.restart();
  io_.run_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(host_connected);
  // A retransmitted SYN is handled by lwIP (another SYN-ACK), not dialed again.
  inject(tcp_syn(gateway_mac_, {kGuest, 40002}, {kGateway, port}, 5000));
  EXPECT_TRUE(await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 40002); }));
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::tcp_opened), 1u);
}

TEST_F(StackTest, LocallyServedPortsAreAnsweredInStackWithoutADial) {
  resolve_gateway();
  ip_addr_t gateway;
  ip_addr_set_ip4_u32_val(gateway, lwip_htonl(kGateway.value));
  tcp_pcb* pcb = tcp_new();
  ASSERT_EQ(tcp_bind(pcb, &gateway, 53), ERR_OK);
  tcp_pcb* listener = tcp_listen(pcb);
  ASSERT_NE(listener, nullptr);
  stack_->serve_tcp_locally(53);
  inject(tcp_syn(gateway_mac_, {kGuest, 43001}, {kGateway, 53}, 77));
  // Answered synchronously by lwIP: no loop turn, no host connect.
  auto reply = std::find_if(sent_.begin(), sent_.end(), [](const SeenFrame& f) { return is_tcp_to_guest(f, 43001); });
  ASSERT_NE(reply, sent_.end());
  EXPECT_EQ(reply->l4()[13] & 0x12, 0x12);
  EXPECT_EQ(forwarder_->flows().size(), 0u);
  tcp_close(listener);
}

TEST_F(StackTest, SynToAnyDestinationGoesToForwardNotAnsweredByLwip) {
  // Nothing may leave this machine: the policy denies every destination, so forward/ answers with a reset
  // without dialing. lwIP alone would have answered the SYN itself (patch 0001 makes every address its own).
  forward::ForwardConfig config;
  config.egress.set_default(forward::EgressAction::deny);
  reconfigure(config);
  resolve_gateway();
  inject(tcp_syn(gateway_mac_, {kGuest, 40003}, {Ipv4Address{192, 0, 2, 1}, 80}, 1));
  auto reply = await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 40003); });
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->l4()[13] & 0x06, 0x04) << "a reset, never a SYN-ACK";
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::egress_denied_tcp), 1u);
}

TEST_F(StackTest, UdpToTheGatewayReachesHostLoopbackAndReplies) {
  resolve_gateway();
  asio::ip::udp::socket server(io_, {asio::ip::make_address_v4("127.0.0.1"), 0});
  const std::uint16_t port = server.local_endpoint().port();
  std::array<std::uint8_t, 64> buffer{};
  asio::ip::udp::endpoint client;
  server.async_receive_from(asio::buffer(buffer), client, [&](std::error_code ec, std::size_t n) {
    if (!ec) server.send_to(asio::buffer(buffer.data(), n), client);
  });
  const Bytes payload{'p', 'i', 'n', 'g'};
  inject(udp_datagram(gateway_mac_, {kGuest, 5353}, {kGateway, port}, payload));
  auto reply = await_frame([](const SeenFrame& f) { return f.ethertype() == 0x0800 && f.protocol() == 17; });
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->ip_src(), kGateway);
  EXPECT_EQ(get16(reply->l4(), 0), port);
  EXPECT_EQ(get16(reply->l4(), 2), 5353);
  EXPECT_EQ(Bytes(reply->l4().begin() + 8, reply->l4().end()), payload);
}

TEST_F(StackTest, MaxFlowsRefusesNewConnectionsWithRst) {
  forward::ForwardConfig config;
  config.max_flows = 1;
  reconfigure(config);
  resolve_gateway();
  asio::ip::tcp::acceptor server(io_, {asio::ip::make_address_v4("127.0.0.1"), 0});
  const std::uint16_t port = server.local_endpoint().port();
  inject(tcp_syn(gateway_mac_, {kGuest, 41001}, {kGateway, port}, 10));
  ASSERT_TRUE(await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 41001); }));
  inject(tcp_syn(gateway_mac_, {kGuest, 41002}, {kGateway, port}, 20));
  auto refused = await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 41002); });
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->l4()[13] & 0x04, 0x04) << "RST expected beyond --max-flows";
  EXPECT_EQ(get32(refused->l4(), 8), 21u);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::flow_limit), 1u);
  EXPECT_EQ(forwarder_->flows().size(), 1u);
}

// Issue 12: one guest spraying new flows took the whole table and every other guest was refused.
TEST_F(StackTest, OneGuestCannotTakeTheOtherGuestsShareOfTheFlowTable) {
  forward::ForwardConfig config;
  config.max_flows = 10;
  config.max_flows_per_guest = 6;
  reconfigure(config);
  resolve_gateway();
  const Ipv4Address other_guest{192, 168, 64, 3};
  for (std::uint16_t i = 0; i < 20; ++i) {  // guest port 1 sprays UDP flows from 20 source ports
    inject(udp_datagram(gateway_mac_, {kGuest, static_cast<std::uint16_t>(7000 + i)}, {kGateway, 9}, Bytes{'x'}));
  }
  EXPECT_EQ(forwarder_->flows().size(), 6u);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::flow_limit), 14u);
  for (std::uint16_t i = 0; i < 4; ++i) {  // guest port 2 still gets the rest of the table
    stack_->guest_frame(
        2, udp_datagram(gateway_mac_, {other_guest, static_cast<std::uint16_t>(8000 + i)}, {kGateway, 9}, Bytes{'y'}));
  }
  EXPECT_EQ(forwarder_->flows().size(), 10u);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::flow_limit), 14u);
  // When port 1 goes, its share comes back.
  stack_->guest_detached(1);
  inject(udp_datagram(gateway_mac_, {kGuest, 7100}, {kGateway, 9}, Bytes{'z'}));
  EXPECT_EQ(forwarder_->flows().size(), 5u);
}

// Issue 12: the clients of every published port shared one share of the flow table, so one LAN client spraying
// a published UDP port from many source ports locked out the clients of the other published ports.
TEST_F(StackTest, OnePublishedPortsClientsCannotTakeTheOtherPublishedPortsShare) {
  forward::ForwardConfig config;
  config.max_flows_per_published_port = 3;
  reconfigure(config);
  resolve_gateway();
  forward::PublishEnvironment env{forwarder_->context(), forwarder_->flows(), [] { return kGuest; },
                                  [] { return true; }};
  const auto loopback = asio::ip::make_address_v4("127.0.0.1");
  forward::PublishedPort sprayed(env, forward::PublishProtocol::udp, loopback, 0, std::nullopt, 5353);
  forward::PublishedPort other(env, forward::PublishProtocol::udp, loopback, 0, std::nullopt, 5354);
  sprayed.start();
  other.start();
  const auto send_from_new_clients = [&](const forward::PublishedPort& to, int total) {
    const int clients =
        total - static_cast<int>(forward_counters_.events.get(forward::ForwardEvent::inbound_udp_opened) +
                                 forward_counters_.events.get(forward::ForwardEvent::flow_limit));
    std::vector<asio::ip::udp::socket> sockets;
    for (int i = 0; i < clients; ++i) {
      sockets.emplace_back(io_, asio::ip::udp::endpoint(loopback, 0));
      sockets.back().send_to(asio::buffer("x", 1), asio::ip::udp::endpoint(loopback, to.host_port()));
    }
    // Every datagram read: each one opened a flow or was refused.
    return run_until(
        [&] {
          return forward_counters_.events.get(forward::ForwardEvent::inbound_udp_opened) +
                     forward_counters_.events.get(forward::ForwardEvent::flow_limit) >=
                 static_cast<std::uint64_t>(total);
        },
        std::chrono::seconds(2));
  };
  ASSERT_TRUE(send_from_new_clients(sprayed, 10));
  EXPECT_EQ(forwarder_->flows().size(), 3u);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::flow_limit), 7u);
  ASSERT_TRUE(send_from_new_clients(other, 12));  // 10 before, 2 now
  EXPECT_EQ(forwarder_->flows().size(), 5u);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::inbound_udp_opened), 5u);
}

// Issue 12: lwIP numbered every packet it sent from one counter, so the IPv4 identification of the packets one
// guest received told it how many packets every other guest got in between. Each destination has its own now.
TEST_F(StackTest, AGuestCannotCountThePacketsAnotherGuestReceives) {
  resolve_gateway();
  const Ipv4Address other_guest{192, 168, 64, 3};
  stack_->guest_frame(2, arp_request(other_guest, kGateway));  // lwIP learns the other guest's MAC too
  ASSERT_TRUE(await_frame([](const SeenFrame& f) { return f.ethertype() == 0x0806; }));
  const std::uint16_t closed = closed_loopback_port(io_);
  const auto reset_id = [&](virtio::PortId port, Ipv4Address guest, std::uint16_t source_port) -> std::optional<int> {
    stack_->guest_frame(port, tcp_syn(gateway_mac_, {guest, source_port}, {kGateway, closed}, 1));
    auto rst = await_frame([&](const SeenFrame& f) {
      return f.ethertype() == 0x0800 && f.protocol() == 6 && f.ip_dst() == guest && get16(f.l4(), 2) == source_port;
    });
    if (!rst) return std::nullopt;
    return get16(rst->ip(), 4);
  };
  const auto first = reset_id(1, kGuest, 30000);
  ASSERT_TRUE(first);
  for (std::uint16_t i = 0; i < 20; ++i) ASSERT_TRUE(reset_id(2, other_guest, static_cast<std::uint16_t>(31000 + i)));
  const auto second = reset_id(1, kGuest, 30001);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, (*first + 1) & 0xFFFF) << "the guest saw the other guest's 20 resets in its IP IDs";
}

TEST_F(StackTest, IdleUdpFlowsAreReaped) {
  forward::ForwardConfig config;
  config.udp_idle_timeout = std::chrono::seconds(1);
  reconfigure(config);
  resolve_gateway();
  asio::ip::udp::socket server(io_, {asio::ip::make_address_v4("127.0.0.1"), 0});
  const Bytes payload{'x'};
  inject(udp_datagram(gateway_mac_, {kGuest, 6000}, {kGateway, server.local_endpoint().port()}, payload));
  EXPECT_EQ(forwarder_->flows().count(IpProtocol::udp), 1u);
  EXPECT_TRUE(run_until([&] { return forwarder_->flows().size() == 0; }, std::chrono::seconds(4)));
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::udp_idle_closed), 1u);
}

// Flows wait on their sockets and post work for later, and the table posts its reaping: once the table is gone,
// none of that may run against it (base::LifeGuard in FlowTable). Under AddressSanitizer (tools/test.sh
// --sanitizers) a handler that reached the freed table fails this test.
TEST_F(StackTest, HandlersOfAFlowTableThatIsGoneDoNothing) {
  resolve_gateway();
  asio::ip::udp::socket server(io_, {asio::ip::make_address_v4("127.0.0.1"), 0});
  asio::ip::tcp::acceptor listener(io_, {asio::ip::make_address_v4("127.0.0.1"), 0});
  inject(udp_datagram(gateway_mac_, {kGuest, 6002}, {kGateway, server.local_endpoint().port()}, Bytes{'x'}));
  inject(tcp_syn(gateway_mac_, {kGuest, 42002}, {kGateway, listener.local_endpoint().port()}, 1));
  ASSERT_EQ(forwarder_->flows().size(), 2u);
  forwarder_.reset();  // the flows end, their sockets close: their waits complete as aborted, a reap is posted
  io_.restart();
  EXPECT_GT(io_.poll(), 0u) << "no handler was left to run: the test would prove nothing";
  reconfigure(forward::ForwardConfig{});  // the fixture's destructor expects a forwarder
}

TEST_F(StackTest, DetachingAGuestClosesItsFlows) {
  resolve_gateway();
  asio::ip::tcp::acceptor server(io_, {asio::ip::make_address_v4("127.0.0.1"), 0});
  inject(tcp_syn(gateway_mac_, {kGuest, 42001}, {kGateway, server.local_endpoint().port()}, 1));
  inject(udp_datagram(gateway_mac_, {kGuest, 6001}, {kGateway, 9}, Bytes{'y'}));
  EXPECT_EQ(forwarder_->flows().size(), 2u);
  stack_->guest_detached(1);
  EXPECT_EQ(forwarder_->flows().size(), 0u);
}

TEST_F(StackTest, NoFlowFromTheUnspecifiedAddress) {
  resolve_gateway();
  inject(udp_datagram(gateway_mac_, {Ipv4Address{}, 5000}, {kGateway, 9}, Bytes{'z'}));
  inject(tcp_syn(gateway_mac_, {Ipv4Address{}, 5001}, {kGateway, 80}, 1));
  EXPECT_EQ(stack_counters_.drops.get(stack::StackDrop::unspecified_source), 2u);
  EXPECT_EQ(forwarder_->flows().size(), 0u);
}

// A frame longer than a pbuf can hold (only an offload link could carry one) is refused before lwIP, counted.
TEST_F(StackTest, AFrameLongerThanAPbufIsDroppedAndCounted) {
  Bytes frame(70000, 0);
  std::copy(gateway_mac_.begin(), gateway_mac_.end(), frame.begin());
  frame[12] = 0x08;
  frame[14] = 0x45;
  inject(frame);
  EXPECT_EQ(stack_counters_.drops.get(stack::StackDrop::oversized_frame), 1u);
  EXPECT_TRUE(sent_.empty());
}

TEST_F(StackTest, MalformedPacketsAreDroppedWithoutHarm) {
  resolve_gateway();
  Bytes truncated_tcp = tcp_syn(gateway_mac_, {kGuest, 40004}, {kGateway, 80}, 1);
  truncated_tcp.resize(14 + 20 + 10);  // IP header claims more than arrives; TCP header cut short
  inject(truncated_tcp);
  inject(Bytes(14, 0));  // Ethernet header only
  Bytes bad_version = icmp_echo(gateway_mac_, kGuest, kGateway, 1, 1);
  bad_version[14] = 0x65;  // IP version 6 in an IPv4 frame
  inject(bad_version);
  Bytes bad_ihl = icmp_echo(gateway_mac_, kGuest, kGateway, 1, 1);
  bad_ihl[14] = 0x4F;  // header longer than the packet
  inject(bad_ihl);
  io_.restart();
  io_.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(stack_counters_.drops.get(stack::StackDrop::malformed_ip), 3u);  // all but the bare Ethernet header
  // Still healthy afterwards.
  inject(icmp_echo(gateway_mac_, kGuest, kGateway, 9, 9));
  EXPECT_TRUE(await_frame([](const SeenFrame& f) { return f.ethertype() == 0x0800 && f.protocol() == 1; }));
}

}  // namespace
}  // namespace vznet::test
