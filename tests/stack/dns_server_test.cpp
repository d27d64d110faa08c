// Stack tests for the DNS server: guest frames to gateway:53 (UDP and TCP) into a real Stack, a scripted fake
// upstream behind the UpstreamResolver seam, and assertions on the DNS messages that come back.
#include <gtest/gtest.h>

#include <set>

#include "dns/dns_server.h"
#include "forward/flow_table.h"
#include "tests/stack/frames.h"

namespace vznet::test {
namespace {

using dns::AnswerRecord;
using dns::Header;
using dns::Rcode;

const Ipv4Address kGateway{192, 168, 64, 1};
const Ipv4Address kGuest{192, 168, 64, 2};

/// Records every query; the test answers them (or not) through their callbacks.
class FakeUpstream final : public dns::UpstreamResolver {
 public:
  struct Sent {
    Bytes query;
    Callback done;
  };
  void send(std::span<const std::uint8_t> query, Callback done) override {
    sent.push_back({Bytes(query.begin(), query.end()), std::move(done)});
  }
  std::vector<Sent> sent;
};

Bytes query_for(std::uint16_t id, std::string_view name, std::uint16_t qtype,
                std::optional<std::uint16_t> edns = std::nullopt) {
  return dns::build_query(id, *dns::Name::from_text(name), qtype, edns);
}

/// The upstream's answer to `query` (its ID kept): `rcode` and `records`.
Bytes answer_to(const Bytes& query, Rcode rcode, const std::vector<AnswerRecord>& records = {}) {
  auto parsed = dns::parse_query(query);
  EXPECT_TRUE(parsed.query);
  return dns::build_response(*parsed.query, rcode, records, false);
}

std::vector<AnswerRecord> txt_records(std::size_t count, std::size_t length) {
  std::vector<AnswerRecord> records;
  for (std::size_t i = 0; i < count; ++i) {
    Bytes rdata{static_cast<std::uint8_t>(length)};
    rdata.insert(rdata.end(), length, static_cast<std::uint8_t>('a' + i % 26));
    records.push_back({dns::type::txt, 300, rdata});
  }
  return records;
}

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

/// The payload of a UDP or TCP frame, by the IP total length (frames may carry padding).
Bytes l4_payload(const SeenFrame& f) {
  const std::size_t ip_total = get16(f.ip(), 2);
  const std::size_t ip_header = static_cast<std::size_t>(f.ip()[0] & 0x0F) * 4;
  const std::size_t l4_header = f.protocol() == 17 ? 8 : static_cast<std::size_t>(f.l4()[12] >> 4) * 4;
  return Bytes(f.l4().begin() + static_cast<std::ptrdiff_t>(l4_header),
               f.l4().begin() + static_cast<std::ptrdiff_t>(ip_total - ip_header));
}

class DnsServerTest : public ::testing::Test {
 protected:
  DnsServerTest() {
    stack::StackConfig config;
    gateway_mac_ = config.gateway_mac;
    stack_ = std::make_unique<stack::Stack>(
        io_, config, [this](virtio::Frame f) { sent_.push_back({Bytes(f.begin(), f.end())}); }, stack_counters_);
  }
  ~DnsServerTest() override {
    server_.reset();
    flows_.reset();
    stack_.reset();
  }

  void start(const dns::DnsConfig& config = {}) {
    auto fake = std::make_unique<FakeUpstream>();
    upstream_ = fake.get();
    flows_ = std::make_unique<forward::FlowTable>(io_, flow_limits_, forward_counters_);
    server_ = std::make_unique<dns::DnsServer>(io_, *stack_, *flows_, config, std::move(fake));
    inject(arp_request(kGuest, kGateway));  // lwIP learns the guest's MAC, as from a real guest
    ASSERT_TRUE(await_frame([](const SeenFrame& f) { return f.ethertype() == 0x0806; }));
    sent_.clear();
  }

  void inject(const Bytes& frame) { stack_->guest_frame(1, frame); }
  std::uint64_t count(dns::DnsEvent e) const { return server_->counters().events.get(e); }

