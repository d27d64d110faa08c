// Fuzz target: the DHCPv4 wire codec (stack/dhcp_message). The input is a UDP payload sent to port 67. A message
// that parses must survive a round trip (build_request of its fields and options parses to the same message),
// and a reply built for it must stay within the size it was given. The search-list encoder (option 119) is fed
// the input as comma-separated names and its output decoded back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stack/dhcp_message.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace vznet::stack::dhcp;
using vznet::fuzz::check;

void round_trip(const Message& m) {
  std::vector<ReplyOption> options;
  for (const auto& [code, data] : m.options) {
    if (code != option::message_type) options.push_back({code, data});
  }
  const auto again = parse(build_request(m, options));
  check(again.message.has_value(), "a rebuilt request does not parse");
  const Message& n = *again.message;
  check(n.xid == m.xid && n.secs == m.secs && n.flags == m.flags && n.hops == m.hops, "header fields change");
  check(n.ciaddr == m.ciaddr && n.yiaddr == m.yiaddr && n.siaddr == m.siaddr && n.giaddr == m.giaddr,
        "addresses change");
  check(n.chaddr == m.chaddr && n.type == m.type, "chaddr or type changes");
  check(n.options == m.options, "options change in a round trip");
  check(n.hostname() == m.hostname() && n.max_message_size() == m.max_message_size(), "accessors differ");
}

void reply_bounds(const Message& m, std::size_t max_size) {
  Reply reply;
  reply.type = MessageType::offer;
  reply.options.push_back({option::server_identifier, address(vznet::Ipv4Address{192, 168, 64, 1})});
  reply.options.push_back({option::lease_time, be32(3600)});
  if (auto prl = m.parameter_request_list()) reply.options.push_back({option::parameter_request_list, *prl});
  reply.options.push_back({option::client_identifier, m.client_identifier()});
  const std::string hostname = m.hostname();
  reply.options.push_back({option::hostname, Bytes(hostname.begin(), hostname.end())});
  const Bytes out = build_reply(m, reply, max_size);
  check(out.size() >= kMinReplySize && out.size() <= std::max(max_size, kMinReplySize), "reply size");
  check(out[0] == 2, "a reply is not a BOOTREPLY");
}

/// Decodes option 119 data (RFC 1035 names, pointers within the option) into dotted names.
std::vector<std::string> decode_search_list(const Bytes& data) {
  std::vector<std::string> names;
  std::size_t at = 0;
  while (at < data.size()) {
    std::string name;
    std::size_t pos = at;
    bool jumped = false;
    for (int hops = 0;; ++hops) {
      check(pos < data.size() && hops < 1000, "search list runs past its end or loops");
      const std::uint8_t length = data[pos];
      if (length == 0) {
        if (!jumped) at = pos + 1;
        break;
      }
      if ((length & 0xC0) == 0xC0) {
        check(pos + 1 < data.size(), "truncated pointer");
        const std::size_t target = std::size_t{length & 0x3Fu} << 8 | data[pos + 1];
        check(target < pos, "a pointer that does not point backwards");
        if (!jumped) at = pos + 2;
        jumped = true;
        pos = target;
        continue;
      }
      check(length <= 63 && pos + 1 + length <= data.size(), "bad label");
      if (!name.empty()) name += '.';
      name.append(reinterpret_cast<const char*>(data.data() + pos + 1), length);
      pos += 1 + std::size_t{length};
    }
    names.push_back(name);
  }
  return names;
}

void search_list(std::string_view text) {
  std::vector<std::string> domains;
  while (!text.empty() && domains.size() < 16) {
    const std::size_t comma = text.find(',');
    domains.emplace_back(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  const auto encoded = encode_search_list(domains);
  if (!encoded) return;
  std::vector<std::string> expected;
  for (std::string d : domains) {
    if (!d.empty() && d.back() == '.') d.pop_back();
    expected.push_back(d);
  }
  check(decode_search_list(*encoded) == expected, "search list does not decode to its names");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> payload(data, size);
  const ParseResult result = parse(payload);
  if (result.message) {
    const Message& m = *result.message;
    (void)to_string(m.type);
    (void)m.mac();
    (void)m.address_option(option::requested_address);
    (void)m.address_option(option::server_identifier);
    round_trip(m);
    reply_bounds(m, m.max_message_size().value_or(kMinMaxMessageSize));
    reply_bounds(m, size % 1500);
  }
  if (size < 1024) search_list(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
