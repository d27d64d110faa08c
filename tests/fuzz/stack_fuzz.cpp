// Fuzz target: the whole guest-facing stack. Guest Ethernet frames go into a real Stack (lwIP's ARP, IPv4
// reassembly, ICMP, UDP and TCP input, the catch-all) with the gateway's DHCP server, the DNS server (UDP and TCP)
// behind a fake upstream, the Forwarder and its flows, two published ports (TCP and UDP, to the guest's port 80)
// and, for some frames, the guard in front. The flows' host sockets meet the peers of fuzz_host.h: TCP and UDP
// flows to the gateway's ports 29080-29082 reach real loopback sockets the input drives (accept, send, read,
// half-close, reset), echo to 192.0.2.1 a fake echo socket whose replies the input writes, and loopback clients of the
// published ports open inbound flows. Every other destination is denied by the egress policy (RST, ICMP prohibited),
// and the DNS upstream is a fake whose answers come from the input. No traffic leaves the machine (fuzz_host.h says
// how; on Linux as root the process has a network namespace of its own).
//
// Input: records of [control][length: 2 bytes, big-endian][bytes]. control & 7 is the operation:
//   0-1  the bytes are a guest frame into the stack (port 1 or 2 by control bit 3)
//   2    the host side acts (fuzz_host.h lists its operations); its operation 7 moves the flows' clock on by
//        (bytes[0] >> 3) + 1 times 5 s and runs their timeouts (connect, handshake, idle, drain)
//   3    a guest frame whose TCP acknowledgment number is first set to what the stack sent last (its
//        sequence number plus length): lwIP's initial sequence numbers are not the input's to choose, so this is
//        how an input completes a handshake and talks to the DNS server and the flows over TCP
//   4    a guest frame through the guard first (dropped unless admitted)
//   5    time passes: lwIP's TCP, ARP and reassembly timers fire (length % 16 + 1 times), the DHCP clock moves
//   6    the fake upstream answers its oldest DNS query with the bytes (verdict from control bits 3-4)
//   7    the guest port detaches (its flows close, ARP is forgotten, the guard forgets it)
// After each record the loop runs its ready handlers (poll, never blocking: a loopback connect, send or close has
// happened by the time the call returns, so an input replays the same way). Everything is built afresh for each
// input and torn down after it. Every frame to the guest must be an Ethernet frame of at most MTU + 14 bytes, and
// an input must give back every descriptor its flows opened.
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
#include "forward/port_publisher.h"
#include "lwip/etharp.h"
#include "lwip/ip4_frag.h"
#include "lwip/priv/tcp_priv.h"
#include "stack/dhcp_server.h"
#include "stack/guest_guard.h"
#include "stack/stack.h"
#include "tests/fuzz/fuzz_host.h"
#include "tests/fuzz/fuzz_support.h"

// Link seam: stack_fuzz's echo flows never open a real ICMP socket. This definition replaces the one in
// forward/icmp_socket.cpp (the linker takes the library's object file only for symbols still missing), and hands
// out fuzz_host.h's fake echo sockets.
namespace vznet::forward {
IcmpSocketOpen open_icmp_echo_socket(Ipv4Address destination) {
  fuzz::FuzzHost* host = fuzz::FuzzHost::instance();
  fuzz::check(host != nullptr, "an echo socket opened outside an input");
  return host->open_echo_socket(destination);
}
}  // namespace vznet::forward

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

/// One vznet, as app/runtime wires it, with fuzz_host.h as the host: built for one input.
struct World {
  asio::io_context& io;
  fuzz::FuzzHost& host;
  stack::StackCounters stack_counters;
  forward::ForwardCounters forward_counters;
  stack::DhcpCounters dhcp_counters;
  stack::DhcpTime now{std::chrono::hours(24)};
  stack::GuestGuard guard{stack::GuardConfig{}};
  std::unique_ptr<stack::Stack> stack;
  std::unique_ptr<forward::Forwarder> forwarder;
  std::unique_ptr<forward::PortPublisher> publisher;
  std::unique_ptr<stack::DhcpServer> dhcp;
  FakeUpstream* upstream = nullptr;
  std::unique_ptr<dns::DnsServer> dns;
  std::uint32_t next_from_stack = 0;   ///< the sequence number after the last TCP segment sent to the guest
  std::chrono::seconds flow_clock{0};  ///< how far the flows' clock is ahead of the real one

