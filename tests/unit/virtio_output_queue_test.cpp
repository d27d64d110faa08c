// OutputQueue: the bound, framing, partial writes, popping, compaction and clearing both port kinds rely on.
#include "virtio/output_queue.h"

#include <gtest/gtest.h>

#include <vector>

namespace vznet::virtio {
namespace {

std::vector<std::uint8_t> bytes(Frame frame) { return {frame.begin(), frame.end()}; }

TEST(OutputQueue, DatagramFramingQueuesFramesAsTheyAreAndPopsThemInOrder) {
  OutputQueue queue(OutputFraming::datagram);
  const std::vector<std::uint8_t> a{1, 2, 3}, b{4, 5};
  ASSERT_TRUE(queue.push(a, 100));
  ASSERT_TRUE(queue.push(b, 100));
  ASSERT_EQ(queue.unsent().size(), 2u);
  EXPECT_EQ(bytes(queue.frame_of(queue.unsent()[0])), a);
  EXPECT_EQ(bytes(queue.frame_of(queue.unsent()[1])), b);
  EXPECT_EQ(queue.pop(), 3u);
  EXPECT_EQ(bytes(queue.unwritten()), b);
  EXPECT_EQ(queue.pop(), 2u);
  EXPECT_TRUE(queue.empty());
}

TEST(OutputQueue, StreamFramingPrefixesEachFrameWithItsBigEndianLength) {
  OutputQueue queue(OutputFraming::length_prefixed);
  const std::vector<std::uint8_t> a{0xaa, 0xbb};
  ASSERT_TRUE(queue.push(a, 100));
  EXPECT_EQ(bytes(queue.unwritten()), (std::vector<std::uint8_t>{0, 0, 0, 2, 0xaa, 0xbb}));
  EXPECT_EQ(bytes(queue.frame_of(queue.unsent()[0])), a);
}

TEST(OutputQueue, AFrameCountsAsWrittenOnlyOnceItsLastByteIs) {
  OutputQueue queue(OutputFraming::length_prefixed);
  const std::vector<std::uint8_t> a(10, 1), b(20, 2);
  ASSERT_TRUE(queue.push(a, 100));
  ASSERT_TRUE(queue.push(b, 100));
  std::vector<std::size_t> done;
  const auto on_frame = [&](std::size_t length) { done.push_back(length); };
  queue.wrote(13, on_frame);  // one byte short of the first frame
  EXPECT_TRUE(done.empty());
  queue.wrote(1 + 4 + 5, on_frame);  // the first frame's last byte and part of the second
  EXPECT_EQ(done, std::vector<std::size_t>{10});
  queue.compact();  // keeps the unwritten rest of the partial frame
  EXPECT_EQ(bytes(queue.unwritten()), std::vector<std::uint8_t>(15, 2));
  queue.wrote(15, on_frame);
  EXPECT_EQ(done, (std::vector<std::size_t>{10, 20}));
  EXPECT_TRUE(queue.empty());
}

TEST(OutputQueue, TheBoundCountsUnwrittenBytesPrefixesIncluded) {
  OutputQueue queue(OutputFraming::length_prefixed);
  const std::vector<std::uint8_t> frame(6, 0);
  ASSERT_TRUE(queue.push(frame, 20));   // 10 bytes
  ASSERT_TRUE(queue.push(frame, 20));   // 20 bytes: at the bound
  EXPECT_FALSE(queue.push(frame, 20));  // 30 would pass it: refused, nothing queued
  EXPECT_EQ(queue.unsent().size(), 2u);
  queue.wrote(10, [](std::size_t) {});
  EXPECT_TRUE(queue.push(frame, 20));  // written bytes no longer count
}

TEST(OutputQueue, CompactingAfterPopsKeepsTheUnsentFramesIntact) {
  OutputQueue queue(OutputFraming::datagram);
  for (std::uint8_t i = 1; i <= 4; ++i) ASSERT_TRUE(queue.push(std::vector<std::uint8_t>(i, i), 100));
  queue.pop();
  queue.pop();
  queue.compact();
  ASSERT_EQ(queue.unsent().size(), 2u);
  EXPECT_EQ(bytes(queue.frame_of(queue.unsent()[0])), std::vector<std::uint8_t>(3, 3));
  EXPECT_EQ(bytes(queue.frame_of(queue.unsent()[1])), std::vector<std::uint8_t>(4, 4));
  EXPECT_EQ(queue.unwritten().size(), 7u);
}

TEST(OutputQueue, ClearReportsTheUnsentFramesAndReleaseFreesTheStorage) {
  OutputQueue queue(OutputFraming::datagram);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(queue.push(std::vector<std::uint8_t>(1000, 0), 1 << 20));
  queue.pop();
  EXPECT_EQ(queue.clear(), 2u);
  EXPECT_TRUE(queue.empty());
  EXPECT_GE(queue.storage(), 3000u);  // clearing keeps the storage for the next backlog
  queue.release_storage();
  EXPECT_EQ(queue.storage(), 0u);
}

}  // namespace
}  // namespace vznet::virtio
