// base/counters.h: one counter per enum value, read by value or by position (as the name tables and /stats do).
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>

#include "base/counters.h"

namespace vznet::base {
namespace {

enum class Sample : std::uint8_t { first, second, third, count_ };

TEST(Counts, StartAtZeroAndCountEachValueOnItsOwn) {
  Counts<Sample> counts;
  EXPECT_EQ(Counts<Sample>::size(), 3u);
  EXPECT_EQ(counts.get(Sample::first), 0u);
  counts.add(Sample::second);
  counts.add(Sample::second);
  counts.add(Sample::third, 40);
  EXPECT_EQ(counts.get(Sample::first), 0u);
  EXPECT_EQ(counts.get(Sample::second), 2u);
  EXPECT_EQ(counts.get(Sample::third), 40u);
}

TEST(Counts, PositionsFollowTheEnumsOrder) {
  Counts<Sample> counts;
  counts.add(Sample::first, 1);
  counts.add(Sample::third, 3);
  EXPECT_EQ(counts[0], 1u);
  EXPECT_EQ(counts[1], 0u);
  EXPECT_EQ(counts[2], 3u);
  EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), std::uint64_t{0}), 4u);
}

TEST(Counts, CopiesAreSnapshots) {
  Counts<Sample> counts;
  counts.add(Sample::first);
  const Counts<Sample> before = counts;
  counts.add(Sample::first);
  EXPECT_EQ(before.get(Sample::first), 1u);
  EXPECT_EQ(counts.get(Sample::first), 2u);
}

}  // namespace
}  // namespace vznet::base
