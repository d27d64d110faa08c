// Socket-level tests for unixgram:// (DatagramListener + PacketPort) on real unix sockets and a real io_context:
// peer learning, the vfkit greeting, replies routed to the right peer, drops, peer-gone detach, bounded queue.
#include <gtest/gtest.h>

#include <unistd.h>

#include "app/process_resources.h"
#include "virtio/listener.h"
#include "virtio/port_base.h"
#include "virtio_test_support.h"

namespace vznet::virtio {
namespace {

using namespace testing;

struct VirtioUnixgram : ::testing::Test {
  TempDir dir;
  asio::io_context io;
  Recorder events;
  LinkCounters counters;
  std::string path = dir.file("vz.sock");
  std::unique_ptr<GuestListener> listener;

  void SetUp() override {
    std::string error;
    const auto uri = parse_listen_uri("unixgram://" + path, error);
    ASSERT_TRUE(uri) << error;
    listener = open_listener(io, *uri, LinkOptions{}, events, counters);
  }
  // A guest socket bound at `name` in the temp dir (named, so it can be answered).
  UniqueFd guest(const std::string& name) { return client_socket(SOCK_DGRAM, dir.file(name)); }
};

TEST_F(VirtioUnixgram, VfkitGreetingAttachesPeerAndRepliesReachIt) {
  UniqueFd vfkit = guest("vfkit.sock");
  ASSERT_TRUE(send_message(io, vfkit.get(), {'V', 'F', 'K', 'T'}, path));
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 1; }));
  EXPECT_TRUE(events.frames.empty()) << "the greeting is not a frame";
  EXPECT_NE(events.names[0].find("vfkit.sock"), std::string::npos) << events.names[0];

  const Bytes frame = make_frame(1514, 1);
  ASSERT_TRUE(send_message(io, vfkit.get(), frame, path));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 1; }));
  EXPECT_EQ(events.frames[0].port, events.attached[0]);
  EXPECT_EQ(events.frames[0].bytes, frame);
  EXPECT_EQ(events.attached.size(), 1u);

  const Bytes reply = make_frame(300, 9);
  EXPECT_TRUE(events.port(events.attached[0]).send_frame(reply));
  EXPECT_EQ(receive_message(io, vfkit.get()), reply);
  EXPECT_EQ(counters.frames_in, 1u);
  EXPECT_EQ(counters.bytes_in, 1514u);
  EXPECT_EQ(counters.frames_out, 1u);
  EXPECT_EQ(counters.bytes_out, 300u);
}

TEST_F(VirtioUnixgram, ConnectedVfkitStyleSocketWorks) {
  // vfkit connects its bound socket to ours; replies must come from the listening socket.
  UniqueFd vfkit = client_socket(SOCK_DGRAM, dir.file("vfkit.sock"), path);
  ASSERT_TRUE(vfkit);
  ASSERT_TRUE(send_message(io, vfkit.get(), {'V', 'F', 'K', 'T'}));
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 1; }));
  const Bytes reply = make_frame(60, 3);
  events.port(events.attached[0]).send_frame(reply);
  EXPECT_EQ(receive_message(io, vfkit.get()), reply);
}

TEST_F(VirtioUnixgram, QemuStyleFirstFrameAttachesWithoutGreeting) {
  UniqueFd qemu = guest("qemu.sock");
  const Bytes frame = make_frame(60, 4);
  ASSERT_TRUE(send_message(io, qemu.get(), frame, path));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 1; }));
  EXPECT_EQ(events.attached.size(), 1u);
  EXPECT_EQ(events.frames[0].bytes, frame);
}

TEST_F(VirtioUnixgram, TwoPeersAreTwoPortsAndRepliesGoToTheRightOne) {
  UniqueFd one = guest("one.sock"), two = guest("two.sock");
  ASSERT_TRUE(send_message(io, one.get(), make_frame(60, 1), path));
  ASSERT_TRUE(send_message(io, two.get(), make_frame(60, 2), path));
  ASSERT_TRUE(send_message(io, one.get(), make_frame(61, 1), path));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 3; }));
  ASSERT_EQ(events.attached.size(), 2u);
  EXPECT_EQ(events.frames[0].port, events.frames[2].port);
  EXPECT_NE(events.frames[0].port, events.frames[1].port);

  const PortId port_two = events.frames[1].port;
  const Bytes reply = make_frame(100, 7);
  events.port(port_two).send_frame(reply);
  EXPECT_EQ(receive_message(io, two.get()), reply);
  EXPECT_FALSE(receive_message(io, one.get(), 50ms)) << "peer one must not see peer two's frames";
}

TEST_F(VirtioUnixgram, UnnamedSenderIsDroppedAndCounted) {
  UniqueFd anonymous = client_socket(SOCK_DGRAM);
  ASSERT_TRUE(send_message(io, anonymous.get(), make_frame(60, 1), path));
  ASSERT_TRUE(run_until(io, [&] { return counters.drops.get(LinkDrop::unnamed_peer) == 1; }));
  EXPECT_TRUE(events.attached.empty());
  EXPECT_TRUE(events.frames.empty());
}

