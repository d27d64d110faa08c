// base/byte_order.h: big-endian loads and stores, by pointer, by span and offset, and appended to a vector.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "base/byte_order.h"

namespace vznet::base {
namespace {

TEST(ByteOrder, LoadsReadTheFirstByteAsTheMostSignificant) {
  const std::array<std::uint8_t, 6> bytes{0x12, 0x34, 0x56, 0x78, 0x9A, 0xFF};
  EXPECT_EQ(load_be16(bytes.data()), 0x1234);
  EXPECT_EQ(load_be32(bytes.data()), 0x12345678u);
  EXPECT_EQ(load_be16(bytes, 4), 0x9AFF);
  EXPECT_EQ(load_be32(bytes, 2), 0x56789AFFu);
}

TEST(ByteOrder, HighBitsDoNotSignExtend) {
  const std::array<std::uint8_t, 4> bytes{0xFF, 0xFE, 0xFD, 0xFC};
  EXPECT_EQ(load_be16(bytes.data()), 0xFFFE);
  EXPECT_EQ(load_be32(bytes.data()), 0xFFFEFDFCu);
  EXPECT_EQ(load_be32(bytes, 0), 0xFFFEFDFCu);
}

TEST(ByteOrder, StoresAreTheInverseOfLoads) {
  std::array<std::uint8_t, 8> bytes{};
  store_be16(bytes.data(), 0xBEEF);
  store_be32(bytes.data() + 2, 0xDEADC0DEu);
  EXPECT_EQ(bytes, (std::array<std::uint8_t, 8>{0xBE, 0xEF, 0xDE, 0xAD, 0xC0, 0xDE, 0, 0}));
  store_be16(bytes, 6, 0x0102);
  store_be32(bytes, 0, 0xA0B0C0D0u);
  EXPECT_EQ(bytes, (std::array<std::uint8_t, 8>{0xA0, 0xB0, 0xC0, 0xD0, 0xC0, 0xDE, 0x01, 0x02}));
}

TEST(ByteOrder, AppendsGrowTheVector) {
  std::vector<std::uint8_t> out{0x00};
  append_be16(out, 0x1234);
  append_be32(out, 0x89ABCDEFu);
  EXPECT_EQ(out, (std::vector<std::uint8_t>{0x00, 0x12, 0x34, 0x89, 0xAB, 0xCD, 0xEF}));
}

static_assert(load_be16(std::array<std::uint8_t, 2>{0xAB, 0xCD}.data()) == 0xABCD, "usable in constant expressions");

}  // namespace
}  // namespace vznet::base
