// The built-in zone (see dns_zone.h): --dns-record parsing and the lookup that decides between answering
// here, NXDOMAIN below vz.internal, and forwarding.
#include "dns/dns_zone.h"

#include <stdexcept>

#include "base/byte_order.h"

namespace vznet::dns {

namespace {

bool is_host_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Name must_parse(std::string_view text) {
  auto name = Name::from_text(text);
  if (!name) throw std::logic_error("dns: invalid built-in name " + std::string(text));
  return *name;
}

/// True when `key` is `suffix` or ends in it at a label boundary. Both are keys (lowered wire form); a
/// suffix match in wire form is a label boundary when the bytes before it form whole labels, which holds
/// when walking the labels of `key` reaches the suffix's starting offset exactly.
bool is_at_or_below(const std::string& key, const std::string& suffix) {
  if (key.size() < suffix.size()) return false;
  const std::size_t start = key.size() - suffix.size();
  std::size_t at = 0;
  while (at < start) at += static_cast<std::uint8_t>(key[at]) + std::size_t{1};
  return at == start && key.compare(start, std::string::npos, suffix) == 0;
}

}  // namespace

std::optional<DnsRecord> parse_dns_record(std::string_view text, std::string* error) {
  auto failed = [error](const char* why) {
    if (error != nullptr) *error = why;
    return std::nullopt;
  };
  const std::size_t equals = text.find('=');
  if (equals == std::string_view::npos) return failed("expected NAME=IPv4");
  std::string name = lowered(text.substr(0, equals));
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty()) return failed("empty name");
  if (name.size() > 253) return failed("name longer than 253 characters");
  for (char c : name) {
    if (c != '.' && !is_host_name_char(c)) return failed("name may only have letters, digits, '-', '_' and dots");
  }
  // One trailing dot was taken off above; from_text() would take off a second ("a.." would pass as "a").
  if (name.back() == '.' || !Name::from_text(name)) return failed("empty label or label longer than 63 characters");
  auto address = Ipv4Address::parse(text.substr(equals + 1));
  if (!address) return failed("not an IPv4 address");
  return DnsRecord{std::move(name), *address};
}

std::string reverse_name(Ipv4Address a) {
  return std::to_string(a.value & 0xFF) + '.' + std::to_string((a.value >> 8) & 0xFF) + '.' +
         std::to_string((a.value >> 16) & 0xFF) + '.' + std::to_string(a.value >> 24) + ".in-addr.arpa";
}

Zone::Zone(Ipv4Address gateway, const std::vector<DnsRecord>& records)
    : internal_suffix_(must_parse(kInternalDomain).key()) {
  const Name gateway_name = must_parse(std::string("gateway.") + std::string(kInternalDomain));
  addresses_[must_parse(std::string("host.") + std::string(kInternalDomain)).key()] = {gateway};
  addresses_[gateway_name.key()] = {gateway};
  pointers_.emplace(must_parse(reverse_name(gateway)).key(), gateway_name);

  std::unordered_map<std::string, std::vector<Ipv4Address>> configured;
  for (const DnsRecord& record : records) configured[must_parse(record.name).key()].push_back(record.address);
  for (auto& [key, list] : configured) addresses_[key] = std::move(list);  // replaces a built-in name
}

Zone::Lookup Zone::lookup(const Question& question) const {
  Lookup result;
  if (question.klass != kClassIn && question.klass != kClassAny) return result;
  const std::string key = question.name.key();
  const bool wants_a = question.type == type::a || question.type == type::any;
  const bool wants_ptr = question.type == type::ptr || question.type == type::any;
  if (auto it = addresses_.find(key); it != addresses_.end()) {
    result.verdict = Verdict::answer;
    if (!wants_a) return result;  // the name exists: NOERROR without data, never NXDOMAIN
    for (Ipv4Address a : it->second) {
      Bytes rdata;
      base::append_be32(rdata, a.value);
      result.records.push_back({type::a, kZoneTtlSeconds, std::move(rdata)});
    }
    return result;
  }
  if (auto it = pointers_.find(key); it != pointers_.end()) {
    result.verdict = Verdict::answer;
    if (wants_ptr) result.records.push_back({type::ptr, kZoneTtlSeconds, ptr_rdata(it->second)});
    return result;
  }
  if (key == internal_suffix_) {
    result.verdict = Verdict::answer;  // vz.internal itself exists (it has names below it), with no data
  } else if (is_at_or_below(key, internal_suffix_)) {
    result.verdict = Verdict::nx_domain;
  }
  return result;
}

}  // namespace vznet::dns
