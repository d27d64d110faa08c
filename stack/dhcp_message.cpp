// DHCPv4 wire codec (see dhcp_message.h): every read is preceded by a length check against the payload, so
// a truncated or hostile message is a counted drop, never an out-of-bounds read.
#include "stack/dhcp_message.h"

#include <algorithm>

#include "base/byte_order.h"

namespace vznet::stack::dhcp {

namespace {

constexpr std::array<std::uint8_t, 4> kMagicCookie{99, 130, 83, 99};
constexpr std::size_t kChaddrOffset = 28;
constexpr std::uint8_t kBootRequest = 1;
constexpr std::uint8_t kBootReply = 2;
constexpr std::uint8_t kEthernet = 1;
constexpr std::size_t kEthernetAddressLength = 6;
constexpr std::size_t kMaxOptionData = 255;
/// Longest hostname kept for logs and the lease list (a DNS label's limit; longer ones are cut).
constexpr std::size_t kMaxHostname = 63;
/// RFC 1035: a name is at most 255 octets on the wire, i.e. 253 characters in dotted form.
constexpr std::size_t kMaxDomainName = 253;
constexpr std::size_t kMaxLabel = 63;
/// Compression pointers have 14 bits of offset.
constexpr std::size_t kMaxPointerOffset = 0x3FFF;

ParseResult dropped(DhcpDrop reason) { return ParseResult{std::nullopt, reason}; }

bool valid_message_type(std::uint8_t value) {
  return value >= static_cast<std::uint8_t>(MessageType::discover) &&
         value <= static_cast<std::uint8_t>(MessageType::inform);
}

/// The fixed header of `m` with op `op` and the magic cookie; options are appended after it.
Bytes fixed_header(const Message& m, std::uint8_t op) {
  Bytes out(kOptionsOffset, 0);
  out[0] = op;
  out[1] = m.htype;
  out[2] = m.hlen;
  out[3] = m.hops;
  base::store_be32(out, 4, m.xid);
  base::store_be16(out, 8, m.secs);
  base::store_be16(out, 10, m.flags);
  base::store_be32(out, 12, m.ciaddr.value);
  base::store_be32(out, 16, m.yiaddr.value);
  base::store_be32(out, 20, m.siaddr.value);
  base::store_be32(out, 24, m.giaddr.value);
  std::copy(m.chaddr.begin(), m.chaddr.end(), out.begin() + kChaddrOffset);
  std::copy(kMagicCookie.begin(), kMagicCookie.end(), out.begin() + kFixedHeaderSize);
  return out;
}

/// Bytes `data` takes as option(s): split into 255-byte instances, at least one (a zero-length option).
std::size_t encoded_size(const Bytes& data) {
  const std::size_t instances = std::max<std::size_t>(1, (data.size() + kMaxOptionData - 1) / kMaxOptionData);
  return data.size() + 2 * instances;
}

void append_option(Bytes& out, std::uint8_t code, const Bytes& data) {
  std::size_t at = 0;
  do {
    const std::size_t chunk = std::min(kMaxOptionData, data.size() - at);
    out.push_back(code);
    out.push_back(static_cast<std::uint8_t>(chunk));
    out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(at),
               data.begin() + static_cast<std::ptrdiff_t>(at + chunk));
    at += chunk;
  } while (at < data.size());
}

void finish(Bytes& out) {
  out.push_back(option::end);
  if (out.size() < kMinReplySize) out.resize(kMinReplySize, option::pad);
}

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabel) return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

/// Splits "a.b.c" (one trailing dot allowed) into labels; nullopt when a label or the name is invalid.
std::optional<std::vector<std::string>> split_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > kMaxDomainName) return std::nullopt;
  std::vector<std::string> labels;
  for (;;) {
    const std::size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (!valid_label(label)) return std::nullopt;
    labels.emplace_back(label);
    if (dot == std::string_view::npos) return labels;
    name.remove_prefix(dot + 1);
  }
}

}  // namespace

std::string_view to_string(MessageType type) {
  constexpr std::array<std::string_view, 9> kNames{"?",   "DISCOVER", "OFFER",   "REQUEST", "DECLINE",
                                                   "ACK", "NAK",      "RELEASE", "INFORM"};
  const auto index = static_cast<std::size_t>(type);
  return index < kNames.size() ? kNames[index] : kNames[0];
}

Mac Message::mac() const {
  Mac out{};
  std::copy_n(chaddr.begin(), out.size(), out.begin());
  return out;
}

const Bytes* Message::find(std::uint8_t code) const {
  auto it = options.find(code);
  return it == options.end() ? nullptr : &it->second;
}

std::optional<Ipv4Address> Message::address_option(std::uint8_t code) const {
  const Bytes* data = find(code);
  if (data == nullptr || data->size() != 4) return std::nullopt;
  return Ipv4Address{base::load_be32(*data, 0)};
}

Bytes Message::client_identifier() const {
  const Bytes* data = find(option::client_identifier);
  return data == nullptr ? Bytes{} : *data;
}

std::optional<Bytes> Message::parameter_request_list() const {
  const Bytes* data = find(option::parameter_request_list);
  if (data == nullptr) return std::nullopt;
  return *data;
}

std::optional<std::size_t> Message::max_message_size() const {
  const Bytes* data = find(option::max_message_size);
  if (data == nullptr || data->size() != 2) return std::nullopt;
  const std::size_t value = base::load_be16(*data, 0);
  // The option counts the whole IP datagram; what we limit is the DHCP payload inside it.
  if (value < kMinMaxMessageSize + 28) return std::nullopt;
  return value - 28;
}

