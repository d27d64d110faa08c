// Counters for flows: how many were opened per protocol, how host connects ended, what was refused or
// dropped. Plain integers on the loop thread; reported by the app (logs now, /stats later).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/counters.h"

namespace vznet::forward {

enum class ForwardEvent : std::uint8_t {
  tcp_opened,           ///< host connect succeeded, guest handshake started
  tcp_refused,          ///< host connect refused: RST to the guest
  tcp_unreachable,      ///< host connect failed otherwise: ICMP unreachable to the guest
  tcp_connect_timeout,  ///< host connect took longer than --connect-timeout
  tcp_reset_by_host,    ///< host socket reset: RST to the guest
  tcp_reset_by_guest,   ///< guest reset: RST to the host
  tcp_idle_closed,      ///< reaped after --tcp-timeout without traffic
  udp_opened,
  udp_idle_closed,
  udp_send_dropped,  ///< host socket full or failing: datagram dropped
  icmp_echo_sent,
  icmp_unavailable,         ///< ICMP datagram sockets not permitted here: echo not relayed
  flow_limit,               ///< --max-flows reached: new flow refused
  inbound_tcp_opened,       ///< a host client of a published port was connected to the guest
  inbound_tcp_refused,      ///< the guest refused (RST) a published-port connection: the client is reset
  inbound_tcp_unreachable,  ///< the guest did not answer within --connect-timeout: the client is reset
  inbound_udp_opened,       ///< a new host client of a published UDP port
  inbound_no_guest,         ///< a published port was used while no guest (or no lease) was there to take it
  egress_denied_tcp,        ///< the egress policy refused a guest's TCP connect: RST to the guest
  egress_denied_udp,        ///< ... a guest's UDP flow: ICMP administratively prohibited
  egress_denied_icmp,       ///< ... a guest's ping: ICMP administratively prohibited
  unroutable_destination,   ///< a destination no router forwards (dial_target.h): refused like a denial
  dial_evicted,             ///< a guest's oldest host connect in flight gave way to a new one (--max-pending-connects)
  guest_data_refused,       ///< a guest segment refused for now: its flow's (or all flows') queue for the host is full
  tcp_drain_timeout,        ///< both sides closed, the guest acknowledged none of the rest for tcp_drain_timeout: reset
  tcp_linger_evicted,       ///< a closed connection the guest had not finished closing was aborted to make room
  tcp_linger_timeout,       ///< a closed connection the guest had not finished closing within tcp_drain_timeout: reset
  tcp_linger_reused,  ///< a guest SYN reused the 4-tuple of a closed connection lwIP still held: ended, the SYN is new
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(ForwardEvent::count_)> kForwardEventNames{
    "tcp_opened",          "tcp_refused",
    "tcp_unreachable",     "tcp_connect_timeout",
    "tcp_reset_by_host",   "tcp_reset_by_guest",
    "tcp_idle_closed",     "udp_opened",
    "udp_idle_closed",     "udp_send_dropped",
    "icmp_echo_sent",      "icmp_unavailable",
    "flow_limit",          "inbound_tcp_opened",
    "inbound_tcp_refused", "inbound_tcp_unreachable",
    "inbound_udp_opened",  "inbound_no_guest",
    "egress_denied_tcp",   "egress_denied_udp",
    "egress_denied_icmp",  "unroutable_destination",
    "dial_evicted",        "guest_data_refused",
    "tcp_drain_timeout",   "tcp_linger_evicted",
    "tcp_linger_timeout",  "tcp_linger_reused"};

struct ForwardCounters {
  base::Counts<ForwardEvent> events;
};

}  // namespace vznet::forward
