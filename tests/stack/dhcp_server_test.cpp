// Stack tests for the DHCP server: DHCP messages in guest Ethernet frames into a real Stack (lwIP, the
// catch-all) with a DhcpServer on it, and the frames that come back: addressing, every option, NAK, renew,
// release, decline, inform, exhaustion, expiry (on the server's injected clock) and malformed input.
#include <gtest/gtest.h>

#include <map>

#include "stack/dhcp_server.h"
#include "stack/stack.h"
#include "tests/stack/frames.h"

namespace vznet::test {
namespace {

using namespace std::chrono_literals;
using stack::DhcpDrop;
using stack::DhcpEvent;
namespace dhcp = stack::dhcp;
namespace option = stack::dhcp::option;

const Ipv4Address kGateway{192, 168, 64, 1};
const Ipv4Address kAny{};
const Ipv4Address kAllOnes{255, 255, 255, 255};
const Ipv4Address kFirst{192, 168, 64, 2};
const Ipv4Address kSecond{192, 168, 64, 3};
const Mac kOtherMac{0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC};

/// A DHCP reply as the guest sees it.
struct SeenReply {
  SeenFrame frame;
  std::uint32_t xid = 0;
  Ipv4Address ciaddr, yiaddr;
  std::map<std::uint8_t, Bytes> options;
  std::uint8_t type() const { return options.at(option::message_type).at(0); }
  std::uint32_t u32(std::uint8_t code) const { return get32(options.at(code), 0); }
};

std::optional<SeenReply> parse_reply(const SeenFrame& f) {
  if (f.ethertype() != 0x0800 || f.protocol() != 17 || get16(f.l4(), 2) != dhcp::kClientPort) return std::nullopt;
  auto d = f.l4().subspan(8);
  if (d.size() < dhcp::kOptionsOffset || d[0] != 2) return std::nullopt;
  SeenReply r{f, get32(d, 4), Ipv4Address{get32(d, 12)}, Ipv4Address{get32(d, 16)}, {}};
  for (std::size_t at = dhcp::kOptionsOffset; at < d.size() && d[at] != option::end;) {
    if (d[at] == option::pad) {
      ++at;
      continue;
    }
    Bytes& value = r.options[d[at]];
    value.insert(value.end(), d.begin() + static_cast<std::ptrdiff_t>(at + 2),
                 d.begin() + static_cast<std::ptrdiff_t>(at + 2 + d[at + 1]));
    at += 2 + d[at + 1];
  }
  return r;
}

class DhcpServerTest : public ::testing::Test {
 protected:
  DhcpServerTest() {
    stack_ = std::make_unique<stack::Stack>(
        io_, stack::StackConfig{}, [this](virtio::Frame f) { sent_.push_back({Bytes(f.begin(), f.end())}); },
        stack_counters_);
    config_.mtu = 1400;
    config_.lease_time = 600s;
    config_.search_domains = {"vz.internal", "example.com"};
  }
  ~DhcpServerTest() override {
    server_.reset();
    stack_.reset();
  }
  void start() {
    server_ = std::make_unique<stack::DhcpServer>(*stack_, config_, counters_, [this] { return now_; });
    sent_.clear();
  }

  /// A client message from `mac`, sent from `src` to `dst` (IP and Ethernet).
  void send(dhcp::MessageType type, std::vector<dhcp::ReplyOption> options, const Mac& mac = kGuestMac,
            Ipv4Address ciaddr = {}, Ipv4Address src = kAny, Ipv4Address dst = kAllOnes, std::uint32_t xid = 42) {
    dhcp::Message m;
    m.type = type;
    m.xid = xid;
    m.ciaddr = ciaddr;
    std::copy(mac.begin(), mac.end(), m.chaddr.begin());
    const Bytes payload = dhcp::build_request(m, options);
    const Mac& dst_mac = dst == kAllOnes ? kBroadcastMac : gateway_mac();
    stack_->guest_frame(1, udp_datagram(dst_mac, {src, dhcp::kClientPort}, {dst, dhcp::kServerPort}, payload));
  }
  void send_raw(const Bytes& payload) {
    stack_->guest_frame(1, udp_datagram(kBroadcastMac, {kAny, 68}, {kAllOnes, 67}, payload));
  }
  static dhcp::ReplyOption addr_option(std::uint8_t code, Ipv4Address a) { return {code, dhcp::address(a)}; }

