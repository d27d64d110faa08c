// Unit tests for the egress policy: rule parsing (every accepted form with its canonical text, bad inputs with the
// part the error names), the most-specific-match decision, the --block-private and --block-host presets with
// their edges, and the policy-file parser with its line-numbered errors.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "forward/egress_policy.h"

namespace vznet::forward {
namespace {

constexpr auto allow = EgressAction::allow;
constexpr auto deny = EgressAction::deny;
constexpr auto any = EgressProtocol::any;
constexpr auto tcp = IpProtocol::tcp;
constexpr auto udp = IpProtocol::udp;
constexpr auto icmp = IpProtocol::icmp;

Ipv4Subnet subnet(const char* text) { return *Ipv4Subnet::parse(text); }

/// "A.B.C.D:PORT", or "A.B.C.D" for port 0 (ICMP).
Ipv4Endpoint target(const char* text) {
  auto endpoint = Ipv4Endpoint::parse(text, std::uint16_t{0});
  if (!endpoint) throw std::invalid_argument(std::string("bad test target ") + text);
  return *endpoint;
}

EgressPolicy policy_from(std::string_view text) { return parse_policy_text(text, {}); }

/// Runs `parse` expecting std::invalid_argument and returns its message ("" and a failure if none was thrown).
template <typename Parse>
std::string error_of(Parse parse) {
  try {
    parse();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return {};
}

// ---------------------------------------------------------------------------------------------------------------
// Rule parsing

struct GoodRule {
  EgressAction action;
  const char* input;
  const char* destination;
  std::uint16_t first_port;
  std::uint16_t last_port;
  EgressProtocol protocol;
  const char* canonical;
};

const std::vector<GoodRule>& good_rules() {
  static const std::vector<GoodRule> rules{
      {deny, "10.0.0.0/8", "10.0.0.0/8", 0, 65535, any, "deny 10.0.0.0/8"},
      {allow, "10.1.2.3", "10.1.2.3/32", 0, 65535, any, "allow 10.1.2.3/32"},
      {allow, "10.1.2.3/32", "10.1.2.3/32", 0, 65535, any, "allow 10.1.2.3/32"},
      {deny, "0.0.0.0/0", "0.0.0.0/0", 0, 65535, any, "deny 0.0.0.0/0"},
      {deny, "255.255.255.255", "255.255.255.255/32", 0, 65535, any, "deny 255.255.255.255/32"},
      {allow, "172.16.0.0/22:30000-32767/tcp", "172.16.0.0/22", 30000, 32767, EgressProtocol::tcp,
       "allow 172.16.0.0/22:30000-32767/tcp"},
      {deny, "10.0.0.1:22", "10.0.0.1/32", 22, 22, any, "deny 10.0.0.1/32:22"},
      {deny, "10.0.0.1/32:53/udp", "10.0.0.1/32", 53, 53, EgressProtocol::udp, "deny 10.0.0.1/32:53/udp"},
      {allow, "10.0.0.0/8:1", "10.0.0.0/8", 1, 1, any, "allow 10.0.0.0/8:1"},
      {allow, "10.0.0.0/8:65535", "10.0.0.0/8", 65535, 65535, any, "allow 10.0.0.0/8:65535"},
      {allow, "10.0.0.0/8:1-65535", "10.0.0.0/8", 1, 65535, any, "allow 10.0.0.0/8:1-65535"},
      {allow, "10.0.0.0/8:80-80", "10.0.0.0/8", 80, 80, any, "allow 10.0.0.0/8:80"},
      {allow, "10.0.0.0/08:0080", "10.0.0.0/8", 80, 80, any, "allow 10.0.0.0/8:80"},
      {allow, "192.168.1.0/24/tcp", "192.168.1.0/24", 0, 65535, EgressProtocol::tcp, "allow 192.168.1.0/24/tcp"},
      {deny, "0.0.0.0/0/udp", "0.0.0.0/0", 0, 65535, EgressProtocol::udp, "deny 0.0.0.0/0/udp"},
      {deny, "8.8.8.8/icmp", "8.8.8.8/32", 0, 65535, EgressProtocol::icmp, "deny 8.8.8.8/32/icmp"},
      {allow, "8.8.8.0/24/icmp", "8.8.8.0/24", 0, 65535, EgressProtocol::icmp, "allow 8.8.8.0/24/icmp"},
      {deny, "1.2.3.4:443/tcp", "1.2.3.4/32", 443, 443, EgressProtocol::tcp, "deny 1.2.3.4/32:443/tcp"},
  };
  return rules;
}

TEST(EgressRule, ParsesEveryForm) {
  for (const auto& c : good_rules()) {
    SCOPED_TRACE(c.input);
    EgressRule rule;
    ASSERT_NO_THROW(rule = parse_egress_rule(c.action, c.input));
    EXPECT_EQ(rule.action, c.action);
    EXPECT_EQ(rule.destination, subnet(c.destination));
    EXPECT_EQ(rule.first_port, c.first_port);
    EXPECT_EQ(rule.last_port, c.last_port);
    EXPECT_EQ(rule.protocol, c.protocol);
    EXPECT_EQ(rule.text, c.canonical);
    EXPECT_EQ(rule.canonical_text(), c.canonical);
    EXPECT_EQ(rule.has_ports(), c.first_port != 0);
  }
}

TEST(EgressRule, CanonicalTextReadsBackAsAPolicyLine) {
  for (const auto& c : good_rules()) {
    SCOPED_TRACE(c.canonical);
    const EgressRule rule = parse_egress_rule(c.action, c.input);
    EgressPolicy policy;
    ASSERT_NO_THROW(policy = policy_from(c.canonical));
    ASSERT_EQ(policy.rules().size(), 1u);
    const EgressRule& again = policy.rules()[0];
    EXPECT_EQ(again.action, rule.action);
    EXPECT_EQ(again.destination, rule.destination);
    EXPECT_EQ(again.first_port, rule.first_port);
    EXPECT_EQ(again.last_port, rule.last_port);
    EXPECT_EQ(again.protocol, rule.protocol);
    EXPECT_EQ(again.text, c.canonical);
  }
}

TEST(EgressRule, CountsPorts) {
  EXPECT_EQ(parse_egress_rule(deny, "10.0.0.0/8").port_count(), 65536u);
  EXPECT_EQ(parse_egress_rule(deny, "10.0.0.0/8:1-65535").port_count(), 65535u);
  EXPECT_EQ(parse_egress_rule(deny, "10.0.0.0/8:80-89").port_count(), 10u);
  EXPECT_EQ(parse_egress_rule(deny, "10.0.0.0/8:80").port_count(), 1u);
  EXPECT_EQ(to_string(allow), "allow");
  EXPECT_EQ(to_string(deny), "deny");
  EXPECT_EQ(to_string(EgressProtocol::any), "any");
  EXPECT_EQ(to_string(EgressProtocol::icmp), "icmp");
}

struct BadRule {
  const char* input;
  const char* mentions;  ///< the error message must contain this (the offending part)
};

TEST(EgressRule, RejectsBadInputNamingTheBadPart) {
  const BadRule cases[] = {
      {"", "empty egress rule (expected CIDR[:PORT[-PORT]][/tcp|/udp|/icmp])"},
      // Destinations. Host bits set are refused, as by Ipv4Subnet::parse everywhere in vznet.
      {"10.0.0.1/8", "invalid CIDR \"10.0.0.1/8\" in \"10.0.0.1/8\": host bits are set"},
      {"10.0.0.1/8:80/tcp", "invalid CIDR \"10.0.0.1/8\" in \"10.0.0.1/8:80/tcp\": host bits are set"},
      {"10.0.0.0/33", "invalid CIDR \"10.0.0.0/33\" in \"10.0.0.0/33\": prefix length must be 0..32"},
      {"10.0.0.0/", "invalid CIDR \"10.0.0.0/\""},
      {"10.0.0.0/-1", "invalid CIDR \"10.0.0.0/-1\""},
      {"10.0.0/8", "invalid CIDR \"10.0.0/8\""},
      {"10.0.0", "invalid address \"10.0.0\""},
      {"256.0.0.1", "invalid address \"256.0.0.1\""},
      {"010.0.0.1", "invalid address \"010.0.0.1\""},
      {"example.com:443", "invalid address \"example.com\""},
      {"junk", "invalid address \"junk\" in \"junk\" (expected CIDR[:PORT[-PORT]][/tcp|/udp|/icmp])"},
      // IPv6 destinations: ports only after brackets; brackets only around IPv6.
      {"fd00::1/64", "invalid CIDR \"fd00::1/64\" in \"fd00::1/64\": host bits are set"},
      {"fd00::/129", "invalid CIDR \"fd00::/129\" in \"fd00::/129\": prefix length must be 0..128"},
      {"fd00::/8:443", "invalid CIDR \"fd00::/8:443\""},
      {"fd00:::1", "invalid address \"fd00:::1\""},
      {"fd00::1%eth0", "invalid address \"fd00::1%eth0\""},
      {"[fd00::/8", "missing \"]\" after \"[fd00::/8\""},
      {"[fd00::/8]443", "unexpected \"443\" after \"]\" in \"[fd00::/8]443\""},
      {"[fd00::/8]:", "missing port after \":\" in \"[fd00::/8]:\""},
      {"[fd00::/8]:0", "invalid port \"0\""},
      {"[fd00::1]:22/icmp", "port \"22\" with icmp"},
      {"[10.0.0.0/8]:80", "brackets around IPv4 \"10.0.0.0/8\" in \"[10.0.0.0/8]:80\" (brackets are for IPv6"},
      {"[]:80", "missing address in \"[]:80\""},
      {":80", "missing address in \":80\""},
      {"/tcp", "missing address in \"/tcp\""},
      {" 10.0.0.0/8", "invalid CIDR \" 10.0.0.0/8\""},
      {"10.0.0.0/8 ", "invalid CIDR \"10.0.0.0/8 \""},
      // Ports.
      {"10.0.0.0/8:0", "invalid port \"0\" in \"10.0.0.0/8:0\" (ports are 1..65535)"},
      {"10.0.0.0/8:70000", "invalid port \"70000\""},
      {"10.0.0.0/8:65536", "invalid port \"65536\""},
      {"10.0.0.0/8:http", "invalid port \"http\""},
      {"10.0.0.0/8:+80", "invalid port \"+80\""},
      {"10.0.0.0/8:80:90", "invalid port \"80:90\""},
      {"10.0.0.0/8:", "missing port after \":\" in \"10.0.0.0/8:\""},
      {"10.0.0.0/8:/tcp", "missing port after \":\""},
      {"10.0.0.0/8:90-80", "reversed port range \"90-80\" in \"10.0.0.0/8:90-80\""},
      {"10.0.0.0/8:0-80", "invalid port range \"0-80\""},
      {"10.0.0.0/8:1-70000", "invalid port range \"1-70000\""},
      {"10.0.0.0/8:80-", "invalid port range \"80-\""},
      {"10.0.0.0/8:-80", "invalid port range \"-80\""},
      {"10.0.0.0/8:1-2-3", "invalid port range \"1-2-3\""},
      // Protocols.
      {"10.0.0.0/8:80/icmp", "port \"80\" with icmp in \"10.0.0.0/8:80/icmp\" (ICMP has no ports)"},
      {"8.8.8.8:1-65535/icmp", "port \"1-65535\" with icmp"},
      {"10.0.0.0/8/sctp", "unknown protocol \"sctp\" in \"10.0.0.0/8/sctp\" (expected tcp, udp or icmp)"},
      {"10.0.0.0/8:80/TCP", "protocol \"TCP\" must be lowercase"},
      {"10.0.0.0/8/Icmp", "protocol \"Icmp\" must be lowercase"},
      {"10.0.0.0/8:80/", "missing protocol after \"/\" in \"10.0.0.0/8:80/\""},
      {"10.0.0.0/8/", "missing protocol after \"/\""},
      {"10.0.0.0/8:80/tcp ", "unknown protocol \"tcp \""},
      {"10.0.0.0/8/tcp:80", "unknown protocol \"tcp:80\""},
      {"10.0.0.0/8:80/tcp/udp", "invalid port \"80/tcp\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const std::string message = error_of([&] { parse_egress_rule(deny, c.input); });
    EXPECT_NE(message.find(c.mentions), std::string::npos) << "message: " << message;
  }
}

TEST(EgressRule, ErrorQuotesTheWholeRule) {
  EXPECT_EQ(error_of([] { parse_egress_rule(allow, "10.0.0.1/8:80"); }),
            "invalid CIDR \"10.0.0.1/8\" in \"10.0.0.1/8:80\": host bits are set (did you mean the network address?)");
  EXPECT_EQ(error_of([] { parse_egress_rule(allow, "0.0.0.0/0:0"); }),
            "invalid port \"0\" in \"0.0.0.0/0:0\" (ports are 1..65535)");
}

TEST(EgressRule, ParsesTheDefaultAction) {
  EXPECT_EQ(parse_egress_action("allow"), allow);
  EXPECT_EQ(parse_egress_action("deny"), deny);
  EXPECT_EQ(error_of([] { parse_egress_action("maybe"); }), "invalid default \"maybe\" (expected allow or deny)");
  EXPECT_EQ(error_of([] { parse_egress_action("Deny"); }), "invalid default \"Deny\" (expected allow or deny)");
  EXPECT_EQ(error_of([] { parse_egress_action(""); }), "invalid default \"\" (expected allow or deny)");
}

// ---------------------------------------------------------------------------------------------------------------
// Decisions

struct DecisionCase {
  const char* policy;  ///< policy-file text
  IpProtocol protocol;
  const char* target;  ///< "A.B.C.D:PORT", or "A.B.C.D" (port 0) for ICMP
  bool allowed;
  const char* rule;  ///< EgressDecision::describe()
};

void expect_decisions(const std::vector<DecisionCase>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.policy) + " | " + c.target);
    const EgressPolicy policy = policy_from(c.policy);
    const EgressDecision decision = policy.decide(c.protocol, target(c.target));
    EXPECT_EQ(decision.allowed, c.allowed);
    EXPECT_EQ(decision.describe(), c.rule);
  }
}

TEST(EgressPolicy, LongestPrefixWinsBothWays) {
  expect_decisions({
      {"deny 10.0.0.0/8\nallow 10.1.0.0/16", tcp, "10.1.2.3:80", true, "allow 10.1.0.0/16"},
      {"deny 10.0.0.0/8\nallow 10.1.0.0/16", tcp, "10.2.0.1:80", false, "deny 10.0.0.0/8"},
      {"allow 10.1.0.0/16\ndeny 10.0.0.0/8", tcp, "10.1.2.3:80", true, "allow 10.1.0.0/16"},
      {"allow 10.0.0.0/8\ndeny 10.1.0.0/16", tcp, "10.1.2.3:80", false, "deny 10.1.0.0/16"},
      {"allow 10.0.0.0/8\ndeny 10.1.0.0/16", udp, "10.2.0.1:53", true, "allow 10.0.0.0/8"},
      {"deny 10.1.0.0/16\nallow 10.0.0.0/8", tcp, "10.1.2.3:80", false, "deny 10.1.0.0/16"},
      // The prefix outranks everything else: a /24 without ports beats a /0 with one port and a protocol.
      {"allow 0.0.0.0/0:443/tcp\ndeny 8.8.8.0/24", tcp, "8.8.8.8:443", false, "deny 8.8.8.0/24"},
      {"deny 0.0.0.0/0:443/tcp\nallow 8.8.8.0/24", tcp, "8.8.8.8:443", true, "allow 8.8.8.0/24"},
  });
}

TEST(EgressPolicy, NarrowerPortRangeWins) {
  expect_decisions({
      {"deny 10.0.0.0/8\nallow 10.0.0.0/8:80", tcp, "10.0.0.1:80", true, "allow 10.0.0.0/8:80"},
      {"deny 10.0.0.0/8\nallow 10.0.0.0/8:80", tcp, "10.0.0.1:81", false, "deny 10.0.0.0/8"},
      {"allow 10.0.0.0/8:1-1000\ndeny 10.0.0.0/8:22", tcp, "10.0.0.1:22", false, "deny 10.0.0.0/8:22"},
      {"allow 10.0.0.0/8:1-1000\ndeny 10.0.0.0/8:22", tcp, "10.0.0.1:23", true, "allow 10.0.0.0/8:1-1000"},
      {"deny 10.0.0.0/8:1-1000\nallow 10.0.0.0/8:22", tcp, "10.0.0.1:22", true, "allow 10.0.0.0/8:22"},
      // An explicit 1-65535 is narrower than "no ports", and never matches ICMP.
      {"deny 10.0.0.0/8\nallow 10.0.0.0/8:1-65535", tcp, "10.0.0.1:5", true, "allow 10.0.0.0/8:1-65535"},
      {"deny 10.0.0.0/8\nallow 10.0.0.0/8:1-65535", icmp, "10.0.0.1", false, "deny 10.0.0.0/8"},
      // The port width outranks the protocol.
      {"allow 10.0.0.0/8/tcp\ndeny 10.0.0.0/8:22", tcp, "10.0.0.1:22", false, "deny 10.0.0.0/8:22"},
      {"deny 10.0.0.0/8:1-1024/tcp\nallow 10.0.0.0/8:22-23", tcp, "10.0.0.1:22", true, "allow 10.0.0.0/8:22-23"},
  });
}

TEST(EgressPolicy, ProtocolSpecificRuleWins) {
  expect_decisions({
      {"deny 10.0.0.0/8\nallow 10.0.0.0/8/udp", udp, "10.0.0.1:53", true, "allow 10.0.0.0/8/udp"},
      {"deny 10.0.0.0/8\nallow 10.0.0.0/8/udp", tcp, "10.0.0.1:53", false, "deny 10.0.0.0/8"},
      {"allow 10.0.0.0/8:53\ndeny 10.0.0.0/8:53/tcp", tcp, "10.0.0.1:53", false, "deny 10.0.0.0/8:53/tcp"},
      {"allow 10.0.0.0/8:53\ndeny 10.0.0.0/8:53/tcp", udp, "10.0.0.1:53", true, "allow 10.0.0.0/8:53"},
      {"deny 0.0.0.0/0/icmp", icmp, "8.8.8.8", false, "deny 0.0.0.0/0/icmp"},
      {"deny 0.0.0.0/0/icmp", tcp, "8.8.8.8:443", true, "default allow"},
      {"deny 8.8.8.8\nallow 8.8.8.8/icmp", icmp, "8.8.8.8", true, "allow 8.8.8.8/32/icmp"},
      {"deny 8.8.8.8\nallow 8.8.8.8/icmp", tcp, "8.8.8.8:53", false, "deny 8.8.8.8/32"},
      {"deny 8.8.8.8\nallow 8.8.8.8/icmp", udp, "8.8.8.8:53", false, "deny 8.8.8.8/32"},
  });
}

TEST(EgressPolicy, FullTieGoesToDeny) {
  expect_decisions({
      {"allow 10.0.0.0/8\ndeny 10.0.0.0/8", tcp, "10.0.0.1:80", false, "deny 10.0.0.0/8"},
      {"deny 10.0.0.0/8\nallow 10.0.0.0/8", tcp, "10.0.0.1:80", false, "deny 10.0.0.0/8"},
      {"allow 10.0.0.0/8:80/tcp\ndeny 10.0.0.0/8:80/tcp", tcp, "10.0.0.1:80", false, "deny 10.0.0.0/8:80/tcp"},
      // Equal widths, different ranges: only the overlap ties.
      {"allow 10.0.0.0/8:80-89\ndeny 10.0.0.0/8:85-94", tcp, "10.0.0.1:85", false, "deny 10.0.0.0/8:85-94"},
      {"allow 10.0.0.0/8:80-89\ndeny 10.0.0.0/8:85-94", tcp, "10.0.0.1:80", true, "allow 10.0.0.0/8:80-89"},
      {"allow 10.0.0.0/8:80-89\ndeny 10.0.0.0/8:85-94", tcp, "10.0.0.1:94", false, "deny 10.0.0.0/8:85-94"},
      // Same specificity, different addresses: disjoint, so no tie.
      {"allow 10.0.0.0/8/tcp\ndeny 11.0.0.0/8/tcp", tcp, "10.0.0.1:80", true, "allow 10.0.0.0/8/tcp"},
  });
}

TEST(EgressPolicy, WholeSpaceAndSingleHosts) {
  expect_decisions({
      {"deny 0.0.0.0/0", tcp, "1.2.3.4:80", false, "deny 0.0.0.0/0"},
      {"deny 0.0.0.0/0", udp, "255.255.255.254:1", false, "deny 0.0.0.0/0"},
      {"deny 0.0.0.0/0", icmp, "0.0.0.1", false, "deny 0.0.0.0/0"},
      {"deny 0.0.0.0/0\nallow 1.2.3.4", tcp, "1.2.3.4:80", true, "allow 1.2.3.4/32"},
      {"deny 0.0.0.0/0\nallow 1.2.3.4", tcp, "1.2.3.5:80", false, "deny 0.0.0.0/0"},
      {"deny 0.0.0.0/0\nallow 1.2.3.4", tcp, "1.2.3.3:80", false, "deny 0.0.0.0/0"},
      {"allow 0.0.0.0/0\ndeny 1.2.3.4/32", icmp, "1.2.3.4", false, "deny 1.2.3.4/32"},
      {"allow 0.0.0.0/0\ndeny 1.2.3.4/32", icmp, "1.2.3.3", true, "allow 0.0.0.0/0"},
      {"default deny\nallow 255.255.255.255", udp, "255.255.255.255:9", true, "allow 255.255.255.255/32"},
      {"default deny\nallow 0.0.0.0/1", tcp, "127.255.255.255:1", true, "allow 0.0.0.0/1"},
      {"default deny\nallow 0.0.0.0/1", tcp, "128.0.0.0:1", false, "default deny"},
  });
}

TEST(EgressPolicy, EdgePorts) {
  expect_decisions({
      {"default deny\nallow 10.0.0.0/8:1", tcp, "10.0.0.1:1", true, "allow 10.0.0.0/8:1"},
      {"default deny\nallow 10.0.0.0/8:1", tcp, "10.0.0.1:2", false, "default deny"},
      {"default deny\nallow 10.0.0.0/8:65535/udp", udp, "10.0.0.1:65535", true, "allow 10.0.0.0/8:65535/udp"},
      {"default deny\nallow 10.0.0.0/8:65535/udp", udp, "10.0.0.1:65534", false, "default deny"},
      {"default deny\nallow 10.0.0.0/8:65535/udp", tcp, "10.0.0.1:65535", false, "default deny"},
      {"default deny\nallow 10.0.0.0/8:1000-2000", tcp, "10.0.0.1:999", false, "default deny"},
      {"default deny\nallow 10.0.0.0/8:1000-2000", tcp, "10.0.0.1:1000", true, "allow 10.0.0.0/8:1000-2000"},
      {"default deny\nallow 10.0.0.0/8:1000-2000", udp, "10.0.0.1:2000", true, "allow 10.0.0.0/8:1000-2000"},
      {"default deny\nallow 10.0.0.0/8:1000-2000", tcp, "10.0.0.1:2001", false, "default deny"},
      {"default deny\nallow 10.0.0.0/8:1-65535", tcp, "10.0.0.1:65535", true, "allow 10.0.0.0/8:1-65535"},
      // ICMP has no port: the one given is ignored, and port rules never match it.
      {"default deny\nallow 8.8.8.8/icmp", icmp, "8.8.8.8:7", true, "allow 8.8.8.8/32/icmp"},
      {"default deny\nallow 8.8.8.8:7", icmp, "8.8.8.8:7", false, "default deny"},
      {"default deny\nallow 8.8.8.8", icmp, "8.8.8.8:7", true, "allow 8.8.8.8/32"},
  });
}

TEST(EgressPolicy, DefaultAppliesWhenNothingMatches) {
  expect_decisions({
      {"", tcp, "1.2.3.4:80", true, "default allow"},
      {"default allow", icmp, "1.2.3.4", true, "default allow"},
      {"default deny", tcp, "1.2.3.4:80", false, "default deny"},
      {"default deny\nallow 10.0.0.0/8", tcp, "10.0.0.1:80", true, "allow 10.0.0.0/8"},
      {"default deny\nallow 10.0.0.0/8", tcp, "11.0.0.1:80", false, "default deny"},
      {"default allow\ndeny 10.0.0.0/8", tcp, "11.0.0.1:80", true, "default allow"},
  });
  EgressPolicy policy;
  EXPECT_EQ(policy.default_action(), allow);
  policy.set_default(deny);
  const EgressDecision decision = policy.decide(tcp, target("1.2.3.4:80"));
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.rule, nullptr);
}

