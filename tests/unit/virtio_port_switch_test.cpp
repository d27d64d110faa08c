// Unit tests for PortSwitch: guest frames go to the stack only, MAC learning routes unicast to one port,
// broadcast/multicast/unknown go to every port, detach forgets MACs; with a FrameFilter, dropped frames go
// nowhere and teach nothing; with guest-to-guest on, frames are switched between ports; a FrameTap sees every
// frame that crosses a port. Fake ports, no sockets.
#include "virtio/port_switch.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "virtio_test_support.h"

namespace vznet::virtio {
namespace {

using base::MacAddress;

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

/// Admits what `verdict` says (forward by default) and records what it was shown.
struct FakeFilter : FrameFilter {
  Admission admit(PortId port, Frame frame) override {
    admitted.push_back({port, Bytes(frame.begin(), frame.end())});
    return verdict ? verdict(port, frame) : Admission::forward;
  }
  void to_guest(PortId port, Frame frame) override { delivered.push_back({port, Bytes(frame.begin(), frame.end())}); }
  void port_detached(PortId port) override { detached.push_back(port); }
  std::function<Admission(PortId, Frame)> verdict;
  std::vector<std::pair<PortId, Bytes>> admitted, delivered;
  std::vector<PortId> detached;
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
  sw.frame_received(b, frame_between(kGateway, kGuestB));  // teach B's MAC
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
  // The old port gets one liveness probe (a dead datagram peer is detached when it fails)...
  ASSERT_EQ(a.sent.size(), 1u);
  EXPECT_EQ(a.sent[0][12], 0x88);
  EXPECT_EQ(a.sent[0][13], 0xB5) << "IEEE local experimental EtherType: ignored by every guest";
  EXPECT_TRUE(std::equal(kGuestA.begin(), kGuestA.end(), a.sent[0].begin()));
  // ...at most once a second, however many frames the new port sends.
  sw.frame_received(b, frame_between(kGateway, kGuestA));
  EXPECT_EQ(a.sent.size(), 1u);
  a.sent.clear();
  sw.send_to_guests(frame_between(kGuestA, kGateway));
  EXPECT_TRUE(a.sent.empty());
  EXPECT_EQ(b.sent.size(), 1u);
}

TEST_F(VirtioPortSwitch, RuntsFromTheStackAreIgnored) {
  sw.send_to_guests(Bytes(10, 0xff));
  EXPECT_TRUE(a.sent.empty());
  EXPECT_TRUE(b.sent.empty());
}

struct VirtioPortSwitchFiltered : VirtioPortSwitch {
  FakeFilter filter;
  void SetUp() override {
    VirtioPortSwitch::SetUp();
    sw.set_filter(&filter);
  }
  /// A and B each send one frame to the stack (flooded too with guest-to-guest on and no stack MAC known yet),
  /// so the switch knows their MACs; then the records start afresh.
  void learn_both() {
    sw.frame_received(a, frame_between(kGateway, kGuestA));
    sw.frame_received(b, frame_between(kGateway, kGuestB));
    network.frames.clear();
    a.sent.clear();
    b.sent.clear();
    filter.delivered.clear();
  }
};

TEST_F(VirtioPortSwitchFiltered, DroppedFramesReachNobodyAndTeachNothing) {
  filter.verdict = [](PortId, Frame) { return Admission::drop; };
  sw.set_guest_to_guest(true);
  sw.frame_received(a, frame_between(kBroadcast, kGuestA));
  sw.frame_received(a, frame_between(kGateway, kGuestA));
  EXPECT_EQ(filter.admitted.size(), 2u);
  EXPECT_TRUE(network.frames.empty());
  EXPECT_TRUE(b.sent.empty());
  const Bytes to_a = frame_between(kGuestA, kGateway);
  sw.send_to_guests(to_a);
  EXPECT_EQ(b.sent, std::vector<Bytes>{to_a}) << "A's MAC was not learned: flooded";
}

struct RecordingTap : FrameTap {
  struct Seen {
    PortId port;
    Direction direction;
    Bytes frame;
  };
  void frame(PortId port, Direction direction, Frame frame) override {
    seen.push_back({port, direction, Bytes(frame.begin(), frame.end())});
  }
  std::vector<Seen> seen;
};

TEST_F(VirtioPortSwitchFiltered, TheTapSeesEveryFrameThatCrossesAPortDroppedOrNot) {
  RecordingTap tap;
  sw.set_tap(&tap);
  filter.verdict = [](PortId port, Frame) { return port == 2 ? Admission::drop : Admission::forward; };
  const Bytes from_a = frame_between(kGateway, kGuestA);
  const Bytes from_b = frame_between(kGateway, kGuestB);
  sw.frame_received(a, from_a);
  sw.frame_received(b, from_b);  // dropped by the filter, still captured
  const Bytes broadcast = frame_between(kBroadcast, kGateway);
  sw.send_to_guests(broadcast);
  const Bytes to_a = frame_between(kGuestA, kGateway);
  sw.send_to_guests(to_a);
  ASSERT_EQ(tap.seen.size(), 5u);
  using D = FrameTap::Direction;
  EXPECT_EQ(tap.seen[0].port, 1u);
  EXPECT_EQ(tap.seen[0].direction, D::from_guest);
  EXPECT_EQ(tap.seen[0].frame, from_a);
  EXPECT_EQ(tap.seen[1].port, 2u);
  EXPECT_EQ(tap.seen[1].frame, from_b);
  EXPECT_EQ(tap.seen[2].direction, D::to_guest);  // the broadcast, once per port
  EXPECT_EQ(tap.seen[3].direction, D::to_guest);
  EXPECT_EQ(tap.seen[2].frame, broadcast);
  EXPECT_NE(tap.seen[2].port, tap.seen[3].port);
  EXPECT_EQ(tap.seen[4].port, 1u);
  EXPECT_EQ(tap.seen[4].frame, to_a);
  sw.set_tap(nullptr);
  sw.send_to_guests(to_a);
  EXPECT_EQ(tap.seen.size(), 5u);
}

TEST_F(VirtioPortSwitchFiltered, WithoutGuestToGuestAFrameForAnotherGuestReachesOnlyTheStack) {
  learn_both();
  const Bytes to_b = frame_between(kGuestB, kGuestA);
  sw.frame_received(a, to_b);
  sw.frame_received(a, frame_between(kBroadcast, kGuestA));
  ASSERT_EQ(network.frames.size(), 2u);
  EXPECT_EQ(network.frames[0].second, to_b);
  EXPECT_TRUE(b.sent.empty());
  EXPECT_TRUE(filter.delivered.empty());
}

TEST_F(VirtioPortSwitchFiltered, GuestToGuestUnicastReachesTheOwnerOnly) {
  sw.set_guest_to_guest(true);
  learn_both();
  const Bytes to_b = frame_between(kGuestB, kGuestA);
  sw.frame_received(a, to_b);
  EXPECT_EQ(b.sent, std::vector<Bytes>{to_b});
  EXPECT_TRUE(a.sent.empty());
  EXPECT_TRUE(network.frames.empty()) << "not to the stack";
  ASSERT_EQ(filter.delivered.size(), 1u);
  EXPECT_EQ(filter.delivered[0].first, 2u) << "guest-to-guest deliveries pass to_guest too";
}

TEST_F(VirtioPortSwitchFiltered, GuestToGuestGroupAndUnknownReachTheStackAndTheOthersNotTheSender) {
  sw.set_guest_to_guest(true);
  FakePort c{3};
  sw.port_attached(c);
  learn_both();
  const MacAddress unknown{0x02, 0, 0, 0, 0, 0x77};
  for (const MacAddress& destination : {kBroadcast, kMulticast, unknown}) {
    network.frames.clear();
    a.sent.clear();
    b.sent.clear();
    c.sent.clear();
    const Bytes frame = frame_between(destination, kGuestA);
    sw.frame_received(a, frame);
    ASSERT_EQ(network.frames.size(), 1u);
    EXPECT_EQ(network.frames[0].second, frame);
    EXPECT_TRUE(a.sent.empty());
    EXPECT_EQ(b.sent, std::vector<Bytes>{frame});
    EXPECT_EQ(c.sent, std::vector<Bytes>{frame});
  }
}

TEST_F(VirtioPortSwitchFiltered, GuestToGuestFramesForTheStackOrTheSenderReachOnlyTheStack) {
  sw.set_guest_to_guest(true);
  sw.set_stack_mac(kGateway);
  learn_both();
  sw.frame_received(a, frame_between(kGateway, kGuestA));
  sw.frame_received(a, frame_between(kGuestA, kGuestA));
  EXPECT_EQ(network.frames.size(), 2u);
  EXPECT_TRUE(a.sent.empty());
  EXPECT_TRUE(b.sent.empty());
}

TEST_F(VirtioPortSwitchFiltered, TheStackMacIsLearnedFromTheStacksFramesAndNeverFromAGuest) {
  sw.set_guest_to_guest(true);
  sw.send_to_guests(frame_between(kBroadcast, kGateway));  // no set_stack_mac: taken from here
  a.sent.clear();
  b.sent.clear();
  sw.frame_received(a, frame_between(kBroadcast, kGateway));  // A claims the gateway's MAC (no real filter here)
  sw.frame_received(b, frame_between(kGateway, kGuestB));
  EXPECT_EQ(network.frames.back().second, frame_between(kGateway, kGuestB));
  EXPECT_TRUE(a.sent.empty()) << "B's frame for the stack is not drawn to A";
}

TEST_F(VirtioPortSwitchFiltered, StackOnlyFramesAreNotSwitched) {
  sw.set_guest_to_guest(true);
  learn_both();
  filter.verdict = [](PortId, Frame) { return Admission::stack_only; };
  sw.frame_received(a, frame_between(kBroadcast, kGuestA));
  sw.frame_received(a, frame_between(kGuestB, kGuestA));
  EXPECT_EQ(network.frames.size(), 2u);
  EXPECT_TRUE(b.sent.empty());
}

TEST_F(VirtioPortSwitchFiltered, StackDeliveriesPassToGuest) {
  learn_both();
  const Bytes to_b = frame_between(kGuestB, kGateway);
  const Bytes broadcast = frame_between(kBroadcast, kGateway);
  sw.send_to_guests(to_b);
  sw.send_to_guests(broadcast);
  ASSERT_EQ(filter.delivered.size(), 3u);
  EXPECT_EQ(filter.delivered[0], (std::pair<PortId, Bytes>{2, to_b}));
  EXPECT_EQ(filter.delivered[1].second, broadcast);
  EXPECT_EQ(filter.delivered[2].second, broadcast);
  EXPECT_EQ(b.sent, (std::vector<Bytes>{to_b, broadcast}));
}

TEST_F(VirtioPortSwitchFiltered, DetachTellsTheFilter) {
  sw.port_detached(a);
  sw.port_detached(a);  // twice: reported once
  EXPECT_EQ(filter.detached, std::vector<PortId>{1});
}

TEST_F(VirtioPortSwitch, GuestToGuestWithoutAFilterSwitchesEverything) {
  sw.set_guest_to_guest(true);
  sw.frame_received(b, frame_between(kGateway, kGuestB));
  const Bytes to_b = frame_between(kGuestB, kGuestA);
  sw.frame_received(a, to_b);
  EXPECT_EQ(b.sent, std::vector<Bytes>{to_b});
  EXPECT_EQ(network.frames.size(), 1u);
}

}  // namespace
}  // namespace vznet::virtio