  /// The next DHCP reply the stack sent, if one comes within a short while.
  std::optional<SeenReply> reply() {
    auto frame = take_frame(io_, sent_, [](const SeenFrame& f) { return parse_reply(f).has_value(); }, 500ms);
    return frame ? parse_reply(*frame) : std::nullopt;
  }
  /// DISCOVER, OFFER, REQUEST, ACK for `mac`; returns the address acknowledged.
  Ipv4Address acquire(const Mac& mac) {
    send(dhcp::MessageType::discover, {}, mac);
    auto offer = reply();
    if (!offer) return {};
    send(dhcp::MessageType::request, {addr_option(option::server_identifier, kGateway),
                                      addr_option(option::requested_address, offer->yiaddr)}, mac);
    auto ack = reply();
    if (!ack || ack->type() != 5) return {};
    return ack->yiaddr;
  }
  Mac gateway_mac() const { return stack::StackConfig{}.gateway_mac; }

  asio::io_context io_;
  stack::StackCounters stack_counters_;
  stack::DhcpCounters counters_;
  stack::DhcpConfig config_;
  stack::DhcpTime now_ = stack::DhcpTime{} + 1000h;
  std::unique_ptr<stack::Stack> stack_;
  std::unique_ptr<stack::DhcpServer> server_;
  std::vector<SeenFrame> sent_;
};

void expect_all_options(const SeenReply& r, std::uint8_t type) {
  EXPECT_EQ(r.type(), type);
  EXPECT_EQ(r.options.at(option::server_identifier), dhcp::address(kGateway));
  EXPECT_EQ(r.u32(option::lease_time), 600u);
  EXPECT_EQ(r.u32(option::renewal_time), 300u);
  EXPECT_EQ(r.u32(option::rebinding_time), 525u);
  EXPECT_EQ(r.options.at(option::subnet_mask), dhcp::address(Ipv4Address{255, 255, 255, 0}));
  EXPECT_EQ(r.options.at(option::router), dhcp::address(kGateway));
  EXPECT_EQ(r.options.at(option::dns_server), dhcp::address(kGateway));
  EXPECT_EQ(r.options.at(option::domain_name), (Bytes{'v', 'z', '.', 'i', 'n', 't', 'e', 'r', 'n', 'a', 'l'}));
  EXPECT_EQ(r.options.at(option::domain_search), *dhcp::encode_search_list({"vz.internal", "example.com"}));
  EXPECT_EQ(r.options.at(option::interface_mtu), dhcp::be16(1400));
  EXPECT_EQ(r.options.at(option::broadcast_address), dhcp::address(Ipv4Address{192, 168, 64, 255}));
}

void expect_broadcast_from_gateway(const SeenReply& r, const Mac& gateway_mac) {
  EXPECT_TRUE(std::equal(kBroadcastMac.begin(), kBroadcastMac.end(), r.frame.bytes.begin()));
  EXPECT_TRUE(std::equal(gateway_mac.begin(), gateway_mac.end(), r.frame.bytes.begin() + 6));
  EXPECT_EQ(r.frame.ip_src(), kGateway);
  EXPECT_EQ(r.frame.ip_dst(), kAllOnes);
  EXPECT_EQ(get16(r.frame.l4(), 0), dhcp::kServerPort);
  const auto udp = r.frame.l4();
  EXPECT_EQ(checksum(udp, pseudo_sum(kGateway, kAllOnes, 17, udp.size())), 0) << "UDP checksum";
}

TEST_F(DhcpServerTest, DiscoverOfferRequestAckWithEveryOption) {
  start();
  const std::vector<dhcp::ReplyOption> prl{{option::parameter_request_list, {1, 3, 6, 15, 26, 28, 119}}};
  send(dhcp::MessageType::discover, prl);
  auto offer = reply();
  ASSERT_TRUE(offer);
  expect_broadcast_from_gateway(*offer, gateway_mac());
  EXPECT_EQ(offer->xid, 42u);
  EXPECT_EQ(offer->yiaddr, kFirst);
  expect_all_options(*offer, 2);
  EXPECT_EQ(counters_.counted(DhcpEvent::offer), 1u);

  auto request = prl;
  request.push_back(addr_option(option::server_identifier, kGateway));
  request.push_back(addr_option(option::requested_address, kFirst));
  send(dhcp::MessageType::request, request);
  auto ack = reply();
  ASSERT_TRUE(ack);
  expect_broadcast_from_gateway(*ack, gateway_mac());
  EXPECT_EQ(ack->yiaddr, kFirst);
  expect_all_options(*ack, 5);
  EXPECT_EQ(counters_.counted(DhcpEvent::ack), 1u);

  auto leases = server_->lease_snapshot();
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].address, kFirst);
  EXPECT_EQ(leases[0].state, stack::LeaseState::bound);
  EXPECT_EQ(leases[0].mac, kGuestMac);
  EXPECT_EQ(leases[0].expires, now_ + 600s);
}

