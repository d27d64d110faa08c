// The DHCP lease pool: which address each client gets, for how long, and what happens on release, decline
// and expiry. Pure: no sockets, no clock of its own (every call takes `now`), so tests move time freely.
// The wire format is dhcp_message.h's business, the conversation with clients dhcp_server.cpp's.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mac_address.h"
#include "stack/address_claims.h"
#include "stack/dhcp_config.h"

namespace vznet::stack {

using DhcpTime = std::chrono::steady_clock::time_point;

/// How long an OFFER keeps its address for the client: clients send their REQUEST within seconds, and
/// retransmit for about a minute before starting over.
inline constexpr std::chrono::seconds kOfferHold{60};
/// How long a DECLINEd address (the client saw someone else answer ARP for it) is not handed out: long
/// enough for the squatter to go away or be noticed, short enough that a small pool recovers.
inline constexpr std::chrono::seconds kDeclineQuarantine{600};

/// Who asks. A lease belongs to the MAC that obtained it (the guard pins each MAC to one guest port, so that
/// is the port's lease). A client matches its lease by MAC, whatever identifier it sends, so a guest that
/// changes DHCP client (kernel ip=dhcp, then udhcpc) keeps its address. The client identifier (option 61) is
/// no proof of identity (any guest can copy one): it finds a lease of another MAC only once that lease has
/// ended (released or expired), as when a guest comes back with a new MAC; while the lease is live (offered
/// or bound) a client sending its identifier from another MAC is a client of its own (issue 12).
struct DhcpClient {
  base::MacAddress mac{};
  std::vector<std::uint8_t> client_id;  ///< empty when not sent
  std::string hostname;                 ///< option 12, for the lease list only
};

/// A lease's state. The enum is the state machine:
///   (none) --offer--> offered --bind--> bound --bind (renew/rebind)--> bound
///   offered/bound --expiry, release, withdraw_offer--> released
///   released --offer/bind by the same client--> offered/bound (the address stays with its last client)
///   released --offer to another client, when no never-used address is left--> offered (new owner)
///   offered/bound --decline--> declined (no owner) --quarantine ends--> forgotten (never-used again)
///   (none)/released/declined --use--> in_use (a static guest's address: no end while its port is attached)
///   in_use --end_use--> bound (for a lease time); in_use --REQUEST by its MAC--> bound, as any lease
/// Expiry is computed from `expires` at each call, so a bound lease past its time reads as released.
enum class LeaseState : std::uint8_t { offered, bound, released, declined, in_use, count_ };
inline constexpr std::array<std::string_view, static_cast<std::size_t>(LeaseState::count_)> kLeaseStateNames{
    "offered", "bound", "released", "declined", "in_use"};
static_assert(!kLeaseStateNames.back().empty(), "every LeaseState needs a name");

/// One address's record.
struct Lease {
  Ipv4Address address;
  base::MacAddress mac{};
  std::vector<std::uint8_t> client_id;
  std::string hostname;
  LeaseState state = LeaseState::offered;
  DhcpTime expires{};  ///< offered: end of the hold; bound: end of the lease; declined: end of quarantine; in_use: none
  bool is_static = false;
};

class LeasePool {
 public:
  /// `config` must have passed validate().
  explicit LeasePool(const DhcpConfig& config);

