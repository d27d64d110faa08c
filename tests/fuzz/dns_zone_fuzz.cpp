// Fuzz target: the built-in zone (dns/dns_zone): --dns-record parsing and lookups. The input is text, one item a
// line: lines that parse as NAME=IPv4 become records; every line (the text before '=', if any) is also looked up
// as a name, with the type and class chosen by its length. A record's name must answer with its address, in any
// letter case; names below vz.internal are never forwarded upstream.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dns/dns_zone.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace vznet;
using namespace vznet::dns;
using vznet::fuzz::check;

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool has_address(const Zone::Lookup& lookup, Ipv4Address a) {
  for (const AnswerRecord& r : lookup.records) {
    if (r.type == type::a && r.rdata.size() == 4 &&
        Ipv4Address{std::uint32_t{r.rdata[0]} << 24 | std::uint32_t{r.rdata[1]} << 16 | std::uint32_t{r.rdata[2]} << 8 |
                    r.rdata[3]} == a) {
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines;
  while (!text.empty() && lines.size() < 64) {
    const std::size_t newline = text.find('\n');
    lines.push_back(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
  }
  std::vector<DnsRecord> records;
  for (std::string_view line : lines) {
    std::string error;
    if (auto record = parse_dns_record(line, &error)) {
      check(!record->name.empty() && record->name.size() <= 253 && record->name.back() != '.', "record name");
      records.push_back(*record);
    } else {
      check(!error.empty(), "a refused record without a reason");
    }
  }
  const Zone zone(Ipv4Address{192, 168, 64, 1}, records);

  static constexpr std::uint16_t kTypes[] = {type::a, type::ptr, type::any, type::aaaa, type::txt};
  static constexpr std::uint16_t kClasses[] = {kClassIn, kClassAny, 3};
  for (std::string_view line : lines) {
    const std::string_view name = line.substr(0, line.find('='));
    const auto wire = Name::from_text(name);
    if (!wire) continue;
    const Question q{*wire, kTypes[line.size() % 5], kClasses[line.size() % 3]};
    const Zone::Lookup lookup = zone.lookup(q);
    if (lookup.verdict != Zone::Verdict::answer) check(lookup.records.empty(), "records without an answer");
    (void)reverse_name(Ipv4Address{static_cast<std::uint32_t>(line.size()) * 0x01010101u});
    if (const auto below = Name::from_text(std::string(name) + "." + std::string(kInternalDomain))) {
      check(zone.lookup(Question{*below, q.type, kClassIn}).verdict != Zone::Verdict::forward,
            "a name below vz.internal is forwarded upstream");
    }
  }
  for (const DnsRecord& record : records) {
    for (const std::string& spelled : {record.name, upper(record.name)}) {
      const Zone::Lookup lookup = zone.lookup(Question{*Name::from_text(spelled), type::a, kClassIn});
      check(lookup.verdict == Zone::Verdict::answer && has_address(lookup, record.address),
            "a record's name does not answer with its address");
    }
  }
  return 0;
}
