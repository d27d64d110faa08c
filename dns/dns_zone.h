// The names vznet answers itself: host.vz.internal and gateway.vz.internal (the gateway, which reaches the
// host's loopback), the operator's --dns-record NAME=IPv4 entries, and the gateway's reverse (PTR) name.
// Pure: decides an answer for a question; the server turns it into a message. Everything else is forwarded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dns/dns_message.h"
#include "stack/ipv4_address.h"

namespace vznet::dns {

/// The domain vznet is authoritative for: names below it that are not in the zone are NXDOMAIN here and
/// never leak to the upstream resolver.
inline constexpr std::string_view kInternalDomain = "vz.internal";
/// TTL of zone answers: short, so a restarted vznet with other --dns-record values is seen within a minute.
inline constexpr std::uint32_t kZoneTtlSeconds = 60;

/// One --dns-record: NAME resolves to ADDRESS (A). Several records for one name give several A records.
struct DnsRecord {
  std::string name;  ///< lower case, no trailing dot
  Ipv4Address address;
  friend bool operator==(const DnsRecord&, const DnsRecord&) = default;
};

/// Parses "NAME=IPv4" for --dns-record. NAME: host-name characters (letters, digits, '-', '_'), labels of
/// 1..63, at most 253 characters, an optional trailing dot; case is folded. On failure, `error` (if given)
/// says what is wrong in a few words.
std::optional<DnsRecord> parse_dns_record(std::string_view text, std::string* error = nullptr);

/// The reverse-lookup name of `a` ("1.64.168.192.in-addr.arpa").
std::string reverse_name(Ipv4Address a);

class Zone {
 public:
  enum class Verdict : std::uint8_t {
    forward,    ///< not ours: ask the upstream resolver
    answer,     ///< the name exists here; `records` may be empty (NOERROR, no data) for other types
    nx_domain,  ///< below vz.internal and unknown: NXDOMAIN
  };
  struct Lookup {
    Verdict verdict = Verdict::forward;
    std::vector<AnswerRecord> records;
  };

  /// The built-in names for `gateway`, then `records` (a record for a built-in name replaces it).
  Zone(Ipv4Address gateway, const std::vector<DnsRecord>& records);

  /// What to answer for `question` (class IN or ANY; other classes are forwarded).
  Lookup lookup(const Question& question) const;

 private:
  std::unordered_map<std::string, std::vector<Ipv4Address>> addresses_;  ///< by Name::key()
  std::unordered_map<std::string, Name> pointers_;                       ///< reverse names, by key
  std::string internal_suffix_;                                          ///< key of vz.internal
};

}  // namespace vznet::dns