TEST_F(DhcpServerTest, ParameterRequestListIsHonoured) {
  start();
  send(dhcp::MessageType::discover, {{option::parameter_request_list, {3}}});
  auto offer = reply();
  ASSERT_TRUE(offer);
  for (std::uint8_t code : {option::message_type, option::server_identifier, option::lease_time,
                            option::renewal_time, option::rebinding_time, option::subnet_mask, option::router}) {
    EXPECT_TRUE(offer->options.contains(code)) << int{code};
  }
  for (std::uint8_t code : {option::dns_server, option::domain_name, option::interface_mtu,
                            option::broadcast_address, option::domain_search}) {
    EXPECT_FALSE(offer->options.contains(code)) << int{code};
  }
}

TEST_F(DhcpServerTest, ClientIdentifierIsEchoed) {
  start();
  const Bytes id{1, 0x52, 0x54, 0, 0x12, 0x34, 0x56};
  send(dhcp::MessageType::discover, {{option::client_identifier, id}});
  auto offer = reply();
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->options.at(option::client_identifier), id);
}

TEST_F(DhcpServerTest, RenewalIsUnicastToTheClient) {
  start();
  ASSERT_EQ(acquire(kGuestMac), kFirst);
  stack_->guest_frame(1, arp_request(kFirst, kGateway));  // the bound guest resolves its gateway
  sent_.clear();
  now_ += 300s;
  send(dhcp::MessageType::request, {}, kGuestMac, kFirst, kFirst, kGateway, 43);
  auto ack = reply();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->type(), 5);
  EXPECT_EQ(ack->xid, 43u);
  EXPECT_EQ(ack->frame.ip_dst(), kFirst);
  EXPECT_EQ(ack->ciaddr, kFirst);
  EXPECT_EQ(ack->yiaddr, kFirst);
  EXPECT_TRUE(std::equal(kGuestMac.begin(), kGuestMac.end(), ack->frame.bytes.begin()));
  EXPECT_EQ(server_->lease_snapshot().at(0).expires, now_ + 600s);
}

TEST_F(DhcpServerTest, RebindingIsAnsweredToo) {
  start();
  ASSERT_EQ(acquire(kGuestMac), kFirst);
  stack_->guest_frame(1, arp_request(kFirst, kGateway));
  now_ += 530s;  // past T2: the client broadcasts, and is answered where it is (ciaddr)
  send(dhcp::MessageType::request, {}, kGuestMac, kFirst, kFirst, kAllOnes, 44);
  auto ack = reply();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->type(), 5);
  EXPECT_EQ(ack->yiaddr, kFirst);
  EXPECT_EQ(ack->frame.ip_dst(), kFirst);
}

TEST_F(DhcpServerTest, WrongOrForeignAddressGetsABroadcastNak) {
  start();
  ASSERT_EQ(acquire(kOtherMac), kFirst);
  for (Ipv4Address wanted : {Ipv4Address{10, 0, 0, 9}, kFirst}) {  // foreign; another client's
    send(dhcp::MessageType::request, {addr_option(option::requested_address, wanted)});
    auto nak = reply();
    ASSERT_TRUE(nak) << wanted.to_string();
    EXPECT_EQ(nak->type(), 6);
    EXPECT_EQ(nak->yiaddr, kAny);
    EXPECT_EQ(nak->frame.ip_dst(), kAllOnes);
    EXPECT_FALSE(nak->options.contains(option::lease_time));
  }
  EXPECT_EQ(counters_.counted(DhcpEvent::nak), 2u);
}

TEST_F(DhcpServerTest, RequestForAnotherServerIsNotAnswered) {
  start();
  send(dhcp::MessageType::discover, {});
  ASSERT_TRUE(reply());
  send(dhcp::MessageType::request, {addr_option(option::server_identifier, Ipv4Address{192, 168, 64, 77}),
                                    addr_option(option::requested_address, kSecond)});
  EXPECT_FALSE(reply());
  EXPECT_EQ(counters_.counted(DhcpEvent::other_server), 1u);
}

