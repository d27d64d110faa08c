// Unit tests for RFC 6528 initial sequence numbers: keyed per 4-tuple, advancing with the 4-microsecond clock.
#include <gtest/gtest.h>

#include <set>

#include "stack/tcp_isn.h"

namespace vznet::stack {
namespace {

using std::chrono::microseconds;

const TcpIsnSecret kSecret{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const TcpFourTuple kTuple{0x0140A8C0, 80, 0x0240A8C0, 40000};

TEST(TcpIsn, SameTupleAdvancesWithTheFourMicrosecondClock) {
  const std::uint32_t at0 = tcp_isn(kSecret, kTuple, microseconds(1'000'000));
  EXPECT_EQ(tcp_isn(kSecret, kTuple, microseconds(1'000'000)), at0);
  EXPECT_EQ(tcp_isn(kSecret, kTuple, microseconds(1'000'004)), at0 + 1);
  EXPECT_EQ(tcp_isn(kSecret, kTuple, microseconds(1'400'000)), at0 + 100'000);
}

TEST(TcpIsn, NeighbouringTuplesAreUnrelated) {
  // A guest that sees its own connections' ISNs learns nothing about the next port's: no two of these are
  // within 2^20 of each other (a tick counter would put them one apart).
  std::set<std::uint32_t> seen;
  for (std::uint16_t port = 40000; port < 40064; ++port) {
    TcpFourTuple t = kTuple;
    t.remote_port = port;
    const std::uint32_t isn = tcp_isn(kSecret, t, microseconds(0));
    for (std::uint32_t other : seen) {
      const std::uint32_t distance = std::min(isn - other, other - isn);
      EXPECT_GT(distance, 1u << 20) << "ports " << port;
    }
    seen.insert(isn);
  }
}

TEST(TcpIsn, TheSecretChangesEverything) {
  TcpIsnSecret other = kSecret;
  other[0] ^= 1;
  EXPECT_NE(tcp_isn(kSecret, kTuple, microseconds(0)), tcp_isn(other, kTuple, microseconds(0)));
}

TEST(TcpIsn, TheProcessSecretIsDrawnOnceAndIsNotZero) {
  const TcpIsnSecret& a = process_tcp_isn_secret();
  EXPECT_EQ(&a, &process_tcp_isn_secret());
  EXPECT_NE(a, TcpIsnSecret{});
}

}  // namespace
}  // namespace vznet::stack