TEST_F(VirtioUnixgram, RuntsAndOversizedAreDroppedAndCounted) {
  UniqueFd qemu = guest("qemu.sock");
  ASSERT_TRUE(send_message(io, qemu.get(), make_frame(60, 1), path));  // attach
  ASSERT_TRUE(send_message(io, qemu.get(), Bytes(13, 1), path));
  ASSERT_TRUE(send_message(io, qemu.get(), make_frame(1515, 1), path));
  ASSERT_TRUE(send_message(io, qemu.get(), make_frame(9000, 1), path));
  ASSERT_TRUE(send_message(io, qemu.get(), make_frame(1514, 2), path));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 2; }));
  EXPECT_EQ(counters.drops.get(LinkDrop::runt), 1u);
  EXPECT_EQ(counters.drops.get(LinkDrop::oversized), 2u);
  EXPECT_EQ(events.frames[1].bytes, make_frame(1514, 2));
}

TEST_F(VirtioUnixgram, ManyFramesInABurstAllArriveInOrder) {
  UniqueFd qemu = guest("qemu.sock");
  constexpr int kFrames = 500;  // several receive batches and turns
  for (int i = 0; i < kFrames; ++i) {
    Bytes frame = make_frame(1514, 1);
    frame[20] = static_cast<std::uint8_t>(i);
    frame[21] = static_cast<std::uint8_t>(i >> 8);
    ASSERT_TRUE(send_message(io, qemu.get(), frame, path));
  }
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == kFrames; }));
  for (int i = 0; i < kFrames; ++i) {
    ASSERT_EQ(events.frames[i].bytes[20] | (events.frames[i].bytes[21] << 8), i);
  }
}

TEST_F(VirtioUnixgram, ManyRepliesInOneTurnAllArrive) {
  UniqueFd qemu = guest("qemu.sock");
  ASSERT_TRUE(send_message(io, qemu.get(), make_frame(60, 1), path));
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 1; }));
  GuestPort& port = events.port(events.attached[0]);
  constexpr int kFrames = 300;  // more than the peer's queue holds: exercises the would-block retry
  for (int i = 0; i < kFrames; ++i) {
    Bytes frame = make_frame(1000, 2);
    frame[20] = static_cast<std::uint8_t>(i);
    frame[21] = static_cast<std::uint8_t>(i >> 8);
    ASSERT_TRUE(port.send_frame(frame));
  }
  for (int i = 0; i < kFrames; ++i) {
    const auto got = receive_message(io, qemu.get());
    ASSERT_TRUE(got) << "frame " << i;
    ASSERT_EQ((*got)[20] | ((*got)[21] << 8), i);
  }
  EXPECT_EQ(counters.frames_out, static_cast<std::uint64_t>(kFrames));
}

TEST_F(VirtioUnixgram, QueueStorageGoesBackOnceTheBacklogHasDrained) {
  if (!app::heap_in_use()) GTEST_SKIP() << "this allocator does not say how much it has handed out";
  UniqueFd qemu = guest("qemu.sock");
  ASSERT_TRUE(send_message(io, qemu.get(), make_frame(60, 1), path));
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 1; }));
  expect_queue_storage_goes_back(io, events.port(events.attached[0]), counters, make_frame(1514, 2), 0,
                                 [&](std::size_t accepted) {
                                   for (std::size_t i = 0; i < accepted; ++i) {
                                     ASSERT_TRUE(receive_message(io, qemu.get())) << "frame " << i;
                                   }
                                 });
}

TEST_F(VirtioUnixgram, PeerSocketGoneDetachesThePort) {
  for (const bool unlink_file : {false, true}) {
    const std::string name = unlink_file ? "gone.sock" : "closed.sock";
    UniqueFd qemu = guest(name);
    ASSERT_TRUE(send_message(io, qemu.get(), make_frame(60, 1), path));
    ASSERT_TRUE(run_until(io, [&] { return events.live.size() == 1; }));
    const PortId id = events.live.begin()->first;
    qemu.reset();  // ECONNREFUSED while the file stays; ENOENT once it is removed
    if (unlink_file) ::unlink(dir.file(name).c_str());
    events.port(id).send_frame(make_frame(60, 2));
    ASSERT_TRUE(run_until(io, [&] { return events.live.empty(); })) << name;
    EXPECT_EQ(events.detached.back(), id);
  }
}

TEST_F(VirtioUnixgram, QueueBoundDropsWholeFramesAndCounts) {
  UniqueFd qemu = guest("qemu.sock");
  ASSERT_TRUE(send_message(io, qemu.get(), make_frame(60, 1), path));
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 1; }));
  GuestPort& port = events.port(events.attached[0]);
  const Bytes frame = make_frame(1514, 2);
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < kMaxPortQueueBytes / frame.size() + 10; ++i) accepted += port.send_frame(frame);
  EXPECT_EQ(accepted, kMaxPortQueueBytes / frame.size());
  EXPECT_EQ(counters.drops.get(LinkDrop::queue_full), 10u);
}

TEST_F(VirtioUnixgram, CloseDetachesPortsAndRemovesTheSocketFile) {
  UniqueFd qemu = guest("qemu.sock");
  ASSERT_TRUE(send_message(io, qemu.get(), make_frame(60, 1), path));
  ASSERT_TRUE(run_until(io, [&] { return events.live.size() == 1; }));
  ASSERT_EQ(::access(path.c_str(), F_OK), 0);
  listener->close();
  EXPECT_TRUE(events.live.empty());
  EXPECT_EQ(events.detached.size(), 1u);
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
  listener.reset();
  run_for(io, 10ms);  // deferred port destruction runs cleanly
}

}  // namespace
}  // namespace vznet::virtio
