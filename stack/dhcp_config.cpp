// DhcpConfig's validation (see dhcp_config.h).
#include "stack/dhcp_config.h"

#include <set>

#include "stack/dhcp_message.h"

namespace vznet::stack {

namespace {

/// Why `a` cannot be handed to a guest of `config`, or empty.
std::string unusable_reason(const DhcpConfig& config, Ipv4Address a) {
  if (!config.subnet.contains(a)) return a.to_string() + " is not in the subnet " + config.subnet.to_string();
  if (a == config.subnet.network) return a.to_string() + " is the subnet's network address";
  if (a == config.subnet.broadcast()) return a.to_string() + " is the subnet's broadcast address";
  if (a == config.gateway) return a.to_string() + " is the gateway's address";
  return {};
}

}  // namespace

DhcpRange DhcpConfig::effective_range() const {
  if (range) return *range;
  return DhcpRange{Ipv4Address{gateway.value + 1}, Ipv4Address{subnet.broadcast().value - 1}};
}

std::optional<std::string> DhcpConfig::validate() const {
  const DhcpRange r = effective_range();
  const std::string range_flag =
      range ? "--dhcp-range " + r.first.to_string() + "-" + r.last.to_string() : std::string("the default DHCP range");
  if (r.last < r.first) return range_flag + ": no address left after the gateway";
  for (Ipv4Address a : {r.first, r.last}) {
    if (std::string why = unusable_reason(*this, a); !why.empty()) return range_flag + ": " + why;
  }
  if (r.first < gateway && gateway < r.last) return range_flag + ": contains the gateway's address";
  std::set<base::MacAddress> macs;
  std::set<Ipv4Address> addresses;
  for (const DhcpStatic& s : statics) {
    const std::string flag = "--dhcp-static " + base::format_mac(s.mac) + "=" + s.address.to_string();
    if (std::string why = unusable_reason(*this, s.address); !why.empty()) return flag + ": " + why;
    if (!macs.insert(s.mac).second) return flag + ": the MAC has another reservation";
    if (!addresses.insert(s.address).second) return flag + ": the address is reserved for another MAC";
  }
  if (lease_time < kMinLeaseTime || lease_time > kMaxLeaseTime) {
    return "--lease-time " + std::to_string(lease_time.count()) + ": must be " + std::to_string(kMinLeaseTime.count()) +
           " to " + std::to_string(kMaxLeaseTime.count()) + " seconds";
  }
  for (const std::string& domain : search_domains) {
    if (!dhcp::encode_search_list({domain})) return "--dns-search " + domain + ": not a valid domain name";
  }
  if (auto encoded = dhcp::encode_search_list(search_domains); encoded && encoded->size() > kMaxSearchListBytes) {
    return "--dns-search: the search list takes " + std::to_string(encoded->size()) + " bytes, at most " +
           std::to_string(kMaxSearchListBytes) + " fit a DHCP reply";
  }
  if (dns_server.is_unspecified()) return "DHCP: no DNS server address";
  return std::nullopt;
}

}  // namespace vznet::stack
