// Fuzz target: the guard's admission of guest frames (stack/guest_guard) and its snooping of the DHCP replies
// delivered to guests, over a sequence of frames on four ports. Input: records of
// [control][length: 2 bytes, big-endian][Ethernet frame]. control bits 0-1: the port (1..4); bit 2: the frame goes
// to the guest (to_guest: a DHCP ACK there binds an address) instead of coming from it (admit); bit 3: the port
// detaches after the frame. Admitted frames must be at least an Ethernet header long; the guard's view of each
// port must stay consistent (a learned MAC is unicast; a leased address is in the subnet and never another
// port's).
#include <cstddef>
#include <cstdint>
#include <set>

#include "stack/guest_guard.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace vznet;
using namespace vznet::stack;
using vznet::fuzz::check;

GuardConfig fuzz_config() {
  GuardConfig config;
  config.statics.push_back({{0x52, 0x54, 0x00, 0x00, 0x00, 0x07}, Ipv4Address{192, 168, 64, 7}});
  return config;
}

void check_ports(const GuestGuard& guard) {
  std::set<std::uint32_t> leased;
  for (const GuardedPort& p : guard.ports()) {
    if (p.mac) check(((*p.mac)[0] & 1) == 0, "a port learned a group MAC");
    if (p.leased) {
      check(guard.config().subnet.contains(*p.leased), "a leased address outside the subnet");
      check(leased.insert(p.leased->value).second, "two ports hold the same leased address");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = vznet::fuzz::quiet_logs();
  (void)quiet;
  GuestGuard guard(fuzz_config());
  std::size_t at = 0;
  while (size - at >= 3) {
    const std::uint8_t control = data[at];
    const std::size_t length = std::min<std::size_t>(std::size_t{data[at + 1]} << 8 | data[at + 2], size - at - 3);
    const virtio::Frame frame(data + at + 3, length);
    at += 3 + length;

    const virtio::PortId port = (control & 3) + 1;
    if (frame.size() >= 14) {  // the switch never hands the guard a runt, either way
      if (control & 4) {
        guard.to_guest(port, frame);
      } else {
        (void)guard.admit(port, frame);
      }
    }
    if (control & 8) guard.port_detached(port);
    check_ports(guard);
  }
  return 0;
}
