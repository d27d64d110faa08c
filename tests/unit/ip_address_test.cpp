// The family-independent address types: parsing and text of both families, the IPv4-mapped form, prefixes.
#include "stack/ip_address.h"

#include <gtest/gtest.h>

namespace vznet {
namespace {

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(IpAddress{});
}

IpSubnet subnet(std::string_view address, unsigned length) {
  auto s = IpSubnet::make(ip(address), length);
  EXPECT_TRUE(s) << address << "/" << length;
  return s.value_or(IpSubnet{});
}

TEST(IpAddress, AnIpv4AddressKeepsItsValueAndText) {
  const IpAddress a = Ipv4Address{192, 168, 64, 1};
  EXPECT_TRUE(a.is_v4());
  EXPECT_EQ(a.v4(), (Ipv4Address{192, 168, 64, 1}));
  EXPECT_EQ(a.to_string(), "192.168.64.1");
  EXPECT_EQ(a.bit_count(), 32u);
  EXPECT_EQ(ip("192.168.64.1"), a);
}

TEST(IpAddress, Ipv6TextParsesAndPrintsInItsCanonicalForm) {
  const IpAddress a = ip("FD00:0:0:0::0001");
  EXPECT_EQ(a.family(), IpFamily::v6);
  EXPECT_EQ(a.to_string(), "fd00::1");
  EXPECT_EQ(a.bytes()[0], 0xfd);
  EXPECT_EQ(a.bytes()[15], 0x01);
  EXPECT_EQ(ip("::").to_string(), "::");
  EXPECT_EQ(a.bit_count(), 128u);
}

TEST(IpAddress, MalformedTextIsRefused) {
  for (std::string_view bad : {"", "1.2.3", "010.0.0.1", "fd00::1::2", "fd00::g", "[fd00::1]", "fe80::1%eth0",
                               "1.2.3.4:80", "::ffff:1.2.3.256", "12345::"}) {
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
  }
}

TEST(IpAddress, AnIpv4MappedIpv6AddressIsIpv6UntilUnmapped) {
  const IpAddress mapped = ip("::ffff:127.0.0.1");
  EXPECT_EQ(mapped.family(), IpFamily::v6);
  EXPECT_TRUE(mapped.is_v4_mapped());
  EXPECT_NE(mapped, IpAddress(Ipv4Address{127, 0, 0, 1}));  // the same bytes, another family
  EXPECT_EQ(mapped.unmapped(), IpAddress(Ipv4Address{127, 0, 0, 1}));
  EXPECT_FALSE(ip("fd00::1").is_v4_mapped());
  EXPECT_EQ(ip("fd00::1").unmapped(), ip("fd00::1"));
}

TEST(IpAddress, Ipv4CompatibleAddressesLieOutsideTheUnspecifiedAndLoopbackOnes) {
  EXPECT_TRUE(ip("::10.0.0.1").is_v4_compatible());
  EXPECT_TRUE(ip("::1.0.0.0").is_v4_compatible());
  EXPECT_EQ(ip("::10.0.0.1").v4(), (Ipv4Address{10, 0, 0, 1}));
  EXPECT_FALSE(ip("::").is_v4_compatible());
  EXPECT_FALSE(ip("::1").is_v4_compatible());
  EXPECT_FALSE(ip("::0.255.255.255").is_v4_compatible());  // still ::/104
  EXPECT_FALSE(ip("::ffff:10.0.0.1").is_v4_compatible());  // mapped, not compatible
  EXPECT_FALSE(ip("10.0.0.1").is_v4_compatible());
}

TEST(IpAddress, OrderingPutsIpv4BeforeIpv6AndFollowsTheBytes) {
  EXPECT_LT(ip("10.0.0.1"), ip("10.0.0.2"));
  EXPECT_LT(ip("255.255.255.255"), ip("::"));
  EXPECT_LT(ip("fd00::1"), ip("fd00::2"));
}

TEST(IpSubnet, Ipv4PrefixesCountIpv4Bits) {
  const IpSubnet s = subnet("10.0.0.0", 8);
  EXPECT_TRUE(s.contains(ip("10.255.0.1")));
  EXPECT_FALSE(s.contains(ip("11.0.0.0")));
  EXPECT_EQ(s.last(), ip("10.255.255.255"));
  EXPECT_EQ(s.to_string(), "10.0.0.0/8");
  EXPECT_EQ(IpSubnet(Ipv4Subnet{Ipv4Address{10, 0, 0, 0}, 8}), s);
  EXPECT_TRUE(IpSubnet{}.contains(ip("203.0.113.9")));  // 0.0.0.0/0
  EXPECT_EQ(subnet("10.0.0.1", 32).last(), ip("10.0.0.1"));
}

TEST(IpSubnet, Ipv6PrefixesMatchOnTheirBits) {
  const IpSubnet s = subnet("fc00::", 7);
  EXPECT_TRUE(s.contains(ip("fd12:3456::1")));
  EXPECT_FALSE(s.contains(ip("fe80::1")));
  EXPECT_EQ(s.last(), ip("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_EQ(s.to_string(), "fc00::/7");
  EXPECT_TRUE(subnet("::", 0).contains(ip("2001:db8::1")));
}

TEST(IpSubnet, NeverMatchesAcrossFamilies) {
  EXPECT_FALSE(IpSubnet{}.contains(ip("::ffff:10.0.0.1")));  // 0.0.0.0/0 holds no IPv6 address
  EXPECT_FALSE(subnet("::", 0).contains(ip("10.0.0.1")));
  EXPECT_FALSE(subnet("::ffff:0.0.0.0", 96).contains(ip("10.0.0.1")));
}

TEST(IpSubnet, HostBitsAndOverlongPrefixesAreRefused) {
  EXPECT_FALSE(IpSubnet::make(ip("10.0.0.1"), 8));
  EXPECT_FALSE(IpSubnet::make(ip("10.0.0.0"), 33));
  EXPECT_FALSE(IpSubnet::make(ip("fd00::1"), 64));
  EXPECT_FALSE(IpSubnet::make(ip("fd00::"), 129));
  EXPECT_TRUE(IpSubnet::make(ip("fd00::1"), 128));
}

TEST(IpSubnet, ParsesCidrTextOfBothFamilies) {
  EXPECT_EQ(IpSubnet::parse("10.0.0.0/8"), subnet("10.0.0.0", 8));
  EXPECT_EQ(IpSubnet::parse("FD00::/8"), subnet("fd00::", 8));
  EXPECT_EQ(IpSubnet::parse("::/0"), subnet("::", 0));
  EXPECT_EQ(IpSubnet::parse("2001:db8::1/128"), subnet("2001:db8::1", 128));
  const struct {
    const char* text;
    const char* why;
  } bad[] = {
      {"fd00::1/64", "host bits are set (did you mean the network address?)"},
      {"fd00::/129", "prefix length must be 0..128"},
      {"fd00::/", "prefix length must be 0..128"},
      {"fd00::", "expected ADDRESS/PREFIX, e.g. fd00::/8"},
      {"fd00:::/8", "not an IPv6 address before '/'"},
      {"10.0.0.1/8", "host bits are set (did you mean the network address?)"},  // Ipv4Subnet::parse's words
      {"10.0.0.0/33", "prefix length must be 0..32"},
  };
  for (const auto& c : bad) {
    std::string why;
    EXPECT_FALSE(IpSubnet::parse(c.text, &why)) << c.text;
    EXPECT_EQ(why, c.why) << c.text;
  }
}

TEST(IpSubnet, AnIpv4MappedPrefixUnmapsToTheIpv4PrefixItCovers) {
  EXPECT_EQ(subnet("::ffff:10.0.0.0", 104).unmapped(), subnet("10.0.0.0", 8));
  EXPECT_EQ(subnet("::ffff:0.0.0.0", 96).unmapped(), subnet("0.0.0.0", 0));
  EXPECT_EQ(subnet("::ffff:10.0.0.1", 128).unmapped(), subnet("10.0.0.1", 32));
  EXPECT_EQ(subnet("::", 80).unmapped(), subnet("::", 80));  // holds more than the mapped range
  EXPECT_EQ(subnet("fd00::", 8).unmapped(), subnet("fd00::", 8));
}

TEST(IpEndpoint, Ipv6EndpointsPutTheAddressInBrackets) {
  EXPECT_EQ(IpEndpoint(Ipv4Endpoint{Ipv4Address{10, 0, 0, 1}, 80}).to_string(), "10.0.0.1:80");
  EXPECT_EQ(IpEndpoint(ip("fd00::1"), 443).to_string(), "[fd00::1]:443");
}

}  // namespace
}  // namespace vznet
