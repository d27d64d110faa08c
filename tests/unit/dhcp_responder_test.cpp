// Unit tests for the DHCP protocol logic without lwIP: the corner cases of which reply goes where, and one
// guest's messages about another's lease (issue 12). The full conversation, frames and options, is in
// tests/stack/dhcp_server_test.cpp.
#include <gtest/gtest.h>

#include "stack/dhcp_responder.h"

namespace vznet::stack {
namespace {

using base::MacAddress;

using namespace std::chrono_literals;
namespace option = dhcp::option;

const Ipv4Address kGateway{192, 168, 64, 1};
const Ipv4Address kAllOnes{255, 255, 255, 255};
const Ipv4Address kFirst{192, 168, 64, 2};
const Ipv4Address kSecond{192, 168, 64, 3};
constexpr MacAddress kMac{0x52, 0x54, 0, 0, 0, 1};
constexpr MacAddress kThiefMac{0x52, 0x54, 0, 0, 0, 2};
/// Option 61 as most clients send it: type 1 (Ethernet) and the MAC. Replies echo it to whoever sees them.
const dhcp::ReplyOption kHolderId{dhcp::option::client_identifier, {1, 0x52, 0x54, 0, 0, 0, 1}};

dhcp::ReplyOption address_option(std::uint8_t code, Ipv4Address a) { return {code, dhcp::address(a)}; }
std::uint8_t reply_type(const DhcpOutgoing& reply) { return reply.payload.at(dhcp::kOptionsOffset + 2); }
Ipv4Address yiaddr(const DhcpOutgoing& reply) {
  const auto& p = reply.payload;
  return Ipv4Address{std::uint32_t{p[16]} << 24 | std::uint32_t{p[17]} << 16 | std::uint32_t{p[18]} << 8 | p[19]};
}

class DhcpResponderTest : public ::testing::Test {
 protected:
  std::optional<DhcpOutgoing> send(dhcp::MessageType type, const std::vector<dhcp::ReplyOption>& options,
                                   Ipv4Address ciaddr = {}, Ipv4Address source = {}, const MacAddress& mac = kMac) {
    dhcp::Message m;
    m.type = type;
    m.ciaddr = ciaddr;
    std::copy(mac.begin(), mac.end(), m.chaddr.begin());
    return responder_.handle(dhcp::build_request(m, options), source, now_);
  }
  static std::optional<dhcp::Bytes> find_option(const dhcp::Bytes& reply, std::uint8_t code) {
    for (std::size_t at = dhcp::kOptionsOffset; at + 1 < reply.size() && reply[at] != option::end;) {
      if (reply[at] == option::pad) {
        ++at;
        continue;
      }
      if (reply[at] == code)
        return dhcp::Bytes(reply.begin() + static_cast<std::ptrdiff_t>(at + 2),
                           reply.begin() + static_cast<std::ptrdiff_t>(at + 2 + reply[at + 1]));
      at += 2 + reply[at + 1];
    }
    return std::nullopt;
  }

  DhcpConfig config_;
  DhcpCounters counters_;
  DhcpResponder responder_{config_, counters_};
  DhcpTime now_ = DhcpTime{} + 1000h;
};

TEST_F(DhcpResponderTest, RequestNamingNoAddressIsACountedDrop) {
  EXPECT_FALSE(send(dhcp::MessageType::request, {}));
  EXPECT_EQ(counters_.drops.get(DhcpDrop::no_address), 1u);
}

TEST_F(DhcpResponderTest, InformWithoutCiaddrIsAnsweredAtItsSource) {
  const Ipv4Address source{192, 168, 64, 40};
  auto reply = send(dhcp::MessageType::inform, {}, {}, source);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->destination, source);
  EXPECT_FALSE(find_option(reply->payload, option::lease_time));
  auto foreign = send(dhcp::MessageType::inform, {}, Ipv4Address{10, 1, 1, 1}, Ipv4Address{10, 1, 1, 1});
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->destination, kAllOnes) << "off-link: broadcast, the only way back";
}

TEST_F(DhcpResponderTest, WithoutAParameterRequestListEverythingIsSent) {
  auto offer = send(dhcp::MessageType::discover, {});
  ASSERT_TRUE(offer);
  for (std::uint8_t code : {option::subnet_mask, option::router, option::dns_server, option::interface_mtu,
                            option::broadcast_address, option::lease_time, option::server_identifier}) {
    EXPECT_TRUE(find_option(offer->payload, code)) << int{code};
  }
  EXPECT_FALSE(find_option(offer->payload, option::domain_search)) << "no --dns-search, no option 119";
}

TEST_F(DhcpResponderTest, RepliesStayWithinTheClientsMaximumSize) {
  DhcpConfig config;
  for (int i = 0; i < 10; ++i) config.search_domains.push_back("domain" + std::to_string(i) + ".example");
  DhcpResponder responder(config, counters_);
  dhcp::Message m;
  m.type = dhcp::MessageType::discover;
  auto reply = responder.handle(dhcp::build_request(m, {{option::parameter_request_list, {119, 1, 3, 6}}}), {}, now_);
  ASSERT_TRUE(reply);
  EXPECT_LE(reply->payload.size(), dhcp::kMinMaxMessageSize);
  EXPECT_TRUE(find_option(reply->payload, option::domain_search));
}

