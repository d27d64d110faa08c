// The egress policy: which host-side destinations a guest's new flows may reach (--egress-allow, --egress-deny,
// --egress-default, --block-private, --block-host, --policy-file), with the rule and policy-file parsers.
// Pure: no sockets, no files, no logging. Reading the file, listing the host's addresses and logging are the caller's.
//
// Theory of operation
// -------------------
// The caller asks decide() once per new flow (a guest TCP SYN, the first datagram of a UDP flow, the first echo
// request of an ICMP flow), never per packet, with the endpoint vznet is about to dial on the host, i.e.
// dial_target() of the guest's destination (dial_target.h). So a flow to the gateway is judged as a flow to the
// host's loopback (127.0.0.1), which is what it is: rules about the host's loopback name 127.0.0.1, and
// --block-private (which covers the guest subnet's 192.168.0.0/16) does not cut the guest off from the host.
// The services vznet runs in-stack on the gateway (DHCP, DNS, and ICMP echo to the gateway) never become flows,
// so they never reach the policy and stay reachable whatever it says.
//
// Among the rules that match a flow, the most specific one decides, compared in this order:
//   1. the longer prefix (/32 beats /24 beats /0);
//   2. the narrower port range (fewer ports; a rule without ports covers all 65536 and is wider than any range,
//      even 1-65535);
//   3. a protocol-specific rule (/tcp, /udp, /icmp) over an any-protocol one;
//   4. deny over allow.
// Rules equal on all four are duplicates; the first added is reported. No matching rule: the default action.
// The order in which rules are added does not change any decision, so flags and a policy file combine freely.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stack/flow_key.h"
#include "stack/ip_address.h"
#include "stack/ipv4_address.h"

namespace vznet::forward {

enum class EgressAction : std::uint8_t { allow, deny };
enum class EgressProtocol : std::uint8_t { any, tcp, udp, icmp };

/// "allow" or "deny".
std::string_view to_string(EgressAction action);
/// "any", "tcp", "udp" or "icmp".
std::string_view to_string(EgressProtocol protocol);

/// One allow or deny rule: `CIDR[:PORT[-PORT]][/tcp|/udp|/icmp]`.
struct EgressRule {
  EgressAction action = EgressAction::deny;
  IpSubnet destination;  ///< either family; an IPv4-mapped IPv6 prefix is held as the IPv4 one
  /// Ports 1..65535, first <= last; {0, 65535} means "no port given": all ports, and ICMP flows too.
  /// A rule with a port range never matches ICMP (which has no ports).
  std::uint16_t first_port = 0;
  std::uint16_t last_port = 65535;
  EgressProtocol protocol = EgressProtocol::any;
  /// What logs and describe() show. For a parsed or add()ed rule the canonical form, which parse_policy_text()
  /// reads back: "deny 10.0.0.0/8", "allow 172.16.0.0/22:30000-32767/tcp", "deny 10.0.0.1/32:22". Presets add
  /// where they come from: "deny 169.254.0.0/16 (block-private: link-local, cloud metadata)".
  std::string text;

  /// A port range was given (the rule does not cover "all ports").
  constexpr bool has_ports() const { return first_port != 0; }
  /// Ports covered: 65536 without a range (all, port 0 included), else last - first + 1.
  constexpr std::uint32_t port_count() const { return std::uint32_t{last_port} - first_port + 1; }
  /// Whether a flow of `protocol` to `target` falls under this rule (the port is ignored for ICMP).
  bool matches(IpProtocol protocol, const IpEndpoint& target) const;
  /// The canonical text (the `text` of a parsed rule), recomputed from the fields.
  std::string canonical_text() const;
};

/// The address a dial to `address` really reaches, as the rules judge it: an IPv4-mapped IPv6 address
/// (::ffff:a.b.c.d) is the IPv4 host a.b.c.d, and so is an IPv4-compatible one (::a.b.c.d, deprecated by RFC 4291)
/// outside ::/104, which holds :: and ::1. So every IPv4 rule, --block-private's included, covers both IPv6 forms.
IpAddress judged_address(const IpAddress& address);

/// Parses one rule for --egress-allow / --egress-deny. A bare address means /32 (/128 for IPv6); no port means all
/// ports; no protocol means all protocols. An IPv6 destination takes its ports after brackets ("[fd00::/8]:443/tcp",
/// "[2001:db8::1]:22"); without brackets its colons are its own ("fd00::/8", "fd00::/8/udp"). /icmp is ICMPv6 echo
/// for an IPv6 destination. Ports are 1..65535 with first <= last, and not allowed with /icmp. Host bits set in
/// the CIDR are an error (as everywhere in vznet: "10.0.0.1/8" is ambiguous). Throws std::invalid_argument with
/// one lowercase sentence quoting the bad part and the rule, e.g. `invalid port "0" in "10.0.0.0/8:0"` (the caller
/// prefixes the flag name or line number).
EgressRule parse_egress_rule(EgressAction action, std::string_view text);

/// "allow" or "deny", for --egress-default and the file's `default` line; throws std::invalid_argument
/// (`invalid default "maybe" (expected allow or deny)`).
EgressAction parse_egress_action(std::string_view text);

/// The outcome of EgressPolicy::decide(). Points into the policy: valid while the policy lives unchanged.
struct EgressDecision {
  bool allowed = true;
  /// The rule that decided, or nullptr when none matched and the default applied.
  const EgressRule* rule = nullptr;

