// Unit tests for command-line validation: good flags give a Config, bad ones one message naming the flag
// and exit code 2.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "app/config.h"

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
}

TEST(Config, AcceptsEveryFlag) {
  auto outcome = parse({"--listen", "unix:///tmp/a.sock", "--listen", "unixgram:///tmp/b.sock", "--subnet",
                        "10.9.0.0/16", "--mtu", "65520", "--log-level", "debug", "--max-flows", "100",
                        "--connect-timeout", "3", "--tcp-timeout", "600", "--udp-timeout", "30",
                        "--exit-on-disconnect"});
  ASSERT_TRUE(outcome.config) << outcome.message;
  const Config& c = *outcome.config;
  ASSERT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(c.listen[0].kind, virtio::ListenUri::Kind::unix_stream);
  EXPECT_EQ(c.listen[1].kind, virtio::ListenUri::Kind::unixgram);
  EXPECT_EQ(c.gateway(), (Ipv4Address{10, 9, 0, 1}));
  EXPECT_EQ(c.mtu, 65520);
  EXPECT_EQ(c.max_flows, 100u);
  EXPECT_EQ(c.connect_timeout, std::chrono::seconds(3));
  EXPECT_EQ(c.tcp_timeout, std::chrono::seconds(600));
  EXPECT_EQ(c.udp_timeout, std::chrono::seconds(30));
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
    ::testing::Values(BadFlag{{"--mtu", "99999"}, "--mtu"}, BadFlag{{"--mtu", "100"}, "--mtu"},
                      BadFlag{{"--mtu", "abc"}, "--mtu"}, BadFlag{{"--subnet", "192.168.64.1/24"}, "--subnet"},
                      BadFlag{{"--subnet", "10.0.0.0/31"}, "--subnet"}, BadFlag{{"--subnet", "nonsense"}, "--subnet"},
                      BadFlag{{"--listen", "tcp://1.2.3.4:5"}, "--listen"}, BadFlag{{"--listen", "unix://"}, "--listen"},
                      BadFlag{{"--listen", "fd://abc"}, "--listen"}, BadFlag{{"--max-flows", "0"}, "--max-flows"},
                      BadFlag{{"--log-level", "loud"}, "--log-level"},
                      BadFlag{{"--connect-timeout", "0"}, "--connect-timeout"},
                      BadFlag{{"--udp-timeout", "-5"}, "--udp-timeout"}, BadFlag{{"--no-such-flag"}, "--no-such-flag"},
                      BadFlag{{"--dhcp-range", "192.168.64.10"}, "--dhcp-range"},
                      BadFlag{{"--dhcp-range", "192.168.64.50-192.168.64.10"}, "--dhcp-range"},
                      BadFlag{{"--dhcp-range", "192.168.64.1-192.168.64.10"}, "--dhcp-range"},
                      BadFlag{{"--dhcp-range", "10.0.0.2-10.0.0.9"}, "--dhcp-range"},
                      BadFlag{{"--dhcp-static", "52:54:00:12:34=192.168.64.9"}, "--dhcp-static"},
                      BadFlag{{"--dhcp-static", "52:54:00:12:34:56=192.168.64.255"}, "--dhcp-static"},
                      BadFlag{{"--dhcp-static", "52:54:00:12:34:56=192.168.64.9", "--dhcp-static",
                               "52:54:00:12:34:56=192.168.64.10"}, "--dhcp-static"},
                      BadFlag{{"--lease-time", "5"}, "--lease-time"},
                      BadFlag{{"--dns-search", "bad..name"}, "--dns-search"},
                      BadFlag{{"--dns-upstream", "10.0.0.1:0"}, "--dns-upstream"},
                      BadFlag{{"--dns-record", "db=not-an-ip"}, "--dns-record"},
                      BadFlag{{"--dns-record", "=10.0.0.1"}, "--dns-record"}));

TEST(Config, DhcpAndDnsFlags) {
  auto outcome = parse({"--dhcp-range", "192.168.64.10-192.168.64.99", "--dhcp-static",
                        "52:54:00:AA:bb:01=192.168.64.5", "--lease-time", "600", "--dns-search", "Corp.Example.",
                        "--dns-upstream", "10.77.0.2", "--dns-upstream", "10.77.0.3:5353", "--dns-record",
                        "DB.vz.internal=192.168.64.1"});
  ASSERT_TRUE(outcome.config) << outcome.message;
  const Config& c = *outcome.config;
  EXPECT_EQ(c.dhcp.effective_range().first, (Ipv4Address{192, 168, 64, 10}));
  EXPECT_EQ(c.dhcp.effective_range().last, (Ipv4Address{192, 168, 64, 99}));
  ASSERT_EQ(c.dhcp.statics.size(), 1u);
  EXPECT_EQ(c.dhcp.statics[0].mac, (base::MacAddress{0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01}));
  EXPECT_EQ(c.dhcp.lease_time, std::chrono::seconds(600));
  EXPECT_EQ(c.dhcp.search_domains, std::vector<std::string>{"corp.example"});
  EXPECT_EQ(c.dhcp.dns_server, c.gateway());
  EXPECT_EQ(c.dhcp.mtu, 1500);
  ASSERT_EQ(c.dns.upstreams.size(), 2u);
  EXPECT_EQ(c.dns.upstreams[0].port, 53);
  EXPECT_EQ(c.dns.upstreams[1].port, 5353);
  ASSERT_EQ(c.dns.records.size(), 1u);
  EXPECT_EQ(c.dns.records[0].name, "db.vz.internal");
  EXPECT_EQ(c.dns.gateway, c.gateway());
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