TEST_F(DhcpResponderTest, ReleaseAndDeclineForAnotherServerAreIgnored) {
  auto offer = send(dhcp::MessageType::discover, {});
  ASSERT_TRUE(offer);
  const Ipv4Address offered{192, 168, 64, 2};
  const dhcp::ReplyOption other_server{option::server_identifier, dhcp::address(Ipv4Address{192, 168, 64, 9})};
  EXPECT_FALSE(send(dhcp::MessageType::decline, {other_server, {option::requested_address, dhcp::address(offered)}}));
  EXPECT_FALSE(send(dhcp::MessageType::release, {other_server}, offered));
  EXPECT_EQ(counters_.events.get(DhcpEvent::decline), 0u);
  EXPECT_EQ(counters_.events.get(DhcpEvent::release), 0u);
}

/// Issue 12: the holder (kMac, kHolderId) has kFirst; another MAC sends the holder's client identifier.
class DhcpTheftTest : public DhcpResponderTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(send(dhcp::MessageType::discover, {kHolderId}));
    auto ack = send(dhcp::MessageType::request, {kHolderId, address_option(option::requested_address, kFirst)});
    ASSERT_TRUE(ack);
    ASSERT_EQ(reply_type(*ack), 5);
  }
  void expect_holder_keeps_the_lease() {
    auto lease = responder_.leases().find(kFirst, now_);
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->state, LeaseState::bound);
    EXPECT_EQ(lease->mac, kMac);
  }
};

TEST_F(DhcpTheftTest, RequestWithTheHoldersIdentifierIsNakedAndCounted) {
  auto nak = send(dhcp::MessageType::request, {kHolderId, address_option(option::requested_address, kFirst)}, {}, {},
                  kThiefMac);
  ASSERT_TRUE(nak);
  EXPECT_EQ(reply_type(*nak), 6);
  EXPECT_EQ(nak->client_mac, kThiefMac) << "to the port that asked";
  EXPECT_EQ(counters_.events.get(DhcpEvent::nak), 1u);
  EXPECT_EQ(counters_.events.get(DhcpEvent::foreign_client_id), 1u);
  expect_holder_keeps_the_lease();
  auto renewing = send(dhcp::MessageType::request, {kHolderId}, kFirst, {}, kThiefMac);  // RENEWING: ciaddr
  ASSERT_TRUE(renewing);
  EXPECT_EQ(reply_type(*renewing), 6);
  expect_holder_keeps_the_lease();
}

TEST_F(DhcpTheftTest, DiscoverWithTheHoldersIdentifierGetsAnAddressOfItsOwn) {
  auto offer = send(dhcp::MessageType::discover, {kHolderId, address_option(option::requested_address, kFirst)}, {}, {},
                    kThiefMac);
  ASSERT_TRUE(offer);
  EXPECT_EQ(reply_type(*offer), 2);
  EXPECT_EQ(yiaddr(*offer), kSecond);
  EXPECT_EQ(offer->client_mac, kThiefMac);
  EXPECT_EQ(counters_.events.get(DhcpEvent::foreign_client_id), 1u);
  expect_holder_keeps_the_lease();
  auto ack = send(dhcp::MessageType::request, {kHolderId, address_option(option::requested_address, kFirst)});
  ASSERT_TRUE(ack) << "the holder renews as before";
  EXPECT_EQ(reply_type(*ack), 5);
}

TEST_F(DhcpTheftTest, ReleaseDeclineAndInformFromAnotherMacAreCountedDrops) {
  EXPECT_FALSE(send(dhcp::MessageType::release, {kHolderId}, kFirst, kFirst, kThiefMac));
  EXPECT_FALSE(send(dhcp::MessageType::decline, {kHolderId, address_option(option::requested_address, kFirst)}, {}, {},
                    kThiefMac));
  EXPECT_FALSE(send(dhcp::MessageType::inform, {kHolderId}, kFirst, kFirst, kThiefMac));
  EXPECT_FALSE(send(dhcp::MessageType::inform, {}, {}, kFirst, kThiefMac)) << "INFORM from the holder's address";
  EXPECT_EQ(counters_.drops.get(DhcpDrop::release_not_holder), 1u);
  EXPECT_EQ(counters_.drops.get(DhcpDrop::decline_not_holder), 1u);
  EXPECT_EQ(counters_.drops.get(DhcpDrop::inform_not_holder), 2u);
  EXPECT_EQ(counters_.events.get(DhcpEvent::release), 0u);
  EXPECT_EQ(counters_.events.get(DhcpEvent::decline), 0u);
  EXPECT_EQ(counters_.events.get(DhcpEvent::inform_ack), 0u);
  expect_holder_keeps_the_lease();
  auto inform = send(dhcp::MessageType::inform, {}, kFirst, kFirst);
  ASSERT_TRUE(inform) << "the holder's own INFORM is answered";
  EXPECT_EQ(inform->client_mac, kMac);
}

TEST_F(DhcpResponderTest, UnusableConfigThrowsWithTheReason) {
  DhcpConfig config;
  config.statics = {{MacAddress{2, 0, 0, 0, 0, 1}, kGateway}};
  try {
    DhcpResponder responder(config, counters_);
    FAIL() << "accepted the gateway's address as a reservation";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--dhcp-static"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vznet::stack
