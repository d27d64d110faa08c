// Fuzz target: what the DNS server does with an upstream's answer (dns/dns_server on_upstream: restore the
// guest's ID, fit the guest's UDP limit, send it into lwIP). A guest query goes into a real Stack (UDP to
// gateway:53); a fake upstream answers it with the input's bytes. Input: [control][query length: 2 bytes,
// big-endian][query][answer]. control bits 0-1: the upstream's verdict (answer, timeout, unreachable, failed);
// bit 2: the upstream answers a second time (a late or duplicate answer must be ignored). The query is what the
// guest sends (mostly the seeds' valid ones, so the answer path is reached). Every UDP answer to the guest must
// fit the guest's limit (512, or its EDNS0 size up to 4096).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "dns/dns_server.h"
#include "forward/flow_table.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/stack/frames.h"

namespace {

using namespace vznet;
using namespace vznet::test;
using vznet::fuzz::check;

const Ipv4Address kGateway{192, 168, 64, 1};
const Ipv4Address kGuest{192, 168, 64, 2};

class FakeUpstream final : public dns::UpstreamResolver {
 public:
  void send(std::span<const std::uint8_t> query, Callback done) override {
    sent.push_back({Bytes(query.begin(), query.end()), std::move(done)});
  }
  struct Sent {
    Bytes query;
    Callback done;
  };
  std::vector<Sent> sent;
};

struct World {
  asio::io_context io;
  stack::StackCounters counters;
  std::vector<Bytes> to_guest;
  std::unique_ptr<stack::Stack> stack;
  forward::ForwardCounters forward_counters;
  std::unique_ptr<forward::FlowTable> flows;

  World() {
    vznet::fuzz::quiet_logs();
    stack = std::make_unique<stack::Stack>(
        io, stack::StackConfig{}, [this](virtio::Frame f) { to_guest.emplace_back(f.begin(), f.end()); }, counters);
    flows = std::make_unique<forward::FlowTable>(io, forward::FlowLimits{}, forward_counters);
    stack->guest_frame(1, arp_request(kGuest, kGateway));  // lwIP learns the guest's MAC once
    io.restart();
    io.poll();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  if (size < 3) return 0;
  const std::uint8_t control = data[0];
  const std::size_t query_length = std::min<std::size_t>(std::size_t{data[1]} << 8 | data[2], size - 3);
  const std::span<const std::uint8_t> query(data + 3, query_length);
  const std::span<const std::uint8_t> answer(data + 3 + query_length, size - 3 - query_length);

  auto fake = std::make_unique<FakeUpstream>();
  FakeUpstream& upstream = *fake;
  auto server =
      std::make_unique<dns::DnsServer>(world.io, *world.stack, *world.flows, dns::DnsConfig{}, std::move(fake));
  world.to_guest.clear();
  world.stack->guest_frame(1, udp_datagram(world.stack->config().gateway_mac, {kGuest, 5353}, {kGateway, 53}, query));
  world.io.restart();
  world.io.poll();

  const auto parsed = dns::parse_query(query);
  const std::size_t limit = parsed.query ? std::min<std::size_t>(dns::udp_answer_limit(*parsed.query), 4096) : 512;
  static constexpr dns::UpstreamError kVerdicts[] = {dns::UpstreamError::none, dns::UpstreamError::timeout,
                                                     dns::UpstreamError::unreachable, dns::UpstreamError::failed};
  if (!upstream.sent.empty()) {
    auto done = upstream.sent.front().done;
    done(kVerdicts[control & 3], answer);
    if (control & 4) done(dns::UpstreamError::none, answer);
    world.io.restart();
    world.io.poll();
  }
  for (const Bytes& f : world.to_guest) {
    if (f.size() < 14 + 20 + 8 || get16(f, 12) != 0x0800 || f[14 + 9] != 17) continue;
    const std::size_t ip_header = static_cast<std::size_t>(f[14] & 0x0F) * 4;
    if ((get16(f, 14 + 6) & 0x1FFF) != 0 || f.size() < 14 + ip_header + 8) continue;  // a later fragment
    const std::size_t udp_length = get16(f, 14 + ip_header + 4);
    check(udp_length >= 8 && udp_length - 8 <= limit, "a UDP answer to the guest exceeds its limit");
  }
  server.reset();
  world.io.restart();
  world.io.poll();
  return 0;
}
