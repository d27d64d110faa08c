// Stack tests for the DHCP server: DHCP messages in guest Ethernet frames into a real Stack (lwIP, the
// catch-all) with a DhcpServer on it, and the frames that come back: addressing, every option, NAK, renew,
// release, decline, inform, exhaustion, expiry (on the server's injected clock) and malformed input. Then the
// server behind the real switch and guard with two guest ports: replies reach the asking port only, and one
// guest cannot take, release, decline or inform on the other's lease (issue 12).
#include <gtest/gtest.h>

#include <map>

#include "stack/dhcp_server.h"
#include "stack/guest_guard.h"
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
  void send(dhcp::MessageType type, const std::vector<dhcp::ReplyOption>& options, const Mac& mac = kGuestMac,
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
    auto frame = take_frame(
        io_, sent_, [](const SeenFrame& f) { return parse_reply(f).has_value(); }, 500ms);
    return frame ? parse_reply(*frame) : std::nullopt;
  }
  /// DISCOVER, OFFER, REQUEST, ACK for `mac`; returns the address acknowledged.
  Ipv4Address acquire(const Mac& mac) {
    send(dhcp::MessageType::discover, {}, mac);
    auto offer = reply();
    if (!offer) return {};
    send(dhcp::MessageType::request,
         {addr_option(option::server_identifier, kGateway), addr_option(option::requested_address, offer->yiaddr)},
         mac);
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

/// IP broadcast (the client has no address yet), but an Ethernet frame to the client's MAC: the switch delivers
/// it to that client's port only, never to the other guests (issue 12).
void expect_broadcast_to_the_client(const SeenReply& r, const Mac& gateway_mac, const Mac& client = kGuestMac) {
  EXPECT_TRUE(std::equal(client.begin(), client.end(), r.frame.bytes.begin()));
  EXPECT_TRUE(std::equal(gateway_mac.begin(), gateway_mac.end(), r.frame.bytes.begin() + 6));
  EXPECT_EQ(r.frame.ip_src(), kGateway);
  EXPECT_EQ(r.frame.ip_dst(), kAllOnes);
  EXPECT_EQ(checksum(r.frame.ip().first(20)), 0) << "IP header checksum";
  EXPECT_EQ(get16(r.frame.ip(), 2), r.frame.ip().size()) << "IP total length";
  EXPECT_EQ(get16(r.frame.l4(), 0), dhcp::kServerPort);
  const auto udp = r.frame.l4();
  EXPECT_EQ(get16(udp, 4), udp.size()) << "UDP length";
  EXPECT_EQ(checksum(udp, pseudo_sum(kGateway, kAllOnes, 17, udp.size())), 0) << "UDP checksum";
}

TEST_F(DhcpServerTest, DiscoverOfferRequestAckWithEveryOption) {
  start();
  const std::vector<dhcp::ReplyOption> prl{{option::parameter_request_list, {1, 3, 6, 15, 26, 28, 119}}};
  send(dhcp::MessageType::discover, prl);
  auto offer = reply();
  ASSERT_TRUE(offer);
  expect_broadcast_to_the_client(*offer, gateway_mac());
  EXPECT_EQ(offer->xid, 42u);
  EXPECT_EQ(offer->yiaddr, kFirst);
  expect_all_options(*offer, 2);
  EXPECT_EQ(counters_.events.get(DhcpEvent::offer), 1u);

  auto request = prl;
  request.push_back(addr_option(option::server_identifier, kGateway));
  request.push_back(addr_option(option::requested_address, kFirst));
  send(dhcp::MessageType::request, request);
  auto ack = reply();
  ASSERT_TRUE(ack);
  expect_broadcast_to_the_client(*ack, gateway_mac());
  EXPECT_EQ(ack->yiaddr, kFirst);
  expect_all_options(*ack, 5);
  EXPECT_EQ(counters_.events.get(DhcpEvent::ack), 1u);

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
  for (std::uint8_t code : {option::message_type, option::server_identifier, option::lease_time, option::renewal_time,
                            option::rebinding_time, option::subnet_mask, option::router}) {
    EXPECT_TRUE(offer->options.contains(code)) << int{code};
  }
  for (std::uint8_t code : {option::dns_server, option::domain_name, option::interface_mtu, option::broadcast_address,
                            option::domain_search}) {
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
    EXPECT_TRUE(std::equal(kGuestMac.begin(), kGuestMac.end(), nak->frame.bytes.begin())) << "to the asker only";
    EXPECT_FALSE(nak->options.contains(option::lease_time));
  }
  EXPECT_EQ(counters_.events.get(DhcpEvent::nak), 2u);
}

TEST_F(DhcpServerTest, RequestForAnotherServerIsNotAnswered) {
  start();
  send(dhcp::MessageType::discover, {});
  ASSERT_TRUE(reply());
  send(dhcp::MessageType::request, {addr_option(option::server_identifier, Ipv4Address{192, 168, 64, 77}),
                                    addr_option(option::requested_address, kSecond)});
  EXPECT_FALSE(reply());
  EXPECT_EQ(counters_.events.get(DhcpEvent::other_server), 1u);
}

TEST_F(DhcpServerTest, ReleasedAddressComesBackToItsClient) {
  start();
  ASSERT_EQ(acquire(kGuestMac), kFirst);
  send(dhcp::MessageType::release, {addr_option(option::server_identifier, kGateway)}, kGuestMac, kFirst, kFirst,
       kGateway);
  EXPECT_FALSE(reply()) << "RELEASE has no answer";
  EXPECT_EQ(counters_.events.get(DhcpEvent::release), 1u);
  EXPECT_EQ(server_->lease_snapshot().at(0).state, stack::LeaseState::released);
  EXPECT_EQ(acquire(kOtherMac), kSecond);
  EXPECT_EQ(acquire(kGuestMac), kFirst);
}

TEST_F(DhcpServerTest, DeclinedAddressIsNotOfferedAgain) {
  start();
  ASSERT_EQ(acquire(kGuestMac), kFirst);
  send(dhcp::MessageType::decline,
       {addr_option(option::server_identifier, kGateway), addr_option(option::requested_address, kFirst)});
  EXPECT_FALSE(reply());
  EXPECT_EQ(counters_.events.get(DhcpEvent::decline), 1u);
  EXPECT_EQ(acquire(kGuestMac), kSecond);
}

TEST_F(DhcpServerTest, InformGetsConfigurationWithoutALease) {
  config_.statics = {{kGuestMac, Ipv4Address{192, 168, 64, 50}}};
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
  EXPECT_EQ(counters_.events.get(DhcpEvent::pool_exhausted), 1u);
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
  EXPECT_EQ(counters_.drops.get(DhcpDrop::bad_magic), 1u);
  EXPECT_EQ(counters_.drops.get(DhcpDrop::truncated), 1u);
  EXPECT_EQ(counters_.drops.get(DhcpDrop::bad_hardware), 1u);
}

TEST_F(DhcpServerTest, PortSixtySevenOfAnotherHostIsAFlowNotOurs) {
  start();
  send(dhcp::MessageType::discover, {}, kGuestMac, {}, kFirst, Ipv4Address{10, 0, 0, 5});
  EXPECT_FALSE(reply());
  EXPECT_EQ(counters_.events.get(DhcpEvent::offer), 0u);
  // No forwarder in this test: the catch-all counts it as unhandled, which shows it got there.
  EXPECT_EQ(stack_counters_.drops.get(stack::StackDrop::no_handler), 1u);
}

TEST_F(DhcpServerTest, InvalidConfigIsRefused) {
  config_.range = stack::DhcpRange{Ipv4Address{192, 168, 64, 1}, kSecond};
  EXPECT_THROW(start(), std::invalid_argument);
}

// --- Two guests behind the switch and the guard, as vznet runs them --------------------------------------------

struct FakePort : virtio::GuestPort {
  explicit FakePort(virtio::PortId port_id) : id_(port_id) {}
  bool send_frame(virtio::Frame frame) override {
    sent.push_back({Bytes(frame.begin(), frame.end())});
    return true;
  }
  virtio::PortId id() const override { return id_; }
  const std::string& name() const override { return name_; }
  /// The DHCP replies this port received, oldest first (taken: the list is emptied).
  std::vector<SeenReply> replies() {
    std::vector<SeenReply> out;
    for (const SeenFrame& f : sent) {
      if (auto r = parse_reply(f)) out.push_back(*r);
    }
    sent.clear();
    return out;
  }
  virtio::PortId id_;
  std::string name_ = "fake";
  std::vector<SeenFrame> sent;
};

const Mac kMacA{0x52, 0x54, 0x00, 0x00, 0x00, 0x0a};
const Mac kMacB{0x52, 0x54, 0x00, 0x00, 0x00, 0x0b};
/// Guest A's client identifier, as its replies echo it to anyone who sees them.
const Bytes kIdA{1, 0x52, 0x54, 0x00, 0x00, 0x00, 0x0a};

class DhcpBehindTheSwitchTest : public ::testing::Test {
 protected:
  DhcpBehindTheSwitchTest() {
    stack_ = std::make_unique<stack::Stack>(
        io_, stack::StackConfig{},
        [this](virtio::Frame f) {
          if (switch_) switch_->send_to_guests(f);  // the stack announces itself before the switch exists
        },
        stack_counters_);
    switch_ = std::make_unique<virtio::PortSwitch>(*stack_);
    switch_->set_filter(&guard_);
    switch_->set_stack_mac(stack::StackConfig{}.gateway_mac);
    switch_->port_attached(a_);
    switch_->port_attached(b_);
    server_ = std::make_unique<stack::DhcpServer>(*stack_, config_, counters_, [this] { return now_; });
  }
  ~DhcpBehindTheSwitchTest() override {
    server_.reset();
    switch_.reset();
    stack_.reset();
  }

  /// A client message from the guest on `port` (MAC `mac`, chaddr `mac`), 68 -> 67, from `src`.
  void send(FakePort& port, const Mac& mac, dhcp::MessageType type, const std::vector<dhcp::ReplyOption>& options,
            Ipv4Address ciaddr = {}, Ipv4Address src = kAny, Ipv4Address dst = kAllOnes) {
    dhcp::Message m;
    m.type = type;
    m.xid = 0x1000 + port.id();
    m.ciaddr = ciaddr;
    std::copy(mac.begin(), mac.end(), m.chaddr.begin());
    Bytes frame = udp_datagram(dst == kAllOnes ? kBroadcastMac : stack::StackConfig{}.gateway_mac,
                               {src, dhcp::kClientPort}, {dst, dhcp::kServerPort}, dhcp::build_request(m, options));
    std::copy(mac.begin(), mac.end(), frame.begin() + 6);
    switch_->frame_received(port, frame);
  }
  static dhcp::ReplyOption addr_option(std::uint8_t code, Ipv4Address a) { return {code, dhcp::address(a)}; }
  /// DISCOVER, OFFER, REQUEST, ACK from `port`; the address, or 0.0.0.0 when any step failed.
  Ipv4Address acquire(FakePort& port, const Mac& mac, const Bytes& id) {
    send(port, mac, dhcp::MessageType::discover, {{option::client_identifier, id}});
    auto offers = port.replies();
    if (offers.size() != 1) return {};
    send(port, mac, dhcp::MessageType::request,
         {{option::client_identifier, id},
          addr_option(option::server_identifier, kGateway),
          addr_option(option::requested_address, offers[0].yiaddr)});
    auto acks = port.replies();
    if (acks.size() != 1 || acks[0].type() != 5) return {};
    return acks[0].yiaddr;
  }
  std::optional<Ipv4Address> guard_address(virtio::PortId id) const {
    for (const stack::GuardedPort& p : guard_.ports()) {
      if (p.port == id) return p.address();
    }
    return std::nullopt;
  }
  void expect_a_keeps(Ipv4Address address) {
    EXPECT_EQ(guard_address(a_.id()), address) << "the guard still lets A use its address";
    auto lease = server_->leases().find(address, now_);
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->state, stack::LeaseState::bound);
    EXPECT_TRUE(std::equal(kMacA.begin(), kMacA.end(), lease->mac.begin())) << "the lease is A's";
  }

  asio::io_context io_;
  stack::StackCounters stack_counters_;
  stack::DhcpCounters counters_;
  stack::DhcpConfig config_;
  stack::DhcpTime now_ = stack::DhcpTime{} + 1000h;
  stack::GuestGuard guard_{stack::GuardConfig{}};
  FakePort a_{1}, b_{2};
  std::unique_ptr<stack::Stack> stack_;
  std::unique_ptr<virtio::PortSwitch> switch_;
  std::unique_ptr<stack::DhcpServer> server_;
};