// The example: only the NodePort range of one cluster network, over TCP.
TEST(EgressPolicy, NodePortExampleFromFlags) {
  EgressPolicy policy;
  policy.add(parse_egress_rule(deny, "0.0.0.0/0"));
  policy.add(parse_egress_rule(allow, "172.16.0.0/22:30000-32767/tcp"));
  const struct {
    IpProtocol protocol;
    const char* target;
    bool allowed;
  } cases[] = {
      {tcp, "172.16.1.5:30080", true},   {tcp, "172.16.1.5:22", false},        {udp, "172.16.1.5:30080", false},
      {tcp, "8.8.8.8:443", false},       {icmp, "172.16.1.5", false},          {tcp, "172.16.0.0:30000", true},
      {tcp, "172.16.3.255:32767", true}, {tcp, "172.16.1.5:29999", false},     {tcp, "172.16.1.5:32768", false},
      {tcp, "172.16.4.0:30080", false},  {tcp, "172.15.255.255:30080", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target);
    const EgressDecision decision = policy.decide(c.protocol, target(c.target));
    EXPECT_EQ(decision.allowed, c.allowed);
    ASSERT_NE(decision.rule, nullptr);
    EXPECT_EQ(decision.describe(), c.allowed ? "allow 172.16.0.0/22:30000-32767/tcp" : "deny 0.0.0.0/0");
    EXPECT_EQ(decision.rule, &policy.rules()[c.allowed ? 1 : 0]);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Presets

TEST(EgressPolicy, BlockPrivateDeniesEveryRangeToItsEdges) {
  const Ipv4Address host_addresses[] = {{203, 0, 113, 7}, {127, 0, 0, 1}, {203, 0, 113, 7}, {192, 168, 1, 10}};
  EgressPolicy policy;
  policy.add_private_ranges(host_addresses);
  const std::string rfc1918 = " (block-private: RFC 1918)";
  const std::string cgnat = " (block-private: carrier-grade NAT)";
  const std::string link_local = " (block-private: link-local, cloud metadata)";
  const std::string host = " (block-private: host address)";
  const struct {
    const char* address;
    std::string rule;  ///< "" for allowed (by default)
  } cases[] = {
      {"10.0.0.0", "deny 10.0.0.0/8" + rfc1918},
      {"10.255.255.255", "deny 10.0.0.0/8" + rfc1918},
      {"9.255.255.255", ""},
      {"11.0.0.0", ""},
      {"172.16.0.0", "deny 172.16.0.0/12" + rfc1918},
      {"172.31.255.255", "deny 172.16.0.0/12" + rfc1918},
      {"172.15.255.255", ""},
      {"172.32.0.0", ""},
      {"192.168.0.0", "deny 192.168.0.0/16" + rfc1918},
      {"192.168.255.255", "deny 192.168.0.0/16" + rfc1918},
      {"192.167.255.255", ""},
      {"192.169.0.0", ""},
      {"100.64.0.0", "deny 100.64.0.0/10" + cgnat},
      {"100.127.255.255", "deny 100.64.0.0/10" + cgnat},
      {"100.63.255.255", ""},
      {"100.128.0.0", ""},
      {"169.254.0.0", "deny 169.254.0.0/16" + link_local},
      {"169.254.169.254", "deny 169.254.0.0/16" + link_local},
      {"169.254.255.255", "deny 169.254.0.0/16" + link_local},
      {"169.253.255.255", ""},
      {"169.255.0.0", ""},
      // The host's own addresses: a public one gets its own /32; one inside a range is matched by its /32 first.
      {"203.0.113.7", "deny 203.0.113.7/32" + host},
      {"203.0.113.8", ""},
      {"192.168.1.10", "deny 192.168.1.10/32" + host},
      // Loopback is --block-host's business, not --block-private's.
      {"127.0.0.1", ""},
      {"8.8.8.8", ""},
  };
  for (const auto& c : cases) {
    for (IpProtocol protocol : {tcp, udp, icmp}) {
      SCOPED_TRACE(std::string(c.address) + " protocol " + std::to_string(static_cast<int>(protocol)));
      const Ipv4Endpoint to{*Ipv4Address::parse(c.address), protocol == icmp ? std::uint16_t{0} : std::uint16_t{443}};
      const EgressDecision decision = policy.decide(protocol, to);
      EXPECT_EQ(decision.allowed, c.rule.empty());
      EXPECT_EQ(decision.describe(), c.rule.empty() ? "default allow" : c.rule);
    }
  }
  // Eight ranges and two distinct non-loopback host addresses; applying the preset again adds nothing.
  EXPECT_EQ(policy.rules().size(), 10u);
  policy.add_private_ranges(host_addresses);
  EXPECT_EQ(policy.rules().size(), 10u);
  EXPECT_FALSE(policy.empty());
}

TEST(EgressPolicy, MoreSpecificAllowOpensAHoleInBlockPrivate) {
  EgressPolicy policy;
  policy.add_private_ranges({});
  policy.add(parse_egress_rule(allow, "192.168.1.0/24:8080/tcp"));
  policy.add(parse_egress_rule(allow, "10.0.0.0/8"));  // same as the preset's: a tie, which deny wins
  EXPECT_TRUE(policy.decide(tcp, target("192.168.1.20:8080")).allowed);
  EXPECT_FALSE(policy.decide(udp, target("192.168.1.20:8080")).allowed);
  EXPECT_FALSE(policy.decide(tcp, target("192.168.2.20:8080")).allowed);
  EXPECT_FALSE(policy.decide(tcp, target("10.0.0.1:80")).allowed);
  EXPECT_EQ(policy.rules().size(), 10u);
}

/// "[IPV6]:PORT" or "A.B.C.D:PORT", either family.
IpEndpoint target6(const char* address, std::uint16_t port) { return {*IpAddress::parse(address), port}; }

TEST(EgressRule, ParsesIpv6DestinationsWithAndWithoutPorts) {
  const struct {
    const char* input;
    const char* canonical;
  } cases[] = {
      {"fd00::/8", "deny fd00::/8"},
      {"FD00:0::/8", "deny fd00::/8"},
      {"2001:db8::1", "deny 2001:db8::1/128"},
      {"::/0", "deny ::/0"},
      {"fd00::/8/udp", "deny fd00::/8/udp"},
      {"[fd00::/8]:443/tcp", "deny [fd00::/8]:443/tcp"},
      {"[2001:db8::1]:1000-2000", "deny [2001:db8::1/128]:1000-2000"},
      {"[2001:db8::/32]", "deny 2001:db8::/32"},
      {"fd00::/8/icmp", "deny fd00::/8/icmp"},
      // The IPv4-mapped form of an IPv4 prefix is that prefix: rules and targets meet in one family.
      {"::ffff:10.0.0.0/104", "deny 10.0.0.0/8"},
      {"[::ffff:127.0.0.1]:22", "deny 127.0.0.1/32:22"},
      {"::ffff:0:0/96", "deny 0.0.0.0/0"},
      {"::fffe:0:0/95", "deny ::fffe:0:0/95"},  // wider than ::ffff:0:0/96: stays IPv6
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const EgressRule rule = parse_egress_rule(deny, c.input);
    EXPECT_EQ(rule.text, c.canonical);
    // The canonical text reads back as the same rule.
    const std::string canonical(c.canonical);
    const EgressRule again = parse_egress_rule(deny, std::string_view(canonical).substr(5));
    EXPECT_EQ(again.destination, rule.destination);
    EXPECT_EQ(again.first_port, rule.first_port);
    EXPECT_EQ(again.last_port, rule.last_port);
    EXPECT_EQ(again.protocol, rule.protocol);
  }
}

TEST(EgressPolicy, Ipv6RulesJudgeIpv6TargetsAndIpv4RulesDoNot) {
  EgressPolicy policy;
  policy.set_default(deny);
  policy.add(parse_egress_rule(allow, "[2001:db8::/32]:443/tcp"));
  policy.add(parse_egress_rule(allow, "0.0.0.0/0"));
  EXPECT_TRUE(policy.decide(tcp, target6("2001:db8::5", 443)).allowed);
  EXPECT_FALSE(policy.decide(tcp, target6("2001:db8::5", 80)).allowed);
  EXPECT_FALSE(policy.decide(udp, target6("2001:db8::5", 443)).allowed);
  EXPECT_FALSE(policy.decide(tcp, target6("2001:db9::5", 443)).allowed);  // 0.0.0.0/0 is IPv4 only
  EXPECT_EQ(policy.decide(tcp, target6("2001:db9::5", 443)).describe(), "default deny");
  policy.add(parse_egress_rule(allow, "::/0"));
  EXPECT_TRUE(policy.decide(tcp, target6("2001:db9::5", 443)).allowed);
}

TEST(EgressPolicy, BlockPrivateCoversIpv6RangesAndIpv4InIpv6Forms) {
  const Ipv4Address host_addresses[] = {{203, 0, 113, 7}};
  EgressPolicy policy;
  policy.add_private_ranges(host_addresses);
  const struct {
    const char* address;
    const char* rule;  ///< "" for allowed (by default)
  } cases[] = {
      {"fc00::", "deny fc00::/7 (block-private: IPv6 unique local)"},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "deny fc00::/7 (block-private: IPv6 unique local)"},
      {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ""},
      {"fe00::", ""},
      {"fe80::1", "deny fe80::/10 (block-private: IPv6 link-local)"},
      {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "deny fe80::/10 (block-private: IPv6 link-local)"},
      {"fec0::1", "deny fec0::/10 (block-private: IPv6 site-local (deprecated))"},
      {"ff02::1", ""},
      {"2001:db8::1", ""},
      // An IPv6 address that carries an IPv4 one is judged as the IPv4 host a dial to it reaches.
      {"::ffff:10.1.2.3", "deny 10.0.0.0/8 (block-private: RFC 1918)"},
      {"::ffff:169.254.169.254", "deny 169.254.0.0/16 (block-private: link-local, cloud metadata)"},
      {"::ffff:203.0.113.7", "deny 203.0.113.7/32 (block-private: host address)"},
      {"::10.1.2.3", "deny 10.0.0.0/8 (block-private: RFC 1918)"},
      {"::192.168.0.1", "deny 192.168.0.0/16 (block-private: RFC 1918)"},
      {"::ffff:8.8.8.8", ""},
      {"::8.8.8.8", ""},
      // ::/104 holds :: and ::1, which are IPv6's own (::1 is --block-host's business).
      {"::1", ""},
      {"::", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.address);
    const EgressDecision decision = policy.decide(tcp, target6(c.address, 443));
    EXPECT_EQ(decision.allowed, std::string_view(c.rule).empty());
    EXPECT_EQ(decision.describe(), std::string_view(c.rule).empty() ? "default allow" : c.rule);
  }
}

TEST(EgressPolicy, BlockHostDeniesTheIpv6LoopbackAndTheMappedIpv4One) {
  EgressPolicy policy;
  policy.set_block_host(true);
  EXPECT_EQ(policy.decide(tcp, target6("::1", 22)).describe(), "deny ::1/128 (block-host)");
  EXPECT_EQ(policy.decide(udp, target6("::ffff:127.0.0.1", 53)).describe(), "deny 127.0.0.0/8 (block-host)");
  EXPECT_EQ(policy.decide(tcp, target6("::127.0.0.1", 22)).describe(), "deny 127.0.0.0/8 (block-host)");
  EXPECT_TRUE(policy.decide(tcp, target6("::2", 22)).allowed);
  policy.add(parse_egress_rule(allow, "[::1]:8080/tcp"));
  EXPECT_TRUE(policy.decide(tcp, target6("::1", 8080)).allowed);
  EXPECT_FALSE(policy.decide(tcp, target6("::1", 8081)).allowed);
}

TEST(EgressPolicy, BlockHostDeniesTheHostLoopback) {
  EgressPolicy policy;
  EXPECT_TRUE(policy.decide(tcp, target("127.0.0.1:22")).allowed);
  policy.set_block_host(true);
  EXPECT_TRUE(policy.block_host());
  EXPECT_FALSE(policy.empty());
  EXPECT_TRUE(policy.rules().empty());
  for (const char* to : {"127.0.0.1:22", "127.0.0.1:8080", "127.1.2.3:1", "127.255.255.255:65535"}) {
    SCOPED_TRACE(to);
    const EgressDecision decision = policy.decide(tcp, target(to));
    EXPECT_FALSE(decision.allowed);
    EXPECT_EQ(decision.describe(), "deny 127.0.0.0/8 (block-host)");
    EXPECT_FALSE(policy.decide(udp, target(to)).allowed);
  }
  EXPECT_TRUE(policy.decide(tcp, target("128.0.0.1:22")).allowed);
  EXPECT_TRUE(policy.decide(tcp, target("126.255.255.255:22")).allowed);

  // A more specific allow reopens one host service; an equally specific one ties, and deny wins.
  policy.add(parse_egress_rule(allow, "127.0.0.1:8080/tcp"));
  policy.add(parse_egress_rule(allow, "127.0.0.0/8"));
  EXPECT_TRUE(policy.decide(tcp, target("127.0.0.1:8080")).allowed);
  EXPECT_FALSE(policy.decide(udp, target("127.0.0.1:8080")).allowed);
  EXPECT_FALSE(policy.decide(tcp, target("127.0.0.1:8081")).allowed);
  EXPECT_EQ(policy.decide(tcp, target("127.0.0.1:8081")).describe(), "deny 127.0.0.0/8 (block-host)");

  policy.set_block_host(false);
  EXPECT_TRUE(policy.decide(tcp, target("127.0.0.1:8081")).allowed);
  EXPECT_EQ(policy.decide(tcp, target("127.0.0.1:8081")).describe(), "allow 127.0.0.0/8");
}

TEST(EgressPolicy, BlockPrivateLeavesTheHostReachable) {
  const Ipv4Address host_addresses[] = {{192, 168, 1, 10}};
  EgressPolicy policy;
  policy.add_private_ranges(host_addresses);
  EXPECT_TRUE(policy.decide(tcp, target("127.0.0.1:8080")).allowed);
  policy.set_block_host(true);
  EXPECT_FALSE(policy.decide(tcp, target("127.0.0.1:8080")).allowed);
}

// ---------------------------------------------------------------------------------------------------------------
// Building and describing

TEST(EgressPolicy, EmptyMeansEverythingIsAllowed) {
  EgressPolicy policy;
  EXPECT_TRUE(policy.empty());
  policy.set_default(deny);
  EXPECT_FALSE(policy.empty());
  policy.set_default(allow);
  EXPECT_TRUE(policy.empty());
  policy.set_block_host(true);
  EXPECT_FALSE(policy.empty());
  policy.set_block_host(false);
  policy.add(parse_egress_rule(allow, "0.0.0.0/0"));
  EXPECT_FALSE(policy.empty());
}

TEST(EgressPolicy, DescribesRulesBlockHostAndDefault) {
  EgressPolicy policy;
  EXPECT_EQ(policy.describe(), std::vector<std::string>{"default allow"});
  policy.add(parse_egress_rule(allow, "10.1.0.0/16:443/tcp"));
  policy.add(parse_egress_rule(deny, "0.0.0.0/0"));
  policy.set_block_host(true);
  policy.set_default(deny);
  const std::vector<std::string> expected{"allow 10.1.0.0/16:443/tcp", "deny 0.0.0.0/0",
                                          "deny 127.0.0.0/8 (block-host)", "deny ::1/128 (block-host)", "default deny"};
  EXPECT_EQ(policy.describe(), expected);
}

TEST(EgressPolicy, AddKeepsRulesConsistent) {
  EgressPolicy policy;
  // Text is always recomputed from the fields, so a log line never lies about the rule.
  EgressRule rule{allow, subnet("10.0.0.0/8"), 80, 80, EgressProtocol::tcp, "something else"};
  policy.add(rule);
  EXPECT_EQ(policy.rules()[0].text, "allow 10.0.0.0/8:80/tcp");
  // Exact duplicates are dropped; the same destination with another action is not a duplicate.
  policy.add(rule);
  policy.add(parse_egress_rule(allow, "10.0.0.0/8:80-80/tcp"));
  EXPECT_EQ(policy.rules().size(), 1u);
  policy.add(parse_egress_rule(deny, "10.0.0.0/8:80/tcp"));
  EXPECT_EQ(policy.rules().size(), 2u);

  const struct {
    EgressRule rule;
    const char* mentions;
  } bad[] = {
      {{deny, Ipv4Subnet{Ipv4Address{10, 0, 0, 1}, 8}}, "host bits are set"},
      {{deny, Ipv4Subnet{Ipv4Address{10, 0, 0, 0}, 33}}, "prefix length must be 0..32"},
      {{deny, subnet("10.0.0.0/8"), 0, 80}, "ports are 1..65535"},
      {{deny, subnet("10.0.0.0/8"), 90, 80}, "reversed port range"},
      {{deny, subnet("10.0.0.0/8"), 7, 7, EgressProtocol::icmp}, "ICMP has no ports"},
  };
  for (const auto& c : bad) {
    SCOPED_TRACE(c.mentions);
    const std::string message = error_of([&] { policy.add(c.rule); });
    EXPECT_NE(message.find(c.mentions), std::string::npos) << "message: " << message;
  }
  EXPECT_EQ(policy.rules().size(), 2u);
}

// ---------------------------------------------------------------------------------------------------------------
// Policy files

TEST(EgressPolicyText, ReadsEveryDirectiveCommentsAndBlankLines) {
  const std::string_view text =
      "# egress for the build VMs\n"
      "\n"
      "default deny\n"
      "   \t \n"
      "allow 172.16.0.0/22:30000-32767/tcp   # NodePorts\n"
      "\tallow\t8.8.8.8:53/udp\n"
      "deny 172.16.1.0/24:30080#no space before the comment\r\n"
      "  # indented comment\n"
      "block-private\n"
      "block-host";  // no final newline
  const Ipv4Address host_addresses[] = {{203, 0, 113, 7}};
  const EgressPolicy policy = parse_policy_text(text, host_addresses);
  const std::vector<std::string> expected{
      "allow 172.16.0.0/22:30000-32767/tcp",
      "allow 8.8.8.8/32:53/udp",
      "deny 172.16.1.0/24:30080",
      "deny 10.0.0.0/8 (block-private: RFC 1918)",
      "deny 172.16.0.0/12 (block-private: RFC 1918)",
      "deny 192.168.0.0/16 (block-private: RFC 1918)",
      "deny 100.64.0.0/10 (block-private: carrier-grade NAT)",
      "deny 169.254.0.0/16 (block-private: link-local, cloud metadata)",
      "deny fc00::/7 (block-private: IPv6 unique local)",
      "deny fe80::/10 (block-private: IPv6 link-local)",
      "deny fec0::/10 (block-private: IPv6 site-local (deprecated))",
      "deny 203.0.113.7/32 (block-private: host address)",
      "deny 127.0.0.0/8 (block-host)",
      "deny ::1/128 (block-host)",
      "default deny",
  };
  EXPECT_EQ(policy.describe(), expected);
  EXPECT_TRUE(policy.decide(tcp, target("172.16.2.5:30080")).allowed);
  EXPECT_FALSE(policy.decide(tcp, target("172.16.1.5:30080")).allowed);
  EXPECT_TRUE(policy.decide(udp, target("8.8.8.8:53")).allowed);
  EXPECT_FALSE(policy.decide(tcp, target("8.8.8.8:53")).allowed);
  EXPECT_FALSE(policy.decide(tcp, target("127.0.0.1:8080")).allowed);
}

TEST(EgressPolicyText, EmptyAndCommentOnlyTextsLeaveTheBase) {
  for (std::string_view text : {"", "\n", "# nothing\n\n   # at all\n", "\r\n"}) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(parse_policy_text(text, {}).empty());
  }
}

