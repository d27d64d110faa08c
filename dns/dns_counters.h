// Counters the DNS server keeps for operators (the log now, /stats later): queries by transport, how they
// were answered, and everything refused, dropped or failed. Plain integers on the loop thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/counters.h"

namespace vznet::dns {

enum class DnsEvent : std::uint8_t {
  udp_query,          ///< message received on gateway:53/udp
  tcp_query,          ///< message received on a gateway:53/tcp connection
  zone_answer,        ///< answered from the built-in zone (including NOERROR/no data and NXDOMAIN)
  forwarded,          ///< sent to the upstream resolver
  upstream_answer,    ///< the upstream's answer relayed to the guest
  upstream_failure,   ///< the upstream failed (unreachable, refused, bad answer): SERVFAIL
  upstream_timeout,   ///< no upstream answer within the timeout: SERVFAIL
  late_answer,        ///< an upstream answer after the timeout's SERVFAIL: discarded
  pending_limit,      ///< too many queries waiting for the upstream: SERVFAIL at once
  format_error,       ///< malformed query: FORMERR
  not_implemented,    ///< opcode other than QUERY: NOTIMP
  dropped_no_header,  ///< shorter than a DNS header: dropped
  dropped_response,   ///< a response (QR set) sent to the server: dropped
  truncated,          ///< UDP answer larger than the guest accepts: sent with TC, header and question only
  send_failed,        ///< lwIP could not take a reply (out of memory)
  tcp_accepted,       ///< TCP connection accepted
  tcp_refused,        ///< TCP connection refused (too many open): RST
  tcp_idle_closed,    ///< TCP connection closed after the idle timeout
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(DnsEvent::count_)> kDnsEventNames{
    "udp_query",        "tcp_query",   "zone_answer",   "forwarded",    "upstream_answer", "upstream_failure",
    "upstream_timeout", "late_answer", "pending_limit", "format_error", "not_implemented", "dropped_no_header",
    "dropped_response", "truncated",   "send_failed",   "tcp_accepted", "tcp_refused",     "tcp_idle_closed"};

struct DnsCounters {
  base::Counts<DnsEvent> events;
};

}  // namespace vznet::dns
