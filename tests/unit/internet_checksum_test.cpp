// The fast Internet checksum (base/internet_checksum.h) against RFC 1071's definition, written the slow, obvious
// way.
#include "base/internet_checksum.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <random>
#include <vector>

namespace vznet::base {
namespace {

// RFC 1071: the one's-complement sum of the data as 16-bit native words, an odd last byte padded with zero.
std::uint16_t reference_sum(const std::uint8_t* data, std::size_t length) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < length; i += 2) {
    std::uint8_t pair[2] = {data[i], i + 1 < length ? data[i + 1] : std::uint8_t{0}};
    std::uint16_t word;
    std::memcpy(&word, pair, 2);
    sum += word;
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(sum);
}

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<std::uint8_t> bytes(n);
  for (auto& b : bytes) b = static_cast<std::uint8_t>(gen());
  return bytes;
}

TEST(InternetChecksum, Rfc1071Example) {
  const std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(htons(internet_sum(data, sizeof data)), 0xddf2);  // RFC 1071 §3, in network order
}

TEST(InternetChecksum, EmptyIsZero) { EXPECT_EQ(internet_sum(nullptr, 0), 0); }

TEST(InternetChecksum, AllOnesFoldsToAllOnes) {
  const std::vector<std::uint8_t> ones(4096, 0xFF);  // many end-around carries
  EXPECT_EQ(internet_sum(ones.data(), ones.size()), 0xFFFF);
}

TEST(InternetChecksum, MatchesReferenceAtEveryLengthAndAlignment) {
  const auto bytes = random_bytes(600, 1);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t length = 0; length + offset <= 520; ++length) {
      ASSERT_EQ(internet_sum(bytes.data() + offset, length), reference_sum(bytes.data() + offset, length))
          << "offset " << offset << " length " << length;
    }
  }
}

TEST(InternetChecksum, MatchesReferenceOnJumboBuffers) {
  for (std::uint32_t seed = 2; seed < 6; ++seed) {
    const auto bytes = random_bytes(65535, seed);
    EXPECT_EQ(internet_sum(bytes.data(), bytes.size()), reference_sum(bytes.data(), bytes.size()));
  }
}

TEST(InternetChecksum, ValidPacketSumsToAllOnes) {
  // An IPv4 header with its checksum filled in sums to 0xFFFF: how receivers check it.
  std::uint8_t header[20] = {0x45, 0, 0, 0x54, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0, 192, 168, 64, 1, 192, 168, 64, 2};
  const std::uint16_t checksum = static_cast<std::uint16_t>(~internet_sum(header, sizeof header));
  std::memcpy(header + 10, &checksum, 2);
  EXPECT_EQ(internet_sum(header, sizeof header), 0xFFFF);
}

// The checksum field the way forward/'s ICMP echo computed it before it used base/: big-endian words, inverted.
std::uint16_t reference_checksum(const std::vector<std::uint8_t>& bytes) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
    sum += static_cast<std::uint32_t>((bytes[i] << 8) | bytes[i + 1]);
  }
  if (bytes.size() % 2 != 0) sum += static_cast<std::uint32_t>(bytes.back() << 8);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

TEST(InternetChecksum, ChecksumFieldIsTheInvertedSumInNetworkOrder) {
  for (std::size_t length : {0u, 1u, 2u, 8u, 9u, 64u, 1471u, 65507u}) {
    const auto bytes = random_bytes(length, static_cast<std::uint32_t>(length) + 11);
    EXPECT_EQ(internet_checksum(bytes), reference_checksum(bytes)) << "length " << length;
  }
  EXPECT_EQ(internet_checksum(std::vector<std::uint8_t>(64, 0)), 0xFFFF);
  // An ICMP echo request, identifier 0x1234, sequence 1, no data: 0x08 0x00 + 0x12 0x34 + 0x00 0x01 inverted.
  const std::vector<std::uint8_t> echo{8, 0, 0, 0, 0x12, 0x34, 0, 1};
  EXPECT_EQ(internet_checksum(echo), 0xE5CA);
}

TEST(InternetChecksum, CopyAndSumCopiesAndSums) {
  const auto bytes = random_bytes(2000, 7);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t length : {0u, 1u, 7u, 8u, 31u, 32u, 33u, 1459u, 1460u, 1991u}) {
      std::vector<std::uint8_t> out(length + 16, 0xAA);
      const std::uint16_t sum = copy_and_sum(out.data() + 3, bytes.data() + offset, length);
      EXPECT_EQ(sum, reference_sum(bytes.data() + offset, length)) << "length " << length;
      EXPECT_EQ(0, std::memcmp(out.data() + 3, bytes.data() + offset, length));
      EXPECT_EQ(out[2], 0xAA);  // nothing written outside the destination
      EXPECT_EQ(out[3 + length], 0xAA);
    }
  }
}

}  // namespace
}  // namespace vznet::base
