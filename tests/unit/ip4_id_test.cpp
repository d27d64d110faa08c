// Per-destination IPv4 identification (stack/ip4_id.h).
#include <gtest/gtest.h>

#include <numeric>

#include "stack/ip4_id.h"

namespace vznet::stack {
namespace {

const Ip4Ids::Key kKey{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

std::array<std::uint16_t, Ip4Ids::kBuckets> counting_from(std::uint16_t base) {
  std::array<std::uint16_t, Ip4Ids::kBuckets> first;
  std::iota(first.begin(), first.end(), base);
  return first;
}

TEST(Ip4Ids, EachDestinationCountsOnItsOwn) {
  Ip4Ids ids(kKey, counting_from(1000));
  const std::uint32_t a = 0x0240A8C0, b = 0x0340A8C0;  // 192.168.64.2 and .3 in network byte order
  ASSERT_NE(ids.bucket(a), ids.bucket(b)) << "the test needs two buckets";
  const std::uint16_t first_a = ids.next(a);
  EXPECT_EQ(first_a, static_cast<std::uint16_t>(1000 + ids.bucket(a)));
  for (int i = 0; i < 500; ++i) ids.next(b);                        // whatever b receives...
  EXPECT_EQ(ids.next(a), static_cast<std::uint16_t>(first_a + 1));  // ...a sees none of it
}

TEST(Ip4Ids, CountersWrapAround) {
  std::array<std::uint16_t, Ip4Ids::kBuckets> first;
  first.fill(0xFFFF);
  Ip4Ids ids(kKey, first);
  EXPECT_EQ(ids.next(7), 0xFFFF);
  EXPECT_EQ(ids.next(7), 0);
}

TEST(Ip4Ids, TheKeyDecidesTheBuckets) {
  Ip4Ids one(kKey, counting_from(0));
  Ip4Ids::Key other_key = kKey;
  other_key[0] ^= 0xFF;
  Ip4Ids other(other_key, counting_from(0));
  int differ = 0;
  for (std::uint32_t d = 1; d <= 64; ++d) differ += one.bucket(d) != other.bucket(d);
  EXPECT_GT(differ, 60);  // a different key scatters destinations anew (one in 4,096 may match by chance)
}

TEST(Ip4Ids, TheProcessHasOneSetOfCounters) { EXPECT_EQ(&process_ip4_ids(), &process_ip4_ids()); }

}  // namespace
}  // namespace vznet::stack
