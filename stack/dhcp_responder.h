// The DHCP server's protocol logic (RFC 2131 4.3): one client message in, at most one reply out, with the
// address and port it goes to. Pure apart from logging: no lwIP, no sockets, time passed in. The lwIP side
// (pcb, sending) is dhcp_server.cpp; the wire format dhcp_message.cpp; addresses dhcp_leases.cpp.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "base/mac_address.h"
#include "base/rate_limited_log.h"
#include "stack/dhcp_config.h"
#include "stack/dhcp_counters.h"
#include "stack/dhcp_leases.h"
#include "stack/dhcp_message.h"

namespace vznet::stack {

/// A reply and where it goes (always to the client port, 68).
struct DhcpOutgoing {
  dhcp::Bytes payload;
  Ipv4Address destination;  ///< 255.255.255.255 for clients without an address yet, else their ciaddr
  /// The asking client's MAC (chaddr), the reply's Ethernet destination whatever `destination` is: the switch
  /// then delivers it to that guest's port only (the guard pins chaddr to the sending port's MAC), so no
  /// other guest sees a reply, nor the client identifier it echoes (issue 12).
  base::MacAddress client_mac{};
};

class DhcpResponder {
 public:
  /// Throws std::invalid_argument (with validate()'s sentence) when `config` is unusable.
  DhcpResponder(const DhcpConfig& config, DhcpCounters& counters);

  /// Answers one UDP payload sent to port 67 from `source` (0.0.0.0 before the client has an address).
  /// Malformed messages are counted drops; DISCOVER on an exhausted pool, RELEASE and DECLINE get no reply.
  /// One client's messages never act on another MAC's lease: an identifier naming one is ignored (counted,
  /// DhcpEvent::foreign_client_id), and a RELEASE, DECLINE or INFORM about it is a counted drop.
  std::optional<DhcpOutgoing> handle(std::span<const std::uint8_t> payload, Ipv4Address source, DhcpTime now);

  /// Bind on first use (see address_claims.h): the pool decides.
  AddressClaim use(const base::MacAddress& mac, Ipv4Address address, DhcpTime now) {
    return pool_.use(mac, address, now);
  }
  void end_use(const base::MacAddress& mac, Ipv4Address address, DhcpTime now) { pool_.end_use(mac, address, now); }

  const LeasePool& leases() const { return pool_; }
  const DhcpConfig& config() const { return config_; }

 private:
  std::optional<DhcpOutgoing> on_discover(const dhcp::Message& m, const DhcpClient& client, DhcpTime now);
  std::optional<DhcpOutgoing> on_request(const dhcp::Message& m, const DhcpClient& client, DhcpTime now);
  std::optional<DhcpOutgoing> on_inform(const dhcp::Message& m, const DhcpClient& client, Ipv4Address source,
                                        DhcpTime now);
  void on_decline(const dhcp::Message& m, const DhcpClient& client, DhcpTime now);
  void on_release(const dhcp::Message& m, const DhcpClient& client, DhcpTime now);
  DhcpOutgoing nak(const dhcp::Message& m, Ipv4Address address, const char* why);
  /// Counts and logs a message carrying the identifier of another MAC's live lease.
  void note_foreign_client_id(const dhcp::Message& m, const DhcpClient& client, DhcpTime now);
  /// Counts and logs a RELEASE, DECLINE or INFORM about an address the client does not hold.
  void refuse_not_holder(DhcpDrop reason, const dhcp::Message& m, const DhcpClient& client, Ipv4Address address);
  /// Option 54 names another server: the message is not for us.
  bool for_another_server(const dhcp::Message& m) const;
  std::vector<dhcp::ReplyOption> options_for(const dhcp::Message& m, bool with_lease) const;

  DhcpConfig config_;
  DhcpCounters& counters_;
  LeasePool pool_;
  /// Options vznet can give, by code, in the order sent to a client without a parameter request list.
  std::vector<dhcp::ReplyOption> available_;
  base::RateLimitedLog malformed_log_;
  base::RateLimitedLog exhausted_log_;
  base::RateLimitedLog lease_log_;
  base::RateLimitedLog foreign_log_;  ///< messages about another client's lease: a guest could send a flood
};

}  // namespace vznet::stack
