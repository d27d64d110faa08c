// Fuzz target: the DHCP server's protocol logic (stack/dhcp_responder + dhcp_leases + dhcp_message) over a
// sequence of client messages. Input: records of [control][length: 2 bytes, big-endian][UDP payload to port 67].
// control bits 0-1 choose the IP source (0.0.0.0, the last address handed out, a static guest's, another in the
// subnet), bits 2-7 move the clock forward by that many 100-second steps (leases and offers expire). One
// responder lives for the whole input: a small range (4 addresses) and a static reservation, so exhaustion,
// reuse and reservations are all reachable. Every reply must parse as a BOOTREPLY of at least 300 bytes.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "stack/dhcp_responder.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace vznet;
using namespace vznet::stack;
using vznet::fuzz::check;

DhcpConfig fuzz_config() {
  DhcpConfig config;
  config.range = DhcpRange{Ipv4Address{192, 168, 64, 10}, Ipv4Address{192, 168, 64, 13}};
  config.statics.push_back({{0x52, 0x54, 0x00, 0x00, 0x00, 0x07}, Ipv4Address{192, 168, 64, 7}});
  config.lease_time = std::chrono::seconds(600);
  config.search_domains = {"vz.internal", "example.com"};
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = vznet::fuzz::quiet_logs();
  (void)quiet;
  DhcpCounters counters;
  DhcpResponder responder(fuzz_config(), counters);
  DhcpTime now{std::chrono::hours(24)};
  Ipv4Address last_given{192, 168, 64, 10};

  std::size_t at = 0;
  while (size - at >= 3) {
    const std::uint8_t control = data[at];
    const std::size_t length = std::min<std::size_t>(std::size_t{data[at + 1]} << 8 | data[at + 2], size - at - 3);
    const std::span<const std::uint8_t> payload(data + at + 3, length);
    at += 3 + length;

    now += std::chrono::seconds(100) * (control >> 2);
    const Ipv4Address sources[] = {Ipv4Address{}, last_given, Ipv4Address{192, 168, 64, 7},
                                   Ipv4Address{192, 168, 64, 200}};
    const auto reply = responder.handle(payload, sources[control & 3], now);
    if (!reply) continue;
    check(reply->payload.size() >= dhcp::kMinReplySize, "reply shorter than the BOOTP minimum");
    check(reply->payload[0] == 2, "reply is not a BOOTREPLY");
    const Ipv4Address yiaddr{std::uint32_t{reply->payload[16]} << 24 | std::uint32_t{reply->payload[17]} << 16 |
                             std::uint32_t{reply->payload[18]} << 8 | reply->payload[19]};
    if (yiaddr != Ipv4Address{}) {
      check(responder.config().subnet.contains(yiaddr), "an address outside the subnet handed out");
      last_given = yiaddr;
    }
  }
  return 0;
}
