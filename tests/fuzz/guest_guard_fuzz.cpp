// Fuzz target: the guard's admission of guest frames (stack/guest_guard) and its snooping of the DHCP replies
// delivered to guests, over a sequence of frames on four ports. Input: records of
// [control][length: 2 bytes, big-endian][Ethernet frame]. control bits 0-1: the port (1..4); bit 2: the frame goes
// to the guest (to_guest: a DHCP ACK there binds an address) instead of coming from it (admit); bit 3: the port
// detaches after the frame. Bind-on-first-use claims go to a real lease pool. Admitted frames must be at least an
// Ethernet header long; the guard's view of each port must stay consistent (a learned MAC is unicast; a leased
// address is in the subnet; an address in use is in the subnet, not the gateway's, and the pool's record agrees;
// no two ports hold the same leased or in-use address).
#include <cstddef>
#include <cstdint>
#include <set>

#include "stack/dhcp_leases.h"
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

/// The DHCP server's part in bind on first use, on a pool whose clock stands still.
struct PoolClaims final : AddressClaims {
  LeasePool pool{DhcpConfig{}};
  DhcpTime now{};
  AddressClaim claim(const base::MacAddress& mac, Ipv4Address address) override { return pool.use(mac, address, now); }
  void end_use(const base::MacAddress& mac, Ipv4Address address) override { pool.end_use(mac, address, now); }
};

void check_ports(const GuestGuard& guard, const PoolClaims& claims) {
  std::set<std::uint32_t> held;
  for (const GuardedPort& p : guard.ports()) {
    if (p.mac) check(((*p.mac)[0] & 1) == 0, "a port learned a group MAC");
    if (p.leased) {
      check(guard.config().subnet.contains(*p.leased), "a leased address outside the subnet");
      check(held.insert(p.leased->value).second, "two ports hold the same address");
    }
    if (p.in_use) {
      check(guard.config().subnet.contains(*p.in_use) && *p.in_use != guard.config().gateway,
            "an address in use that no guest may have");
      check(held.insert(p.in_use->value).second, "two ports hold the same address");
      const std::optional<Lease> record = claims.pool.find(*p.in_use, claims.now);
      check(!record || record->mac == *p.mac, "the pool gives the address in use to another MAC");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = vznet::fuzz::quiet_logs();
  (void)quiet;
  GuestGuard guard(fuzz_config());
  PoolClaims claims;
  guard.set_address_claims(&claims);
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
    check_ports(guard, claims);
  }
  return 0;
}
