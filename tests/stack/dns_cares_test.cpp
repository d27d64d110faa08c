// Tests for CaresResolver, c-ares on the Asio loop, against a scripted upstream on 127.0.0.1 (UDP and TCP on
// one port): answers relayed with their RCODE, truncated UDP answers fetched over TCP, failures and
// timeouts reported within the budget, nothing called back after destruction. Loopback only.
#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "dns/cares_resolver.h"
#include "dns/dns_message.h"

namespace vznet::dns {
namespace {

using Clock = std::chrono::steady_clock;

/// A DNS server on 127.0.0.1 that answers every question with `rcode` and `records`; over UDP it can
/// instead stay silent or send only a truncated answer (TC), as a real server does for a large answer.
class LoopbackUpstream {
 public:
  enum class Mode { answer, truncate_udp, silent };

  explicit LoopbackUpstream(asio::io_context& io)
      : udp_(io, {asio::ip::make_address_v4("127.0.0.1"), 0}),
        tcp_(io, {asio::ip::make_address_v4("127.0.0.1"), udp_.local_endpoint().port()}) {
    receive_udp();
    accept_tcp();
  }
  Ipv4Endpoint endpoint() const { return {Ipv4Address{127, 0, 0, 1}, udp_.local_endpoint().port()}; }

  Mode mode = Mode::answer;
  Rcode rcode = Rcode::no_error;
  std::vector<AnswerRecord> records;
  int udp_queries = 0;
  int tcp_queries = 0;

 private:
  Bytes answer(std::span<const std::uint8_t> query) const {
    auto parsed = parse_query(query);
    return parsed.query ? build_response(*parsed.query, rcode, records, false) : Bytes{};
  }

  void receive_udp() {
    udp_.async_receive_from(asio::buffer(buffer_), from_, [this](std::error_code ec, std::size_t n) {
      if (ec) return;
      ++udp_queries;
      if (mode != Mode::silent) {
        Bytes reply = answer(std::span(buffer_.data(), n));
        if (mode == Mode::truncate_udp) reply = fit_udp(std::move(reply), 512);  // header + question, TC
        udp_.send_to(asio::buffer(reply), from_);
      }
      receive_udp();
    });
  }

  void accept_tcp() {
    tcp_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      auto s = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
      read_tcp(s);
      accept_tcp();
    });
  }

  void read_tcp(const std::shared_ptr<asio::ip::tcp::socket>& s) {
    auto length = std::make_shared<std::array<std::uint8_t, 2>>();
    asio::async_read(*s, asio::buffer(*length), [this, s, length](std::error_code ec, std::size_t) {
      if (ec) return;
      auto message = std::make_shared<Bytes>(std::size_t{(*length)[0]} << 8 | (*length)[1]);
      asio::async_read(*s, asio::buffer(*message), [this, s, message](std::error_code ec2, std::size_t) {
        if (ec2) return;
        ++tcp_queries;
        const Bytes reply = answer(*message);
        auto framed = std::make_shared<Bytes>(
            Bytes{static_cast<std::uint8_t>(reply.size() >> 8), static_cast<std::uint8_t>(reply.size())});
        framed->insert(framed->end(), reply.begin(), reply.end());
        asio::async_write(*s, asio::buffer(*framed), [framed](std::error_code, std::size_t) {});
        read_tcp(s);
      });
    });
  }

  asio::ip::udp::socket udp_;
  asio::ip::tcp::acceptor tcp_;
  std::array<std::uint8_t, 4096> buffer_{};
  asio::ip::udp::endpoint from_;
};

struct Outcome {
  bool called = false;
  UpstreamError error = UpstreamError::none;
  Bytes answer;
  Clock::duration after{};
};

class CaresResolverTest : public ::testing::Test {
 protected:
  std::unique_ptr<CaresResolver> resolver(const std::vector<Ipv4Endpoint>& upstreams,
                                          std::chrono::milliseconds budget = std::chrono::seconds(2)) {
    return std::make_unique<CaresResolver>(io_, upstreams, budget);
  }

  std::shared_ptr<Outcome> ask(CaresResolver& r, std::uint16_t id, std::string_view name,
                               std::uint16_t qtype = type::a) {
    auto outcome = std::make_shared<Outcome>();
    const auto start = Clock::now();
    r.send(build_query(id, *Name::from_text(name), qtype),
           [outcome, start](UpstreamError e, std::span<const std::uint8_t> a) {
             outcome->called = true;
             outcome->error = e;
             outcome->answer.assign(a.begin(), a.end());
             outcome->after = Clock::now() - start;
           });
    return outcome;
  }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = Clock::now() + limit;
    while (!done() && Clock::now() < deadline) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(5));
    }
    return done();
  }

  asio::io_context io_;
};

