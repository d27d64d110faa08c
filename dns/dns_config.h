// What the DNS server on the gateway is configured with (the app fills it from flags): the gateway address,
// the zone's extra records, the upstream servers, and the timeouts and limits that bound its work.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "dns/dns_zone.h"
#include "stack/ipv4_address.h"
#include "stack/stack_config.h"

namespace vznet::dns {

/// Queries waiting for the upstream at once. Each costs its message (usually < 100 bytes) and c-ares's
/// state, so 1024 is well under a megabyte; at a 50 ms upstream round trip it still allows ~20,000
/// queries/s, far beyond any guest's real need. Beyond it a query gets SERVFAIL at once (counted), so a
/// flood costs CPU, never memory.
inline constexpr std::size_t kMaxPendingQueries = 1024;

struct DnsConfig {
  Ipv4Address gateway = stack::gateway_of(stack::default_subnet());  ///< where it listens (UDP and TCP port 53)
  std::vector<DnsRecord> records;                                    ///< --dns-record, in flag order
  /// --dns-upstream servers, tried in order. Empty: those of the host's /etc/resolv.conf (read by c-ares).
  std::vector<Ipv4Endpoint> upstreams;
  /// A forwarded query that has no answer by then gets SERVFAIL. Below 5 s, glibc's default resolver
  /// timeout, so the guest hears the failure instead of giving up on vznet first.
  std::chrono::milliseconds upstream_timeout{4000};
  /// A TCP connection with nothing to answer and no new query for this long is closed (RFC 7766 6.2.3
  /// suggests seconds, not minutes: idle connections hold memory and a connection slot).
  std::chrono::milliseconds tcp_idle_timeout{10000};
  std::size_t max_pending = kMaxPendingQueries;  ///< see kMaxPendingQueries; lowered by tests
};

}  // namespace vznet::dns
