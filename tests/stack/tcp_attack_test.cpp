// Stack tests of crafted TCP from a hostile guest: segment sequences no kernel sends, aimed at lwIP's
// receive path through vznet's flows. Each one once aborted or wedged vznet; now each must leave the stack
// serving (asserted by a fresh connection afterwards).
#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <string>

#include "tests/stack/stack_fixture.h"

namespace vznet::test {
namespace {

/// The guest's initial sequence number in these tests.
constexpr std::uint32_t kIsn = 1000;

class TcpAttackTest : public StackTest {
 protected:
  TcpAttackTest() : server_(io_, {asio::ip::make_address_v4("127.0.0.1"), 0}) {
    port_ = server_.local_endpoint().port();
    server_.listen();
  }

  /// connect_guest() from `guest_port` to the server, which accepts into `accepted`; nullopt unless both happened.
  std::optional<std::uint32_t> connect_and_accept(std::uint16_t guest_port, asio::ip::tcp::socket& accepted) {
    server_.async_accept(accepted, [](std::error_code) {});
    const auto ack = connect_guest(guest_port, port_, kIsn);
    if (!ack || !run_until([&] { return accepted.is_open(); }, std::chrono::seconds(2))) return std::nullopt;
    return ack;
  }

  /// The stack still completes a new connection (it did not abort or wedge).
  bool still_serving(std::uint16_t guest_port) {
    sent_.clear();
    return connect_guest(guest_port, port_, 777000).has_value();
  }

  asio::ip::tcp::acceptor server_;
  std::uint16_t port_ = 0;
};

/// Our SYN offers no window scaling, so lwIP keeps its receive window within 16 bits.
constexpr std::uint32_t kWindow = 65535;

// The "ooseq tcplen > rcv_wnd" assertion aborted vznet for every guest (patch 0004). The guest queues
// out-of-order data that reaches past the window's right edge, then fills the gap before it while the host
// does not read and the loop does not run (no host write, so no window update: the window only shrinks).
class OutOfOrderPastTheWindowTest : public TcpAttackTest {
 protected:
  void SetUp() override {
    resolve_gateway();
    const auto ack = connect_guest(41000, port_, kIsn);
    ASSERT_TRUE(ack);
    ack_ = *ack;
  }
  void send(std::uint32_t offset, std::span<const std::uint8_t> data) {
    inject(tcp_segment(gateway_mac_, {kGuest, 41000}, {kGateway, port_}, kIsn + 1 + offset, ack_, 0x10, data));
  }
  void fill_gap_up_to(std::uint32_t end) {
    const Bytes chunk(1460, 0x33);
    for (std::uint32_t offset = 0; offset < end; offset += 1460) {
      send(offset, std::span(chunk).first(std::min<std::uint32_t>(1460, end - offset)));
    }
  }
  /// The host takes the connection at last; the stack must still be alive and serving new ones.
  void expect_still_serving() {
    asio::ip::tcp::socket accepted(io_);
    server_.accept(accepted);
    EXPECT_TRUE(still_serving(41001));
  }
  std::uint32_t ack_ = 0;
  const Bytes big_ = Bytes(2000, 0x5A);
};

TEST_F(OutOfOrderPastTheWindowTest, FirstQueuedSegmentReachingPastTheEdge) {
  const std::uint32_t edge = kWindow - 100;  // 100 bytes of window left there
  send(edge, big_);                          // the first on an empty queue: stored untrimmed by 2.1.3
  fill_gap_up_to(edge);
  expect_still_serving();
}

// Upstream bug #56397: the last queued segment was trimmed to the edge, and a longer one with the same
// sequence number replaced it untrimmed.
TEST_F(OutOfOrderPastTheWindowTest, LongerRetransmitOfATrimmedTail) {
  const std::uint32_t edge = kWindow - 100;
  send(edge - 3000, std::span(big_).first(500));  // queued first, well inside the window
  send(edge, big_);                               // appended: trimmed to the 100 bytes left
  send(edge, big_);                               // the same sequence number, longer
  fill_gap_up_to(edge);
  expect_still_serving();
}

// A segment that covers every queued segment after it replaces them all, untrimmed.
TEST_F(OutOfOrderPastTheWindowTest, SegmentCoveringEveryQueuedOneAfterIt) {
  const std::uint32_t edge = kWindow - 100;
  send(edge - 1000, std::span(big_).first(10));
  send(edge, std::span(big_).first(50));
  send(edge - 1000, big_);  // from the first queued one to 900 bytes past the edge
  fill_gap_up_to(edge - 1000);
  expect_still_serving();
}

// Issue 12, defect 4: the host closed first, so lwIP held the guest side in TIME_WAIT; a guest reusing the
// port at once (as Linux does when its peer closed first) got an ACK of the old connection instead of a
// SYN-ACK, and its connect hung until TIME_WAIT ended two minutes later.
TEST_F(TcpAttackTest, SynReusingATimeWaitFourTupleOpensANewConnection) {
  resolve_gateway();
  const Ipv4Endpoint guest{kGuest, 42000}, gateway{kGateway, port_};
  asio::ip::tcp::socket accepted(io_);
  const auto ack = connect_and_accept(42000, accepted);
  ASSERT_TRUE(ack);
  accepted.close();  // the host closes first: lwIP sends the guest a FIN
  auto fin = await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 42000) && (f.l4()[13] & 0x01); });
  ASSERT_TRUE(fin);
  EXPECT_EQ(get32(fin->l4(), 4), *ack);
  // The guest acknowledges it and closes too: lwIP moves to TIME_WAIT and acknowledges the guest's FIN.
  inject(tcp_segment(gateway_mac_, guest, gateway, kIsn + 1, *ack + 1, 0x11));
  ASSERT_TRUE(
      await_frame([&](const SeenFrame& f) { return is_tcp_to_guest(f, 42000) && get32(f.l4(), 8) == kIsn + 2; }));
  // The same 4-tuple again, at once, with a higher initial sequence number.
  asio::ip::tcp::socket accepted_again(io_);
  server_.async_accept(accepted_again, [](std::error_code) {});
  sent_.clear();
  inject(tcp_syn(gateway_mac_, guest, gateway, kIsn + 100000));
  auto reply = await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 42000); });
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->l4()[13] & 0x12, 0x12) << "SYN-ACK expected, got flags " << int(reply->l4()[13]);
  EXPECT_EQ(get32(reply->l4(), 8), kIsn + 100001);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::tcp_linger_reused), 1u);
}

