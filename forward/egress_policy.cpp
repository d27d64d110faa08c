// The egress policy (see egress_policy.h): the rule parser, which cuts a rule into protocol, ports and destination
// from the right and validates each; the most-specific-match decision; and the policy-file parser, which hands
// each line's directive to the same functions the flags use and prefixes its errors with the line number.
#include "forward/egress_policy.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace vznet::forward {
namespace {

constexpr std::string_view kRuleGrammar = "CIDR[:PORT[-PORT]][/tcp|/udp|/icmp]";

std::string quote(std::string_view text) { return '"' + std::string(text) + '"'; }

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/// Ranks the rules that match one flow: the higher value is the more specific rule (egress_policy.h lists the
/// order). Bits, most significant first: prefix length (8), ports not covered (16: 0 without a range, 65535 for a
/// single port), protocol-specific (1), deny (1).
std::uint32_t specificity(const EgressRule& rule) {
  const std::uint32_t uncovered = 65536 - rule.port_count();
  return (std::uint32_t{rule.destination.prefix_length()} << 18) | (uncovered << 2) |
         (std::uint32_t{rule.protocol != EgressProtocol::any} << 1) | std::uint32_t{rule.action == EgressAction::deny};
}

bool same_match(const EgressRule& a, const EgressRule& b) {
  return a.action == b.action && a.destination == b.destination && a.first_port == b.first_port &&
         a.last_port == b.last_port && a.protocol == b.protocol;
}

/// A preset rule's destination, written as a CIDR.
struct PresetRange {
  std::string_view cidr;
  std::string_view origin;
};

EgressRule preset_rule(const PresetRange& range) {
  return EgressRule{EgressAction::deny, IpSubnet::parse(range.cidr).value()};
}

/// What logs and describe() show for a rule: its canonical text, and where a preset came from.
std::string labelled_text(const EgressRule& rule, std::string_view origin) {
  std::string text = rule.canonical_text();
  if (!origin.empty()) text += " (" + std::string(origin) + ')';
  return text;
}

/// The host's loopback in both families: what --block-host denies.
constexpr PresetRange kHostLoopback[] = {{"127.0.0.0/8", "block-host"}, {"::1/128", "block-host"}};

/// The rules --block-host stands for. Static, so decisions may point at them.
const std::vector<EgressRule>& block_host_rules() {
  static const std::vector<EgressRule> rules = [] {
    std::vector<EgressRule> built;
    for (const auto& range : kHostLoopback) {
      EgressRule rule = preset_rule(range);
      rule.text = labelled_text(rule, range.origin);
      built.push_back(std::move(rule));
    }
    return built;
  }();
  return rules;
}

constexpr PresetRange kPrivateRanges[] = {
    {"10.0.0.0/8", "block-private: RFC 1918"},
    {"172.16.0.0/12", "block-private: RFC 1918"},
    {"192.168.0.0/16", "block-private: RFC 1918"},
    {"100.64.0.0/10", "block-private: carrier-grade NAT"},
    {"169.254.0.0/16", "block-private: link-local, cloud metadata"},
    {"fc00::/7", "block-private: IPv6 unique local"},
    {"fe80::/10", "block-private: IPv6 link-local"},
    {"fec0::/10", "block-private: IPv6 site-local (deprecated)"},
};

class RuleParser {
 public:
  RuleParser(EgressAction action, std::string_view text) : action_(action), text_(text) {}

  EgressRule parse() const {
    if (text_.empty()) throw std::invalid_argument("empty egress rule (expected " + std::string(kRuleGrammar) + ')');
    EgressRule rule;
    rule.action = action_;
    std::string_view body = text_;
    if (auto slash = body.rfind('/');
        slash != std::string_view::npos && is_protocol_field(body.substr(slash + 1), body.substr(0, slash))) {
      rule.protocol = parse_protocol(body.substr(slash + 1));
      body = body.substr(0, slash);
    }
    const auto [destination, ports] = split_ports(body);
    rule.destination = parse_destination(destination);
    if (ports) {
      if (ports->empty()) fail("missing port after \":\"");
      if (rule.protocol == EgressProtocol::icmp) fail("port " + quote(*ports) + " with icmp", " (ICMP has no ports)");
      parse_ports(*ports, rule);
    }
    rule.text = rule.canonical_text();
    return rule;
  }

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& hint = {}) const {
    throw std::invalid_argument(what + " in " + quote(text_) + hint);
  }