TEST_F(DhcpBehindTheSwitchTest, RepliesReachOnlyTheAskingPortEvenWhenBroadcast) {
  send(a_, kMacA, dhcp::MessageType::discover, {{option::client_identifier, kIdA}});
  auto offers = a_.replies();
  ASSERT_EQ(offers.size(), 1u);
  expect_broadcast_to_the_client(offers[0], stack::StackConfig{}.gateway_mac, kMacA);
  EXPECT_TRUE(b_.replies().empty()) << "B saw A's OFFER (and with it A's client identifier)";
  send(a_, kMacA, dhcp::MessageType::request,
       {{option::client_identifier, kIdA}, addr_option(option::requested_address, offers[0].yiaddr)});
  EXPECT_EQ(a_.replies().size(), 1u);
  EXPECT_TRUE(b_.replies().empty()) << "B saw A's ACK";
  send(b_, kMacB, dhcp::MessageType::discover, {});
  EXPECT_EQ(b_.replies().size(), 1u);
  EXPECT_TRUE(a_.replies().empty()) << "A saw B's OFFER";
  send(b_, kMacB, dhcp::MessageType::request, {addr_option(option::requested_address, Ipv4Address{10, 9, 9, 9})});
  auto naks = b_.replies();
  ASSERT_EQ(naks.size(), 1u);
  EXPECT_EQ(naks[0].type(), 6);
  EXPECT_TRUE(a_.replies().empty()) << "A saw B's NAK";
}

