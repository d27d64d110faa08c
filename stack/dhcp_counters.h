// Counters the DHCP server keeps for operators: messages dropped by reason, and what the server did. Plain
// integers, one thread (the loop's). The stack's own drops are in stack_counters.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/counters.h"

namespace vznet::stack {

enum class DhcpDrop : std::uint8_t {
  truncated,           ///< shorter than the fixed header and magic cookie
  not_a_request,       ///< op is not BOOTREQUEST
  bad_hardware,        ///< htype/hlen other than Ethernet (1/6); includes hostile hlen values
  bad_magic,           ///< no DHCP magic cookie (plain BOOTP is not served)
  bad_option,          ///< an option's length runs past the end of the message
  no_message_type,     ///< option 53 missing
  bad_message_type,    ///< option 53 of the wrong length, unknown, or a server-only type (OFFER/ACK/NAK)
  no_address,          ///< REQUEST naming no address (neither option 50 nor ciaddr)
  no_memory,           ///< no pbuf for the reply
  release_not_holder,  ///< RELEASE of an address the sending MAC does not hold (another guest's, or none)
  decline_not_holder,  ///< DECLINE of an address the sending MAC does not hold (or of its static reservation)
  inform_not_holder,   ///< INFORM from or for an address another MAC holds (lease or reservation)
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(DhcpDrop::count_)> kDhcpDropNames{
    "truncated",  "not_a_request",      "bad_hardware",       "bad_magic",
    "bad_option", "no_message_type",    "bad_message_type",   "no_address",
    "no_memory",  "release_not_holder", "decline_not_holder", "inform_not_holder"};
static_assert(!kDhcpDropNames.back().empty(), "every DhcpDrop needs a name");

enum class DhcpEvent : std::uint8_t {
  offer,              ///< OFFER sent
  ack,                ///< ACK sent for a REQUEST (new lease, renewal or rebinding)
  nak,                ///< NAK sent (wrong or foreign address)
  inform_ack,         ///< ACK sent for an INFORM
  release,            ///< RELEASE accepted
  decline,            ///< DECLINE accepted: the address is quarantined
  pool_exhausted,     ///< DISCOVER left unanswered: no free address
  other_server,       ///< REQUEST for another server's offer (our offer is withdrawn)
  foreign_client_id,  ///< DISCOVER/REQUEST with the client identifier of another MAC's live lease: served as
                      ///< a client of its own (a new address, or a NAK for the holder's)
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(DhcpEvent::count_)> kDhcpEventNames{
    "offer", "ack", "nak", "inform_ack", "release", "decline", "pool_exhausted", "other_server", "foreign_client_id"};
static_assert(!kDhcpEventNames.back().empty(), "every DhcpEvent needs a name");

struct DhcpCounters {
  base::Counts<DhcpDrop> drops;
  base::Counts<DhcpEvent> events;
};

}  // namespace vznet::stack