std::string Message::hostname() const {
  const Bytes* data = find(option::hostname);
  if (data == nullptr) return {};
  std::string out;
  for (std::uint8_t c : *data) {
    if (out.size() == kMaxHostname) break;
    out += (c >= 0x21 && c < 0x7F) ? static_cast<char>(c) : '?';
  }
  return out;
}

ParseResult parse(std::span<const std::uint8_t> p) {
  if (p.size() < kOptionsOffset) return dropped(DhcpDrop::truncated);
  Message m;
  m.op = p[0];
  m.htype = p[1];
  m.hlen = p[2];
  m.hops = p[3];
  if (m.op != kBootRequest) return dropped(DhcpDrop::not_a_request);
  // Guests are on an Ethernet link; anything else (including an hlen beyond chaddr's 16 bytes) is hostile.
  if (m.htype != kEthernet || m.hlen != kEthernetAddressLength) return dropped(DhcpDrop::bad_hardware);
  m.xid = base::load_be32(p, 4);
  m.secs = base::load_be16(p, 8);
  m.flags = base::load_be16(p, 10);
  m.ciaddr = Ipv4Address{base::load_be32(p, 12)};
  m.yiaddr = Ipv4Address{base::load_be32(p, 16)};
  m.siaddr = Ipv4Address{base::load_be32(p, 20)};
  m.giaddr = Ipv4Address{base::load_be32(p, 24)};
  std::copy_n(p.begin() + kChaddrOffset, m.chaddr.size(), m.chaddr.begin());
  if (!std::equal(kMagicCookie.begin(), kMagicCookie.end(), p.begin() + kFixedHeaderSize)) {
    return dropped(DhcpDrop::bad_magic);
  }
  std::size_t at = kOptionsOffset;
  while (at < p.size()) {
    const std::uint8_t code = p[at];
    if (code == option::pad) {
      ++at;
      continue;
    }
    if (code == option::end) break;
    if (at + 1 >= p.size()) return dropped(DhcpDrop::bad_option);
    const std::size_t length = p[at + 1];
    if (at + 2 + length > p.size()) return dropped(DhcpDrop::bad_option);
    Bytes& data = m.options[code];  // repeated options concatenate (RFC 3396)
    data.insert(data.end(), p.begin() + static_cast<std::ptrdiff_t>(at + 2),
                p.begin() + static_cast<std::ptrdiff_t>(at + 2 + length));
    at += 2 + length;
  }
  // A missing end option is tolerated: the options were all complete, which is what matters.
  const Bytes* type = m.find(option::message_type);
  if (type == nullptr) return dropped(DhcpDrop::no_message_type);
  if (type->size() != 1 || !valid_message_type((*type)[0])) return dropped(DhcpDrop::bad_message_type);
  m.type = static_cast<MessageType>((*type)[0]);
  if (m.type == MessageType::offer || m.type == MessageType::ack || m.type == MessageType::nak) {
    return dropped(DhcpDrop::bad_message_type);  // server messages have no business arriving at port 67
  }
  return ParseResult{std::move(m), DhcpDrop::truncated};
}

Bytes build_reply(const Message& request, const Reply& reply, std::size_t max_size) {
  Message header = request;
  header.hops = 0;
  header.secs = 0;
  header.ciaddr = reply.ciaddr;
  header.yiaddr = reply.yiaddr;
  header.siaddr = Ipv4Address{};
  Bytes out = fixed_header(header, kBootReply);
  append_option(out, option::message_type, Bytes{static_cast<std::uint8_t>(reply.type)});
  const std::size_t limit = std::max(max_size, kMinReplySize);
  for (const ReplyOption& o : reply.options) {
    if (out.size() + encoded_size(o.data) + 1 > limit) continue;  // +1: the end option
    append_option(out, o.code, o.data);
  }
  finish(out);
  return out;
}

Bytes build_request(const Message& m, const std::vector<ReplyOption>& options) {
  Bytes out = fixed_header(m, m.op);
  append_option(out, option::message_type, Bytes{static_cast<std::uint8_t>(m.type)});
  for (const ReplyOption& o : options) append_option(out, o.code, o.data);
  finish(out);
  return out;
}

std::optional<Bytes> encode_search_list(const std::vector<std::string>& domains) {
  Bytes out;
  std::map<std::string, std::size_t> suffix_offsets;  // "b.c" -> where it was written
  for (const std::string& domain : domains) {
    auto labels = split_name(domain);
    if (!labels) return std::nullopt;
    bool pointed = false;
    for (std::size_t i = 0; i < labels->size(); ++i) {
      std::string suffix;
      for (std::size_t j = i; j < labels->size(); ++j) suffix += (j > i ? "." : "") + (*labels)[j];
      if (auto it = suffix_offsets.find(suffix); it != suffix_offsets.end()) {
        base::append_be16(out, static_cast<std::uint16_t>(0xC000 | it->second));  // a compression pointer
        pointed = true;
        break;
      }
      if (out.size() <= kMaxPointerOffset) suffix_offsets.emplace(suffix, out.size());
      out.push_back(static_cast<std::uint8_t>((*labels)[i].size()));
      out.insert(out.end(), (*labels)[i].begin(), (*labels)[i].end());
    }
    if (!pointed) out.push_back(0);
  }
  return out;
}

Bytes be32(std::uint32_t value) {
  Bytes out(4);
  base::store_be32(out, 0, value);
  return out;
}

Bytes be16(std::uint16_t value) {
  Bytes out(2);
  base::store_be16(out, 0, value);
  return out;
}

Bytes address(Ipv4Address a) { return be32(a.value); }

}  // namespace vznet::stack::dhcp
