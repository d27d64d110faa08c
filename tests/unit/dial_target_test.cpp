// Unit tests for dial_target(): the gateway maps to the host's loopback, ordinary unicast is dialed as it is,
// and every class no router forwards is refused, at the edges of each range.
#include <gtest/gtest.h>

#include "forward/dial_target.h"

namespace vznet::forward {
namespace {

const DialMap kMap{*Ipv4Subnet::parse("192.168.64.0/24"), Ipv4Address{192, 168, 64, 1}};

Ipv4Endpoint at(const char* address, std::uint16_t port = 80) { return {*Ipv4Address::parse(address), port}; }

std::optional<Unroutable> refusal_of(const char* address) { return dial_target(kMap, at(address)).refusal; }

TEST(DialTarget, GatewayIsTheHostsLoopbackOnTheSamePort) {
  const DialTarget t = dial_target(kMap, at("192.168.64.1", 8080));
  ASSERT_TRUE(t.dialable());
  EXPECT_EQ(t.endpoint, at("127.0.0.1", 8080));
}

TEST(DialTarget, OrdinaryUnicastIsDialedAsItIs) {
  for (const char* a : {"1.0.0.0", "10.77.0.2", "93.184.216.34", "126.255.255.255", "128.0.0.0", "192.168.63.255",
                        "192.168.65.0", "223.255.255.255", "169.254.169.254"}) {
    const DialTarget t = dial_target(kMap, at(a, 443));
    EXPECT_TRUE(t.dialable()) << a;
    EXPECT_EQ(t.endpoint, at(a, 443)) << a;
  }
}

TEST(DialTarget, ThisNetworkIsRefused) {
  // A host connect() to 0.0.0.0 reaches the host's loopback: the --block-host bypass of issue 12.
  for (const char* a : {"0.0.0.0", "0.0.0.1", "0.1.2.3", "0.255.255.255"}) {
    EXPECT_EQ(refusal_of(a), Unroutable::this_network) << a;
  }
}

TEST(DialTarget, LoopbackNamedDirectlyIsRefused) {
  for (const char* a : {"127.0.0.0", "127.0.0.1", "127.0.0.2", "127.1.2.3", "127.255.255.255"}) {
    EXPECT_EQ(refusal_of(a), Unroutable::loopback) << a;
  }
}

TEST(DialTarget, MulticastReservedAndBroadcastAreRefused) {
  EXPECT_EQ(refusal_of("224.0.0.0"), Unroutable::multicast);
  EXPECT_EQ(refusal_of("224.0.0.251"), Unroutable::multicast);
  EXPECT_EQ(refusal_of("239.255.255.255"), Unroutable::multicast);
  EXPECT_EQ(refusal_of("240.0.0.0"), Unroutable::reserved);
  EXPECT_EQ(refusal_of("255.255.255.254"), Unroutable::reserved);
  EXPECT_EQ(refusal_of("255.255.255.255"), Unroutable::broadcast);
  EXPECT_EQ(refusal_of("192.168.64.255"), Unroutable::broadcast);
}

TEST(DialTarget, GuestSubnetOtherThanTheGatewayIsRefused) {
  for (const char* a : {"192.168.64.0", "192.168.64.2", "192.168.64.254"}) {
    EXPECT_EQ(refusal_of(a), Unroutable::guest_subnet) << a;
  }
}

TEST(DialTarget, AnotherSubnetMovesTheEdges) {
  const DialMap map{*Ipv4Subnet::parse("10.0.2.0/23"), Ipv4Address{10, 0, 2, 1}};
  EXPECT_EQ(dial_target(map, at("10.0.3.255")).refusal, Unroutable::broadcast);
  EXPECT_EQ(dial_target(map, at("10.0.3.7")).refusal, Unroutable::guest_subnet);
  EXPECT_TRUE(dial_target(map, at("10.0.4.0")).dialable());
  EXPECT_TRUE(dial_target(map, at("192.168.64.255")).dialable());  // not this subnet: ordinary unicast here
  EXPECT_EQ(dial_target(map, at("10.0.2.1", 53)).endpoint, at("127.0.0.1", 53));
}

TEST(DialTarget, EveryRefusalHasADescription) {
  for (std::size_t i = 0; i < static_cast<std::size_t>(Unroutable::count_); ++i) {
    EXPECT_FALSE(describe(static_cast<Unroutable>(i)).empty());
  }
}

}  // namespace
}  // namespace vznet::forward