TEST(EgressPolicyText, AddsToThePolicyTheFlagsBuilt) {
  EgressPolicy flags;
  flags.add(parse_egress_rule(deny, "0.0.0.0/0"));
  flags.set_default(deny);
  const EgressPolicy policy = parse_policy_text("allow 10.0.0.0/8\ndefault allow\n", {}, flags);
  const std::vector<std::string> expected{"deny 0.0.0.0/0", "allow 10.0.0.0/8", "default allow"};
  EXPECT_EQ(policy.describe(), expected);
  EXPECT_EQ(flags.rules().size(), 1u);  // the base was taken by value
}

TEST(EgressPolicyText, ErrorsNameTheLine) {
  const struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"allow 10.0.0.0/8\n\n# comment\ndeny 10.0.0.0/8:0\n",
       "line 4: invalid port \"0\" in \"10.0.0.0/8:0\" (ports are 1..65535)"},
      {"allow 10.0.0.1/8",
       "line 1: invalid CIDR \"10.0.0.1/8\" in \"10.0.0.1/8\": host bits are set (did you mean the network address?)"},
      {"\n\n\nallow junk",
       "line 4: invalid address \"junk\" in \"junk\" (expected CIDR[:PORT[-PORT]][/tcp|/udp|/icmp])"},
      {"deny 8.8.8.8:53/icmp", "line 1: port \"53\" with icmp in \"8.8.8.8:53/icmp\" (ICMP has no ports)"},
      {"permit 10.0.0.0/8",
       "line 1: unknown directive \"permit\" (expected allow, deny, default, block-private or block-host)"},
      {"Allow 10.0.0.0/8", "line 1: unknown directive \"Allow\""},
      {"allow", "line 1: \"allow\" needs a rule: allow CIDR[:PORT[-PORT]][/tcp|/udp|/icmp]"},
      {"deny   # nothing to deny", "line 1: \"deny\" needs a rule"},
      {"deny 10.0.0.0/8 10.1.0.0/16", "line 1: unexpected \"10.1.0.0/16\" after \"10.0.0.0/8\" (one directive a line)"},
      {"deny 10.0.0.0/8 :80", "line 1: unexpected \":80\" after \"10.0.0.0/8\""},
      {"default", "line 1: \"default\" needs allow or deny"},
      {"default maybe", "line 1: invalid default \"maybe\" (expected allow or deny)"},
      {"default deny allow", "line 1: unexpected \"allow\" after \"deny\""},
      {"default deny\nallow 10.0.0.0/8\ndefault allow", "line 3: default given twice (first on line 1)"},
      {"block-private now", "line 1: unexpected \"now\" after \"block-private\" (one directive a line)"},
      {"block-host yes", "line 1: unexpected \"yes\" after \"block-host\""},
      {"block_host", "line 1: unknown directive \"block_host\""},
      {"allow 10.0.0.0/8\r\nfoo\r\n", "line 2: unknown directive \"foo\""},
      {"allow 10.0.0.0/8,11.0.0.0/8", "line 1: invalid CIDR \"10.0.0.0/8,11.0.0.0/8\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string message = error_of([&] { parse_policy_text(c.text, {}); });
    EXPECT_TRUE(message.starts_with(c.message)) << "message: " << message;
  }
}

}  // namespace
}  // namespace vznet::forward