/// A loopback port whose connects hang (a "blackholed" destination without leaving the machine): a listener
/// with a backlog of 0 whose one queue slot is taken, so the kernel drops every further SYN.
class LoopbackBlackhole {
 public:
  explicit LoopbackBlackhole(asio::io_context& io)
      : listener_(io, {asio::ip::make_address_v4("127.0.0.1"), 0}), filler_(io) {
    listener_.listen(0);
    filler_.connect(listener_.local_endpoint());
  }
  std::uint16_t port() const { return listener_.local_endpoint().port(); }

 private:
  asio::ip::tcp::acceptor listener_;
  asio::ip::tcp::socket filler_;
};

// Issue 12, defect 5: a SYN flood to destinations that never answer took every flow, and the guest's own
// connects were refused until the connect timeout freed them. Half-open dials now have a per-guest cap, and
// the oldest gives way.
TEST_F(TcpAttackTest, SynFloodToSilentDestinationsLeavesRoomForARealConnection) {
  forward::ForwardConfig config;
  config.max_pending_dials = 4;
  config.max_flows = 8;
  reconfigure(config);
  resolve_gateway();
  LoopbackBlackhole blackhole(io_);
  for (std::uint16_t i = 0; i < 50; ++i) {
    inject(tcp_syn(gateway_mac_, {kGuest, static_cast<std::uint16_t>(43000 + i)}, {kGateway, blackhole.port()}, 1));
    io_.restart();
    io_.poll();
  }
  EXPECT_EQ(forwarder_->flows().size(), 4u);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::dial_evicted), 46u);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::flow_limit), 0u);
  // The guest's real connection is dialed (evicting one more silent one) and completes.
  EXPECT_TRUE(connect_guest(44000, port_, 5000).has_value());
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::dial_evicted), 47u);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::tcp_opened), 1u);
}