  std::optional<SeenFrame> await_frame(const std::function<bool(const SeenFrame&)>& match,
                                       std::chrono::milliseconds limit = std::chrono::seconds(3)) {
    return take_frame(io_, sent_, match, limit);
  }

  static bool is_udp_to_guest(const SeenFrame& f, std::uint16_t port) {
    return f.ethertype() == 0x0800 && f.protocol() == 17 && f.ip_dst() == kGuest && get16(f.l4(), 2) == port;
  }

  void send_udp(const Bytes& message, std::uint16_t port = 5353) {
    inject(udp_datagram(gateway_mac_, {kGuest, port}, {kGateway, 53}, message));
  }

  /// The next DNS message to the guest's UDP `port`, checked to come from gateway:53.
  std::optional<Bytes> await_udp(std::uint16_t port = 5353, std::chrono::milliseconds limit = std::chrono::seconds(3)) {
    auto f = await_frame([port](const SeenFrame& s) { return is_udp_to_guest(s, port); }, limit);
    if (!f) return std::nullopt;
    EXPECT_EQ(f->ip_src(), kGateway);
    EXPECT_EQ(get16(f->l4(), 0), 53);
    return l4_payload(*f);
  }

  std::optional<Bytes> ask_udp(const Bytes& query, std::uint16_t port = 5353) {
    send_udp(query, port);
    return await_udp(port);
  }

  /// A guest TCP connection to gateway:53, driven segment by segment.
  struct TcpGuest {
    std::uint16_t port;
    std::uint32_t seq = 1000;  // next sequence number the guest sends
    std::uint32_t ack = 0;     // next sequence number the guest expects
    Bytes received;
    bool fin = false, rst = false;
  };

  void tcp_connect(TcpGuest& g) {
    inject(tcp_syn(gateway_mac_, {kGuest, g.port}, {kGateway, 53}, g.seq - 1));
    auto syn_ack = await_frame([&](const SeenFrame& f) { return is_tcp_to_guest(f, g.port); });
    ASSERT_TRUE(syn_ack);
    ASSERT_EQ(syn_ack->l4()[13] & (kSyn | kAck), kSyn | kAck);
    g.ack = get32(syn_ack->l4(), 4) + 1;
    inject(tcp_segment(gateway_mac_, {kGuest, g.port}, {kGateway, 53}, g.seq, g.ack, kAck));
  }

  void tcp_send(TcpGuest& g, std::span<const std::uint8_t> data, std::uint8_t extra_flags = 0) {
    inject(tcp_segment(gateway_mac_, {kGuest, g.port}, {kGateway, 53}, g.seq, g.ack, kAck | kPsh | extra_flags, data));
    g.seq += static_cast<std::uint32_t>(data.size()) + ((extra_flags & kFin) ? 1 : 0);
  }

  /// Reads segments for `g` (acknowledging them) until `done()` or the time limit.
  bool tcp_pump(TcpGuest& g, const std::function<bool()>& done,
                std::chrono::milliseconds limit = std::chrono::seconds(3)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      auto f = await_frame([&](const SeenFrame& s) { return is_tcp_to_guest(s, g.port); }, left);
      if (!f) return false;
      const std::uint8_t flags = f->l4()[13];
      if (flags & kRst) {
        g.rst = true;
        continue;
      }
      const Bytes data = l4_payload(*f);
      if (get32(f->l4(), 4) == g.ack) {
        g.received.insert(g.received.end(), data.begin(), data.end());
        g.ack += static_cast<std::uint32_t>(data.size());
        if (flags & kFin) {
          g.fin = true;
          ++g.ack;
        }
      }
      inject(tcp_segment(gateway_mac_, {kGuest, g.port}, {kGateway, 53}, g.seq, g.ack, kAck));
    }
    return true;
  }

  static bool is_tcp_to_guest(const SeenFrame& f, std::uint16_t port) {
    return f.ethertype() == 0x0800 && f.protocol() == 6 && f.ip_dst() == kGuest && get16(f.l4(), 2) == port;
  }