TEST_F(DhcpServerTest, ReleasedAddressComesBackToItsClient) {
  start();
  ASSERT_EQ(acquire(kGuestMac), kFirst);
  send(dhcp::MessageType::release, {addr_option(option::server_identifier, kGateway)}, kGuestMac, kFirst, kFirst,
       kGateway);
  EXPECT_FALSE(reply()) << "RELEASE has no answer";
  EXPECT_EQ(counters_.counted(DhcpEvent::release), 1u);
  EXPECT_EQ(server_->lease_snapshot().at(0).state, stack::LeaseState::released);
  EXPECT_EQ(acquire(kOtherMac), kSecond);
  EXPECT_EQ(acquire(kGuestMac), kFirst);
}

TEST_F(DhcpServerTest, DeclinedAddressIsNotOfferedAgain) {
  start();
  ASSERT_EQ(acquire(kGuestMac), kFirst);
  send(dhcp::MessageType::decline, {addr_option(option::server_identifier, kGateway),
                                    addr_option(option::requested_address, kFirst)});
  EXPECT_FALSE(reply());
  EXPECT_EQ(counters_.counted(DhcpEvent::decline), 1u);
  EXPECT_EQ(acquire(kGuestMac), kSecond);
}

TEST_F(DhcpServerTest, InformGetsConfigurationWithoutALease) {
  config_.statics = {{kOtherMac, Ipv4Address{192, 168, 64, 50}}};
  start();
  const Ipv4Address self{192, 168, 64, 50};
  stack_->guest_frame(1, arp_request(self, kGateway));
  sent_.clear();
  send(dhcp::MessageType::inform, {{option::parameter_request_list, {6, 15}}}, kGuestMac, self, self, kGateway);
  auto ack = reply();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->type(), 5);
  EXPECT_EQ(ack->yiaddr, kAny);
  EXPECT_EQ(ack->frame.ip_dst(), self);
  EXPECT_FALSE(ack->options.contains(option::lease_time));
  EXPECT_EQ(ack->options.at(option::dns_server), dhcp::address(kGateway));
  EXPECT_TRUE(server_->lease_snapshot().empty()) << "INFORM binds nothing";
}

TEST_F(DhcpServerTest, StaticReservationIsHonoured) {
  const Ipv4Address reserved{192, 168, 64, 2};
  config_.statics = {{kOtherMac, reserved}};
  start();
  EXPECT_EQ(acquire(kGuestMac), kSecond) << "the reserved address is skipped";
  EXPECT_EQ(acquire(kOtherMac), reserved);
}

TEST_F(DhcpServerTest, ExhaustedPoolSendsNoOfferAndCountsIt) {
  config_.range = stack::DhcpRange{kFirst, kFirst};
  start();
  ASSERT_EQ(acquire(kGuestMac), kFirst);
  send(dhcp::MessageType::discover, {}, kOtherMac);
  EXPECT_FALSE(reply());
  EXPECT_EQ(counters_.counted(DhcpEvent::pool_exhausted), 1u);
  now_ += 601s;  // the first lease expired without renewal: its address may go to the other client
  EXPECT_EQ(acquire(kOtherMac), kFirst);
}

TEST_F(DhcpServerTest, MalformedMessagesAreCountedDrops) {
  start();
  dhcp::Message m;
  Bytes good = dhcp::build_request(m, {});
  Bytes bad_magic = good;
  bad_magic[237] = 0;
  send_raw(bad_magic);
  send_raw(Bytes(good.begin(), good.begin() + 100));
  Bytes hlen = good;
  hlen[2] = 200;
  send_raw(hlen);
  EXPECT_FALSE(reply());
  EXPECT_EQ(counters_.dropped(DhcpDrop::bad_magic), 1u);
  EXPECT_EQ(counters_.dropped(DhcpDrop::truncated), 1u);
  EXPECT_EQ(counters_.dropped(DhcpDrop::bad_hardware), 1u);
}

TEST_F(DhcpServerTest, PortSixtySevenOfAnotherHostIsAFlowNotOurs) {
  start();
  send(dhcp::MessageType::discover, {}, kGuestMac, {}, kFirst, Ipv4Address{10, 0, 0, 5});
  EXPECT_FALSE(reply());
  EXPECT_EQ(counters_.counted(DhcpEvent::offer), 0u);
  // No forwarder in this test: the catch-all counts it as unhandled, which shows it got there.
  EXPECT_EQ(stack_counters_.dropped(stack::StackDrop::no_handler), 1u);
}

TEST_F(DhcpServerTest, InvalidConfigIsRefused) {
  config_.range = stack::DhcpRange{Ipv4Address{192, 168, 64, 1}, kSecond};
  EXPECT_THROW(start(), std::invalid_argument);
}

}  // namespace
}  // namespace vznet::test