// Issue 12: buffer limits counted payload bytes, but each queued segment is a pbuf holding a whole frame, so
// 1-byte segments turned a 2 MiB window into some 200 MB. What a flow queues for the host is now bounded by
// its heap footprint; past it, lwIP holds the segment back and the guest must retransmit.
TEST_F(TcpAttackTest, OneByteSegmentsCannotQueueMoreThanTheFlowsBudget) {
  resolve_gateway();
  const auto ack = connect_guest(45000, port_, kIsn);
  ASSERT_TRUE(ack);
  const Ipv4Endpoint guest{kGuest, 45000}, gateway{kGateway, port_};
  const Bytes one{0x42};
  // The loop does not run, so nothing reaches the host and nothing is freed: only the budget stops the queue.
  constexpr std::uint32_t kSegments = 40000;  // 40,000 x (1 + 128) bytes is over the 4 MiB per flow
  for (std::uint32_t i = 0; i < kSegments; ++i) {
    inject(tcp_segment(gateway_mac_, guest, gateway, kIsn + 1 + i, *ack, 0x10, one));
    if (i % 1024 == 0) sent_.clear();  // the ACKs are not under test
  }
  const std::size_t used = forwarder_->context().guest_to_host_budget.used();
  EXPECT_LE(used, forward::kMaxQueuedFootprintPerFlow);
  EXPECT_GT(used, forward::kMaxQueuedFootprintPerFlow / 2);
  EXPECT_GT(forward_counters_.events.get(forward::ForwardEvent::guest_data_refused), 0u);
  // Once the host reads, the queue drains and the budget is given back.
  asio::ip::tcp::socket accepted(io_);
  server_.accept(accepted);
  std::vector<std::uint8_t> sink(1 << 16);
  std::size_t received = 0;
  accepted.non_blocking(true);
  EXPECT_TRUE(run_until(
      [&] {
        std::error_code ec;
        received += accepted.read_some(asio::buffer(sink), ec);
        return forwarder_->context().guest_to_host_budget.used() == 0;
      },
      std::chrono::seconds(5)));
  EXPECT_GT(received, 0u);
}

// Issue 12: after both sides closed, vznet let go of the flow while lwIP still held the host's last bytes for
// the guest; a guest that never acknowledged them (a zero window) kept that memory outside every limit. The
// flow now stays, counted and listed, until the guest has everything, and is reset when it makes no progress.
TEST_F(TcpAttackTest, AGuestThatNeverAcknowledgesTheLastBytesIsResetNotForgotten) {
  forward::ForwardConfig config;
  config.tcp_drain_timeout = std::chrono::seconds(1);
  reconfigure(config);
  resolve_gateway();
  const Ipv4Endpoint guest{kGuest, 46000}, gateway{kGateway, port_};
  asio::ip::tcp::socket accepted(io_);
  const auto ack = connect_and_accept(46000, accepted);
  ASSERT_TRUE(ack);
  const Bytes reply(100000, 0x61);
  asio::write(accepted, asio::buffer(reply));
  accepted.close();  // the host is done
  ASSERT_TRUE(await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 46000) && f.l4().size() > 20; }));
  // The guest closes too, acknowledging none of the data, with its window shut.
  inject(tcp_segment(gateway_mac_, guest, gateway, kIsn + 1, *ack, 0x11, {}, 0));
  run_until([] { return false; }, std::chrono::milliseconds(200));
  ASSERT_EQ(forwarder_->flows().size(), 1u) << "the flow must stay while lwIP holds bytes for the guest";
  bool draining = false;
  forwarder_->flows().for_each([&](const forward::Flow& f) { draining = std::string(f.state_name()) == "draining"; });
  EXPECT_TRUE(draining);
  EXPECT_TRUE(run_until([&] { return forwarder_->flows().size() == 0; }, std::chrono::seconds(4)));
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::tcp_drain_timeout), 1u);
  EXPECT_TRUE(await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 46000) && (f.l4()[13] & 0x04); }))
      << "the guest is reset";
}

