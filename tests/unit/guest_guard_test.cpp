// Unit tests for GuestGuard: MAC learning from the first frame, DHCP snooping (ACK by chaddr, NAK, RELEASE),
// static reservations, what passes before and after a lease (--dhcp-only), bind on first use (the default: a
// static guest's address, granted by a fake pool), ARP and DHCP server spoofing, IPv6 passing uncounted, detach;
// and the guard behind a real PortSwitch with guest-to-guest traffic on. Frames built by hand.
#include "stack/guest_guard.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "stack/dhcp_message.h"
#include "tests/stack/frames.h"

namespace vznet::stack {
namespace {

using base::MacAddress;
using test::Bytes;
using test::put16;
using test::put32;
using virtio::Admission;
using virtio::PortId;

constexpr MacAddress kMacA{0x02, 0, 0, 0, 0, 0x0a};
constexpr MacAddress kMacB{0x02, 0, 0, 0, 0, 0x0b};
constexpr MacAddress kMacC{0x02, 0, 0, 0, 0, 0x0c};
constexpr MacAddress kMacStatic{0x02, 0, 0, 0, 0, 0x5e};
constexpr MacAddress kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr MacAddress kMulticastMac{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
const MacAddress kGatewayMac = GuardConfig{}.gateway_mac;
constexpr Ipv4Address kGateway{192, 168, 64, 1};
constexpr Ipv4Address kIpA{192, 168, 64, 10};
constexpr Ipv4Address kIpB{192, 168, 64, 11};
constexpr Ipv4Address kIpStatic{192, 168, 64, 50};
constexpr Ipv4Address kAny{};
constexpr Ipv4Address kAllOnes{255, 255, 255, 255};
constexpr Ipv4Address kInternet{203, 0, 113, 7};

constexpr std::uint16_t kIpv4 = 0x0800;
constexpr std::uint16_t kArp = 0x0806;
constexpr std::uint16_t kIpv6 = 0x86dd;

Bytes ipv4_frame(const MacAddress& dst_mac, const MacAddress& src_mac, Ipv4Address src, Ipv4Address dst,
                 std::uint8_t protocol, const Bytes& l4) {
  Bytes ip(20);
  ip[0] = 0x45;
  put16(ip, 2, static_cast<std::uint16_t>(20 + l4.size()));
  ip[8] = 64;
  ip[9] = protocol;
  put32(ip, 12, src.value);
  put32(ip, 16, dst.value);
  put16(ip, 10, test::checksum(ip));
  ip.insert(ip.end(), l4.begin(), l4.end());
  return test::ethernet(dst_mac, src_mac, kIpv4, ip);
}

Bytes udp_frame(const MacAddress& dst_mac, const MacAddress& src_mac, Ipv4Endpoint src, Ipv4Endpoint dst,
                const Bytes& data) {
  Bytes udp(8);
  put16(udp, 0, src.port);
  put16(udp, 2, dst.port);
  put16(udp, 4, static_cast<std::uint16_t>(8 + data.size()));
  udp.insert(udp.end(), data.begin(), data.end());
  return ipv4_frame(dst_mac, src_mac, src.address, dst.address, 17, udp);
}

Bytes ping(const MacAddress& src_mac, Ipv4Address src, const MacAddress& dst_mac = kGatewayMac,
           Ipv4Address dst = kGateway) {
  return ipv4_frame(dst_mac, src_mac, src, dst, 1, Bytes{8, 0, 0, 0, 0, 1, 0, 1});
}

/// An ARP frame from `src_mac` whose sender fields are `sha`/`spa`.
Bytes arp_frame(const MacAddress& src_mac, std::uint16_t op, const MacAddress& sha, Ipv4Address spa, Ipv4Address tpa) {
  Bytes a(28);
  put16(a, 0, 1);
  put16(a, 2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  put16(a, 6, op);
  std::copy(sha.begin(), sha.end(), a.begin() + 8);
  put32(a, 14, spa.value);
  put32(a, 24, tpa.value);
  return test::ethernet(op == 1 ? kBroadcastMac : kGatewayMac, src_mac, kArp, a);
}

Bytes ipv6_frame(const MacAddress& src_mac) {
  return test::ethernet(MacAddress{0x33, 0x33, 0, 0, 0, 0x16}, src_mac, kIpv6, Bytes(48, 0));
}

dhcp::Message header_for(const MacAddress& chaddr, dhcp::MessageType type) {
  dhcp::Message m;
  m.xid = 0x1234;
  m.type = type;
  std::copy(chaddr.begin(), chaddr.end(), m.chaddr.begin());
  return m;
}

/// A client message from a guest with MAC `mac` (chaddr `chaddr`), 68 -> 67.
Bytes dhcp_client(const MacAddress& mac, dhcp::MessageType type, Ipv4Address src = kAny, Ipv4Address dst = kAllOnes,
                  const MacAddress* chaddr = nullptr) {
  const Bytes payload = dhcp::build_request(header_for(chaddr ? *chaddr : mac, type), {});
  return udp_frame(dst == kAllOnes ? kBroadcastMac : kGatewayMac, mac, {src, 68}, {dst, 67}, payload);
}

/// A client message from `mac` with `ciaddr` and `options` (RELEASE, DECLINE and INFORM name an address).
Bytes dhcp_naming(const MacAddress& mac, dhcp::MessageType type, Ipv4Address ciaddr,
                  const std::vector<dhcp::ReplyOption>& options, Ipv4Address src = kAny, Ipv4Address dst = kGateway,
                  const MacAddress* chaddr = nullptr) {
  dhcp::Message m = header_for(chaddr ? *chaddr : mac, type);
  m.ciaddr = ciaddr;
  return udp_frame(dst == kAllOnes ? kBroadcastMac : kGatewayMac, mac, {src, 68}, {dst, 67},
                   dhcp::build_request(m, options));
}

dhcp::ReplyOption requested(Ipv4Address a) { return {dhcp::option::requested_address, dhcp::address(a)}; }

/// A server message (OFFER/ACK/NAK) for `chaddr`, sent by `src_mac`/`src` (the gateway unless told), 67 -> 68.
Bytes dhcp_server(dhcp::MessageType type, const MacAddress& chaddr, Ipv4Address yiaddr,
                  const MacAddress& src_mac = kGatewayMac, Ipv4Address src = kGateway) {
  const Bytes payload = dhcp::build_reply(header_for(chaddr, dhcp::MessageType::request), {type, yiaddr, {}, {}}, 548);
  return udp_frame(kBroadcastMac, src_mac, {src, 67}, {kAllOnes, 68}, payload);
}

/// The tests up to BehindASwitchWithGuestToGuestTraffic run in the strict mode (--dhcp-only): an address comes
/// from DHCP or a reservation only. GuestGuardBindOnFirstUse below runs the default.
struct GuestGuardTest : ::testing::Test {
  GuardConfig config = [] {
    GuardConfig c;
    c.statics.push_back({kMacStatic, kIpStatic});
    c.bind_on_first_use = false;
    return c;
  }();
  GuestGuard guard{config};

  Admission from(PortId port, const Bytes& frame) { return guard.admit(port, frame); }
  std::uint64_t dropped(GuardDrop reason) const { return guard.counters().drops.get(reason); }
  std::uint64_t total_drops() const {
    std::uint64_t n = 0;
    for (std::uint64_t d : guard.counters().drops) n += d;
    return n;
  }
  /// The port learns `mac` from a DISCOVER, then the gateway's ACK for `ip` is delivered to it.
  void lease(PortId port, const MacAddress& mac, Ipv4Address ip) {
    ASSERT_EQ(from(port, dhcp_client(mac, dhcp::MessageType::discover)), Admission::stack_only);
    guard.to_guest(port, dhcp_server(dhcp::MessageType::ack, mac, ip));
  }
  std::optional<GuardedPort> port(PortId id) const {
    for (const GuardedPort& p : guard.ports()) {
      if (p.port == id) return p;
    }
    return std::nullopt;
  }
};

TEST_F(GuestGuardTest, FirstFrameTeachesThePortItsMac) {
  EXPECT_EQ(from(1, ipv6_frame(kMacA)), Admission::stack_only);
  ASSERT_TRUE(port(1));
  EXPECT_EQ(port(1)->mac, kMacA);
  EXPECT_FALSE(port(1)->address());
  EXPECT_EQ(total_drops(), 0u);
}

TEST_F(GuestGuardTest, AnotherSourceMacIsDropped) {
  from(1, ipv6_frame(kMacA));
  EXPECT_EQ(from(1, ipv6_frame(kMacB)), Admission::drop);
  EXPECT_EQ(from(1, dhcp_client(kMacB, dhcp::MessageType::discover)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::foreign_mac), 2u);
  EXPECT_EQ(port(1)->mac, kMacA);
}

TEST_F(GuestGuardTest, GroupSourceMacIsDroppedAndNotLearned) {
  EXPECT_EQ(from(1, ipv6_frame(kMulticastMac)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::foreign_mac), 1u);
  EXPECT_FALSE(port(1)->mac);
}

TEST_F(GuestGuardTest, TwoPortsCannotShareAMacNorUseTheGateways) {
  from(1, ipv6_frame(kMacA));
  EXPECT_EQ(from(2, ipv6_frame(kMacA)), Admission::drop);
  EXPECT_EQ(from(2, ipv6_frame(kGatewayMac)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::mac_taken), 2u);
  EXPECT_FALSE(port(2)->mac);
  EXPECT_EQ(from(2, ipv6_frame(kMacB)), Admission::stack_only);
  EXPECT_EQ(port(2)->mac, kMacB);
}

TEST_F(GuestGuardTest, ADroppedFirstFrameTeachesNothing) {
  EXPECT_EQ(from(1, dhcp_server(dhcp::MessageType::offer, kMacB, kIpB, kMacA, kAny)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::dhcp_server_spoof), 1u);
  EXPECT_FALSE(port(1)->mac);
  EXPECT_EQ(from(2, ipv6_frame(kMacA)), Admission::stack_only) << "the MAC is still free";
}

TEST_F(GuestGuardTest, BeforeALeaseOnlyDhcpAndArpProbesPass) {
  EXPECT_EQ(from(1, dhcp_client(kMacA, dhcp::MessageType::discover)), Admission::stack_only);
  EXPECT_EQ(from(1, dhcp_client(kMacA, dhcp::MessageType::request)), Admission::stack_only);
  EXPECT_EQ(from(1, dhcp_client(kMacA, dhcp::MessageType::request, kAny, kGateway)), Admission::stack_only);
  EXPECT_EQ(from(1, arp_frame(kMacA, 1, kMacA, kAny, kIpA)), Admission::forward) << "RFC 5227 probe";
  EXPECT_EQ(total_drops(), 0u);

  EXPECT_EQ(from(1, ping(kMacA, kAny)), Admission::drop);
  EXPECT_EQ(from(1, ping(kMacA, kIpA)), Admission::drop);
  EXPECT_EQ(from(1, udp_frame(kGatewayMac, kMacA, {kIpA, 5000}, {kInternet, 53}, Bytes{1})), Admission::drop);
  EXPECT_EQ(from(1, dhcp_client(kMacA, dhcp::MessageType::discover, kAny, kInternet)), Admission::drop)
      << "68 -> 67 elsewhere than the broadcast or gateway address is not DHCP with the server";
  EXPECT_EQ(dropped(GuardDrop::no_lease), 4u);

  EXPECT_EQ(from(1, arp_frame(kMacA, 1, kMacA, kIpA, kIpA)), Admission::drop) << "announcement, no lease";
  EXPECT_EQ(from(1, arp_frame(kMacA, 2, kMacA, kAny, kGateway)), Admission::drop) << "a reply is not a probe";
  EXPECT_EQ(dropped(GuardDrop::no_lease), 6u);
  EXPECT_EQ(from(1, arp_frame(kMacA, 1, kMacB, kAny, kIpA)), Admission::drop) << "another sender MAC";
  EXPECT_EQ(dropped(GuardDrop::arp_spoof), 1u);

  EXPECT_EQ(from(1, dhcp_client(kMacA, dhcp::MessageType::request, kIpB)), Admission::stack_only)
      << "a renewal of an address held before vznet restarted: only the DHCP server sees it, and decides";
  EXPECT_EQ(dropped(GuardDrop::ip_spoof), 0u);
  EXPECT_EQ(from(1, dhcp_client(kMacA, dhcp::MessageType::discover, kAny, kAllOnes, &kMacB)), Admission::drop)
      << "DHCP for another client's hardware address";
  EXPECT_EQ(dropped(GuardDrop::foreign_mac), 1u);
}

TEST_F(GuestGuardTest, AckSnoopingGivesTheAddressToThePortWhoseMacIsChaddr) {
  from(1, dhcp_client(kMacA, dhcp::MessageType::discover));
  from(2, dhcp_client(kMacB, dhcp::MessageType::discover));
  const Bytes ack = dhcp_server(dhcp::MessageType::ack, kMacB, kIpB);
  guard.to_guest(1, ack);  // a broadcast ACK reaches every port
  guard.to_guest(2, ack);
  EXPECT_FALSE(port(1)->address());
  EXPECT_EQ(port(2)->leased, kIpB);

  EXPECT_EQ(from(2, ping(kMacB, kIpB)), Admission::forward);
  EXPECT_EQ(from(2, arp_frame(kMacB, 1, kMacB, kIpB, kGateway)), Admission::forward);
  EXPECT_EQ(from(2, ping(kMacB, kIpA)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::ip_spoof), 1u);
  EXPECT_EQ(from(1, ping(kMacA, kIpB)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::no_lease), 1u);
}

TEST_F(GuestGuardTest, OfferAndInformAckAssignNothing) {
  from(1, dhcp_client(kMacA, dhcp::MessageType::discover));
  guard.to_guest(1, dhcp_server(dhcp::MessageType::offer, kMacA, kIpA));
  guard.to_guest(1, dhcp_server(dhcp::MessageType::ack, kMacA, kAny));
  guard.to_guest(1, dhcp_server(dhcp::MessageType::ack, kMacA, kInternet));  // outside the subnet
  EXPECT_FALSE(port(1)->address());
}

TEST_F(GuestGuardTest, OnlyTheGatewaysAcksAreBelieved) {
  from(1, dhcp_client(kMacA, dhcp::MessageType::discover));
  guard.to_guest(1, dhcp_server(dhcp::MessageType::ack, kMacA, kIpA, kMacB, kGateway));
  guard.to_guest(1, dhcp_server(dhcp::MessageType::ack, kMacA, kIpA, kGatewayMac, kIpB));
  EXPECT_FALSE(port(1)->address());
  guard.to_guest(1, dhcp_server(dhcp::MessageType::ack, kMacA, kIpA));
  EXPECT_EQ(port(1)->leased, kIpA);
}

TEST_F(GuestGuardTest, AnAckMovingAnAddressTakesItFromTheOtherPort) {
  lease(1, kMacA, kIpA);
  lease(2, kMacB, kIpA);
  EXPECT_FALSE(port(1)->address());
  EXPECT_EQ(port(2)->leased, kIpA);
  EXPECT_EQ(from(1, ping(kMacA, kIpA)), Admission::drop);
  EXPECT_EQ(from(2, ping(kMacB, kIpA)), Admission::forward);
}

TEST_F(GuestGuardTest, ARenewalAckReplacesTheAddress) {
  lease(1, kMacA, kIpA);
  EXPECT_EQ(from(1, dhcp_client(kMacA, dhcp::MessageType::request, kIpA, kGateway)), Admission::stack_only);
  guard.to_guest(1, dhcp_server(dhcp::MessageType::ack, kMacA, kIpB));
  EXPECT_EQ(port(1)->leased, kIpB);
  EXPECT_EQ(from(1, ping(kMacA, kIpA)), Admission::drop);
}

TEST_F(GuestGuardTest, ReleaseDeclineAndNakClearTheLease) {
  lease(1, kMacA, kIpA);
  EXPECT_EQ(from(1, dhcp_naming(kMacA, dhcp::MessageType::release, kIpA, {}, kIpA)), Admission::stack_only);
  EXPECT_FALSE(port(1)->address());
  EXPECT_EQ(from(1, ping(kMacA, kIpA)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::no_lease), 1u);

  guard.to_guest(1, dhcp_server(dhcp::MessageType::ack, kMacA, kIpA));
  EXPECT_EQ(from(1, dhcp_naming(kMacA, dhcp::MessageType::decline, kAny, {requested(kIpA)}, kAny, kAllOnes)),
            Admission::stack_only);
  EXPECT_FALSE(port(1)->address());

  guard.to_guest(1, dhcp_server(dhcp::MessageType::ack, kMacA, kIpA));
  guard.to_guest(1, dhcp_server(dhcp::MessageType::nak, kMacA, kAny));
  EXPECT_FALSE(port(1)->address());
}

// Issue 12: a RELEASE, DECLINE or INFORM naming another port's address (or none the port holds) reaches nobody,
// and the sender keeps its own lease: it gave up nothing of its own.
TEST_F(GuestGuardTest, ReleaseDeclineAndInformOfAnAddressThePortDoesNotHoldAreDropped) {
  lease(1, kMacA, kIpA);
  lease(2, kMacB, kIpB);
  using enum dhcp::MessageType;
  EXPECT_EQ(from(2, dhcp_naming(kMacB, release, kIpA, {}, kAny)), Admission::drop) << "from 0.0.0.0";
  EXPECT_EQ(from(2, dhcp_naming(kMacB, release, kIpA, {}, kIpB)), Admission::drop) << "from its own address";
  EXPECT_EQ(from(2, dhcp_naming(kMacB, release, kAny, {}, kIpB)), Admission::drop) << "naming no address";
  EXPECT_EQ(from(2, dhcp_naming(kMacB, decline, kAny, {requested(kIpA)}, kAny, kAllOnes)), Admission::drop);
  EXPECT_EQ(from(2, dhcp_naming(kMacB, decline, kAny, {}, kAny, kAllOnes)), Admission::drop) << "no option 50";
  EXPECT_EQ(from(2, dhcp_naming(kMacB, inform, kIpA, {}, kIpB)), Admission::drop);
  EXPECT_EQ(from(2, dhcp_naming(kMacB, inform, kIpA, {}, kAny, kAllOnes)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::dhcp_not_holder), 7u);
  EXPECT_EQ(total_drops(), 7u);
  EXPECT_EQ(port(1)->leased, kIpA);
  EXPECT_EQ(port(2)->leased, kIpB) << "a refused RELEASE gives up nothing";
  EXPECT_EQ(from(1, ping(kMacA, kIpA)), Admission::forward);

  EXPECT_EQ(from(3, dhcp_client(kMacStatic, discover)), Admission::stack_only);
  EXPECT_EQ(from(4, dhcp_naming(MacAddress{0x02, 0, 0, 0, 0, 0x0c}, release, kIpA, {}, kAny)), Admission::drop)
      << "a port without a lease holds nothing to release";
  EXPECT_EQ(from(3, dhcp_naming(kMacStatic, inform, kIpStatic, {}, kIpStatic)), Admission::stack_only)
      << "its reservation";
  EXPECT_EQ(from(2, dhcp_naming(kMacB, inform, kIpB, {}, kIpB)), Admission::stack_only) << "its own address";
  EXPECT_EQ(from(2, dhcp_naming(kMacB, release, kIpB, {}, kIpB)), Admission::stack_only);
  EXPECT_FALSE(port(2)->address());
  EXPECT_EQ(dropped(GuardDrop::dhcp_not_holder), 8u);
}

TEST_F(GuestGuardTest, AnotherPortsChaddrIsForeignMacWhateverTheMessage) {
  lease(1, kMacA, kIpA);
  lease(2, kMacB, kIpB);
  using enum dhcp::MessageType;
  for (dhcp::MessageType type : {discover, request, release, decline, inform}) {
    EXPECT_EQ(from(2, dhcp_naming(kMacB, type, kIpA, {requested(kIpA)}, kAny, kAllOnes, &kMacA)), Admission::drop)
        << dhcp::to_string(type);
  }
  EXPECT_EQ(dropped(GuardDrop::foreign_mac), 5u);
  EXPECT_EQ(port(1)->leased, kIpA);
  EXPECT_EQ(port(2)->leased, kIpB);
}

TEST_F(GuestGuardTest, AReleaseFromAnotherAddressIsSpoofAndKeepsTheLease) {
  lease(1, kMacA, kIpA);
  EXPECT_EQ(from(1, dhcp_client(kMacA, dhcp::MessageType::release, kIpB, kGateway)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::ip_spoof), 1u);
  EXPECT_EQ(port(1)->leased, kIpA);
}

TEST_F(GuestGuardTest, AStaticReservationAllowsItsAddressWithoutDhcp) {
  EXPECT_EQ(from(3, ping(kMacStatic, kIpStatic)), Admission::forward);
  EXPECT_EQ(from(3, arp_frame(kMacStatic, 2, kMacStatic, kIpStatic, kGateway)), Admission::forward);
  EXPECT_EQ(port(3)->reserved, kIpStatic);
  EXPECT_EQ(port(3)->address(), kIpStatic);
  EXPECT_EQ(from(3, ping(kMacStatic, kIpA)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::ip_spoof), 1u);
  EXPECT_EQ(from(1, ping(kMacA, kIpStatic)), Admission::drop) << "the reservation is the MAC's only";

  EXPECT_EQ(from(3, dhcp_naming(kMacStatic, dhcp::MessageType::release, kIpStatic, {}, kIpStatic)),
            Admission::stack_only);
  EXPECT_EQ(from(3, ping(kMacStatic, kIpStatic)), Admission::forward) << "a reservation is not released";
}

TEST_F(GuestGuardTest, ArpClaimingAnotherGuestsAddressIsDropped) {
  lease(1, kMacA, kIpA);
  lease(2, kMacB, kIpB);
  EXPECT_EQ(from(1, arp_frame(kMacA, 2, kMacA, kIpB, kGateway)), Admission::drop) << "reply for B's address";
  EXPECT_EQ(from(1, arp_frame(kMacA, 1, kMacA, kIpB, kGateway)), Admission::drop) << "request from B's address";
  EXPECT_EQ(from(1, arp_frame(kMacA, 2, kMacB, kIpA, kGateway)), Admission::drop) << "sender MAC not A's";
  EXPECT_EQ(from(1, arp_frame(kMacA, 2, kMacA, kGateway, kIpB)), Admission::drop) << "claims the gateway";
  EXPECT_EQ(dropped(GuardDrop::arp_spoof), 4u);
  EXPECT_EQ(from(1, arp_frame(kMacA, 2, kMacA, kIpA, kIpB)), Admission::forward);
}

TEST_F(GuestGuardTest, GratuitousArpOnlyForTheOwnAddress) {
  lease(1, kMacA, kIpA);
  EXPECT_EQ(from(1, arp_frame(kMacA, 1, kMacA, kIpA, kIpA)), Admission::forward);
  EXPECT_EQ(from(1, arp_frame(kMacA, 2, kMacA, kIpA, kIpA)), Admission::forward);
  EXPECT_EQ(from(1, arp_frame(kMacA, 1, kMacA, kIpB, kIpB)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::arp_spoof), 1u);
}

TEST_F(GuestGuardTest, DhcpServerMessagesFromAGuestAreDropped) {
  lease(1, kMacA, kIpA);
  EXPECT_EQ(from(1, dhcp_server(dhcp::MessageType::offer, kMacB, kIpB, kMacA, kIpA)), Admission::drop);
  EXPECT_EQ(from(1, dhcp_server(dhcp::MessageType::ack, kMacB, kIpB, kMacA, kIpA)), Admission::drop);
  const Bytes reply =
      dhcp::build_reply(header_for(kMacB, dhcp::MessageType::request), {dhcp::MessageType::ack, kIpB, {}, {}}, 548);
  EXPECT_EQ(from(1, udp_frame(kBroadcastMac, kMacA, {kIpA, 68}, {kAllOnes, 67}, reply)), Admission::drop)
      << "a BOOTREPLY to the server port";
  EXPECT_EQ(from(1, udp_frame(kBroadcastMac, kMacA, {kIpA, 40000}, {kAllOnes, 68}, reply)), Admission::drop)
      << "anything to the client port, whatever the source port";
  EXPECT_EQ(from(1, udp_frame(kBroadcastMac, kMacA, {kIpA, 67}, {kInternet, 9}, Bytes{1})), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::dhcp_server_spoof), 5u);
  EXPECT_EQ(total_drops(), 5u);
}

TEST_F(GuestGuardTest, Ipv6FromTheOwnMacIsAdmittedToTheStackOnlyUncounted) {
  EXPECT_EQ(from(1, ipv6_frame(kMacA)), Admission::stack_only);
  lease(1, kMacA, kIpA);
  EXPECT_EQ(from(1, ipv6_frame(kMacA)), Admission::stack_only);
  EXPECT_EQ(from(1, test::ethernet(kBroadcastMac, kMacA, 0x88cc, Bytes(40, 0))), Admission::stack_only) << "LLDP";
  EXPECT_EQ(total_drops(), 0u);
}

TEST_F(GuestGuardTest, DetachForgetsEverything) {
  lease(1, kMacA, kIpA);
  guard.port_detached(1);
  EXPECT_FALSE(port(1));
  EXPECT_TRUE(guard.ports().empty());
  EXPECT_EQ(from(2, ipv6_frame(kMacA)), Admission::stack_only) << "the MAC is free again";
  EXPECT_EQ(from(2, ping(kMacA, kIpA)), Admission::drop) << "the address did not move with the MAC";
  EXPECT_EQ(dropped(GuardDrop::no_lease), 1u);
}

TEST_F(GuestGuardTest, TruncatedHeadersAreMalformed) {
  from(1, ipv6_frame(kMacA));
  Bytes short_ip = ping(kMacA, kIpA);
  short_ip.resize(14 + 12);
  EXPECT_EQ(from(1, short_ip), Admission::drop);
  Bytes long_total = ping(kMacA, kIpA);
  put16(long_total, 14 + 2, 1000);
  EXPECT_EQ(from(1, long_total), Admission::drop);
  EXPECT_EQ(from(1, ipv4_frame(kGatewayMac, kMacA, kAny, kAllOnes, 17, Bytes{0, 68, 0, 67})), Admission::drop)
      << "UDP header cut short (a tiny first fragment could hide the ports)";
  Bytes short_arp = arp_frame(kMacA, 1, kMacA, kAny, kIpA);
  short_arp.resize(14 + 20);
  EXPECT_EQ(from(1, short_arp), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::malformed), 4u);
}

TEST_F(GuestGuardTest, EveryDropHasAName) {
  EXPECT_EQ(kGuardDropNames[static_cast<std::size_t>(GuardDrop::mac_taken)], "mac_taken");
  EXPECT_EQ(kGuardDropNames[static_cast<std::size_t>(GuardDrop::dhcp_server_spoof)], "dhcp_server_spoof");
}

// The guard behind a real switch with guest-to-guest traffic on: ACKs from the stack are snooped on the way out,
// and only what the guard admits reaches the other guest.
struct FakePort : virtio::GuestPort {
  explicit FakePort(PortId port_id) : id_(port_id) {}
  bool send_frame(virtio::Frame frame) override {
    sent.emplace_back(frame.begin(), frame.end());
    return true;
  }
  PortId id() const override { return id_; }
  const std::string& name() const override { return name_; }
  PortId id_;
  std::string name_ = "fake";
  std::vector<Bytes> sent;
};

struct FakeNetwork : virtio::GuestNetwork {
  void guest_attached(PortId) override {}
  void guest_frame(PortId, virtio::Frame frame) override { frames.emplace_back(frame.begin(), frame.end()); }
  void guest_detached(PortId) override {}
  std::vector<Bytes> frames;
};

TEST_F(GuestGuardTest, BehindASwitchWithGuestToGuestTraffic) {
  FakeNetwork network;
  virtio::PortSwitch sw{network};
  sw.set_filter(&guard);
  sw.set_guest_to_guest(true);
  sw.set_stack_mac(kGatewayMac);
  FakePort a{1}, b{2};
  sw.port_attached(a);
  sw.port_attached(b);

  sw.frame_received(a, dhcp_client(kMacA, dhcp::MessageType::discover));
  sw.frame_received(b, dhcp_client(kMacB, dhcp::MessageType::discover));
  EXPECT_EQ(network.frames.size(), 2u);
  EXPECT_TRUE(a.sent.empty() && b.sent.empty()) << "DHCP goes to the stack only";

  const Bytes a_to_b = ping(kMacA, kIpA, kMacB, kIpB);
  sw.frame_received(a, a_to_b);
  EXPECT_TRUE(b.sent.empty()) << "no lease yet";

  sw.send_to_guests(dhcp_server(dhcp::MessageType::ack, kMacA, kIpA));  // broadcast: both ports, snooped
  sw.send_to_guests(dhcp_server(dhcp::MessageType::ack, kMacB, kIpB));
  EXPECT_EQ(a.sent.size(), 2u);
  b.sent.clear();
  sw.frame_received(a, a_to_b);
  EXPECT_EQ(b.sent, std::vector<Bytes>{a_to_b});
  EXPECT_EQ(network.frames.size(), 2u) << "switched to B, not to the stack";

  sw.frame_received(a, ping(kMacA, kIpB, kMacB, kIpA));
  EXPECT_EQ(b.sent.size(), 1u) << "spoofing rules hold between guests";
  sw.frame_received(a, ipv6_frame(kMacA));
  EXPECT_EQ(b.sent.size(), 1u) << "IPv6 goes to the stack only";
  EXPECT_EQ(network.frames.size(), 3u);

  sw.port_detached(a);
  EXPECT_FALSE(port(1));
}

/// The DHCP pool as the guard sees it: grants an address to the first MAC that claims it, unless told otherwise.
struct FakeClaims final : AddressClaims {
  std::map<Ipv4Address, MacAddress> holders;
  std::vector<std::pair<MacAddress, Ipv4Address>> ended;
  AddressClaim claim(const MacAddress& mac, Ipv4Address address) override {
    auto [it, inserted] = holders.emplace(address, mac);
    return {inserted || it->second == mac, it->second};
  }
  void end_use(const MacAddress& mac, Ipv4Address address) override { ended.emplace_back(mac, address); }
};

struct GuestGuardBindOnFirstUse : GuestGuardTest {
  FakeClaims claims;
  GuestGuardBindOnFirstUse() {
    config.bind_on_first_use = true;
    guard = GuestGuard{config};
    guard.set_address_claims(&claims);
  }
};

TEST_F(GuestGuardBindOnFirstUse, AStaticGuestTakesAFreeAddressByUsingIt) {
  EXPECT_EQ(from(1, ping(kMacA, kIpA)), Admission::forward);
  ASSERT_TRUE(port(1));
  EXPECT_EQ(port(1)->in_use, kIpA);
  EXPECT_EQ(port(1)->address(), kIpA);
  EXPECT_EQ(claims.holders.at(kIpA), kMacA) << "the pool was asked, for this MAC";
  EXPECT_EQ(from(1, udp_frame(kGatewayMac, kMacA, {kIpA, 5000}, {kInternet, 53}, Bytes{1})), Admission::forward);
  EXPECT_EQ(from(1, ping(kMacA, kIpB)), Admission::drop) << "one address a port";
  EXPECT_EQ(dropped(GuardDrop::ip_spoof), 1u);
  EXPECT_EQ(claims.holders.count(kIpB), 0u);
}

TEST_F(GuestGuardBindOnFirstUse, AnArpFromAStaticAddressBindsItToo) {
  EXPECT_EQ(from(1, arp_frame(kMacA, 1, kMacA, kIpA, kGateway)), Admission::forward);  // who-has gateway tell A
  EXPECT_EQ(port(1)->in_use, kIpA);
  EXPECT_EQ(from(1, arp_frame(kMacA, 1, kMacA, kIpB, kGateway)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::arp_spoof), 1u);
  EXPECT_EQ(from(1, arp_frame(kMacA, 1, kMacA, kAny, kIpB)), Admission::forward) << "a probe claims nothing";
  EXPECT_EQ(port(1)->in_use, kIpA);
}

TEST_F(GuestGuardBindOnFirstUse, NoPortTakesAnAddressAnotherMacHolds) {
  from(1, ping(kMacA, kIpA));  // in use by port 1
  lease(3, kMacC, kIpB);       // leased to port 3
  for (const Ipv4Address taken : {kIpA, kIpB, kIpStatic}) {
    EXPECT_EQ(from(2, ping(kMacB, taken)), Admission::drop) << taken.to_string();
    EXPECT_EQ(from(2, arp_frame(kMacB, 2, kMacB, taken, kGateway)), Admission::drop) << taken.to_string();
  }
  EXPECT_EQ(dropped(GuardDrop::address_taken), 6u);
  EXPECT_FALSE(port(2)->address());
  EXPECT_EQ(claims.holders.size(), 1u) << "the guard's own knowledge refused those before the pool was asked";
  EXPECT_EQ(from(1, ping(kMacA, kIpA)), Admission::forward) << "the holder is unharmed";
}

TEST_F(GuestGuardBindOnFirstUse, ThePoolsRefusalIsADrop) {
  claims.holders.emplace(kIpB, kMacC);  // offered or leased to a guest that is not attached now
  EXPECT_EQ(from(2, ping(kMacB, kIpB)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::address_taken), 1u);
  EXPECT_FALSE(port(2)->address());
  EXPECT_EQ(from(2, ping(kMacB, kIpA)), Admission::forward) << "a free one is still the port's to take";
}

TEST_F(GuestGuardBindOnFirstUse, AddressesNoGuestMayHaveAreUnusable) {
  const Ipv4Address network{192, 168, 64, 0};
  const Ipv4Address broadcast{192, 168, 64, 255};
  for (const Ipv4Address a : {kGateway, network, broadcast, kInternet, kAny}) {
    EXPECT_EQ(from(1, ping(kMacA, a)), Admission::drop) << a.to_string();
  }
  EXPECT_EQ(from(1, arp_frame(kMacA, 2, kMacA, kGateway, kGateway)), Admission::drop) << "posing as the gateway";
  EXPECT_EQ(dropped(GuardDrop::address_unusable), 6u);
  EXPECT_FALSE(port(1)->address());
  EXPECT_TRUE(claims.holders.empty());
}

TEST_F(GuestGuardBindOnFirstUse, DetachEndsTheUseWithThePool) {
  from(1, ping(kMacA, kIpA));
  guard.port_detached(1);
  ASSERT_EQ(claims.ended.size(), 1u);
  EXPECT_EQ(claims.ended[0], std::make_pair(kMacA, kIpA));
  EXPECT_EQ(from(2, ping(kMacB, kIpA)), Admission::drop) << "the pool still holds it for A";
  EXPECT_EQ(from(3, ping(kMacA, kIpA)), Admission::forward) << "A, back on a new port, gets it again";
}

TEST_F(GuestGuardBindOnFirstUse, ALeaseReplacesTheAddressInUse) {
  from(1, ping(kMacA, kIpA));
  guard.to_guest(1, dhcp_server(dhcp::MessageType::ack, kMacA, kIpA));
  EXPECT_EQ(port(1)->leased, kIpA);
  EXPECT_FALSE(port(1)->in_use);
  guard.port_detached(1);
  EXPECT_TRUE(claims.ended.empty()) << "a lease ends as leases do, not as a use";
}

TEST_F(GuestGuardBindOnFirstUse, AnAckForTheAddressToAnotherPortEndsTheUse) {
  from(1, ping(kMacA, kIpA));
  lease(2, kMacB, kIpA);  // the pool is the judge of who holds what
  EXPECT_FALSE(port(1)->address());
  EXPECT_EQ(from(1, ping(kMacA, kIpA)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::address_taken), 1u);
}

TEST_F(GuestGuardBindOnFirstUse, AReleaseGivesUpTheAddressInUse) {
  from(1, ping(kMacA, kIpA));
  EXPECT_EQ(from(1, dhcp_naming(kMacA, dhcp::MessageType::release, kIpA, {}, kIpA)), Admission::stack_only);
  EXPECT_FALSE(port(1)->address());
}

TEST_F(GuestGuardBindOnFirstUse, DhcpOnlyKeepsTheStrictMode) {
  config.bind_on_first_use = false;
  guard = GuestGuard{config};
  guard.set_address_claims(&claims);
  EXPECT_EQ(from(1, ping(kMacA, kIpA)), Admission::drop);
  EXPECT_EQ(from(1, arp_frame(kMacA, 1, kMacA, kIpA, kGateway)), Admission::drop);
  EXPECT_EQ(dropped(GuardDrop::no_lease), 2u);
  EXPECT_TRUE(claims.holders.empty());
}

}  // namespace
}  // namespace vznet::stack