TEST_F(CaresResolverTest, RelaysAnswersWithTheirIdAndRcode) {
  LoopbackUpstream upstream(io_);
  auto r = resolver({upstream.endpoint()});
  EXPECT_EQ(r->describe_servers(), upstream.endpoint().to_string());
  for (Rcode rcode : {Rcode::no_error, Rcode::name_error, Rcode::server_failure, Rcode::refused}) {
    upstream.rcode = rcode;
    upstream.records = rcode == Rcode::no_error ? std::vector<AnswerRecord>{{type::a, 60, {10, 1, 2, 3}}}
                                                : std::vector<AnswerRecord>{};
    auto outcome = ask(*r, 0x7001, "answer.example");
    ASSERT_TRUE(run_until([&] { return outcome->called; }));
    ASSERT_EQ(outcome->error, UpstreamError::none) << "rcode " << static_cast<int>(rcode);
    auto header = parse_header(outcome->answer);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->id, 0x7001);
    EXPECT_EQ(header->rcode(), rcode) << "c-ares must not swallow SERVFAIL or REFUSED";
    EXPECT_EQ(header->ancount, rcode == Rcode::no_error ? 1 : 0);
  }
}

TEST_F(CaresResolverTest, TruncatedUdpAnswerIsFetchedOverTcp) {
  LoopbackUpstream upstream(io_);
  upstream.mode = LoopbackUpstream::Mode::truncate_udp;
  for (int i = 0; i < 10; ++i) upstream.records.push_back({type::txt, 60, Bytes(201, 200)});
  auto r = resolver({upstream.endpoint()});
  auto outcome = ask(*r, 0x7002, "big.example", type::txt);
  ASSERT_TRUE(run_until([&] { return outcome->called; }));
  ASSERT_EQ(outcome->error, UpstreamError::none);
  EXPECT_GT(outcome->answer.size(), 2000u);
  EXPECT_FALSE(parse_header(outcome->answer)->flags & Header::kTc);
  EXPECT_EQ(parse_header(outcome->answer)->ancount, 10);
  EXPECT_EQ(upstream.udp_queries, 1);
  EXPECT_EQ(upstream.tcp_queries, 1);
}

TEST_F(CaresResolverTest, ClosedPortFailsFast) {
  std::uint16_t port;
  {
    asio::ip::udp::socket probe(io_, {asio::ip::make_address_v4("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  auto r = resolver({{Ipv4Address{127, 0, 0, 1}, port}});
  auto outcome = ask(*r, 0x7003, "refused.example");
  ASSERT_TRUE(run_until([&] { return outcome->called; }));
  EXPECT_NE(outcome->error, UpstreamError::none);
  EXPECT_LT(outcome->after, std::chrono::seconds(1)) << "ICMP port unreachable should end it, not a timeout";
}

TEST_F(CaresResolverTest, SilentServerTimesOutWithinTheBudget) {
  LoopbackUpstream upstream(io_);
  upstream.mode = LoopbackUpstream::Mode::silent;
  auto r = resolver({upstream.endpoint()}, std::chrono::milliseconds(900));
  auto outcome = ask(*r, 0x7004, "silent.example");
  ASSERT_TRUE(run_until([&] { return outcome->called; }));
  EXPECT_EQ(outcome->error, UpstreamError::timeout);
  EXPECT_GE(outcome->after, std::chrono::milliseconds(800));
  EXPECT_LT(outcome->after, std::chrono::milliseconds(1500));
  EXPECT_EQ(upstream.udp_queries, 2) << "tried twice";
}

TEST_F(CaresResolverTest, ManyConcurrentQueriesAreAllAnswered) {
  LoopbackUpstream upstream(io_);
  upstream.records = {{type::a, 60, {10, 0, 0, 1}}};
  auto r = resolver({upstream.endpoint()});
  std::vector<std::shared_ptr<Outcome>> outcomes;
  // 200 at once: more would overflow the test upstream's socket buffer (~200 small datagrams), and the
  // drops would be retried after the attempt timeout, which tests the kernel rather than the loop.
  for (std::uint16_t i = 0; i < 200; ++i) outcomes.push_back(ask(*r, i, "n" + std::to_string(i) + ".example"));
  ASSERT_TRUE(
      run_until([&] { return std::all_of(outcomes.begin(), outcomes.end(), [](auto& o) { return o->called; }); }));
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    ASSERT_EQ(outcomes[i]->error, UpstreamError::none) << i;
    EXPECT_EQ(parse_header(outcomes[i]->answer)->id, static_cast<std::uint16_t>(i));
  }
  EXPECT_EQ(upstream.udp_queries, 200) << "each sent once: no answer was lost and retried";
}

TEST_F(CaresResolverTest, DestroyingWithQueriesPendingCallsNobody) {
  LoopbackUpstream upstream(io_);
  upstream.mode = LoopbackUpstream::Mode::silent;
  auto r = resolver({upstream.endpoint()});
  auto outcome = ask(*r, 0x7005, "pending.example");
  run_until([&] { return upstream.udp_queries == 1; }, std::chrono::milliseconds(500));
  r.reset();
  io_.restart();
  io_.run_for(std::chrono::milliseconds(50));  // any queued handler of the resolver runs (and does nothing)
  EXPECT_FALSE(outcome->called);
}

}  // namespace
}  // namespace vznet::dns
