// Parsing and formatting of docker-style publish specs (see publish_spec.h). The spec is first cut into its
// fields (protocol, host address, host ports, guest address, guest ports), then each field is validated;
// every error names the field's text and the whole spec.
#include "forward/publish_spec.h"

#include <algorithm>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace vznet::forward {
namespace {

std::string quote(std::string_view text) { return '"' + std::string(text) + '"'; }

std::vector<std::string_view> split_colons(std::string_view text) {
  std::vector<std::string_view> fields;
  for (;;) {
    auto colon = text.find(':');
    fields.push_back(text.substr(0, colon));
    if (colon == std::string_view::npos) return fields;
    text.remove_prefix(colon + 1);
  }
}

/// fields[first..last] joined with ':' again (an unbracketed IPv6 address the split cut apart).
std::string join_colons(const std::vector<std::string_view>& fields, std::size_t first, std::size_t last) {
  std::string joined;
  for (std::size_t i = first; i <= last; ++i) {
    if (i > first) joined += ':';
    joined += fields[i];
  }
  return joined;
}

/// An IPv6 address without zone id ("fe80::1%en0" is refused: resolving the zone asks the OS).
std::optional<asio::ip::address_v6> parse_ipv6(std::string_view text) {
  if (text.find('%') != std::string_view::npos) return std::nullopt;
  std::error_code ec;
  auto address = asio::ip::make_address_v6(std::string(text), ec);
  if (ec) return std::nullopt;
  return address;
}

/// Whether a field can only be a host address: anything but a port or port range (digits and '-').
bool is_address_like(std::string_view field) {
  return field.find_first_not_of("0123456789-") != std::string_view::npos;
}

std::string port_range_text(PortRange ports) {
  std::string text = std::to_string(ports.first);
  if (ports.last != ports.first) text += '-' + std::to_string(ports.last);
  return text;
}

/// The spec cut into its textual fields; nothing validated yet.
struct SpecFields {
  std::optional<std::string_view> host_address;  ///< as written, brackets included
  std::string_view host_ports;                   ///< empty: any free port
  std::optional<std::string_view> guest_address;
  std::string_view guest_ports;
};

class SpecParser {
 public:
  explicit SpecParser(std::string_view text) : text_(text) {}

  PublishSpec parse() const {
    if (text_.empty()) throw std::invalid_argument("empty publish spec");
    PublishSpec spec;
    std::string_view body = text_;
    if (auto slash = body.find('/'); slash != std::string_view::npos) {
      spec.protocol = parse_protocol(body.substr(slash + 1));
      body = body.substr(0, slash);
    }
    const SpecFields fields = split_fields(body);
    if (fields.host_address) spec.host_address = parse_host_address(*fields.host_address);
    if (!fields.host_ports.empty()) spec.host_ports = parse_ports(fields.host_ports);
    if (fields.guest_address) spec.guest_address = parse_guest_address(*fields.guest_address);
    if (fields.guest_ports.empty()) fail("missing guest port");
    spec.guest_ports = parse_ports(fields.guest_ports);
    // Docker: equal ranges map port to port; a host range with one guest port picks one host port.
    if (!spec.host_port_any() && spec.guest_ports.size() > 1 && spec.host_ports.size() != spec.guest_ports.size()) {
      fail("host ports " + quote(fields.host_ports) + " and guest ports " + quote(fields.guest_ports) +
           " differ in length");
    }
    return spec;
  }

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& hint = {}) const {
    throw std::invalid_argument(what + " in " + quote(text_) + hint);
  }

  [[noreturn]] void fail_guest_not_ipv4(std::string_view part) const {
    fail("guest address " + quote(part) + " is not IPv4", " (the guest side is IPv4-only)");
  }

  PublishProtocol parse_protocol(std::string_view name) const {
    if (name == "tcp") return PublishProtocol::tcp;
    if (name == "udp") return PublishProtocol::udp;
    if (name.empty()) fail("missing protocol after \"/\"");
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
    if (lower == "sctp") fail("sctp is not supported");
    if (lower == "tcp" || lower == "udp") fail("protocol " + quote(name) + " must be lowercase");
    fail("unknown protocol " + quote(name), " (expected tcp or udp)");
  }

  SpecFields split_fields(std::string_view body) const {
    SpecFields f;
    if (body.starts_with('[')) {
      auto close = body.find(']');
      if (close == std::string_view::npos) fail("unclosed \"[\"");
      f.host_address = body.substr(0, close + 1);
      body.remove_prefix(close + 1);
      if (!body.starts_with(':')) fail("expected \":\" after " + quote(*f.host_address));
      body.remove_prefix(1);
      reject_brackets(body);
      auto parts = split_colons(body);
      if (parts.size() == 1) fail("expected HOST_PORT:GUEST_PORT after " + quote(*f.host_address));
      if (parts.size() > 3) {
        reject_unbracketed_guest_ipv6(parts, 1);
        fail("too many fields");
      }
      f.host_ports = parts[0];
      if (parts.size() == 3) f.guest_address = parts[1];
      f.guest_ports = parts.back();
      return f;
    }
    reject_brackets(body);
    auto parts = split_colons(body);
    switch (parts.size()) {
      case 1: f.guest_ports = parts[0]; break;
      case 2:
        f.host_ports = parts[0];
        f.guest_ports = parts[1];
        break;
      case 3:  // HOST_IP:HOST_PORT:GUEST_PORT if the first field is an address, else HOST_PORT:GUEST_IP:GUEST_PORT
        if (parts[0].empty()) fail("empty host address");
        if (is_address_like(parts[0])) {
          f.host_address = parts[0];
          f.host_ports = parts[1];
        } else {
          f.host_ports = parts[0];
          f.guest_address = parts[1];
        }
        f.guest_ports = parts[2];
        break;
      case 4:
        f.host_address = parts[0];
        f.host_ports = parts[1];
        f.guest_address = parts[2];
        f.guest_ports = parts[3];
        break;
      default:
        // The guest address starts after HOST_IP:HOST_PORT if the first field is an address, else after HOST_PORT.
        reject_unbracketed_guest_ipv6(parts, is_address_like(parts[0]) ? 2 : 1);
        reject_unbracketed_host_ipv6(parts);
        fail("too many fields");
    }
    return f;
  }