  /// The complete length-prefixed messages in a TCP byte stream.
  static std::vector<Bytes> framed_messages(const Bytes& stream) {
    std::vector<Bytes> out;
    std::size_t at = 0;
    while (stream.size() - at >= 2) {
      const std::size_t length = get16(stream, at);
      if (stream.size() - at - 2 < length) break;
      out.emplace_back(stream.begin() + static_cast<std::ptrdiff_t>(at + 2),
                       stream.begin() + static_cast<std::ptrdiff_t>(at + 2 + length));
      at += 2 + length;
    }
    return out;
  }

  static Bytes framed(const Bytes& message) {
    Bytes out{static_cast<std::uint8_t>(message.size() >> 8), static_cast<std::uint8_t>(message.size())};
    out.insert(out.end(), message.begin(), message.end());
    return out;
  }

  asio::io_context io_;
  stack::StackCounters stack_counters_;
  std::unique_ptr<stack::Stack> stack_;
  forward::FlowLimits flow_limits_;  ///< set before start()
  forward::ForwardCounters forward_counters_;
  std::unique_ptr<forward::FlowTable> flows_;
  std::unique_ptr<dns::DnsServer> server_;
  FakeUpstream* upstream_ = nullptr;
  std::vector<SeenFrame> sent_;
  Mac gateway_mac_{};
};

TEST_F(DnsServerTest, AnswersHostVzInternalFromTheZone) {
  start();
  auto reply = ask_udp(query_for(0x1234, "Host.VZ.Internal", dns::type::a));
  ASSERT_TRUE(reply);
  auto header = dns::parse_header(*reply);
  EXPECT_EQ(header->id, 0x1234);
  EXPECT_EQ(header->rcode(), Rcode::no_error);
  EXPECT_TRUE(header->flags & Header::kAa);
  ASSERT_EQ(header->ancount, 1);
  EXPECT_EQ(Bytes(reply->end() - 4, reply->end()), (Bytes{192, 168, 64, 1}));
  EXPECT_TRUE(upstream_->sent.empty()) << "zone names never go upstream";
  EXPECT_EQ(count(dns::DnsEvent::zone_answer), 1u);
  EXPECT_EQ(count(dns::DnsEvent::udp_query), 1u);
}

TEST_F(DnsServerTest, OtherTypesForZoneNamesAreNoErrorWithoutAnswers) {
  dns::DnsConfig config;
  config.records = {{"db.example.test", Ipv4Address{10, 0, 0, 5}}};
  start(config);
  for (std::string_view name : {"host.vz.internal", "gateway.vz.internal", "db.example.test"}) {
    auto reply = ask_udp(query_for(7, name, dns::type::aaaa));
    ASSERT_TRUE(reply) << name;
    EXPECT_EQ(dns::parse_header(*reply)->rcode(), Rcode::no_error) << name;
    EXPECT_EQ(dns::parse_header(*reply)->ancount, 0) << name;
  }
  auto db = ask_udp(query_for(8, "DB.example.test", dns::type::a));
  ASSERT_TRUE(db);
  EXPECT_EQ(Bytes(db->end() - 4, db->end()), (Bytes{10, 0, 0, 5}));
  auto missing = ask_udp(query_for(9, "missing.vz.internal", dns::type::a));
  ASSERT_TRUE(missing);
  EXPECT_EQ(dns::parse_header(*missing)->rcode(), Rcode::name_error);
  EXPECT_TRUE(upstream_->sent.empty());
}

TEST_F(DnsServerTest, AnswersTheGatewayPtr) {
  start();
  auto reply = ask_udp(query_for(3, "1.64.168.192.in-addr.arpa", dns::type::ptr));
  ASSERT_TRUE(reply);
  ASSERT_EQ(dns::parse_header(*reply)->ancount, 1);
  const auto name = *dns::Name::from_text("gateway.vz.internal");
  EXPECT_EQ(std::string(reply->end() - static_cast<std::ptrdiff_t>(name.wire.size()), reply->end()), name.wire);
}

TEST_F(DnsServerTest, ForwardsWithItsOwnIdAndRestoresTheGuestsId) {
  start();
  const Bytes query = query_for(0x1111, "www.example.com", dns::type::mx);
  send_udp(query);
  io_.restart();
  io_.poll();
  ASSERT_EQ(upstream_->sent.size(), 1u);
  const Bytes& upstream_query = upstream_->sent[0].query;
  EXPECT_TRUE(std::equal(query.begin() + 2, query.end(), upstream_query.begin() + 2, upstream_query.end()))
      << "forwarded unchanged but for the ID";
  // The upstream's NXDOMAIN comes back as it is, with the guest's ID.
  const Bytes answer = answer_to(upstream_query, Rcode::name_error);
  upstream_->sent[0].done(dns::UpstreamError::none, answer);
  auto reply = await_udp();
  ASSERT_TRUE(reply);
  EXPECT_EQ(dns::parse_header(*reply)->id, 0x1111);
  EXPECT_EQ(dns::parse_header(*reply)->rcode(), Rcode::name_error);
  EXPECT_TRUE(std::equal(answer.begin() + 2, answer.end(), reply->begin() + 2, reply->end()));
  EXPECT_EQ(server_->pending_queries(), 0u);
  EXPECT_EQ(count(dns::DnsEvent::upstream_answer), 1u);
}

TEST_F(DnsServerTest, UpstreamServfailAndFailuresReachTheGuestAsServfail) {
  start();
  send_udp(query_for(21, "fails.example", dns::type::a), 6001);
  send_udp(query_for(22, "down.example", dns::type::a), 6002);
  io_.restart();
  io_.poll();
  ASSERT_EQ(upstream_->sent.size(), 2u);
  upstream_->sent[0].done(dns::UpstreamError::none, answer_to(upstream_->sent[0].query, Rcode::server_failure));
  upstream_->sent[1].done(dns::UpstreamError::unreachable, {});
  auto relayed = await_udp(6001);
  auto failed = await_udp(6002);
  ASSERT_TRUE(relayed && failed);
  EXPECT_EQ(dns::parse_header(*relayed)->rcode(), Rcode::server_failure);
  EXPECT_EQ(dns::parse_header(*failed)->rcode(), Rcode::server_failure);
  EXPECT_EQ(dns::parse_header(*failed)->id, 22);
  EXPECT_EQ(dns::parse_header(*failed)->qdcount, 1) << "the question is echoed";
  EXPECT_EQ(count(dns::DnsEvent::upstream_failure), 1u);
}

TEST_F(DnsServerTest, LargeUdpAnswersAreTruncatedWithTcUnlessEdnsAllowsThem) {
  start();
  send_udp(query_for(31, "big.example", dns::type::txt), 6101);
  send_udp(query_for(32, "big.example", dns::type::txt, 1232), 6102);
  io_.restart();
  io_.poll();
  ASSERT_EQ(upstream_->sent.size(), 2u);
  const auto records = txt_records(5, 200);  // about 1.1 kB: over 512, under 1232
  for (auto& sent : upstream_->sent) {
    const Bytes answer = answer_to(sent.query, Rcode::no_error, records);
    ASSERT_GT(answer.size(), 512u);
    ASSERT_LT(answer.size(), 1232u);
    sent.done(dns::UpstreamError::none, answer);
  }
  auto classic = await_udp(6101);
  ASSERT_TRUE(classic);
  auto header = dns::parse_header(*classic);
  EXPECT_TRUE(header->flags & Header::kTc);
  EXPECT_EQ(header->ancount, 0);
  EXPECT_EQ(header->qdcount, 1);
  EXPECT_LE(classic->size(), 512u);
  auto edns = await_udp(6102);
  ASSERT_TRUE(edns);
  EXPECT_FALSE(dns::parse_header(*edns)->flags & Header::kTc);
  EXPECT_EQ(dns::parse_header(*edns)->ancount, 5);
  EXPECT_EQ(count(dns::DnsEvent::truncated), 1u);
}

TEST_F(DnsServerTest, MalformedQueriesGetFormerrOrAreDroppedWhenHeaderless) {
  start();
  Bytes bad = query_for(41, "x.example", dns::type::a);
  bad.resize(dns::kHeaderSize + 3);  // the question is cut off
  auto formerr = ask_udp(bad);
  ASSERT_TRUE(formerr);
  EXPECT_EQ(dns::parse_header(*formerr)->id, 41);
  EXPECT_EQ(dns::parse_header(*formerr)->rcode(), Rcode::format_error);

  Bytes status = query_for(42, "x.example", dns::type::a);
  status[2] |= 0x10;  // opcode 2
  auto notimp = ask_udp(status);
  ASSERT_TRUE(notimp);
  EXPECT_EQ(dns::parse_header(*notimp)->rcode(), Rcode::not_implemented);

  send_udp(Bytes{1, 2, 3});
  Bytes response = query_for(43, "x.example", dns::type::a);
  response[2] |= 0x80;  // QR: a response, never answered
  send_udp(response);
  EXPECT_FALSE(await_udp(5353, std::chrono::milliseconds(200)));
  EXPECT_EQ(count(dns::DnsEvent::dropped_no_header), 1u);
  EXPECT_EQ(count(dns::DnsEvent::dropped_response), 1u);
  EXPECT_EQ(count(dns::DnsEvent::format_error), 1u);
  EXPECT_TRUE(upstream_->sent.empty());
}

TEST_F(DnsServerTest, SilentUpstreamMeansServfailAtTheDeadline) {
  dns::DnsConfig config;
  config.upstream_timeout = std::chrono::milliseconds(300);
  start(config);
  const auto start = std::chrono::steady_clock::now();
  send_udp(query_for(51, "slow.example", dns::type::a));
  auto reply = await_udp();
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(reply);
  EXPECT_EQ(dns::parse_header(*reply)->rcode(), Rcode::server_failure);
  EXPECT_GE(waited, std::chrono::milliseconds(280));
  EXPECT_LT(waited, std::chrono::milliseconds(1500));
  EXPECT_EQ(count(dns::DnsEvent::upstream_timeout), 1u);
  // A late answer is dropped: the guest already has its SERVFAIL.
  ASSERT_EQ(upstream_->sent.size(), 1u);
  upstream_->sent[0].done(dns::UpstreamError::none, answer_to(upstream_->sent[0].query, Rcode::no_error));
  EXPECT_FALSE(await_udp(5353, std::chrono::milliseconds(100)));
  EXPECT_EQ(count(dns::DnsEvent::late_answer), 1u);
  EXPECT_EQ(server_->pending_queries(), 0u);
}

TEST_F(DnsServerTest, PendingQueriesAreBoundedAndTheRestGetServfailAtOnce) {
  dns::DnsConfig config;
  config.max_pending = 2;
  start(config);
  for (std::uint16_t i = 0; i < 3; ++i) send_udp(query_for(60 + i, "flood.example", dns::type::a), 6200 + i);
  auto refused = await_udp(6202, std::chrono::milliseconds(200));
  ASSERT_TRUE(refused);
  EXPECT_EQ(dns::parse_header(*refused)->rcode(), Rcode::server_failure);
  EXPECT_EQ(upstream_->sent.size(), 2u);
  EXPECT_EQ(server_->pending_queries(), 2u);
  EXPECT_EQ(count(dns::DnsEvent::pending_limit), 1u);
  for (auto& sent : upstream_->sent) sent.done(dns::UpstreamError::none, answer_to(sent.query, Rcode::no_error));
  EXPECT_TRUE(await_udp(6200) && await_udp(6201));
  EXPECT_EQ(server_->pending_queries(), 0u);
}

TEST_F(DnsServerTest, TcpPipelinedQueriesAreAnsweredAsTheyComplete) {
  start();
  TcpGuest g{44001};
  tcp_connect(g);
  ASSERT_FALSE(HasFatalFailure());
  // Two queries in one segment: a forwarded one first, then a zone one, which is answered first.
  Bytes both = framed(query_for(0xA001, "big.example", dns::type::txt));
  const Bytes zone = framed(query_for(0xA002, "host.vz.internal", dns::type::a));
  both.insert(both.end(), zone.begin(), zone.end());
  tcp_send(g, both);
  ASSERT_TRUE(tcp_pump(g, [&] { return framed_messages(g.received).size() == 1; }));
  EXPECT_EQ(dns::parse_header(framed_messages(g.received)[0])->id, 0xA002);
  ASSERT_EQ(upstream_->sent.size(), 1u);
  // A 3 kB answer: over TCP it arrives whole, across several segments.
  const Bytes answer = answer_to(upstream_->sent[0].query, Rcode::no_error, txt_records(12, 250));
  ASSERT_GT(answer.size(), 3000u);
  upstream_->sent[0].done(dns::UpstreamError::none, answer);
  ASSERT_TRUE(tcp_pump(g, [&] { return framed_messages(g.received).size() == 2; }));
  const Bytes big = framed_messages(g.received)[1];
  EXPECT_EQ(big.size(), answer.size());
  EXPECT_EQ(dns::parse_header(big)->id, 0xA001);
  EXPECT_FALSE(dns::parse_header(big)->flags & Header::kTc);
  EXPECT_TRUE(std::equal(answer.begin() + 2, answer.end(), big.begin() + 2));
  EXPECT_EQ(count(dns::DnsEvent::tcp_query), 2u);
  EXPECT_EQ(server_->tcp_connections(), 1u);
}

TEST_F(DnsServerTest, PipelinedQueriesBeyondTheInFlightLimitWaitTheirTurn) {
  start();
  TcpGuest g{44004};
  tcp_connect(g);
  ASSERT_FALSE(HasFatalFailure());
  constexpr std::uint16_t kQueries = 40;
  Bytes all;
  for (std::uint16_t i = 0; i < kQueries; ++i) {
    const Bytes one = framed(query_for(static_cast<std::uint16_t>(0xC000 + i), "many.example", dns::type::a));
    all.insert(all.end(), one.begin(), one.end());
  }
  tcp_send(g, all);
  io_.restart();
  io_.poll();
  EXPECT_EQ(upstream_->sent.size(), dns::kMaxTcpQueriesInFlight) << "the rest wait in the connection's input";
  // Answer whatever is upstream until every query got its reply.
  std::size_t answered = 0;
  ASSERT_TRUE(tcp_pump(g, [&] {
    while (answered < upstream_->sent.size()) {
      auto& sent = upstream_->sent[answered++];
      sent.done(dns::UpstreamError::none, answer_to(sent.query, Rcode::no_error));
    }
    return framed_messages(g.received).size() == kQueries;
  }));
  std::set<std::uint16_t> ids;
  for (const Bytes& m : framed_messages(g.received)) ids.insert(dns::parse_header(m)->id);
  EXPECT_EQ(ids.size(), kQueries);
  EXPECT_EQ(*ids.begin(), 0xC000);
  EXPECT_EQ(*ids.rbegin(), 0xC000 + kQueries - 1);
}

TEST_F(DnsServerTest, TcpQuerySplitAcrossSegmentsThenFinIsAnsweredThenClosed) {
  start();
  TcpGuest g{44002};
  tcp_connect(g);
  ASSERT_FALSE(HasFatalFailure());
  const Bytes message = framed(query_for(0xB001, "gateway.vz.internal", dns::type::a));
  tcp_send(g, std::span(message).first(1));  // even the length prefix is split
  tcp_send(g, std::span(message).subspan(1, 10));
  tcp_send(g, std::span(message).subspan(11), kFin);
  ASSERT_TRUE(tcp_pump(g, [&] { return g.fin; }));
  const auto messages = framed_messages(g.received);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(dns::parse_header(messages[0])->id, 0xB001);
  EXPECT_EQ(dns::parse_header(messages[0])->ancount, 1);
  io_.restart();
  io_.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(server_->tcp_connections(), 0u);
}

TEST_F(DnsServerTest, IdleTcpConnectionsAreClosed) {
  dns::DnsConfig config;
  config.tcp_idle_timeout = std::chrono::milliseconds(200);
  start(config);
  TcpGuest g{44003};
  tcp_connect(g);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(tcp_pump(
      g, [&] { return g.fin || g.rst; }, std::chrono::seconds(2)));
  EXPECT_EQ(count(dns::DnsEvent::tcp_idle_closed), 1u);
}

TEST_F(DnsServerTest, TooManyTcpConnectionsAreRefused) {
  start();
  for (std::uint16_t i = 0; i < dns::kMaxTcpConnections; ++i) {
    TcpGuest g{static_cast<std::uint16_t>(45000 + i)};
    tcp_connect(g);
    ASSERT_FALSE(HasFatalFailure());
  }
  // lwIP completes the handshake; the connection is refused when it would be accepted.
  TcpGuest extra{46000};
  tcp_connect(extra);
  ASSERT_FALSE(HasFatalFailure());
  auto refused = await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 46000); });
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->l4()[13] & kRst);
  EXPECT_EQ(count(dns::DnsEvent::tcp_refused), 1u);
}