  World(asio::io_context& context, fuzz::FuzzHost& h) : io(context), host(h) {
    stack::StackConfig config;
    config.mtu = kMtu;
    stack = std::make_unique<stack::Stack>(
        io, config, [this](virtio::Frame f) { to_guest(f); }, stack_counters);
    forward::ForwardConfig fconfig;
    fconfig.host_loopback = fuzz::kHostLoopback;
    host.allow_in(fconfig.egress);  // only fuzz_host.h's peers; every other destination is denied
    // Limits small enough for an input to reach: the flow table full, a guest's share, dials evicted.
    fconfig.max_flows = 24;
    fconfig.max_flows_per_guest = 16;
    fconfig.max_pending_dials = 2;
    fconfig.tcp_idle_timeout = std::chrono::seconds(600);
    forwarder = std::make_unique<forward::Forwarder>(io, *stack, fconfig, forward_counters);
    // Published ports as app/runtime opens them, to the guest 192.168.64.2 (the first address DHCP hands out).
    publisher = std::make_unique<forward::PortPublisher>(
        forward::PublishEnvironment{forwarder->context(), forwarder->flows(),
                                    [] {
                                      return std::optional<Ipv4Address>{Ipv4Address{192, 168, 64, 2}};
                                    },
                                    [] { return true; }});
    const auto tcp = publisher->add(forward::parse_publish_spec("127.0.0.1::192.168.64.2:80"));
    const auto udp = publisher->add(forward::parse_publish_spec("127.0.0.1::192.168.64.2:80/udp"));
    host.published(tcp.ports.at(0).host_port, udp.ports.at(0).host_port);
    stack::DhcpConfig dconfig;
    dconfig.range = stack::DhcpRange{Ipv4Address{192, 168, 64, 2}, Ipv4Address{192, 168, 64, 5}};
    dconfig.search_domains = {"vz.internal"};
    dhcp = std::make_unique<stack::DhcpServer>(*stack, dconfig, dhcp_counters, [this] { return now; });
    auto fake = std::make_unique<FakeUpstream>();
    upstream = fake.get();
    dns::DnsConfig nconfig;
    nconfig.max_pending = 8;
    dns = std::make_unique<dns::DnsServer>(io, *stack, forwarder->flows(), nconfig, std::move(fake));
  }
  ~World() {
    dns.reset();
    dhcp.reset();
    publisher.reset();
    forwarder.reset();
    stack.reset();
    // Handlers still queued (cancelled timers, reaping) are never run: the io_context goes with the World, as
    // when app/runtime ends. Running them would touch what they belong to after it is gone.
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
    if (f.size() < 14) return;          // the transports drop runts before the switch
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

  /// The host acts; its operation 7 is the flows' clock, which the Forwarder's flows answer to.
  void host_acts(std::span<const std::uint8_t> bytes) {
    if (bytes.empty() || (bytes[0] & 7) != 7) return host.act(bytes);
    flow_clock += std::chrono::seconds(5) * ((bytes[0] >> 3) + 1);
    std::vector<forward::FlowId> ids;
    forwarder->flows().for_each([&ids](const forward::Flow& f) {
      ids.push_back(f.id());
      (void)f.state_name();  // what GET /flows shows
    });
    for (forward::FlowId id : ids) {
      if (auto* flow = forwarder->flows().live<forward::Flow>(id)) flow->tick(forward::Clock::now() + flow_clock);
    }
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
  static fuzz::FuzzHost host;
  const std::size_t descriptors = fuzz::FuzzHost::open_descriptors();
  {
    asio::io_context io;  // one per input, destroyed after the World (see ~World)
    World world(io, host);
    std::size_t at = 0;
    while (size - at >= 3) {
      const std::uint8_t control = data[at];
      const std::size_t length = std::min<std::size_t>(std::size_t{data[at + 1]} << 8 | data[at + 2], size - at - 3);
      const std::span<const std::uint8_t> bytes(data + at + 3, length);
      at += 3 + length;
      const virtio::PortId port = ((control >> 3) & 1) + 1;
      switch (control & 7) {
        case 0:
        case 1: world.frame(port, bytes, false); break;
        case 2: world.host_acts(bytes); break;
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
  host.end_input();
  flush_reassembly();
  check(fuzz::FuzzHost::open_descriptors() == descriptors, "an input left descriptors open");
  return 0;
}