  struct DestinationAndPorts {
    std::string_view destination;
    std::optional<std::string_view> ports;  ///< the text after the port's ':', when there is one
  };

  /// Cuts "DESTINATION[:PORTS]" (the protocol already removed). IPv4 has a dot before its first ':'; an IPv6
  /// destination takes ports only in brackets ("[fd00::/8]:443"), and without them every colon is its own.
  DestinationAndPorts split_ports(std::string_view body) const {
    if (body.starts_with('[')) {
      const auto close = body.find(']');
      if (close == std::string_view::npos) fail("missing \"]\" after " + quote(body));
      const std::string_view inside = body.substr(1, close - 1), after = body.substr(close + 1);
      if (!inside.empty() && inside.find(':') == std::string_view::npos) {
        fail("brackets around IPv4 " + quote(inside), " (brackets are for IPv6 destinations)");
      }
      if (after.empty()) return {inside, std::nullopt};
      if (after.front() != ':') fail("unexpected " + quote(after) + " after \"]\"");
      return {inside, after.substr(1)};
    }
    const auto colon = body.find(':');
    if (colon == std::string_view::npos) return {body, std::nullopt};
    const bool ipv4 =
        std::count(body.begin(), body.end(), ':') == 1 || body.substr(0, colon).find('.') != std::string_view::npos;
    if (!ipv4) return {body, std::nullopt};
    return {body.substr(0, colon), body.substr(colon + 1)};
  }

  /// The text after the last '/' is the protocol if it starts with a letter. If it is empty, it is a missing
  /// protocol unless that '/' can only be the CIDR's ("10.0.0.0/" is a bad prefix length).
  static bool is_protocol_field(std::string_view field, std::string_view before) {
    if (field.empty()) return before.find_first_of(":/") != std::string_view::npos;
    return is_letter(field.front());
  }

  EgressProtocol parse_protocol(std::string_view name) const {
    if (name == "tcp") return EgressProtocol::tcp;
    if (name == "udp") return EgressProtocol::udp;
    if (name == "icmp") return EgressProtocol::icmp;
    if (name.empty()) fail("missing protocol after \"/\"");
    std::string lower(name);
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower == "tcp" || lower == "udp" || lower == "icmp") fail("protocol " + quote(name) + " must be lowercase");
    fail("unknown protocol " + quote(name), " (expected tcp, udp or icmp)");
  }

  /// "A.B.C.D/N" or "IPV6/N", or a bare address for /32 or /128. An IPv4-mapped IPv6 destination
  /// (::ffff:10.0.0.0/104) becomes the IPv4 one it covers (10.0.0.0/8), as judged_address() sees its targets.
  IpSubnet parse_destination(std::string_view field) const {
    if (field.empty()) fail("missing address", " (expected " + std::string(kRuleGrammar) + ')');
    if (field.find('/') != std::string_view::npos) {
      std::string why;
      auto subnet = IpSubnet::parse(field, &why);
      if (!subnet) fail("invalid CIDR " + quote(field), ": " + why);
      return subnet->unmapped();
    }
    auto address = IpAddress::parse(field);
    if (!address) fail("invalid address " + quote(field), " (expected " + std::string(kRuleGrammar) + ')');
    return IpSubnet::make(*address, address->bit_count())->unmapped();
  }

  /// "80" or "80-89"; ports 1..65535, first <= last.
  void parse_ports(std::string_view field, EgressRule& rule) const {
    const auto dash = field.find('-');
    if (dash == std::string_view::npos) {
      auto port = parse_decimal(field, 1, 65535);
      if (!port) fail("invalid port " + quote(field), " (ports are 1..65535)");
      rule.first_port = rule.last_port = static_cast<std::uint16_t>(*port);
      return;
    }
    auto first = parse_decimal(field.substr(0, dash), 1, 65535);
    auto last = parse_decimal(field.substr(dash + 1), 1, 65535);
    if (!first || !last) fail("invalid port range " + quote(field), " (ports are 1..65535)");
    if (*first > *last) fail("reversed port range " + quote(field));
    rule.first_port = static_cast<std::uint16_t>(*first);
    rule.last_port = static_cast<std::uint16_t>(*last);
  }

  EgressAction action_;
  std::string_view text_;
};

