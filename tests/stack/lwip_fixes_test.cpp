// Stack tests for the lwIP fixes released after 2.1.3 that vznet carries as patches (third_party/lwip/patches,
// 0010 and up, and 0006 and 0014, ours; third_party/README.md lists every upstream fix and why it is or is not
// carried). Each test sends the crafted guest input its fix is about and fails when that patch is left out.
#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "tests/stack/stack_fixture.h"

namespace vznet::test {
namespace {

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10;

/// The TCP fields of a segment the stack sent.
struct SeenSegment {
  std::uint32_t seq;
  std::uint32_t ack;
  std::uint8_t flags;
  std::size_t payload;
};

SeenSegment segment_of(const SeenFrame& f) {
  const auto ip = f.ip();
  const std::size_t ip_header = static_cast<std::size_t>(ip[0] & 0x0F) * 4;
  const std::size_t tcp_header = static_cast<std::size_t>(f.l4()[12] >> 4) * 4;
  return {get32(f.l4(), 4), get32(f.l4(), 8), f.l4()[13], get16(ip, 2) - ip_header - tcp_header};
}

class LwipFixesTest : public StackTest {
 protected:
  LwipFixesTest() : server_(io_, {asio::ip::make_address_v4("127.0.0.1"), 0}) {
    port_ = server_.local_endpoint().port();
    resolve_gateway();
  }

  /// The guest's SYN to the loopback server; returns the stack's ISN + 1 once the SYN-ACK came (the host
  /// connect succeeded first), nullopt otherwise. The stack's pcb is then in SYN_RCVD.
  std::optional<std::uint32_t> syn(std::uint16_t guest_port, std::uint32_t guest_isn) {
    inject(tcp_syn(gateway_mac_, {kGuest, guest_port}, {kGateway, port_}, guest_isn));
    auto synack = await_frame([&](const SeenFrame& f) { return is_tcp_to_guest(f, guest_port); });
    if (!synack || (segment_of(*synack).flags & (kSyn | kAck)) != (kSyn | kAck)) return std::nullopt;
    return segment_of(*synack).seq + 1;
  }

  /// A guest segment from `guest_port` to the server.
  void send(std::uint16_t guest_port, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
            std::span<const std::uint8_t> data = {}) {
    inject(tcp_segment(gateway_mac_, {kGuest, guest_port}, {kGateway, port_}, seq, ack, flags, data));
  }

  /// The stack still completes a new connection (it did not abort or wedge).
  bool still_serving(std::uint16_t guest_port) {
    sent_.clear();
    return connect_guest(guest_port, port_, 777000).has_value();
  }