TEST_F(DnsServerTest, TcpConnectionsAreFlowsOfTheirGuestListedAndCounted) {
  start();
  TcpGuest g{44005};
  tcp_connect(g);
  ASSERT_FALSE(HasFatalFailure());
  const Bytes query = framed(query_for(0xB005, "host.vz.internal", dns::type::a));
  tcp_send(g, query);
  ASSERT_TRUE(tcp_pump(g, [&] { return framed_messages(g.received).size() == 1; }));
  ASSERT_EQ(flows_->size(), 1u);
  flows_->for_each([&](const forward::Flow& flow) {
    EXPECT_EQ(flow.key().protocol, IpProtocol::tcp);
    EXPECT_EQ(flow.key().guest, (Ipv4Endpoint{kGuest, 44005}));
    EXPECT_EQ(flow.key().destination, (Ipv4Endpoint{kGateway, 53}));
    EXPECT_EQ(flow.port(), virtio::PortId{1});
    EXPECT_STREQ(flow.state_name(), "dns");
    EXPECT_EQ(flow.bytes_to_host(), query.size());
    EXPECT_EQ(flow.bytes_to_guest(), g.received.size());
  });
  tcp_send(g, {}, kFin);
  ASSERT_TRUE(tcp_pump(g, [&] { return g.fin; }));
  io_.restart();
  io_.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(flows_->size(), 0u);  // closed: gone from the table
}