// Issue 12: per flow, lwIP's send buffer bounded the host bytes held for a guest, but nothing bounded them in
// total: a guest acknowledging nothing across 10,000 flows had vznet hold some 20 GB. Past the total, flows
// keep only a small reserve each, and a flow whose guest acknowledges moves on.
TEST_F(TcpAttackTest, GuestsThatAcknowledgeNothingCannotMakeVznetHoldMoreThanTheTotal) {
  constexpr std::size_t kLimit = 256 * 1024;
  constexpr int kFlows = 4;
  forward::ForwardConfig config;
  config.max_held_for_guests = kLimit;
  reconfigure(config);
  resolve_gateway();
  std::vector<asio::ip::tcp::socket> accepted;
  std::vector<std::uint32_t> acks;
  for (int i = 0; i < kFlows; ++i) {
    accepted.emplace_back(io_);
    const auto ack = connect_and_accept(static_cast<std::uint16_t>(48000 + i), accepted.back());
    ASSERT_TRUE(ack);
    acks.push_back(*ack);
  }
  const Bytes flood(1024 * 1024, 0x66);  // each host peer sends 1 MiB; every guest window is 64 KiB
  for (auto& socket : accepted) asio::async_write(socket, asio::buffer(flood), [](std::error_code, std::size_t) {});
  const auto& held = forwarder_->context().held_for_guests;
  std::size_t most_held = 0;
  run_until(
      [&] {
        most_held = std::max(most_held, held.used());
        return false;
      },
      std::chrono::milliseconds(500));
  EXPECT_GE(most_held, kLimit);
  EXPECT_LE(most_held, kLimit + kFlows * forward::kHeldForGuestReservePerFlow);
  // The first guest acknowledges everything it received, with its window open: its flow moves on.
  std::uint32_t received_up_to = acks[0];
  for (const SeenFrame& f : sent_) {
    if (!is_tcp_to_guest(f, 48000)) continue;
    const std::size_t payload = f.l4().size() - static_cast<std::size_t>(f.l4()[12] >> 4) * 4;
    received_up_to = std::max(received_up_to, get32(f.l4(), 4) + static_cast<std::uint32_t>(payload));
  }
  ASSERT_GT(received_up_to, acks[0]);
  sent_.clear();
  inject(tcp_segment(gateway_mac_, {kGuest, 48000}, {kGateway, port_}, kIsn + 1, received_up_to, 0x10));
  EXPECT_TRUE(await_frame([&](const SeenFrame& f) {
    return is_tcp_to_guest(f, 48000) && get32(f.l4(), 4) == received_up_to &&
           f.l4().size() > static_cast<std::size_t>(f.l4()[12] >> 4) * 4;
  })) << "new data after the acknowledgment";
  EXPECT_LE(held.used(), kLimit + kFlows * forward::kHeldForGuestReservePerFlow);
}

/// What a guest that never acknowledges vznet's FIN leaves behind: the host closed, the guest closed too but
/// acknowledged nothing of the FIN, so lwIP holds the connection in CLOSING after the flow is gone.
class LingeringTest : public TcpAttackTest {
 protected:
  /// Opens a connection from `guest_port` and leaves it in CLOSING; false if any step did not happen.
  bool leave_closing(std::uint16_t guest_port) {
    asio::ip::tcp::socket accepted(io_);
    const auto ack = connect_and_accept(guest_port, accepted);
    if (!ack) return false;
    accepted.close();  // the host closes: lwIP sends the guest a FIN
    if (!await_frame([&](const SeenFrame& f) { return is_tcp_to_guest(f, guest_port) && (f.l4()[13] & 0x01); })) {
      return false;
    }
    // The guest's FIN acknowledges everything but vznet's FIN.
    inject(tcp_segment(gateway_mac_, {kGuest, guest_port}, {kGateway, port_}, kIsn + 1, *ack, 0x11));
    return run_until([&] { return forwarder_->flows().size() == 0; }, std::chrono::seconds(2));
  }
  bool guest_was_reset(std::uint16_t guest_port) {
    return await_frame([&](const SeenFrame& f) { return is_tcp_to_guest(f, guest_port) && (f.l4()[13] & 0x04); })
        .has_value();
  }
};

// Issue 12: once vznet closed a flow, lwIP held the connection outside every limit until the guest finished
// closing it, which a guest that never acknowledges the FIN does never (lwIP retries for minutes). Such
// connections now count against the guest's share, and the oldest gives way to a new flow.
TEST_F(LingeringTest, AConnectionTheGuestNeverFinishesClosingCountsAndGivesWay) {
  forward::ForwardConfig config;
  config.max_flows_per_guest = 1;
  reconfigure(config);
  resolve_gateway();
  ASSERT_TRUE(leave_closing(47000));
  EXPECT_EQ(forwarder_->flows().lingering().size(), 1u);
  EXPECT_EQ(forwarder_->flows().lingering().count(1), 1u);
  // The guest's share is taken by it: a new connection makes it give way (a reset) and completes.
  sent_.clear();
  EXPECT_TRUE(connect_guest(47001, port_, 5000).has_value());
  EXPECT_TRUE(guest_was_reset(47000));
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::tcp_linger_evicted), 1u);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::flow_limit), 0u);
  EXPECT_EQ(forwarder_->flows().lingering().size(), 0u);
}