  asio::ip::tcp::acceptor server_;
  std::uint16_t port_ = 0;
};

// Patch 0010 (upstream adbc5b5f): a SYN|ACK answering our SYN-ACK used to complete the handshake, and its SYN
// then took one byte of sequence space in front of the data: lwIP acknowledged a byte the guest never sent.
// Now the SYN|ACK is ignored and the plain ACK that follows completes the handshake.
TEST_F(LwipFixesTest, SynAckInSynRcvdIsNotTheHandshakeAck) {
  constexpr std::uint16_t kPort = 44001;
  constexpr std::uint32_t kIsn = 1000;
  const auto ours = syn(kPort, kIsn);
  ASSERT_TRUE(ours);
  const Bytes data{'a', 'b', 'c', 'd'};
  send(kPort, kIsn + 1, *ours, kSyn | kAck | kPsh, data);
  send(kPort, kIsn + 1, *ours, kAck | kPsh, data);
  auto ack = await_frame([&](const SeenFrame& f) {
    return is_tcp_to_guest(f, kPort) && (segment_of(f).flags & kAck) && segment_of(f).ack != kIsn + 1;
  });
  ASSERT_TRUE(ack) << "the data was never acknowledged";
  EXPECT_EQ(segment_of(*ack).ack, kIsn + 1 + data.size());
}

// Patch 0010, the abort: the SYN|ACK carries data out of order, reaching past the window's right edge. It is
// queued with its SYN, and when the gap before it is filled (the host not reading meanwhile), the SYN's extra
// byte of sequence space overran the window even after trimming: tcp_receive() asserted and vznet aborted.
TEST_F(LwipFixesTest, OutOfOrderSynAckInSynRcvdDoesNotAbort) {
  constexpr std::uint16_t kPort = 44002;
  constexpr std::uint32_t kIsn = 5000;
  const auto ours = syn(kPort, kIsn);
  ASSERT_TRUE(ours);
  // Our SYN offers no window scaling, so lwIP's window is 65535.
  const std::uint32_t edge_offset = 65535 - 100;
  const std::uint32_t first = kIsn + 1;
  send(kPort, first + edge_offset, *ours, kSyn | kAck, Bytes(2000, 0x5A));
  // Fill the gap in order without running the loop: no host write, so no window update.
  const Bytes chunk(1460, 0x33);
  for (std::uint32_t offset = 0; offset < edge_offset;) {
    const std::uint32_t n = std::min<std::uint32_t>(1460, edge_offset - offset);
    send(kPort, first + offset, *ours, kAck, std::span(chunk).first(n));
    offset += n;
  }
  EXPECT_TRUE(still_serving(44003));
}

// Patch 0006 (ours; lwIP master still has the hole): a segment of one sequence number (a bare FIN, or one byte)
// that starts exactly 2^31 before what lwIP expects passed tcp_receive()'s "starts before rcv_nxt and ends
// after it" test, and the trim asserted ("insane offset!"): one segment aborted vznet. Found by stack_fuzz.
TEST_F(LwipFixesTest, SegmentHalfTheSequenceSpaceAwayDoesNotAbort) {
  constexpr std::uint16_t kPort = 44020;
  constexpr std::uint32_t kIsn = 7000;
  constexpr std::uint32_t kHalf = 0x80000000U;
  const auto ours = connect_guest(kPort, port_, kIsn);
  ASSERT_TRUE(ours);
  send(kPort, kIsn + 1 + kHalf, *ours, kAck | kFin);
  send(kPort, kIsn + 1 + kHalf, *ours, kAck | kPsh, Bytes{'x'});
  EXPECT_TRUE(still_serving(44021));
}

// Patch 0013 (upstream b1d3dcb8): the guest lost our segment and says so with duplicate ACKs, while sending
// data of its own in between (as a request/response protocol does). The data segment acknowledges nothing new
// and must not reset the count: the third duplicate ACK triggers a fast retransmit, at once, not after an RTO.
TEST_F(LwipFixesTest, DupAcksAcrossGuestDataStillFastRetransmit) {
  constexpr std::uint16_t kPort = 44010;
  constexpr std::uint32_t kIsn = 9000;
  const auto ours = connect_guest(kPort, port_, kIsn);
  ASSERT_TRUE(ours);
  asio::ip::tcp::socket host(io_);
  server_.accept(host);
  asio::write(host, asio::buffer(Bytes(1000, 0x42)));
  auto lost = await_frame([&](const SeenFrame& f) { return is_tcp_to_guest(f, kPort) && segment_of(f).payload > 0; });
  ASSERT_TRUE(lost);
  ASSERT_EQ(segment_of(*lost).seq, *ours);
  sent_.clear();
  // Injected back to back, without running the loop: no retransmission timer can fire in between.
  const Bytes request{'x'};
  send(kPort, kIsn + 1, *ours, kAck);
  send(kPort, kIsn + 1, *ours, kAck | kPsh, request);
  send(kPort, kIsn + 2, *ours, kAck);
  send(kPort, kIsn + 2, *ours, kAck);
  EXPECT_TRUE(std::any_of(sent_.begin(), sent_.end(), [&](const SeenFrame& f) {
    return is_tcp_to_guest(f, kPort) && segment_of(f).payload > 0 && segment_of(f).seq == *ours;
  })) << "no fast retransmit after three duplicate ACKs";
}

// Patch 0014: tcp_init() starts the ephemeral ports at a random one in [0xc000, 0xffff]; from 0xffff the
// increment wrapped to 0, which tcp_bind() reads as "no port free". The Stack's catch-all listener binds
// the first ephemeral port, so one start in 16384 failed ("lwIP: no memory", seen in CI). Each draw here is
// a new random start; 500000 draws miss 0xffff with probability e^-30. Without the patch this fails in the
// sanitizer build; GCC's -O2 alone happens to compile the comparison into a range check that also catches 0.
TEST_F(LwipFixesTest, EveryRandomStartOfTheEphemeralPortsGivesOneInTheirRange) {
  constexpr int kDraws = 500000;
  int failed = 0, outside = 0, wrapped = 0;
  for (int i = 0; i < kDraws; ++i) {
    tcp_init();
    tcp_pcb* pcb = tcp_new();
    ASSERT_NE(pcb, nullptr);
    if (tcp_bind(pcb, IP4_ADDR_ANY, 0) != ERR_OK) {
      ++failed;
    } else if (pcb->local_port < 0xc000 || pcb->local_port == 0xffff) {
      ++outside;
    } else if (pcb->local_port == 0xc000) {
      ++wrapped;
    }
    ASSERT_EQ(tcp_close(pcb), ERR_OK);
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(outside, 0);
  EXPECT_GT(wrapped, 0) << "no draw started at the end of the range";
}

}  // namespace
}  // namespace vznet::test
