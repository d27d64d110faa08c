// Unit tests for command-line validation: good flags give a Config, bad ones one message naming the flag
// and exit code 2.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/version.h"
#include "stack/guest_guard.h"

namespace vznet::app {
namespace {

ParseOutcome parse(std::vector<std::string> args) {
  args.insert(args.begin(), "vznet");
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(Config, DefaultsMatchAppleNat) {
  auto outcome = parse({});
  ASSERT_TRUE(outcome.config);
  EXPECT_EQ(outcome.config->gateway(), (Ipv4Address{192, 168, 64, 1}));
  EXPECT_EQ(outcome.config->first_guest(), (Ipv4Address{192, 168, 64, 2}));
  EXPECT_EQ(outcome.config->mtu, 1500);
  EXPECT_TRUE(outcome.config->listen.empty());
  EXPECT_FALSE(outcome.config->exit_on_disconnect);
  EXPECT_FALSE(outcome.config->dhcp_only) << "static guests are served unless --dhcp-only";
}

TEST(Config, AcceptsEveryFlag) {
  auto outcome =
      parse({"--listen", "unix:///tmp/a.sock", "--listen", "unixgram:///tmp/b.sock", "--subnet", "10.9.0.0/16", "--mtu",
             "65520", "--log-level", "debug", "--max-flows", "100", "--connect-timeout", "3", "--tcp-timeout", "600",
             "--udp-timeout", "30", "--exit-on-disconnect"});
  ASSERT_TRUE(outcome.config) << outcome.message;
  const Config& c = *outcome.config;
  ASSERT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(c.listen[0].kind, virtio::ListenUri::Kind::unix_stream);
  EXPECT_EQ(c.listen[1].kind, virtio::ListenUri::Kind::unixgram);
  EXPECT_EQ(c.gateway(), (Ipv4Address{10, 9, 0, 1}));
  EXPECT_EQ(c.mtu, 65520);
  EXPECT_EQ(c.forward.max_flows, 100u);
  EXPECT_EQ(c.forward.connect_timeout, std::chrono::seconds(3));
  EXPECT_EQ(c.forward.tcp_idle_timeout, std::chrono::seconds(600));
  EXPECT_EQ(c.forward.udp_idle_timeout, std::chrono::seconds(30));
  EXPECT_TRUE(c.exit_on_disconnect);
}

struct BadFlag {
  std::vector<std::string> args;
  std::string must_mention;
};

class ConfigRejects : public ::testing::TestWithParam<BadFlag> {};

TEST_P(ConfigRejects, WithExitCode2AndTheFlagName) {
  auto outcome = parse(GetParam().args);
  EXPECT_FALSE(outcome.config);
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_NE(outcome.message.find(GetParam().must_mention), std::string::npos) << outcome.message;
  EXPECT_EQ(outcome.message.find('\n'), std::string::npos) << "one line: " << outcome.message;
}

INSTANTIATE_TEST_SUITE_P(
    BadInput, ConfigRejects,
    ::testing::Values(
        BadFlag{{"--mtu", "99999"}, "--mtu"}, BadFlag{{"--mtu", "100"}, "--mtu"}, BadFlag{{"--mtu", "abc"}, "--mtu"},
        BadFlag{{"--subnet", "192.168.64.1/24"}, "--subnet"}, BadFlag{{"--subnet", "10.0.0.0/31"}, "--subnet"},
        BadFlag{{"--subnet", "nonsense"}, "--subnet"}, BadFlag{{"--listen", "tcp://1.2.3.4:5"}, "--listen"},
        BadFlag{{"--listen", "unix://"}, "--listen"}, BadFlag{{"--listen", "fd://abc"}, "--listen"},
        BadFlag{{"--max-flows", "0"}, "--max-flows"}, BadFlag{{"--log-level", "loud"}, "--log-level"},
        BadFlag{{"--connect-timeout", "0"}, "--connect-timeout"}, BadFlag{{"--udp-timeout", "-5"}, "--udp-timeout"},
        BadFlag{{"--no-such-flag"}, "--no-such-flag"}, BadFlag{{"--dhcp-range", "192.168.64.10"}, "--dhcp-range"},
        BadFlag{{"--dhcp-range", "192.168.64.50-192.168.64.10"}, "--dhcp-range"},
        BadFlag{{"--dhcp-range", "192.168.64.1-192.168.64.10"}, "--dhcp-range"},
        BadFlag{{"--dhcp-range", "10.0.0.2-10.0.0.9"}, "--dhcp-range"},
        BadFlag{{"--dhcp-static", "52:54:00:12:34=192.168.64.9"}, "--dhcp-static"},
        BadFlag{{"--dhcp-static", "52:54:00:12:34:56=192.168.64.255"}, "--dhcp-static"},
        BadFlag{{"--dhcp-static", "52:54:00:12:34:56=192.168.64.9", "--dhcp-static", "52:54:00:12:34:56=192.168.64.10"},
                "--dhcp-static"},
        BadFlag{{"--lease-time", "5"}, "--lease-time"}, BadFlag{{"--dns-search", "bad..name"}, "--dns-search"},
        BadFlag{{"--dns-upstream", "10.0.0.1:0"}, "--dns-upstream"},
        BadFlag{{"--dns-record", "db=not-an-ip"}, "--dns-record"},
        BadFlag{{"--dns-record", "=10.0.0.1"}, "--dns-record"}, BadFlag{{"--dns-timeout", "0"}, "--dns-timeout"},
        BadFlag{{"--dns-tcp-timeout", "0"}, "--dns-tcp-timeout"}));

TEST(Config, DhcpAndDnsFlags) {
  auto outcome =
      parse({"--dhcp-range", "192.168.64.10-192.168.64.99", "--dhcp-static", "52:54:00:AA:bb:01=192.168.64.5",
             "--lease-time", "600", "--dns-search", "Corp.Example.", "--dns-upstream", "10.77.0.2", "--dns-upstream",
             "10.77.0.3:5353", "--dns-record", "DB.vz.internal=192.168.64.1", "--dhcp-only", "--dns-timeout", "1.5",
             "--dns-tcp-timeout", "30"});
  ASSERT_TRUE(outcome.config) << outcome.message;
  const Config& c = *outcome.config;
  EXPECT_EQ(c.dhcp.effective_range().first, (Ipv4Address{192, 168, 64, 10}));
  EXPECT_EQ(c.dhcp.effective_range().last, (Ipv4Address{192, 168, 64, 99}));
  ASSERT_EQ(c.dhcp.statics.size(), 1u);
  EXPECT_EQ(c.dhcp.statics[0].mac, (base::MacAddress{0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01}));
  EXPECT_EQ(c.dhcp.lease_time, std::chrono::seconds(600));
  EXPECT_TRUE(c.dhcp_only);
  EXPECT_EQ(c.dhcp.search_domains, std::vector<std::string>{"corp.example"});
  EXPECT_EQ(c.dhcp.dns_server, c.gateway());
  EXPECT_EQ(c.dhcp.mtu, 1500);
  ASSERT_EQ(c.dns.upstreams.size(), 2u);
  EXPECT_EQ(c.dns.upstreams[0].port, 53);
  EXPECT_EQ(c.dns.upstreams[1].port, 5353);
  ASSERT_EQ(c.dns.records.size(), 1u);
  EXPECT_EQ(c.dns.records[0].name, "db.vz.internal");
  EXPECT_EQ(c.dns.gateway, c.gateway());
  EXPECT_EQ(c.dns.upstream_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.dns.tcp_idle_timeout, std::chrono::seconds(30));
}

TEST(Config, DhcpRangeDefaultsToTheRestOfTheSubnet) {
  auto outcome = parse({"--subnet", "10.9.0.0/16"});
  ASSERT_TRUE(outcome.config);
  EXPECT_EQ(outcome.config->dhcp.effective_range().first, (Ipv4Address{10, 9, 0, 2}));
  EXPECT_EQ(outcome.config->dhcp.effective_range().last, (Ipv4Address{10, 9, 255, 254}));
  EXPECT_EQ(outcome.config->dhcp.gateway, (Ipv4Address{10, 9, 0, 1}));
}

TEST(Config, NameParsing) {
  EXPECT_EQ(normalize_dns_name("Host.VZ.internal."), "host.vz.internal");
  EXPECT_FALSE(normalize_dns_name("."));
  EXPECT_FALSE(normalize_dns_name(std::string(64, 'a') + ".com"));
  EXPECT_FALSE(normalize_dns_name("a b.com"));
}

// Every default is written once, in the struct that uses it: no flags give exactly the structs' defaults, and
// the help text shows them.
TEST(Config, NoFlagsGiveTheStructsDefaults) {
  auto outcome = parse({});
  ASSERT_TRUE(outcome.config);
  const Config& c = *outcome.config;
  const stack::StackConfig network;
  const forward::ForwardConfig forward;
  EXPECT_EQ(c.subnet, network.subnet);
  EXPECT_EQ(c.gateway(), network.gateway);
  EXPECT_EQ(c.mtu, network.mtu);
  EXPECT_EQ(c.forward.connect_timeout, forward.connect_timeout);
  EXPECT_EQ(c.forward.tcp_idle_timeout, forward.tcp_idle_timeout);
  EXPECT_EQ(c.forward.udp_idle_timeout, forward.udp_idle_timeout);
  EXPECT_EQ(c.forward.max_flows, forward.max_flows);
  EXPECT_EQ(c.forward.max_flows_per_guest, forward.max_flows_per_guest);
  EXPECT_EQ(c.forward.max_flows_per_published_port, forward.max_flows_per_published_port);
  EXPECT_EQ(c.forward.max_pending_dials, forward.max_pending_dials);
  EXPECT_EQ(c.forward.egress_log, forward.egress_log);
  EXPECT_EQ(c.dhcp.lease_time, stack::DhcpConfig{}.lease_time);
  // The lower layers' own defaults describe the same network.
  EXPECT_EQ(stack::DhcpConfig{}.subnet, network.subnet);
  EXPECT_EQ(stack::DhcpConfig{}.gateway, network.gateway);
  EXPECT_EQ(stack::DhcpConfig{}.dns_server, network.gateway);
  EXPECT_EQ(stack::DhcpConfig{}.mtu, network.mtu);
  EXPECT_EQ(stack::GuardConfig{}.subnet, network.subnet);
  EXPECT_EQ(stack::GuardConfig{}.gateway, network.gateway);
  EXPECT_EQ(stack::GuardConfig{}.gateway_mac, network.gateway_mac);
  EXPECT_EQ(dns::DnsConfig{}.gateway, network.gateway);
}

TEST(Config, HelpShowsTheStructsDefaults) {
  auto outcome = parse({"--help"});
  const forward::ForwardConfig forward;
  const std::vector<std::pair<std::string, std::string>> expected{
      {"--subnet", stack::StackConfig{}.subnet.to_string()},
      {"--mtu", std::to_string(stack::StackConfig{}.mtu)},
      {"--max-flows", std::to_string(forward.max_flows)},
      {"--max-flows-per-guest", std::to_string(forward.max_flows_per_guest)},
      {"--max-flows-per-published-port", std::to_string(forward.max_flows_per_published_port)},
      {"--max-pending-connects", std::to_string(forward.max_pending_dials)},
      {"--connect-timeout", std::to_string(forward.connect_timeout.count())},
      {"--tcp-timeout", std::to_string(forward.tcp_idle_timeout.count())},
      {"--udp-timeout", std::to_string(forward.udp_idle_timeout.count())},
      {"--lease-time", std::to_string(stack::DhcpConfig{}.lease_time.count())},
      {"--dns-timeout", std::to_string(dns::DnsConfig{}.upstream_timeout.count() / 1000)},
      {"--dns-tcp-timeout", std::to_string(dns::DnsConfig{}.tcp_idle_timeout.count() / 1000)},
  };
  for (const auto& [flag, value] : expected) {
    std::istringstream lines(outcome.message);
    std::string line, shown;
    while (std::getline(lines, line)) {
      if (line.rfind("  " + flag + " ", 0) == 0) shown = line.substr(line.rfind('=') + 1);
    }
    EXPECT_EQ(shown, value) << flag;
  }
}

// The README's flag table (a second text for users) says what --help says: for every flag with a default in
// --help, the table's default column holds the same value.
TEST(Config, ReadmeFlagTableShowsTheDefaults) {
  // Plain string handling, not <regex>: GCC 12 warns inside <regex> under the sanitizer build (-Werror).
  std::ifstream readme(VZNET_README);
  ASSERT_TRUE(readme) << VZNET_README;
  std::map<std::string, std::string> table;  // "--max-flows" -> "16384", from "| `--max-flows N` | 16384 | ..."
  std::string line;
  while (std::getline(readme, line)) {
    if (line.rfind("| `--", 0) != 0) continue;
    const std::size_t flag_end = line.find_first_of(" `", 3);
    const std::size_t cell = line.find(" | ", flag_end);
    const std::size_t cell_end = line.find(" |", cell + 3);
    if (flag_end == std::string::npos || cell == std::string::npos || cell_end == std::string::npos) continue;
    std::string value = line.substr(cell + 3, cell_end - cell - 3);
    std::erase(value, '`');
    table[line.substr(3, flag_end - 3)] = value;
  }
  std::istringstream help(parse({"--help"}).message);
  int compared = 0;
  while (std::getline(help, line)) {
    // "  --max-flows UINT:UINT in [1 - 1000000]=16384": a flag whose line ends in =DEFAULT.
    const std::size_t equals = line.rfind('=');
    if (line.rfind("  --", 0) != 0 || equals == std::string::npos) continue;
    const std::string value = line.substr(equals + 1);
    if (value.empty() || value.find(' ') != std::string::npos) continue;
    const std::string flag = line.substr(2, line.find(' ', 2) - 2);
    ASSERT_TRUE(table.contains(flag)) << flag << " is not in the README's flag table";
    EXPECT_EQ(table[flag], value) << flag;
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

TEST(Config, VersionComesFromTheProject) {
  int dots = 0;
  for (char c : kVersion) dots += c == '.' ? 1 : 0;
  EXPECT_TRUE(dots == 2 && std::isdigit(static_cast<unsigned char>(kVersion.front())) &&
              std::isdigit(static_cast<unsigned char>(kVersion.back())))
      << kVersion;
  auto outcome = parse({"--version"});
  EXPECT_FALSE(outcome.config);
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.message, "vznet " + std::string(kVersion) + "\n");
}

TEST(Config, HelpIsNotAnError) {
  auto outcome = parse({"--help"});
  EXPECT_FALSE(outcome.config);
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_NE(outcome.message.find("unixgram://PATH"), std::string::npos);
}

TEST(Config, DefaultListenersArePerUserAndServeQemuAndVfkit) {
  auto uris = default_listen_uris("/run/user/1000/vznet");
  ASSERT_EQ(uris.size(), 2u);
  EXPECT_EQ(uris[0].kind, virtio::ListenUri::Kind::unix_stream);
  EXPECT_EQ(uris[0].path, "/run/user/1000/vznet/vznet.sock");
  EXPECT_EQ(uris[1].kind, virtio::ListenUri::Kind::unixgram);
  EXPECT_EQ(uris[1].path, "/run/user/1000/vznet/vznet-dgram.sock");
}

}  // namespace
}  // namespace vznet::app
