// Socket-level tests for unix:// (BE32 stream) and unixpacket:// (seqpacket) listeners on real unix sockets:
// frames in one write and split across writes, replies, bad length prefixes, EOF, several connections.
#include <gtest/gtest.h>

#include "app/process_resources.h"
#include "virtio/listener.h"
#include "virtio/port_base.h"
#include "virtio_test_support.h"

namespace vznet::virtio {
namespace {

using namespace testing;

struct ListenerFixture : ::testing::Test {
  TempDir dir;
  asio::io_context io;
  Recorder events;
  LinkCounters counters;
  std::string path = dir.file("vz.sock");
  std::unique_ptr<GuestListener> listener;

  void open(const std::string& scheme) {
    std::string error;
    const auto uri = parse_listen_uri(scheme + path, error);
    ASSERT_TRUE(uri) << error;
    listener = open_listener(io, *uri, LinkOptions{}, events, counters);
  }
};

struct VirtioStreamListener : ListenerFixture {
  void SetUp() override { open("unix://"); }
};

TEST_F(VirtioStreamListener, TwoFramesInOneWrite) {
  UniqueFd qemu = client_socket(SOCK_STREAM, {}, path);
  ASSERT_TRUE(qemu);
  const Bytes a = make_frame(60, 1), b = make_frame(1514, 2);
  Bytes wire = stream_encoded(a);
  const Bytes wire_b = stream_encoded(b);
  wire.insert(wire.end(), wire_b.begin(), wire_b.end());
  ASSERT_TRUE(write_all(io, qemu.get(), wire));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 2; }));
  EXPECT_EQ(events.attached.size(), 1u);
  EXPECT_EQ(events.frames[0].bytes, a);
  EXPECT_EQ(events.frames[1].bytes, b);
  EXPECT_EQ(events.names[0].rfind("unix:" + path + "#", 0), 0u) << events.names[0];
}

TEST_F(VirtioStreamListener, FrameSplitAcrossTwoWrites) {
  UniqueFd qemu = client_socket(SOCK_STREAM, {}, path);
  const Bytes frame = make_frame(1000, 3);
  const Bytes wire = stream_encoded(frame);
  ASSERT_TRUE(write_all(io, qemu.get(), Bytes(wire.begin(), wire.begin() + 2)));  // half the prefix
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 1; }));
  run_for(io, 20ms);
  EXPECT_TRUE(events.frames.empty());
  ASSERT_TRUE(write_all(io, qemu.get(), Bytes(wire.begin() + 2, wire.end())));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 1; }));
  EXPECT_EQ(events.frames[0].bytes, frame);
}

TEST_F(VirtioStreamListener, RepliesAreLengthPrefixedAndCoalesced) {
  UniqueFd qemu = client_socket(SOCK_STREAM, {}, path);
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 1; }));
  GuestPort& port = events.port(events.attached[0]);
  const Bytes a = make_frame(60, 1), b = make_frame(1514, 2);
  EXPECT_TRUE(port.send_frame(a));
  EXPECT_TRUE(port.send_frame(b));
  Bytes expected = stream_encoded(a);
  const Bytes wire_b = stream_encoded(b);
  expected.insert(expected.end(), wire_b.begin(), wire_b.end());
  EXPECT_EQ(receive_bytes(io, qemu.get(), expected.size()), expected);
  EXPECT_EQ(counters.frames_out, 2u);
  EXPECT_EQ(counters.bytes_out, 60u + 1514u);
}

TEST_F(VirtioStreamListener, SlowReaderGetsEveryFrameWholeAndQueueIsBounded) {
  UniqueFd qemu = client_socket(SOCK_STREAM, {}, path);
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 1; }));
  GuestPort& port = events.port(events.attached[0]);
  const Bytes frame = make_frame(1514, 5);
  const std::size_t fits = kMaxPortQueueBytes / (frame.size() + 4);
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < fits + 5; ++i) accepted += port.send_frame(frame);
  EXPECT_EQ(accepted, fits);
  EXPECT_EQ(counters.drops.get(LinkDrop::queue_full), 5u);
  // The socket buffer cannot take 4 MiB at once: the rest goes out as the reader drains.
  const Bytes got = receive_bytes(io, qemu.get(), accepted * (frame.size() + 4));
  ASSERT_EQ(got.size(), accepted * (frame.size() + 4));
  const Bytes wire = stream_encoded(frame);
  for (std::size_t i = 0; i < accepted; ++i) {
    ASSERT_TRUE(std::equal(wire.begin(), wire.end(), got.begin() + static_cast<std::ptrdiff_t>(i * wire.size())));
  }
  EXPECT_EQ(counters.frames_out, accepted);
}