/// A rule built in code (not parsed) must still be one the parser could have produced.
void validate(const EgressRule& rule) {
  auto fail = [&](std::string_view why) {
    throw std::invalid_argument("invalid egress rule " + quote(rule.canonical_text()) + ": " + std::string(why));
  };
  const IpAddress& network = rule.destination.network();
  if (rule.destination.prefix_length() > network.bit_count()) {
    fail("prefix length must be 0.." + std::to_string(network.bit_count()));
  }
  if (!IpSubnet::make(network, rule.destination.prefix_length())) fail("host bits are set");
  if (!rule.has_ports() && rule.last_port != 65535) fail("ports are 1..65535 ({0, 65535} means all ports)");
  if (rule.first_port > rule.last_port) fail("reversed port range");
  if (rule.has_ports() && rule.protocol == EgressProtocol::icmp) fail("ICMP has no ports");
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  for (;;) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) return words;
    line.remove_prefix(start);
    const auto end = line.find_first_of(" \t");
    words.push_back(line.substr(0, end));
    if (end == std::string_view::npos) return words;
    line.remove_prefix(end);
  }
}

/// Applies one policy-file line's directive; errors without the line number.
class PolicyTextParser {
 public:
  PolicyTextParser(EgressPolicy& policy, std::span<const Ipv4Address> host_addresses)
      : policy_(policy), host_addresses_(host_addresses) {}

  void apply(std::string_view line, std::size_t line_number) {
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    const auto words = split_words(line);
    if (words.empty()) return;
    const std::string_view directive = words[0];
    if (directive == "allow" || directive == "deny") {
      if (words.size() < 2)
        throw std::invalid_argument(quote(directive) + " needs a rule: " + std::string(directive) + ' ' +
                                    std::string(kRuleGrammar));
      expect_no_more(words, 2);
      policy_.add(parse_egress_rule(directive == "allow" ? EgressAction::allow : EgressAction::deny, words[1]));
    } else if (directive == "default") {
      if (words.size() < 2) throw std::invalid_argument("\"default\" needs allow or deny");
      expect_no_more(words, 2);
      if (default_line_ != 0) {
        throw std::invalid_argument("default given twice (first on line " + std::to_string(default_line_) + ')');
      }
      policy_.set_default(parse_egress_action(words[1]));
      default_line_ = line_number;
    } else if (directive == "block-private") {
      expect_no_more(words, 1);
      policy_.add_private_ranges(host_addresses_);
    } else if (directive == "block-host") {
      expect_no_more(words, 1);
      policy_.set_block_host(true);
    } else {
      throw std::invalid_argument("unknown directive " + quote(directive) +
                                  " (expected allow, deny, default, block-private or block-host)");
    }
  }

 private:
  /// One directive a line: nothing may follow its `count` words but a comment.
  static void expect_no_more(const std::vector<std::string_view>& words, std::size_t count) {
    if (words.size() > count) {
      throw std::invalid_argument("unexpected " + quote(words[count]) + " after " + quote(words[count - 1]) +
                                  " (one directive a line)");
    }
  }

  EgressPolicy& policy_;
  std::span<const Ipv4Address> host_addresses_;
  std::size_t default_line_ = 0;
};

}  // namespace

std::string_view to_string(EgressAction action) { return action == EgressAction::allow ? "allow" : "deny"; }

std::string_view to_string(EgressProtocol protocol) {
  switch (protocol) {
    case EgressProtocol::any: return "any";
    case EgressProtocol::tcp: return "tcp";
    case EgressProtocol::udp: return "udp";
    case EgressProtocol::icmp: return "icmp";
  }
  return "?";
}

