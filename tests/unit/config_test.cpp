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
                      BadFlag{{"--udp-timeout", "-5"}, "--udp-timeout"}, BadFlag{{"--no-such-flag"}, "--no-such-flag"}));

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
