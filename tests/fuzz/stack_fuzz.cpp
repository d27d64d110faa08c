// Fuzz target: the whole guest-facing stack. Guest Ethernet frames go into a real Stack (lwIP's ARP, IPv4
// reassembly, ICMP, UDP and TCP input, the catch-all) with the gateway's DHCP server, the DNS server (UDP and TCP)
// behind a fake upstream, the Forwarder and, for some frames, the guard in front. No traffic leaves the machine:
// the egress policy denies every host destination (so the Forwarder answers with RSTs and ICMP errors and never
// opens a host socket) and the DNS upstream is a fake whose answers come from the input.
//
// Input: records of [control][length: 2 bytes, big-endian][bytes]. control & 7 is the operation:
//   0-2  the bytes are a guest frame into the stack (port 1 or 2 by control bit 3)
//   3    the same, but a TCP segment's acknowledgment number is first set to what the stack sent last (its
//        sequence number plus length): lwIP's initial sequence numbers are not the input's to choose, so this is
//        how an input completes a handshake and talks to the DNS server over TCP
//   4    the same, through the guard first (dropped unless admitted)
//   5    time passes: lwIP's TCP, ARP and reassembly timers fire (length % 16 + 1 times), the DHCP clock moves
//   6    the fake upstream answers its oldest DNS query with the bytes (verdict from control bits 3-4)
//   7    the guest port detaches (its flows close, ARP is forgotten, the guard forgets it)
// After each record the loop runs its ready handlers (poll, never blocking). Everything is built afresh for each
// input and torn down after it, so an input replays the same way. Every frame to the guest must be an Ethernet
// frame of at most MTU + 14 bytes.
//
// Open bugs: a crash found here whose fix belongs elsewhere (lwIP, stack/) keeps its reproducer in
// regressions/stack_fuzz/ and, until the fix lands, an entry in open_bug() so that fuzzing can go past it. The
// commit with the fix deletes the entry, and the reproducer becomes a regression test. VZNET_FUZZ_OPEN_BUGS=1 in
// the environment turns the entries off (to check a fix, or to see the crash). VZNET_FUZZ_TRACE=1 prints each frame
// sent to the guest (to check what a seed reaches).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "dns/dns_server.h"
#include "forward/forwarder.h"
#include "lwip/etharp.h"
#include "lwip/ip4_frag.h"
#include "lwip/priv/tcp_priv.h"
#include "stack/dhcp_server.h"
#include "stack/guest_guard.h"
#include "stack/stack.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace vznet;
using vznet::fuzz::check;

class FakeUpstream final : public dns::UpstreamResolver {
 public:
  void send(std::span<const std::uint8_t>, Callback done) override { pending.push_back(std::move(done)); }
  std::deque<Callback> pending;
};

std::uint16_t read16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}
std::uint32_t read32(std::span<const std::uint8_t> b, std::size_t at) {
  return std::uint32_t{read16(b, at)} << 16 | read16(b, at + 2);
}

struct TcpAt {
  std::size_t ip_header = 0;  ///< IPv4 header length
  std::size_t at = 0;         ///< offset of the TCP header in the frame
  std::size_t header = 0;     ///< TCP header length
};

/// Where the TCP header of an Ethernet/IPv4/TCP frame is, when it is all there.
std::optional<TcpAt> tcp_header(std::span<const std::uint8_t> f) {
  if (f.size() < 14 + 20 || read16(f, 12) != 0x0800 || f[14 + 9] != 6) return std::nullopt;
  TcpAt t;
  t.ip_header = static_cast<std::size_t>(f[14] & 0x0F) * 4;
  t.at = 14 + t.ip_header;
  if (t.ip_header < 20 || f.size() < t.at + 20) return std::nullopt;
  t.header = static_cast<std::size_t>(f[t.at + 12] >> 4) * 4;
  return t;
}

constexpr std::uint16_t kMtu = 1500;

/// True when `f` would trip a known bug that is not fixed yet (see the top of this file).
bool open_bug(std::span<const std::uint8_t> f) {
  static const bool show = std::getenv("VZNET_FUZZ_OPEN_BUGS") != nullptr;
  if (show) return false;
  (void)f;  // none open: lwip-etharp-short-arp was fixed by lwIP patch 0005
  return false;
}

/// One vznet, as app/runtime wires it, minus the host: built for one input.
struct World {
  asio::io_context& io;
  stack::StackCounters stack_counters;
  forward::ForwardCounters forward_counters;
  stack::DhcpCounters dhcp_counters;
  stack::DhcpTime now{std::chrono::hours(24)};
  stack::GuestGuard guard{stack::GuardConfig{}};
  std::unique_ptr<stack::Stack> stack;
  std::unique_ptr<forward::Forwarder> forwarder;
  std::unique_ptr<stack::DhcpServer> dhcp;
  FakeUpstream* upstream = nullptr;
  std::unique_ptr<dns::DnsServer> dns;
  std::uint32_t next_from_stack = 0;  ///< the sequence number after the last TCP segment sent to the guest

