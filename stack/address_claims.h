// Bind on first use: the question the guard asks when a guest port with no address sends from one (a guest
// configured with a static address, as gvproxy, passt, slirp4netns and Apple's NAT serve), and its answer. The
// DHCP server answers it from its lease pool, which knows who holds, was offered or has a reservation for what.
#pragma once

#include "base/mac_address.h"
#include "stack/ipv4_address.h"

namespace vznet::stack {

/// The answer to a claim.
struct AddressClaim {
  bool granted = false;
  base::MacAddress holder{};  ///< when refused: the MAC the address is bound to
};

/// Who decides whether a MAC may take an address it was not given. The guard calls it at most once per port and
/// address, from the loop's thread.
class AddressClaims {
 public:
  virtual ~AddressClaims() = default;
  /// `mac` starts using `address` (inside the subnet, not the gateway's): granted when the address is free or
  /// already the MAC's, and then it stays the MAC's while in use (no other client is offered it); refused when
  /// another MAC holds it (a live lease or offer, a reservation, or another guest's use).
  virtual AddressClaim claim(const base::MacAddress& mac, Ipv4Address address) = 0;
  /// The port that used `address` is gone: the address stays the MAC's for a lease time (a guest that restarts
  /// gets it back), then is free again, as an ended lease.
  virtual void end_use(const base::MacAddress& mac, Ipv4Address address) = 0;
};

}  // namespace vznet::stack