  /// The address to OFFER `client`: its static reservation; else the address it had before; else
  /// `requested` (option 50) when free; else a never-used one; else the longest-released address of
  /// another client. nullopt when none is free (exhaustion). The address is held for kOfferHold.
  std::optional<Ipv4Address> offer(const DhcpClient& client, std::optional<Ipv4Address> requested, DhcpTime now);
  /// REQUEST (after an OFFER, at reboot, renewal or rebinding): binds `address` to `client` for the lease
  /// time and returns the lease, or nullopt when the client may not have it (NAK): another client's (a live
  /// lease of another MAC, whatever identifier is sent), a static reservation of another MAC, quarantined, or
  /// outside the pool.
  std::optional<Lease> bind(const DhcpClient& client, Ipv4Address address, DhcpTime now);
  /// RELEASE: the client's lease on `address` ends; the address stays reserved for it while the pool has
  /// others. false (and nothing changes) when `address` is not held by the client's MAC: an identifier
  /// frees nothing.
  bool release(const DhcpClient& client, Ipv4Address address, DhcpTime now);
  /// DECLINE: `address` is in use by someone else; it is quarantined for kDeclineQuarantine. false (and
  /// nothing changes) when it is not held by the client's MAC, or is a static reservation (which stays the
  /// MAC's).
  bool decline(const DhcpClient& client, Ipv4Address address, DhcpTime now);
  /// The client took another server's offer: its offered address is released.
  void withdraw_offer(const DhcpClient& client, DhcpTime now);
  /// A guest with a static configuration uses `address` (bind on first use; see address_claims.h). In the pool's
  /// range, granted unless another MAC's live lease, offer, use or reservation holds it; the address is then the
  /// MAC's (in_use, any other record of the MAC ends) until end_use(). Outside the range the pool hands nothing
  /// out: granted unless it is another MAC's reservation, and nothing is recorded.
  AddressClaim use(const base::MacAddress& mac, Ipv4Address address, DhcpTime now);
  /// The guest using `address` is gone: its in_use record becomes a lease of the MAC for the lease time.
  void end_use(const base::MacAddress& mac, Ipv4Address address, DhcpTime now);

  /// The live lease (offered or bound) of another MAC that `client`'s identifier names, if any: offer() and
  /// bind() then ignore the identifier. For the server's counters and logs.
  std::optional<Lease> holder_of_client_id(const DhcpClient& client, DhcpTime now) const;
  /// Whether `address` is another MAC's as of `now`: its live lease, or its static reservation. An INFORM
  /// from or about it is not `client`'s to send.
  bool held_by_other(Ipv4Address address, const DhcpClient& client, DhcpTime now) const;

  /// Every record with its state as of `now` (expired leases read as released), by address.
  std::vector<Lease> snapshot(DhcpTime now) const;
  /// The record for `address` as of `now`, if any.
  std::optional<Lease> find(Ipv4Address address, DhcpTime now) const;
  const DhcpConfig& config() const { return config_; }

 private:
  /// `client` without its identifier when that names another MAC's live lease (see DhcpClient).
  DhcpClient as_seen(const DhcpClient& client, DhcpTime now) const;
  Lease* record_of(const DhcpClient& client, DhcpTime now);
  bool owned_by(const Lease& lease, const DhcpClient& client, DhcpTime now) const;
  bool in_pool(Ipv4Address a) const;
  bool is_reserved(Ipv4Address a) const;
  std::optional<Ipv4Address> never_used_address();
  std::optional<Ipv4Address> reclaim_released(DhcpTime now);
  void forget_ended_quarantines(DhcpTime now);
  Lease& claim(Ipv4Address address, const DhcpClient& client);  ///< `client` as_seen()
  void erase(std::uint32_t address);
  void index(const Lease& lease);
  void unindex(const Lease& lease);

  DhcpConfig config_;
  DhcpRange range_;
  std::unordered_map<base::MacAddress, Ipv4Address, base::MacHash> static_by_mac_;
  std::map<Ipv4Address, base::MacAddress> static_by_address_;
  std::map<std::uint32_t, Lease> records_;  ///< by address; only addresses that have been handed out
  std::unordered_map<base::MacAddress, std::uint32_t, base::MacHash> by_mac_;  ///< owned records only
  std::map<std::vector<std::uint8_t>, std::uint32_t> by_client_id_;            ///< owned records with option 61
  std::uint64_t next_fresh_;                ///< addresses in the range below this have had a record
  std::vector<std::uint32_t> recycled_;     ///< addresses whose record was erased (fresh again)
  std::vector<std::uint32_t> quarantined_;  ///< declined addresses, checked for the end of quarantine
  /// After a fruitless search for a released address: none can appear before this time, unless a record
  /// is released or erased first. Keeps a DISCOVER flood on an exhausted pool from scanning every record.
  DhcpTime nothing_released_before_{};
};

}  // namespace vznet::stack