TEST_F(VirtioStreamListener, QueueStorageGoesBackOnceTheBacklogHasDrained) {
  if (!app::heap_in_use()) GTEST_SKIP() << "this allocator does not say how much it has handed out";
  UniqueFd qemu = client_socket(SOCK_STREAM, {}, path);
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 1; }));
  const Bytes frame = make_frame(1514, 5);
  expect_queue_storage_goes_back(io, events.port(events.attached[0]), counters, frame, 4, [&](std::size_t accepted) {
    EXPECT_EQ(receive_bytes(io, qemu.get(), accepted * (frame.size() + 4)).size(), accepted * (frame.size() + 4));
  });
}

TEST_F(VirtioStreamListener, OversizedFrameSkippedConnectionStays) {
  UniqueFd qemu = client_socket(SOCK_STREAM, {}, path);
  Bytes wire = stream_encoded(make_frame(9000, 1));
  const Bytes after = stream_encoded(make_frame(60, 2));
  wire.insert(wire.end(), after.begin(), after.end());
  ASSERT_TRUE(write_all(io, qemu.get(), wire));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 1; }));
  EXPECT_EQ(counters.drops.get(LinkDrop::oversized), 1u);
  EXPECT_TRUE(events.detached.empty());
}

TEST_F(VirtioStreamListener, BadLengthPrefixClosesThatConnectionOnly) {
  UniqueFd good = client_socket(SOCK_STREAM, {}, path);
  UniqueFd bad = client_socket(SOCK_STREAM, {}, path);
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 2; }));
  ASSERT_TRUE(write_all(io, bad.get(), Bytes{0, 0, 0, 0}));
  ASSERT_TRUE(run_until(io, [&] { return events.detached.size() == 1; }));
  EXPECT_EQ(counters.drops.get(LinkDrop::bad_length_prefix), 1u);
  EXPECT_EQ(receive_bytes(io, bad.get(), 1).size(), 0u) << "the bad connection sees EOF";

  ASSERT_TRUE(write_all(io, good.get(), stream_encoded(make_frame(60, 1))));
  UniqueFd fresh = client_socket(SOCK_STREAM, {}, path);
  ASSERT_TRUE(write_all(io, fresh.get(), stream_encoded(make_frame(61, 2))));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 2; }));
  EXPECT_EQ(events.attached.size(), 3u);
  EXPECT_EQ(events.live.size(), 2u);
}

TEST_F(VirtioStreamListener, PeerCloseDetachesAndCloseRemovesFile) {
  UniqueFd qemu = client_socket(SOCK_STREAM, {}, path);
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 1; }));
  qemu.reset();
  ASSERT_TRUE(run_until(io, [&] { return events.detached.size() == 1; }));
  UniqueFd other = client_socket(SOCK_STREAM, {}, path);
  ASSERT_TRUE(run_until(io, [&] { return events.live.size() == 1; }));
  listener->close();
  EXPECT_TRUE(events.live.empty());
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

struct VirtioSeqpacketListener : ListenerFixture {
  void SetUp() override {
    if (!UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET, 0))) GTEST_SKIP() << "no AF_UNIX SOCK_SEQPACKET here";
    open("unixpacket://");
  }
};

TEST_F(VirtioSeqpacketListener, FramesBothWaysDropsAndEof) {
  UniqueFd bess = client_socket(SOCK_SEQPACKET, {}, path);
  ASSERT_TRUE(bess);
  const Bytes a = make_frame(60, 1), b = make_frame(1514, 2);
  ASSERT_TRUE(send_message(io, bess.get(), a));
  ASSERT_TRUE(send_message(io, bess.get(), Bytes(5, 0)));
  ASSERT_TRUE(send_message(io, bess.get(), make_frame(2000, 3)));
  ASSERT_TRUE(send_message(io, bess.get(), b));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 2; }));
  EXPECT_EQ(events.frames[0].bytes, a);
  EXPECT_EQ(events.frames[1].bytes, b);
  EXPECT_EQ(counters.drops.get(LinkDrop::runt), 1u);
  EXPECT_EQ(counters.drops.get(LinkDrop::oversized), 1u);
  EXPECT_EQ(events.names[0].rfind("unixpacket:", 0), 0u);

  GuestPort& port = events.port(events.attached[0]);
  port.send_frame(b);
  port.send_frame(a);
  EXPECT_EQ(receive_message(io, bess.get()), b);
  EXPECT_EQ(receive_message(io, bess.get()), a);

  bess.reset();
  ASSERT_TRUE(run_until(io, [&] { return events.detached.size() == 1; }));
}

}  // namespace
}  // namespace vznet::virtio