TEST_F(LingeringTest, AConnectionTheGuestNeverFinishesClosingIsResetAfterTheDrainTimeout) {
  forward::ForwardConfig config;
  config.tcp_drain_timeout = std::chrono::seconds(1);
  reconfigure(config);
  resolve_gateway();
  ASSERT_TRUE(leave_closing(47100));
  EXPECT_EQ(forwarder_->flows().lingering().size(), 1u);
  sent_.clear();
  EXPECT_TRUE(run_until([&] { return forwarder_->flows().lingering().size() == 0; }, std::chrono::seconds(4)));
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::tcp_linger_timeout), 1u);
  EXPECT_TRUE(guest_was_reset(47100));
}

// Not only TIME_WAIT: a guest that reuses the 4-tuple of any connection it never finished closing has forgotten
// it, and gets a new connection.
TEST_F(LingeringTest, ReusingTheFourTupleOfAClosingConnectionOpensANewOne) {
  resolve_gateway();
  ASSERT_TRUE(leave_closing(47400));
  ASSERT_EQ(forwarder_->flows().lingering().size(), 1u);
  asio::ip::tcp::socket accepted(io_);
  server_.async_accept(accepted, [](std::error_code) {});
  sent_.clear();
  inject(tcp_syn(gateway_mac_, {kGuest, 47400}, {kGateway, port_}, kIsn + 100000));
  // The old connection is reset (the guest, in SYN_SENT, ignores a reset that does not acknowledge its SYN)...
  EXPECT_TRUE(guest_was_reset(47400));
  // ...and the new one answered.
  auto synack =
      await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 47400) && (f.l4()[13] & 0x12) == 0x12; });
  ASSERT_TRUE(synack);
  EXPECT_EQ(get32(synack->l4(), 8), kIsn + 100001);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::tcp_linger_reused), 1u);
  EXPECT_EQ(forwarder_->flows().lingering().size(), 0u);
}

TEST_F(LingeringTest, DetachingTheGuestAbortsItsClosingConnections) {
  resolve_gateway();
  ASSERT_TRUE(leave_closing(47200));
  ASSERT_TRUE(leave_closing(47201));
  EXPECT_EQ(forwarder_->flows().lingering().size(), 2u);
  stack_->guest_detached(1);
  EXPECT_EQ(forwarder_->flows().lingering().size(), 0u);
}

// A guest that closes properly leaves lwIP in TIME_WAIT for 2 s (TCP_MSL): counted until lwIP frees it, then
// forgotten without any reset.
TEST_F(LingeringTest, AProperlyClosedConnectionIsCountedUntilLwipFreesIt) {
  resolve_gateway();
  asio::ip::tcp::socket accepted(io_);
  const auto ack = connect_and_accept(47300, accepted);
  ASSERT_TRUE(ack);
  accepted.close();
  ASSERT_TRUE(await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 47300) && (f.l4()[13] & 0x01); }));
  inject(tcp_segment(gateway_mac_, {kGuest, 47300}, {kGateway, port_}, kIsn + 1, *ack + 1, 0x11));
  ASSERT_TRUE(run_until([&] { return forwarder_->flows().size() == 0; }, std::chrono::seconds(2)));
  EXPECT_EQ(forwarder_->flows().lingering().size(), 1u);
  EXPECT_TRUE(run_until([&] { return forwarder_->flows().lingering().size() == 0; }, std::chrono::seconds(5)));
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::tcp_linger_timeout), 0u);
  EXPECT_EQ(forward_counters_.events.get(forward::ForwardEvent::tcp_linger_evicted), 0u);
}

// lwIP patch 0005: an ARP frame shorter than an ARP message was read past its end (found by stack_fuzz; the
// sanitizer build of this test reports the over-read without the patch).
TEST_F(StackTest, ShortArpFramesAreDroppedUnread) {
  const Bytes full = arp_request(kGuest, kGateway);
  for (std::size_t length = 14; length < full.size(); ++length) {
    inject(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(length)));
  }
  EXPECT_TRUE(std::none_of(sent_.begin(), sent_.end(), [](const SeenFrame& f) { return f.ethertype() == 0x0806; }));
  inject(full);  // and a whole one is still answered
  EXPECT_TRUE(await_frame([](const SeenFrame& f) { return f.ethertype() == 0x0806; }));
}

}  // namespace
}  // namespace vznet::test