TEST_F(DhcpBehindTheSwitchTest, BCannotTakeAsLeaseWithAsClientIdentifier) {
  const Ipv4Address a_address = acquire(a_, kMacA, kIdA);
  ASSERT_EQ(a_address, kFirst);
  // INIT-REBOOT form (option 50) and RENEWING form (ciaddr), each with A's identifier.
  send(b_, kMacB, dhcp::MessageType::request,
       {{option::client_identifier, kIdA}, addr_option(option::requested_address, a_address)});
  send(b_, kMacB, dhcp::MessageType::request, {{option::client_identifier, kIdA}}, a_address);
  for (const SeenReply& r : b_.replies()) {
    EXPECT_EQ(r.type(), 6) << "B is refused A's address";
    EXPECT_EQ(r.yiaddr, kAny);
  }
  EXPECT_TRUE(a_.replies().empty());
  expect_a_keeps(a_address);
  EXPECT_FALSE(guard_address(b_.id())) << "B learned no address";
  EXPECT_EQ(counters_.events.get(DhcpEvent::foreign_client_id), 2u);

  // DISCOVER with A's identifier: B is a client of its own.
  send(b_, kMacB, dhcp::MessageType::discover,
       {{option::client_identifier, kIdA}, addr_option(option::requested_address, a_address)});
  auto offers = b_.replies();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].yiaddr, kSecond);
  expect_a_keeps(a_address);
  // A renews as usual, and hears nothing of B's attempts.
  EXPECT_EQ(acquire(a_, kMacA, kIdA), a_address);
  EXPECT_TRUE(b_.replies().empty());
}