  /// For the log line of a denial: the rule's text, or "default allow" / "default deny". No allocation.
  std::string_view describe() const;
};

/// The rules, the default action and --block-host. Built at start-up, then only read: decide() is a linear scan
/// over the rules (fine for hundreds) that allocates nothing.
class EgressPolicy {
 public:
  /// Adds a rule; its text is set to the canonical form. An exact duplicate (same action, destination, ports and
  /// protocol) of a rule already present is ignored. Throws std::invalid_argument for an inconsistent rule (ports
  /// out of order, port 0 in a range, ports with ICMP).
  void add(EgressRule rule);
  /// --egress-default: what happens when no rule matches. Allow unless set.
  void set_default(EgressAction action) { default_ = action; }
  EgressAction default_action() const { return default_; }
  /// --block-private: deny 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 (RFC 1918), 100.64.0.0/10 (carrier-grade
  /// NAT), 169.254.0.0/16 (link-local, cloud metadata), fc00::/7 (IPv6 unique local), fe80::/10 (IPv6 link-local),
  /// fec0::/10 (deprecated IPv6 site-local) and each of the host's own addresses as a /32 (a server
  /// bound to 0.0.0.0 is reachable there). Loopback and duplicate addresses in `host_addresses` are skipped: the
  /// host's loopback is --block-host's business. Like any rule, a more specific allow still wins over these.
  void add_private_ranges(std::span<const Ipv4Address> host_addresses);
  /// --block-host: deny flows to the host's loopback (which is where the gateway address leads). Acts as the rules
  /// "deny 127.0.0.0/8" and "deny ::1/128", so a more specific allow such as "127.0.0.1:8080/tcp" opens one service
  /// again.
  void set_block_host(bool block) { block_host_ = block; }
  bool block_host() const { return block_host_; }

  /// The decision for a new flow of `protocol` to `target`, the host-side endpoint vznet would dial (see the top of
  /// this file; the gateway is 127.0.0.1 here). For ICMP the port is ignored. The rules judge the target's
  /// judged_address(): the deciding rule matches that, not necessarily the IPv6 spelling of an IPv4 target.
  EgressDecision decide(IpProtocol protocol, const IpEndpoint& target) const;

  /// No rules, default allow, no --block-host: every flow is allowed and callers may skip the policy.
  bool empty() const { return rules_.empty() && default_ == EgressAction::allow && !block_host_; }
  /// The rules in the order they were added (block-host's rules are not among them).
  std::span<const EgressRule> rules() const { return rules_; }
  /// For the start-up log and the control API: one line per rule in the order added, then block-host's rules if
  /// set, then "default allow" or "default deny".
  std::vector<std::string> describe() const;

 private:
  void add_preset(EgressRule rule, std::string_view origin);

  std::vector<EgressRule> rules_;
  EgressAction default_ = EgressAction::allow;
  bool block_host_ = false;
};

/// Parses a --policy-file's text onto `base` (the policy the flags built) and returns the result. One directive a
/// line: `allow RULE`, `deny RULE`, `default allow|deny`, `block-private`, `block-host`; words are separated by
/// spaces or tabs; `#` starts a comment (at the start of a line or after a directive); blank lines are ignored.
/// `block-private` uses `host_addresses` as add_private_ranges() does. A second `default` line in the same text
/// is an error. Throws std::invalid_argument("line N: ...") with the rule parser's message or the bad directive.
EgressPolicy parse_policy_text(std::string_view text, std::span<const Ipv4Address> host_addresses,
                               EgressPolicy base = {});

}  // namespace vznet::forward
