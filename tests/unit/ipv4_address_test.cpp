// Unit tests for the IPv4 value types: parsing (strict), formatting, subnet arithmetic.
#include <gtest/gtest.h>

#include "stack/ipv4_address.h"

namespace vznet {
namespace {

TEST(Ipv4Address, ParsesDottedQuads) {
  EXPECT_EQ(Ipv4Address::parse("192.168.64.1"), (Ipv4Address{192, 168, 64, 1}));
  EXPECT_EQ(Ipv4Address::parse("0.0.0.0"), Ipv4Address{});
  EXPECT_EQ(Ipv4Address::parse("255.255.255.255")->value, 0xFFFFFFFFu);
  EXPECT_EQ((Ipv4Address{10, 0, 0, 1}).to_string(), "10.0.0.1");
}

TEST(Ipv4Address, RejectsAnythingElse) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "01.2.3.4", "1..3.4", "a.b.c.d",
                          "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/24", "1.2.3.4:80", "1234.1.1.1"}) {
    EXPECT_FALSE(Ipv4Address::parse(bad)) << bad;
  }
}

TEST(Ipv4Address, Classifies) {
  EXPECT_TRUE((Ipv4Address{127, 0, 0, 1}).is_loopback());
  EXPECT_TRUE((Ipv4Address{224, 0, 0, 251}).is_multicast());
  EXPECT_FALSE((Ipv4Address{192, 168, 1, 1}).is_multicast());
}

TEST(Ipv4Subnet, ParsesAndComputes) {
  auto s = Ipv4Subnet::parse("192.168.64.0/24");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->mask(), 0xFFFFFF00u);
  EXPECT_EQ(s->host(1), (Ipv4Address{192, 168, 64, 1}));
  EXPECT_EQ(s->broadcast(), (Ipv4Address{192, 168, 64, 255}));
  EXPECT_TRUE(s->contains(Ipv4Address{192, 168, 64, 200}));
  EXPECT_FALSE(s->contains(Ipv4Address{192, 168, 65, 1}));
  EXPECT_EQ(s->host_count(), 254u);
  EXPECT_EQ(s->to_string(), "192.168.64.0/24");
  EXPECT_EQ(Ipv4Subnet::parse("0.0.0.0/0")->mask(), 0u);
  EXPECT_TRUE(Ipv4Subnet::parse("0.0.0.0/0")->contains(Ipv4Address{8, 8, 8, 8}));
  EXPECT_EQ(Ipv4Subnet::parse("10.1.2.3/32")->host_count(), 0u);
}

TEST(Ipv4Subnet, RejectsBadInputWithAReason) {
  std::string error;
  EXPECT_FALSE(Ipv4Subnet::parse("192.168.64.1/24", &error));
  EXPECT_NE(error.find("host bits"), std::string::npos);
  EXPECT_FALSE(Ipv4Subnet::parse("192.168.64.0/33", &error));
  EXPECT_NE(error.find("0..32"), std::string::npos);
  EXPECT_FALSE(Ipv4Subnet::parse("192.168.64.0", &error));
  EXPECT_FALSE(Ipv4Subnet::parse("/24", &error));
  EXPECT_FALSE(Ipv4Subnet::parse("192.168.64.0/", &error));
}

TEST(Ipv4Endpoint, ParsesWithAndWithoutPort) {
  EXPECT_EQ(Ipv4Endpoint::parse("10.0.0.1:53"), (Ipv4Endpoint{Ipv4Address{10, 0, 0, 1}, 53}));
  EXPECT_EQ(Ipv4Endpoint::parse("10.0.0.1", 53), (Ipv4Endpoint{Ipv4Address{10, 0, 0, 1}, 53}));
  EXPECT_FALSE(Ipv4Endpoint::parse("10.0.0.1"));
  EXPECT_FALSE(Ipv4Endpoint::parse("10.0.0.1:0"));
  EXPECT_FALSE(Ipv4Endpoint::parse("10.0.0.1:65536"));
  EXPECT_EQ((Ipv4Endpoint{Ipv4Address{1, 2, 3, 4}, 80}).to_string(), "1.2.3.4:80");
}

TEST(ParseDecimal, IsStrict) {
  EXPECT_EQ(parse_decimal("42", 0, 100), 42u);
  EXPECT_FALSE(parse_decimal("101", 0, 100));
  EXPECT_FALSE(parse_decimal("+1", 0, 100));
  EXPECT_FALSE(parse_decimal("1x", 0, 100));
  EXPECT_FALSE(parse_decimal("", 0, 100));
}

}  // namespace
}  // namespace vznet
