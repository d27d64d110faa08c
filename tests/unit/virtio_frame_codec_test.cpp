// Unit tests for virtio/frame_codec: the stream decoder (partial reads, many frames per read, skipped and broken
// lengths, exact size limits), the encoder, the vfkit greeting and frame size checks. Pure, no sockets.
#include "virtio/frame_codec.h"

#include <gtest/gtest.h>

#include <vector>

#include "virtio_test_support.h"

namespace vznet::virtio {
namespace {

using testing::Bytes;
using testing::make_frame;
using testing::stream_encoded;

struct CollectingSink : StreamDecoder::Sink {
  void frame(Frame f) override { frames.emplace_back(f.begin(), f.end()); }
  void drop(LinkDrop reason) override { drops.push_back(reason); }
  std::vector<Bytes> frames;
  std::vector<LinkDrop> drops;
};

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes prefix_only(std::uint32_t length) {
  return {static_cast<std::uint8_t>(length >> 24), static_cast<std::uint8_t>(length >> 16),
          static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
}

TEST(VirtioStreamEncoder, WritesBigEndianLengthThenFrame) {
  const Bytes frame = make_frame(300, 7);  // 0x012c
  std::vector<std::uint8_t> out;
  append_stream_frame(out, frame);
  ASSERT_EQ(out.size(), frame.size() + 4);
  EXPECT_EQ(out[0], 0x00);
  EXPECT_EQ(out[1], 0x00);
  EXPECT_EQ(out[2], 0x01);
  EXPECT_EQ(out[3], 0x2c);
  EXPECT_TRUE(std::equal(frame.begin(), frame.end(), out.begin() + 4));
}

TEST(VirtioStreamEncoder, AppendsAfterExistingBytes) {
  std::vector<std::uint8_t> out;
  append_stream_frame(out, make_frame(60, 1));
  append_stream_frame(out, make_frame(1514, 2));
  EXPECT_EQ(out, concat({stream_encoded(make_frame(60, 1)), stream_encoded(make_frame(1514, 2))}));
}

TEST(VirtioStreamDecoder, ManyFramesInOneChunkComeOutInOrder) {
  const Bytes a = make_frame(60, 1), b = make_frame(1514, 2), c = make_frame(14, 3);
  const Bytes wire = concat({stream_encoded(a), stream_encoded(b), stream_encoded(c)});
  StreamDecoder decoder(1514);
  CollectingSink sink;
  EXPECT_TRUE(decoder.feed(wire, sink));
  EXPECT_EQ(sink.frames, (std::vector<Bytes>{a, b, c}));
  EXPECT_TRUE(sink.drops.empty());
  EXPECT_EQ(decoder.pending_bytes(), 0u);
}

TEST(VirtioStreamDecoder, ByteAtATime) {
  const Bytes a = make_frame(60, 1), b = make_frame(1514, 2);
  const Bytes wire = concat({stream_encoded(a), stream_encoded(b)});
  StreamDecoder decoder(1514);
  CollectingSink sink;
  for (std::uint8_t byte : wire) ASSERT_TRUE(decoder.feed(Frame(&byte, 1), sink));
  EXPECT_EQ(sink.frames, (std::vector<Bytes>{a, b}));
}

TEST(VirtioStreamDecoder, EverySplitPointOfTwoFrames) {
  const Bytes a = make_frame(100, 1), b = make_frame(200, 2);
  const Bytes wire = concat({stream_encoded(a), stream_encoded(b)});
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    StreamDecoder decoder(1514);
    CollectingSink sink;
    ASSERT_TRUE(decoder.feed(Frame(wire).first(split), sink));
    ASSERT_TRUE(decoder.feed(Frame(wire).subspan(split), sink));
    ASSERT_EQ(sink.frames, (std::vector<Bytes>{a, b})) << "split at " << split;
  }
}

TEST(VirtioStreamDecoder, PendingBytesTrackPartialFrame) {
  const Bytes wire = stream_encoded(make_frame(100, 1));
  StreamDecoder decoder(1514);
  CollectingSink sink;
  decoder.feed(Frame(wire).first(2), sink);
  EXPECT_EQ(decoder.pending_bytes(), 2u);
  decoder.feed(Frame(wire).subspan(2, 50), sink);
  EXPECT_EQ(decoder.pending_bytes(), 52u);
  decoder.feed(Frame(wire).subspan(52), sink);
  EXPECT_EQ(decoder.pending_bytes(), 0u);
  EXPECT_EQ(sink.frames.size(), 1u);
}

TEST(VirtioStreamDecoder, ExactMaxSizeIsDeliveredOneMoreIsSkipped) {
  const Bytes max = make_frame(1514, 1), over = make_frame(1515, 2), after = make_frame(60, 3);
  StreamDecoder decoder(1514);
  CollectingSink sink;
  EXPECT_TRUE(decoder.feed(concat({stream_encoded(max), stream_encoded(over), stream_encoded(after)}), sink));
  EXPECT_EQ(sink.frames, (std::vector<Bytes>{max, after}));
  EXPECT_EQ(sink.drops, std::vector<LinkDrop>{LinkDrop::oversized});
}

TEST(VirtioStreamDecoder, OversizedFrameSkippedAcrossByteAtATimeReads) {
  const Bytes over = make_frame(9000, 1), after = make_frame(60, 2);
  const Bytes wire = concat({stream_encoded(over), stream_encoded(after)});
  StreamDecoder decoder(1514);
  CollectingSink sink;
  for (std::uint8_t byte : wire) ASSERT_TRUE(decoder.feed(Frame(&byte, 1), sink));
  EXPECT_EQ(sink.frames, std::vector<Bytes>{after});
  EXPECT_EQ(sink.drops, std::vector<LinkDrop>{LinkDrop::oversized});
  EXPECT_EQ(decoder.pending_bytes(), 0u) << "skipped frames are never buffered";
}

TEST(VirtioStreamDecoder, LargestStreamLengthIsSkippedNotFatal) {
  StreamDecoder decoder(1514);
  CollectingSink sink;
  EXPECT_TRUE(decoder.feed(prefix_only(kMaxStreamFrameLength), sink));
  EXPECT_FALSE(decoder.broken());
  EXPECT_EQ(sink.drops, std::vector<LinkDrop>{LinkDrop::oversized});
}

TEST(VirtioStreamDecoder, LargestStreamFrameDeliveredWhenAllowed) {
  const Bytes jumbo = make_frame(kMaxStreamFrameLength, 4);
  StreamDecoder decoder(kMaxStreamFrameLength);
  CollectingSink sink;
  EXPECT_TRUE(decoder.feed(stream_encoded(jumbo), sink));
  EXPECT_EQ(sink.frames, std::vector<Bytes>{jumbo});
}

TEST(VirtioStreamDecoder, RuntIsSkipped) {
  const Bytes runt(10, 0xaa), after = make_frame(60, 2);
  StreamDecoder decoder(1514);
  CollectingSink sink;
  EXPECT_TRUE(decoder.feed(concat({stream_encoded(runt), stream_encoded(after)}), sink));
  EXPECT_EQ(sink.frames, std::vector<Bytes>{after});
  EXPECT_EQ(sink.drops, std::vector<LinkDrop>{LinkDrop::runt});
}

TEST(VirtioStreamDecoder, ZeroLengthBreaksTheStream) {
  const Bytes before = make_frame(60, 1);
  StreamDecoder decoder(1514);
  CollectingSink sink;
  EXPECT_FALSE(decoder.feed(concat({stream_encoded(before), prefix_only(0), stream_encoded(before)}), sink));
  EXPECT_TRUE(decoder.broken());
  EXPECT_EQ(sink.frames, std::vector<Bytes>{before}) << "frames before the bad prefix still count";
  EXPECT_EQ(sink.drops, std::vector<LinkDrop>{LinkDrop::bad_length_prefix});
  EXPECT_FALSE(decoder.feed(stream_encoded(before), sink)) << "a broken stream stays broken";
  EXPECT_EQ(sink.frames.size(), 1u);
  EXPECT_EQ(sink.drops.size(), 1u);
}

TEST(VirtioStreamDecoder, ImpossibleLengthBreaksTheStreamEvenByteAtATime) {
  const Bytes wire = prefix_only(kMaxStreamFrameLength + 1);
  StreamDecoder decoder(1514);
  CollectingSink sink;
  bool ok = true;
  for (std::uint8_t byte : wire) ok = decoder.feed(Frame(&byte, 1), sink);
  EXPECT_FALSE(ok);
  EXPECT_EQ(sink.drops, std::vector<LinkDrop>{LinkDrop::bad_length_prefix});
  StreamDecoder huge(1514);
  CollectingSink huge_sink;
  EXPECT_FALSE(huge.feed(prefix_only(0xffffffffu), huge_sink));
}

TEST(VirtioVfkitGreeting, OnlyTheExactFourBytes) {
  const Bytes vfkt{'V', 'F', 'K', 'T'};
  EXPECT_TRUE(is_vfkit_greeting(vfkt));
  EXPECT_FALSE(is_vfkit_greeting(Bytes{'V', 'F', 'K'}));
  EXPECT_FALSE(is_vfkit_greeting(Bytes{'V', 'F', 'K', 'T', 0}));
  EXPECT_FALSE(is_vfkit_greeting(Bytes{'v', 'f', 'k', 't'}));
  EXPECT_FALSE(is_vfkit_greeting(Bytes{}));
}

TEST(VirtioFrameSize, RuntOversizedOrFine) {
  EXPECT_EQ(check_frame_size(0, 1514), LinkDrop::runt);
  EXPECT_EQ(check_frame_size(13, 1514), LinkDrop::runt);
  EXPECT_EQ(check_frame_size(14, 1514), std::nullopt);
  EXPECT_EQ(check_frame_size(1514, 1514), std::nullopt);
  EXPECT_EQ(check_frame_size(1515, 1514), LinkDrop::oversized);
}

}  // namespace
}  // namespace vznet::virtio
