// Fuzz target: the egress rule and policy-file parsers (forward/egress_policy). The input's first byte picks the
// parser: even, --egress-allow/--egress-deny rules (one per line); odd, a --policy-file text. A rule that parses
// has a canonical text that parses back to the same rule; a policy that parses answers decide() for the
// destinations its own rules name (and a few fixed ones) without surprises: the deciding rule matches the flow.
// Refusals are std::invalid_argument and nothing else.
#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "forward/egress_policy.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace vznet;
using namespace vznet::forward;
using vznet::fuzz::check;

void check_decisions(const EgressPolicy& policy) {
  std::vector<IpEndpoint> targets{Ipv4Endpoint{Ipv4Address{127, 0, 0, 1}, 80},
                                  Ipv4Endpoint{Ipv4Address{10, 0, 0, 1}, 22}, Ipv4Endpoint{Ipv4Address{8, 8, 8, 8}, 53},
                                  Ipv4Endpoint{Ipv4Address{169, 254, 169, 254}, 80}};
  for (const char* v6 : {"::1", "::ffff:10.0.0.1", "::10.0.0.1", "fd00::1", "2001:db8::1"}) {
    targets.emplace_back(*IpAddress::parse(v6), 443);
  }
  for (const EgressRule& r : policy.rules()) {
    targets.emplace_back(r.destination.network(), r.first_port);
    targets.emplace_back(r.destination.last(), r.last_port);
  }
  for (const IpEndpoint& t : targets) {
    for (IpProtocol p : {IpProtocol::tcp, IpProtocol::udp, IpProtocol::icmp}) {
      const EgressDecision d = policy.decide(p, t);
      (void)d.describe();
      if (d.rule != nullptr) {
        check(d.rule->matches(p, {judged_address(t.address), t.port}), "the deciding rule does not match the flow");
        check(d.allowed == (d.rule->action == EgressAction::allow), "the decision is not the rule's action");
      }
    }
  }
  (void)policy.describe();
}

void rules(std::string_view text) {
  EgressPolicy policy;
  std::size_t line = 0;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view item = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    const EgressAction action = (line++ % 2) != 0 ? EgressAction::allow : EgressAction::deny;
    EgressRule rule;
    try {
      rule = parse_egress_rule(action, item);
    } catch (const std::invalid_argument&) {
      continue;
    }
    check(rule.text == rule.canonical_text(), "a parsed rule's text is not canonical");
    const std::string_view canonical = std::string_view(rule.text).substr(rule.text.find(' ') + 1);
    EgressRule again;
    try {
      again = parse_egress_rule(action, canonical);
    } catch (const std::invalid_argument&) {
      check(false, "a canonical rule does not parse");
    }
    check(again.destination == rule.destination && again.first_port == rule.first_port &&
              again.last_port == rule.last_port && again.protocol == rule.protocol && again.text == rule.text,
          "a canonical rule parses to another rule");
    policy.add(rule);
  }
  check_decisions(policy);
}

void policy_file(std::string_view text) {
  static const std::array<Ipv4Address, 2> kHost{Ipv4Address{192, 168, 1, 20}, Ipv4Address{127, 0, 0, 1}};
  try {
    const EgressPolicy policy = parse_policy_text(text, kHost);
    check_decisions(policy);
  } catch (const std::invalid_argument&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 4096) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    rules(text);
  } else {
    policy_file(text);
  }
  return 0;
}