TEST_F(DnsServerTest, TcpConnectionsCountAgainstTheGuestsShareOfTheFlowTable) {
  flow_limits_.max_per_guest = 1;
  start();
  TcpGuest first{44006};
  tcp_connect(first);
  ASSERT_FALSE(HasFatalFailure());
  TcpGuest second{44007};
  tcp_connect(second);
  ASSERT_FALSE(HasFatalFailure());
  auto refused = await_frame([](const SeenFrame& f) { return is_tcp_to_guest(f, 44007); });
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->l4()[13] & kRst);
  EXPECT_EQ(count(dns::DnsEvent::tcp_refused), 1u);
  EXPECT_EQ(server_->tcp_connections(), 1u);
}

TEST_F(DnsServerTest, TcpConnectionsOfADetachedGuestAreReset) {
  start();
  TcpGuest g{44008};
  tcp_connect(g);
  ASSERT_FALSE(HasFatalFailure());
  io_.restart();
  io_.poll();
  ASSERT_EQ(server_->tcp_connections(), 1u);
  EXPECT_EQ(flows_->terminate_port(1), 1u);
  EXPECT_EQ(server_->tcp_connections(), 0u);
  ASSERT_TRUE(tcp_pump(g, [&] { return g.rst; }));
  EXPECT_EQ(flows_->size(), 0u);
}

}  // namespace
}  // namespace vznet::test
