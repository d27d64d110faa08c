// Unit tests for PortSwitch: guest frames go to the stack only, MAC learning routes unicast to one port,
// broadcast/multicast/unknown go to every port, detach forgets MACs. Fake ports, no sockets.
#include "virtio/port_switch.h"

#include <gtest/gtest.h>

#include <vector>

#include "virtio_test_support.h"

namespace vznet::virtio {
namespace {

using testing::Bytes;

struct FakePort : GuestPort {
  explicit FakePort(PortId port_id) : id_(port_id), name_("fake#" + std::to_string(port_id)) {}
  bool send_frame(Frame frame) override {
    sent.emplace_back(frame.begin(), frame.end());
    return true;
  }
  PortId id() const override { return id_; }
  const std::string& name() const override { return name_; }
  PortId id_;
  std::string name_;
  std::vector<Bytes> sent;
};

struct FakeNetwork : GuestNetwork {
  void guest_attached(PortId port) override { attached.push_back(port); }
  void guest_frame(PortId port, Frame frame) override { frames.push_back({port, Bytes(frame.begin(), frame.end())}); }
  void guest_detached(PortId port) override { detached.push_back(port); }
  std::vector<PortId> attached, detached;
  std::vector<std::pair<PortId, Bytes>> frames;
};

Bytes frame_between(const MacAddress& destination, const MacAddress& source) {
  Bytes frame(60, 0);
  std::copy(destination.begin(), destination.end(), frame.begin());
  std::copy(source.begin(), source.end(), frame.begin() + 6);
  frame[12] = 0x08;  // IPv4
  return frame;
}

constexpr MacAddress kGateway{0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd};
constexpr MacAddress kGuestA{0x02, 0, 0, 0, 0, 0x0a};
constexpr MacAddress kGuestB{0x02, 0, 0, 0, 0, 0x0b};
constexpr MacAddress kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr MacAddress kMulticast{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};

struct VirtioPortSwitch : ::testing::Test {
  FakeNetwork network;
  PortSwitch sw{network};
  FakePort a{1}, b{2};
  void SetUp() override {
    sw.port_attached(a);
    sw.port_attached(b);
  }
};

TEST_F(VirtioPortSwitch, AttachAndDetachReachTheNetwork) {
  EXPECT_EQ(network.attached, (std::vector<PortId>{1, 2}));
  EXPECT_EQ(sw.port_count(), 2u);
  sw.port_detached(a);
  EXPECT_EQ(network.detached, std::vector<PortId>{1});
  EXPECT_EQ(sw.port_count(), 1u);
}

TEST_F(VirtioPortSwitch, GuestFramesGoToTheStackOnlyNeverToAnotherGuest) {
  sw.frame_received(b, frame_between(kGuestB, kGuestA));  // teach B's MAC
  const Bytes to_b = frame_between(kGuestB, kGuestA);
  sw.frame_received(a, to_b);
  sw.frame_received(a, frame_between(kBroadcast, kGuestA));
  ASSERT_EQ(network.frames.size(), 3u);
  EXPECT_EQ(network.frames[1].first, 1u);
  EXPECT_EQ(network.frames[1].second, to_b);
  EXPECT_TRUE(a.sent.empty());
  EXPECT_TRUE(b.sent.empty());
}

TEST_F(VirtioPortSwitch, LearnedUnicastGoesToItsPortOnly) {
  sw.frame_received(a, frame_between(kGateway, kGuestA));
  sw.frame_received(b, frame_between(kGateway, kGuestB));
  const Bytes reply = frame_between(kGuestB, kGateway);
  sw.send_to_guests(reply);
  EXPECT_TRUE(a.sent.empty());
  EXPECT_EQ(b.sent, std::vector<Bytes>{reply});
}

TEST_F(VirtioPortSwitch, BroadcastMulticastAndUnknownReachEveryPort) {
  sw.frame_received(a, frame_between(kGateway, kGuestA));
  for (const MacAddress& destination : {kBroadcast, kMulticast, kGuestB}) {
    a.sent.clear();
    b.sent.clear();
    const Bytes frame = frame_between(destination, kGateway);
    sw.send_to_guests(frame);
    EXPECT_EQ(a.sent, std::vector<Bytes>{frame});
    EXPECT_EQ(b.sent, std::vector<Bytes>{frame});
  }
}

TEST_F(VirtioPortSwitch, GroupSourceAddressesAreNotLearned) {
  sw.frame_received(a, frame_between(kGateway, kMulticast));
  const Bytes frame = frame_between(kMulticast, kGateway);
  sw.send_to_guests(frame);
  EXPECT_EQ(b.sent.size(), 1u);
}

TEST_F(VirtioPortSwitch, DetachForgetsThePortsMacs) {
  sw.frame_received(a, frame_between(kGateway, kGuestA));
  sw.port_detached(a);
  const Bytes to_a = frame_between(kGuestA, kGateway);
  sw.send_to_guests(to_a);
  EXPECT_TRUE(a.sent.empty());
  EXPECT_EQ(b.sent, std::vector<Bytes>{to_a}) << "now unknown: flooded to the remaining ports";
}

TEST_F(VirtioPortSwitch, MacThatMovesFollowsTheNewPort) {
  sw.frame_received(a, frame_between(kGateway, kGuestA));
  sw.frame_received(b, frame_between(kGateway, kGuestA));
  sw.send_to_guests(frame_between(kGuestA, kGateway));
  EXPECT_TRUE(a.sent.empty());
  EXPECT_EQ(b.sent.size(), 1u);
}

TEST_F(VirtioPortSwitch, RuntsFromTheStackAreIgnored) {
  sw.send_to_guests(Bytes(10, 0xff));
  EXPECT_TRUE(a.sent.empty());
  EXPECT_TRUE(b.sent.empty());
}

}  // namespace
}  // namespace vznet::virtio
