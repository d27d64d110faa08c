// base/mac_address.h: parsing and formatting the text form, reading from a frame, group addresses, the hash.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <unordered_set>

#include "base/mac_address.h"

namespace vznet::base {
namespace {

constexpr MacAddress kMac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

TEST(MacAddress, ParsesColonsOrDashesInEitherCase) {
  EXPECT_EQ(parse_mac("52:54:00:12:34:56"), kMac);
  EXPECT_EQ(parse_mac("52-54-00-12-34-56"), kMac);
  EXPECT_EQ(parse_mac("AA:bb:Cc:dD:ee:FF"), (MacAddress{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}));
}

TEST(MacAddress, RefusesAnythingElse) {
  EXPECT_FALSE(parse_mac("52:54:00:12:34:5g"));
  EXPECT_FALSE(parse_mac("52:54:00:12:34:567"));
  EXPECT_FALSE(parse_mac("52:54:00:12:34"));
  EXPECT_FALSE(parse_mac("52.54.00.12.34.56"));
  EXPECT_FALSE(parse_mac(""));
}

TEST(MacAddress, FormatsLowerCaseWithColonsAndParsesBack) {
  const MacAddress mac{0x0a, 0xBC, 0x00, 0xFF, 0x01, 0x9e};
  EXPECT_EQ(format_mac(mac), "0a:bc:00:ff:01:9e");
  EXPECT_EQ(parse_mac(format_mac(mac)), mac);
}

TEST(MacAddress, ReadsFromAFrame) {
  const std::array<std::uint8_t, 14> frame{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52,
                                           0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00};
  EXPECT_EQ(mac_at(frame, 6), kMac);
  EXPECT_TRUE(is_group(mac_at(frame, 0)));
  EXPECT_FALSE(is_group(kMac));
  EXPECT_TRUE(is_group(MacAddress{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}));  // multicast
}

TEST(MacAddress, HashKeepsDistinctAddressesApart) {
  std::unordered_set<MacAddress, MacHash> seen;
  for (std::uint8_t i = 0; i < 100; ++i) seen.insert(MacAddress{0x52, 0x54, 0, 0, 0, i});
  seen.insert(kMac);
  EXPECT_EQ(seen.size(), 101u);
  EXPECT_TRUE(seen.contains(kMac));
  EXPECT_NE(MacHash{}(kMac), MacHash{}(MacAddress{0x52, 0x54, 0x00, 0x12, 0x34, 0x57}));
}

}  // namespace
}  // namespace vznet::base