  /// Brackets are only for the host address, which split_fields() has taken off already.
  void reject_brackets(std::string_view rest) const {
    auto open = rest.find('[');
    if (open != std::string_view::npos) {
      auto close = rest.find(']', open);
      std::string_view part = rest.substr(open, close == std::string_view::npos ? close : close - open + 1);
      if (close != std::string_view::npos && parse_ipv6(part.substr(1, part.size() - 2))) {
        fail_guest_not_ipv4(part);
      }
      fail("unexpected \"[\"");
    }
    if (rest.find(']') != std::string_view::npos) fail("unexpected \"]\"");
  }

  /// Too many fields because an IPv6 guest address was split at its colons: from parts[first] to the port.
  void reject_unbracketed_guest_ipv6(const std::vector<std::string_view>& parts, std::size_t first) const {
    if (parts.size() < first + 3) return;
    std::string candidate = join_colons(parts, first, parts.size() - 2);
    if (parse_ipv6(candidate)) fail_guest_not_ipv4(candidate);
  }

  /// Too many fields because the host address is IPv6 without brackets (3- or 4-field form).
  void reject_unbracketed_host_ipv6(const std::vector<std::string_view>& parts) const {
    for (std::size_t trailing : {std::size_t{2}, std::size_t{3}}) {
      if (parts.size() <= trailing + 1) continue;
      std::string candidate = join_colons(parts, 0, parts.size() - trailing - 1);
      if (parse_ipv6(candidate)) {
        fail("unbracketed IPv6 host address " + quote(candidate), " (write \"[" + candidate + "]\")");
      }
    }
  }

  asio::ip::address parse_host_address(std::string_view field) const {
    if (field.empty()) fail("empty host address");
    if (field.starts_with('[')) {
      std::string_view inner = field.substr(1, field.size() - 2);
      if (inner.find('%') != std::string_view::npos) fail("unsupported IPv6 zone id in host address " + quote(field));
      if (Ipv4Address::parse(inner)) fail("IPv4 host address " + quote(field) + " must not be in brackets");
      auto v6 = parse_ipv6(inner);
      if (!v6) fail("invalid IPv6 host address " + quote(field));
      return *v6;
    }
    auto v4 = Ipv4Address::parse(field);
    if (!v4) fail("invalid host address " + quote(field));
    return asio::ip::address_v4(v4->value);
  }

  Ipv4Address parse_guest_address(std::string_view field) const {
    if (field.empty()) fail("empty guest address");
    auto address = Ipv4Address::parse(field);
    if (!address) {
      if (parse_ipv6(field)) fail_guest_not_ipv4(field);
      fail("invalid guest address " + quote(field));
    }
    if (address->is_unspecified() || address->is_broadcast() || address->is_multicast()) {
      fail("guest address " + quote(field) + " is not a unicast address");
    }
    return *address;
  }

  /// "80" or "80-89"; ports 1..65535, first <= last.
  PortRange parse_ports(std::string_view field) const {
    auto dash = field.find('-');
    if (dash == std::string_view::npos) {
      auto port = parse_decimal(field, 1, 65535);
      if (!port) fail("invalid port " + quote(field));
      return {static_cast<std::uint16_t>(*port), static_cast<std::uint16_t>(*port)};
    }
    auto first = parse_decimal(field.substr(0, dash), 1, 65535);
    auto last = parse_decimal(field.substr(dash + 1), 1, 65535);
    if (!first || !last) fail("invalid port range " + quote(field));
    if (*first > *last) fail("reversed port range " + quote(field));
    return {static_cast<std::uint16_t>(*first), static_cast<std::uint16_t>(*last)};
  }

  std::string_view text_;
};

}  // namespace

std::string_view to_string(PublishProtocol protocol) {
  switch (protocol) {
    case PublishProtocol::tcp: return "tcp";
    case PublishProtocol::udp: return "udp";
  }
  return "?";
}

std::string PublishSpec::to_string() const {
  std::string text = host_address.is_v6() ? '[' + host_address.to_string() + ']' : host_address.to_string();
  text += ':';
  if (!host_port_any()) text += port_range_text(host_ports);
  text += ':';
  if (guest_address) text += guest_address->to_string() + ':';
  text += port_range_text(guest_ports);
  text += '/';
  text += forward::to_string(protocol);
  return text;
}

PublishSpec parse_publish_spec(std::string_view text) { return SpecParser(text).parse(); }

}  // namespace vznet::forward