  explicit World(asio::io_context& context) : io(context) {
    stack::StackConfig config;
    config.mtu = kMtu;
    stack = std::make_unique<stack::Stack>(io, config, [this](virtio::Frame f) { to_guest(f); }, stack_counters);
    forward::ForwardConfig fconfig;
    fconfig.egress.set_default(forward::EgressAction::deny);  // nothing is ever dialed on the host
    fconfig.egress.set_block_host(true);
    forwarder = std::make_unique<forward::Forwarder>(io, *stack, fconfig, forward_counters);
    stack::DhcpConfig dconfig;
    dconfig.range = stack::DhcpRange{Ipv4Address{192, 168, 64, 2}, Ipv4Address{192, 168, 64, 5}};
    dconfig.search_domains = {"vz.internal"};
    dhcp = std::make_unique<stack::DhcpServer>(*stack, dconfig, dhcp_counters, [this] { return now; });
    auto fake = std::make_unique<FakeUpstream>();
    upstream = fake.get();
    dns::DnsConfig nconfig;
    nconfig.max_pending = 8;
    dns = std::make_unique<dns::DnsServer>(io, *stack, nconfig, std::move(fake));
  }
  ~World() {
    dns.reset();
    dhcp.reset();
    forwarder.reset();
    stack.reset();
    io.restart();
    io.poll();  // cancelled timers' handlers
  }

  void to_guest(virtio::Frame f) {
    check(f.size() >= 14 && f.size() <= std::size_t{kMtu} + 14, "a frame to the guest of a bad size");
    guard.to_guest(1, f);
    static const bool trace = std::getenv("VZNET_FUZZ_TRACE") != nullptr;
    if (trace) {
      std::fprintf(stderr, "to guest: %zu bytes, type %04x, protocol %d\n", f.size(), read16(f, 12),
                   f.size() > 23 ? f[23] : -1);
    }
    if (const auto tcp = tcp_header(f)) {
      const std::size_t ip_total = read16(f, 16);
      const std::size_t headers = tcp->ip_header + tcp->header;
      const std::size_t payload = ip_total > headers ? ip_total - headers : 0;
      const std::uint8_t flags = f[tcp->at + 13];
      next_from_stack = read32(f, tcp->at + 4) + static_cast<std::uint32_t>(payload) + ((flags & 0x02) ? 1 : 0) +
                        ((flags & 0x01) ? 1 : 0);
    }
  }

  void frame_acking(virtio::PortId port, std::span<const std::uint8_t> f) {
    std::vector<std::uint8_t> copy(f.begin(), f.end());
    if (const auto tcp = tcp_header(copy)) {
      for (int i = 0; i < 4; ++i) copy[tcp->at + 8 + i] = static_cast<std::uint8_t>(next_from_stack >> (24 - 8 * i));
    }
    frame(port, copy, false);
  }

  void frame(virtio::PortId port, virtio::Frame f, bool guarded) {
    if (f.size() > 65535 + 14) return;  // the framings never carry more
    if (f.size() < 14) return;  // the transports drop runts before the switch
    if (guarded && guard.admit(port, f) == virtio::Admission::drop) return;
    if (open_bug(f)) return;
    stack->guest_frame(port, f);
  }

  void tick(std::size_t times) {
    for (std::size_t i = 0; i < times; ++i) {
      tcp_tmr();
      etharp_tmr();
      ip_reass_tmr();
    }
    now += std::chrono::seconds(30) * times;
    stack->schedule_timers();
  }

  void answer(std::uint8_t verdict, std::span<const std::uint8_t> bytes) {
    if (upstream->pending.empty()) return;
    auto done = std::move(upstream->pending.front());
    upstream->pending.pop_front();
    static constexpr dns::UpstreamError kVerdicts[] = {dns::UpstreamError::none, dns::UpstreamError::timeout,
                                                       dns::UpstreamError::unreachable, dns::UpstreamError::failed};
    done(kVerdicts[verdict & 3], bytes);
  }

  void detach(virtio::PortId port) {
    stack->guest_detached(port);
    guard.port_detached(port);
  }
};

/// lwIP keeps IP fragments awaiting reassembly in a global list that outlives a netif: expire them all, so one
/// input's fragments never meet the next input's.
void flush_reassembly() {
  for (int i = 0; i <= 2 * IP_REASS_MAXAGE; ++i) ip_reass_tmr();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = vznet::fuzz::quiet_logs();
  (void)quiet;
  static asio::io_context io;
  {
    World world(io);
    std::size_t at = 0;
    while (size - at >= 3) {
      const std::uint8_t control = data[at];
      const std::size_t length = std::min<std::size_t>(std::size_t{data[at + 1]} << 8 | data[at + 2], size - at - 3);
      const std::span<const std::uint8_t> bytes(data + at + 3, length);
      at += 3 + length;
      const virtio::PortId port = ((control >> 3) & 1) + 1;
      switch (control & 7) {
        case 0: case 1: case 2: world.frame(port, bytes, false); break;
        case 3: world.frame_acking(port, bytes); break;
        case 4: world.frame(port, bytes, true); break;
        case 5: world.tick(length % 16 + 1); break;
        case 6: world.answer(control >> 3, bytes); break;
        case 7: world.detach(port); break;
      }
      io.restart();
      io.poll();
    }
  }
  flush_reassembly();
  return 0;
}