TEST_F(DhcpBehindTheSwitchTest, BCannotReleaseDeclineOrInformOnAsAddress) {
  const Ipv4Address a_address = acquire(a_, kMacA, kIdA);
  ASSERT_EQ(a_address, kFirst);
  ASSERT_EQ(acquire(b_, kMacB, {}), kSecond);
  const std::vector<dhcp::ReplyOption> id{{option::client_identifier, kIdA}};
  auto with = [&](std::vector<dhcp::ReplyOption> more) {
    more.insert(more.begin(), id.begin(), id.end());
    return more;
  };
  send(b_, kMacB, dhcp::MessageType::release, with({addr_option(option::server_identifier, kGateway)}), a_address);
  send(b_, kMacB, dhcp::MessageType::decline,
       with({addr_option(option::server_identifier, kGateway), addr_option(option::requested_address, a_address)}));
  send(b_, kMacB, dhcp::MessageType::inform, id, a_address, kSecond, kGateway);
  EXPECT_TRUE(b_.replies().empty()) << "no answer about A's address";
  EXPECT_TRUE(a_.replies().empty());
  expect_a_keeps(a_address);
  EXPECT_EQ(guard_address(b_.id()), kSecond) << "B gave up nothing of its own either";
  EXPECT_EQ(guard_.counters().drops.get(stack::GuardDrop::dhcp_not_holder), 3u);
  EXPECT_EQ(counters_.events.get(DhcpEvent::release), 0u);
  EXPECT_EQ(counters_.events.get(DhcpEvent::decline), 0u);
  EXPECT_EQ(counters_.events.get(DhcpEvent::inform_ack), 0u);
}

}  // namespace
}  // namespace vznet::test