bool EgressRule::matches(IpProtocol flow_protocol, const IpEndpoint& target) const {
  if (!destination.contains(target.address)) return false;
  switch (protocol) {
    case EgressProtocol::any: break;
    case EgressProtocol::tcp:
      if (flow_protocol != IpProtocol::tcp) return false;
      break;
    case EgressProtocol::udp:
      if (flow_protocol != IpProtocol::udp) return false;
      break;
    case EgressProtocol::icmp:
      if (flow_protocol != IpProtocol::icmp) return false;
      break;
  }
  if (!has_ports()) return true;
  return flow_protocol != IpProtocol::icmp && first_port <= target.port && target.port <= last_port;
}

std::string EgressRule::canonical_text() const {
  std::string text = std::string(to_string(action)) + ' ';
  const bool bracketed = has_ports() && !destination.network().is_v4();
  text += bracketed ? '[' + destination.to_string() + ']' : destination.to_string();
  if (has_ports()) {
    text += ':' + std::to_string(first_port);
    if (last_port != first_port) text += '-' + std::to_string(last_port);
  }
  if (protocol != EgressProtocol::any) text += '/' + std::string(to_string(protocol));
  return text;
}

IpAddress judged_address(const IpAddress& address) {
  return address.is_v4_compatible() ? IpAddress(address.v4()) : address.unmapped();
}

EgressRule parse_egress_rule(EgressAction action, std::string_view text) { return RuleParser(action, text).parse(); }

EgressAction parse_egress_action(std::string_view text) {
  if (text == "allow") return EgressAction::allow;
  if (text == "deny") return EgressAction::deny;
  throw std::invalid_argument("invalid default " + quote(text) + " (expected allow or deny)");
}

std::string_view EgressDecision::describe() const {
  if (rule != nullptr) return rule->text;
  return allowed ? "default allow" : "default deny";
}

void EgressPolicy::add(EgressRule rule) { add_preset(std::move(rule), {}); }

void EgressPolicy::add_preset(EgressRule rule, std::string_view origin) {
  validate(rule);
  for (const auto& existing : rules_) {
    if (same_match(existing, rule)) return;
  }
  rule.text = labelled_text(rule, origin);
  rules_.push_back(std::move(rule));
}

void EgressPolicy::add_private_ranges(std::span<const Ipv4Address> host_addresses) {
  for (const auto& range : kPrivateRanges) add_preset(preset_rule(range), range.origin);
  for (const Ipv4Address address : host_addresses) {
    if (address.is_loopback() || address.is_unspecified()) continue;
    add_preset(EgressRule{EgressAction::deny, Ipv4Subnet{address, 32}}, "block-private: host address");
  }
}

EgressDecision EgressPolicy::decide(IpProtocol protocol, const IpEndpoint& dialed) const {
  const IpEndpoint target{judged_address(dialed.address), dialed.port};
  const EgressRule* best = nullptr;
  std::uint32_t best_rank = 0;
  auto consider = [&](const EgressRule& rule) {
    if (!rule.matches(protocol, target)) return;
    const std::uint32_t rank = specificity(rule);
    if (best == nullptr || rank > best_rank) {  // strictly more specific: the first of equals stays
      best = &rule;
      best_rank = rank;
    }
  };
  for (const auto& rule : rules_) consider(rule);
  if (block_host_) {
    for (const auto& rule : block_host_rules()) consider(rule);
  }
  if (best == nullptr) return EgressDecision{default_ == EgressAction::allow, nullptr};
  return EgressDecision{best->action == EgressAction::allow, best};
}

std::vector<std::string> EgressPolicy::describe() const {
  std::vector<std::string> lines;
  lines.reserve(rules_.size() + 2);
  for (const auto& rule : rules_) lines.push_back(rule.text);
  if (block_host_) {
    for (const auto& rule : block_host_rules()) lines.push_back(rule.text);
  }
  lines.push_back("default " + std::string(to_string(default_)));
  return lines;
}

EgressPolicy parse_policy_text(std::string_view text, std::span<const Ipv4Address> host_addresses, EgressPolicy base) {
  PolicyTextParser parser(base, host_addresses);
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    try {
      parser.apply(line, line_number);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("line " + std::to_string(line_number) + ": " + e.what());
    }
  }
  return base;
}

}  // namespace vznet::forward
