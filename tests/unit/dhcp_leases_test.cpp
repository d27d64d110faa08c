// Unit tests for the DHCP lease pool, with time moved by hand: offers and bindings, static reservations,
// release and re-acquire, exhaustion, renewal, expiry, decline quarantine, client identifiers (and the theft of
// a lease through one: issue 12), addresses guests use without DHCP (bind on first use).
#include <gtest/gtest.h>

#include "stack/dhcp_leases.h"

namespace vznet::stack {
namespace {

using base::MacAddress;

using namespace std::chrono_literals;

const Ipv4Address kFirst{192, 168, 64, 10};
const Ipv4Address kSecond{192, 168, 64, 11};
const Ipv4Address kThird{192, 168, 64, 12};

DhcpClient client(std::uint8_t n, std::vector<std::uint8_t> id = {}) {
  return DhcpClient{MacAddress{0x52, 0x54, 0, 0, 0, n}, std::move(id), {}};
}

class LeasePoolTest : public ::testing::Test {
 protected:
  LeasePoolTest() { config_.range = DhcpRange{kFirst, kThird}; }
  LeasePool& pool() {
    if (!pool_) pool_.emplace(config_);
    return *pool_;
  }
  /// DISCOVER + REQUEST: the address bound.
  Ipv4Address acquire(const DhcpClient& c) {
    auto offered = pool().offer(c, std::nullopt, now_);
    EXPECT_TRUE(offered);
    if (!offered) return {};
    auto lease = pool().bind(c, *offered, now_);
    EXPECT_TRUE(lease);
    return *offered;
  }

  DhcpConfig config_;
  std::optional<LeasePool> pool_;
  DhcpTime now_ = DhcpTime{} + 1000h;
};

TEST_F(LeasePoolTest, TwoClientsGetTwoAddressesInOrder) {
  EXPECT_EQ(acquire(client(1)), kFirst);
  EXPECT_EQ(acquire(client(2)), kSecond);
  auto lease = pool().find(kFirst, now_);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->state, LeaseState::bound);
  EXPECT_EQ(lease->mac, client(1).mac);
  EXPECT_EQ(lease->expires, now_ + 3600s);
}

TEST_F(LeasePoolTest, AClientAskingAgainGetsTheSameAddress) {
  EXPECT_EQ(acquire(client(1)), kFirst);
  EXPECT_EQ(pool().offer(client(1), std::nullopt, now_), kFirst);
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::bound) << "a second DISCOVER does not unbind";
}

TEST_F(LeasePoolTest, AnOfferHoldsTheAddressForAWhile) {
  EXPECT_EQ(pool().offer(client(1), std::nullopt, now_), kFirst);
  EXPECT_EQ(pool().offer(client(2), std::nullopt, now_), kSecond);
  EXPECT_FALSE(pool().bind(client(2), kFirst, now_)) << "held for client 1";
  EXPECT_EQ(pool().find(kFirst, now_ + kOfferHold)->state, LeaseState::released);
}

TEST_F(LeasePoolTest, RequestedAddressIsHonouredWhenFree) {
  EXPECT_EQ(pool().offer(client(1), kThird, now_), kThird);
  EXPECT_EQ(pool().offer(client(2), kThird, now_), kFirst) << "taken: the next free one instead";
  EXPECT_EQ(pool().offer(client(3), Ipv4Address{10, 0, 0, 1}, now_), kSecond) << "outside the pool: ignored";
}

TEST_F(LeasePoolTest, ReleaseAndReacquireGivesTheSameAddress) {
  EXPECT_EQ(acquire(client(1)), kFirst);
  EXPECT_TRUE(pool().release(client(1), kFirst, now_));
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::released);
  EXPECT_EQ(acquire(client(2)), kSecond) << "a released address stays its client's while others are free";
  now_ += 10min;
  EXPECT_EQ(acquire(client(1)), kFirst);
}

TEST_F(LeasePoolTest, ReleaseOfSomeoneElsesAddressIsIgnored) {
  EXPECT_EQ(acquire(client(1)), kFirst);
  EXPECT_FALSE(pool().release(client(2), kFirst, now_));
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::bound);
}

TEST_F(LeasePoolTest, ExhaustionThenReclaimOfTheLongestReleased) {
  EXPECT_EQ(acquire(client(1)), kFirst);
  EXPECT_EQ(acquire(client(2)), kSecond);
  EXPECT_EQ(acquire(client(3)), kThird);
  EXPECT_FALSE(pool().offer(client(4), std::nullopt, now_)) << "exhausted";
  EXPECT_FALSE(pool().offer(client(4), std::nullopt, now_)) << "still exhausted (memoized)";
  EXPECT_TRUE(pool().release(client(2), kSecond, now_));
  now_ += 1s;
  EXPECT_TRUE(pool().release(client(3), kThird, now_));
  EXPECT_EQ(pool().offer(client(4), std::nullopt, now_), kSecond) << "released first, reclaimed first";
  EXPECT_EQ(pool().offer(client(5), std::nullopt, now_), kThird);
  EXPECT_FALSE(pool().offer(client(6), std::nullopt, now_));
  EXPECT_EQ(pool().offer(client(2), std::nullopt, now_), std::nullopt) << "client 2 lost its address to 4";
}

TEST_F(LeasePoolTest, ExpiredLeasesAreReclaimedWhenExhausted) {
  EXPECT_EQ(acquire(client(1)), kFirst);
  EXPECT_EQ(acquire(client(2)), kSecond);
  EXPECT_EQ(acquire(client(3)), kThird);
  EXPECT_FALSE(pool().offer(client(4), std::nullopt, now_));
  now_ += 3600s;
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::released);
  EXPECT_TRUE(pool().offer(client(4), std::nullopt, now_));
}

TEST_F(LeasePoolTest, RenewExtendsTheLease) {
  EXPECT_EQ(acquire(client(1)), kFirst);
  now_ += 1800s;
  auto renewed = pool().bind(client(1), kFirst, now_);
  ASSERT_TRUE(renewed);
  EXPECT_EQ(renewed->expires, now_ + 3600s);
  now_ += 3000s;  // past the first lease's end, within the renewed one
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::bound);
}

TEST_F(LeasePoolTest, RebootingClientGetsItsFreeAddressAndOthersAreRefused) {
  // No record at all (vznet restarted): the address is free, so the client keeps it.
  auto lease = pool().bind(client(1), kSecond, now_);
  ASSERT_TRUE(lease);
  EXPECT_FALSE(pool().bind(client(2), kSecond, now_)) << "another client's";
  EXPECT_FALSE(pool().bind(client(2), Ipv4Address{192, 168, 64, 200}, now_)) << "outside the range";
  EXPECT_FALSE(pool().bind(client(2), Ipv4Address{10, 0, 0, 5}, now_)) << "foreign";
  // The fresh-address cursor skips the address client 1 took directly.
  EXPECT_EQ(acquire(client(2)), kFirst);
  EXPECT_EQ(acquire(client(3)), kThird);
}

TEST_F(LeasePoolTest, OneAddressPerClient) {
  EXPECT_EQ(acquire(client(1)), kFirst);
  ASSERT_TRUE(pool().bind(client(1), kThird, now_));  // it asked for another one and got it
  EXPECT_FALSE(pool().find(kFirst, now_)) << "its old address is forgotten";
  const Ipv4Address a = acquire(client(2));
  const Ipv4Address b = acquire(client(3));
  EXPECT_NE(a, b);
  EXPECT_TRUE((a == kFirst || a == kSecond) && (b == kFirst || b == kSecond));
}

TEST_F(LeasePoolTest, StaticReservations) {
  const Ipv4Address reserved = kSecond;
  const Ipv4Address outside{192, 168, 64, 100};
  config_.statics = {{client(9).mac, reserved}, {client(8).mac, outside}};
  EXPECT_EQ(acquire(client(1)), kFirst);
  EXPECT_EQ(acquire(client(2)), kThird) << "the reserved address is skipped";
  EXPECT_FALSE(pool().offer(client(3), reserved, now_)) << "never given to another, even when exhausted";
  EXPECT_FALSE(pool().bind(client(3), reserved, now_));
  EXPECT_EQ(acquire(client(9)), reserved);
  EXPECT_EQ(acquire(client(8)), outside) << "a static address outside the range is fine";
  EXPECT_FALSE(pool().bind(client(9), kFirst, now_)) << "a reserved MAC gets only its address";
  EXPECT_TRUE(pool().find(reserved, now_)->is_static);
  EXPECT_FALSE(pool().decline(client(9), reserved, now_)) << "a static address stays reserved";
}

TEST_F(LeasePoolTest, StaticReservationFollowsTheMacNotTheClientIdentifier) {
  config_.statics = {{client(9).mac, kThird}};
  EXPECT_EQ(pool().offer(client(9, {1, 2, 3}), std::nullopt, now_), kThird);
  EXPECT_EQ(pool().offer(client(4, {1, 2, 3}), std::nullopt, now_), kFirst) << "same identifier, other MAC";
}

TEST_F(LeasePoolTest, DeclineQuarantinesTheAddress) {
  EXPECT_EQ(acquire(client(1)), kFirst);
  EXPECT_FALSE(pool().decline(client(2), kFirst, now_)) << "only the holder may decline";
  EXPECT_TRUE(pool().decline(client(1), kFirst, now_));
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::declined);
  EXPECT_EQ(pool().offer(client(1), std::nullopt, now_), kSecond) << "the declining client gets another";
  EXPECT_FALSE(pool().bind(client(3), kFirst, now_)) << "quarantined";
  EXPECT_EQ(pool().offer(client(3), kFirst, now_), kThird);
  EXPECT_FALSE(pool().offer(client(4), std::nullopt, now_)) << "declined addresses are not reclaimed";
  now_ += kDeclineQuarantine;
  EXPECT_FALSE(pool().find(kFirst, now_)) << "forgotten after the quarantine";
  EXPECT_EQ(pool().offer(client(4), std::nullopt, now_), kFirst);
}

TEST_F(LeasePoolTest, ClientIdentifierOrMacFindsTheLease) {
  const std::vector<std::uint8_t> id{0xff, 1, 2, 3, 4};
  EXPECT_EQ(acquire(client(1, id)), kFirst);
  EXPECT_TRUE(pool().release(client(1, id), kFirst, now_));  // the guest went away; it comes back with a new MAC
  EXPECT_EQ(pool().offer(client(7, id), std::nullopt, now_), kFirst) << "same identifier, new MAC";
  EXPECT_EQ(pool().offer(client(7), std::nullopt, now_), kFirst) << "and that MAC now owns it";
  EXPECT_EQ(pool().offer(client(7, {9, 9}), std::nullopt, now_), kFirst) << "MAC match with a new identifier";
  EXPECT_EQ(acquire(client(1)), kSecond) << "the original MAC without identifier is another client now";
}

// Issue 12: a client identifier is no proof of identity (replies to a client echo it, and most are 01+MAC).
// It never moves a lease that is live (offered or bound) to another MAC.
TEST_F(LeasePoolTest, AnotherMacWithALiveLeasesClientIdentifierIsANewClient) {
  const std::vector<std::uint8_t> id{1, 0x52, 0x54, 0, 0, 0, 1};
  const DhcpClient holder = client(1, id), thief = client(2, id);
  EXPECT_EQ(acquire(holder), kFirst);
  EXPECT_FALSE(pool().bind(thief, kFirst, now_)) << "REQUEST for the holder's address: NAK";
  EXPECT_EQ(pool().find(kFirst, now_)->mac, holder.mac);
  ASSERT_TRUE(pool().holder_of_client_id(thief, now_));
  EXPECT_EQ(pool().holder_of_client_id(thief, now_)->address, kFirst);
  EXPECT_FALSE(pool().holder_of_client_id(holder, now_));
  EXPECT_EQ(pool().offer(thief, std::nullopt, now_), kSecond) << "DISCOVER: an address of its own";
  EXPECT_EQ(pool().offer(thief, kFirst, now_), kSecond) << "asking for the holder's address changes nothing";
  ASSERT_TRUE(pool().bind(thief, kSecond, now_));
  auto held = pool().find(kFirst, now_);
  ASSERT_TRUE(held) << "the thief's lease did not erase the holder's record";
  EXPECT_EQ(held->mac, holder.mac);
  EXPECT_EQ(held->state, LeaseState::bound);
  EXPECT_EQ(held->client_id, id);
  EXPECT_TRUE(pool().find(kSecond, now_)->client_id.empty()) << "the borrowed identifier is not recorded";
  auto renewed = pool().bind(holder, kFirst, now_ + 30min);
  ASSERT_TRUE(renewed) << "the holder still renews";
  EXPECT_EQ(renewed->mac, holder.mac);
  EXPECT_EQ(pool().offer(holder, std::nullopt, now_), kFirst);
}

TEST_F(LeasePoolTest, AnOfferIsAsMuchTheMacsAsALease) {
  const std::vector<std::uint8_t> id{1, 2, 3};
  EXPECT_EQ(pool().offer(client(1, id), std::nullopt, now_), kFirst);
  EXPECT_FALSE(pool().bind(client(2, id), kFirst, now_)) << "REQUEST before the holder's";
  pool().withdraw_offer(client(2, id), now_);
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::offered) << "nor withdrawn by another MAC";
  EXPECT_TRUE(pool().bind(client(1, id), kFirst, now_));
}

TEST_F(LeasePoolTest, ReleaseAndDeclineOnlyFromTheHoldersMac) {
  const std::vector<std::uint8_t> id{1, 2, 3};
  EXPECT_EQ(acquire(client(1, id)), kFirst);
  EXPECT_FALSE(pool().release(client(2, id), kFirst, now_)) << "RELEASE with the holder's identifier";
  EXPECT_FALSE(pool().decline(client(2, id), kFirst, now_)) << "DECLINE with the holder's identifier";
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::bound);
  EXPECT_EQ(pool().find(kFirst, now_)->mac, client(1).mac);
  EXPECT_TRUE(pool().release(client(1), kFirst, now_)) << "the holder's MAC, whatever identifier it sends now";
}

TEST_F(LeasePoolTest, AnIdentifierTakesOverAnEndedLeaseOnly) {
  const std::vector<std::uint8_t> id{1, 2, 3};
  EXPECT_EQ(acquire(client(1, id)), kFirst);
  EXPECT_EQ(pool().offer(client(2, id), std::nullopt, now_), kSecond) << "live: a new address";
  pool().withdraw_offer(client(2, id), now_);
  now_ += 3600s;  // client 1's lease ran out (its guest is gone): the identifier finds it again
  EXPECT_FALSE(pool().holder_of_client_id(client(3, id), now_));
  EXPECT_EQ(acquire(client(3, id)), kFirst);
  EXPECT_EQ(pool().find(kFirst, now_)->mac, client(3).mac);
}

TEST_F(LeasePoolTest, WithdrawnOfferReleasesTheAddress) {
  EXPECT_EQ(pool().offer(client(1), std::nullopt, now_), kFirst);
  pool().withdraw_offer(client(1), now_);
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::released);
  EXPECT_EQ(pool().offer(client(1), std::nullopt, now_), kFirst) << "still its address if it comes back";
}

TEST_F(LeasePoolTest, SnapshotListsRecordsWithTheirStateNow) {
  acquire(client(1));
  acquire(client(2));
  pool().release(client(2), kSecond, now_);
  auto all = pool().snapshot(now_);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].address, kFirst);
  EXPECT_EQ(all[0].state, LeaseState::bound);
  EXPECT_EQ(all[1].state, LeaseState::released);
  EXPECT_EQ(pool().snapshot(now_ + 2h)[0].state, LeaseState::released);
}

TEST_F(LeasePoolTest, LargePoolFloodStaysFast) {
  config_.subnet = *Ipv4Subnet::parse("10.0.0.0/16");
  config_.gateway = Ipv4Address{10, 0, 0, 1};
  config_.dns_server = config_.gateway;
  config_.range.reset();
  std::size_t offered = 0;
  for (std::uint32_t i = 0; i < 70000; ++i) {
    DhcpClient c{MacAddress{0x52, 0, 0, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                            static_cast<std::uint8_t>(i)},
                 {},
                 {}};
    if (pool().offer(c, std::nullopt, now_)) ++offered;
  }
  EXPECT_EQ(offered, 65533u);  // 10.0.0.2 .. 10.0.255.254
}

TEST_F(LeasePoolTest, AnAddressInUseIsTheMacsAndOfferedToNoOtherClient) {
  const AddressClaim claim = pool().use(client(1).mac, kFirst, now_);
  EXPECT_TRUE(claim.granted);
  ASSERT_TRUE(pool().find(kFirst, now_));
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::in_use);
  EXPECT_EQ(pool().find(kFirst, now_ + 1000h)->state, LeaseState::in_use) << "no end while in use";
  EXPECT_EQ(acquire(client(2)), kSecond) << "the pool skips it";
  EXPECT_FALSE(pool().bind(client(3), kFirst, now_)) << "nor may another client REQUEST it";
  const AddressClaim other = pool().use(client(3).mac, kFirst, now_);
  EXPECT_FALSE(other.granted);
  EXPECT_EQ(other.holder, client(1).mac);
  EXPECT_TRUE(pool().use(client(1).mac, kFirst, now_).granted) << "the MAC's own, again";
}

TEST_F(LeasePoolTest, UseIsRefusedWhereAnotherMacHoldsTheAddress) {
  config_.statics.push_back({client(9).mac, kThird});
  EXPECT_EQ(acquire(client(1)), kFirst);
  ASSERT_TRUE(pool().offer(client(2), std::nullopt, now_));  // kSecond, offered
  for (const Ipv4Address held : {kFirst, kSecond, kThird}) {
    const AddressClaim claim = pool().use(client(3).mac, held, now_);
    EXPECT_FALSE(claim.granted) << held.to_string();
  }
  EXPECT_EQ(pool().use(client(3).mac, kThird, now_).holder, client(9).mac);
  EXPECT_EQ(pool().find(kFirst, now_)->mac, client(1).mac);
  EXPECT_TRUE(pool().use(client(3).mac, kFirst, now_ + 2h).granted) << "once the lease has ended";
}

TEST_F(LeasePoolTest, TheUsersLeaseAndOfferGoWithIt) {
  EXPECT_EQ(acquire(client(1)), kFirst);
  EXPECT_TRUE(pool().use(client(1).mac, kSecond, now_).granted);  // reconfigured with a static address
  EXPECT_FALSE(pool().find(kFirst, now_)) << "one record a MAC";
  EXPECT_EQ(pool().offer(client(1), std::nullopt, now_), kSecond) << "DHCP later offers the address it uses";
  EXPECT_EQ(pool().find(kSecond, now_)->state, LeaseState::in_use) << "a DISCOVER does not turn it into an offer";
  ASSERT_TRUE(pool().bind(client(1), kSecond, now_));
  EXPECT_EQ(pool().find(kSecond, now_)->state, LeaseState::bound) << "a REQUEST makes it a lease like any other";
}

TEST_F(LeasePoolTest, EndOfUseLeavesALeaseForTheLeaseTime) {
  ASSERT_TRUE(pool().use(client(1).mac, kFirst, now_).granted);
  pool().end_use(client(2).mac, kFirst, now_);
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::in_use) << "only its MAC ends it";
  pool().end_use(client(1).mac, kFirst, now_);
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::bound);
  EXPECT_FALSE(pool().use(client(2).mac, kFirst, now_).granted) << "kept for the guest while it restarts";
  EXPECT_EQ(pool().find(kFirst, now_ + config_.lease_time)->state, LeaseState::released);
  EXPECT_TRUE(pool().use(client(2).mac, kFirst, now_ + config_.lease_time).granted);
}

TEST_F(LeasePoolTest, UseOutsideTheRangeRecordsNothing) {
  const Ipv4Address outside{192, 168, 64, 200};
  EXPECT_TRUE(pool().use(client(1).mac, outside, now_).granted);
  EXPECT_FALSE(pool().find(outside, now_));
  EXPECT_EQ(acquire(client(2)), kFirst);
}

TEST_F(LeasePoolTest, AQuarantinedAddressMayBeUsed) {
  EXPECT_EQ(acquire(client(1)), kFirst);
  ASSERT_TRUE(pool().decline(client(1), kFirst, now_));  // someone answered ARP for it: perhaps this guest
  EXPECT_TRUE(pool().use(client(2).mac, kFirst, now_).granted);
  EXPECT_EQ(pool().find(kFirst, now_)->state, LeaseState::in_use);
  EXPECT_EQ(pool().find(kFirst, now_ + kDeclineQuarantine + 1s)->state, LeaseState::in_use)
      << "the quarantine's end does not forget it";
}

TEST(DhcpConfig, ValidationNamesTheProblem) {
  DhcpConfig config;
  EXPECT_FALSE(config.validate());
  EXPECT_EQ(config.effective_range(), (DhcpRange{Ipv4Address{192, 168, 64, 2}, Ipv4Address{192, 168, 64, 254}}));
  config.range = DhcpRange{Ipv4Address{192, 168, 64, 1}, Ipv4Address{192, 168, 64, 9}};
  EXPECT_NE(config.validate()->find("gateway"), std::string::npos);
  config.range = DhcpRange{Ipv4Address{192, 168, 64, 2}, Ipv4Address{192, 168, 65, 9}};
  EXPECT_NE(config.validate()->find("not in the subnet"), std::string::npos);
  config.range.reset();
  config.statics = {{MacAddress{2, 0, 0, 0, 0, 1}, Ipv4Address{192, 168, 64, 255}}};
  EXPECT_NE(config.validate()->find("broadcast"), std::string::npos);
  config.statics = {{MacAddress{2, 0, 0, 0, 0, 1}, Ipv4Address{192, 168, 64, 5}},
                    {MacAddress{2, 0, 0, 0, 0, 1}, Ipv4Address{192, 168, 64, 6}}};
  EXPECT_NE(config.validate()->find("another reservation"), std::string::npos);
  config.statics.clear();
  config.lease_time = 1s;
  EXPECT_NE(config.validate()->find("--lease-time"), std::string::npos);
  config.lease_time = 60s;
  config.search_domains = {"bad domain"};
  EXPECT_NE(config.validate()->find("--dns-search"), std::string::npos);
}

}  // namespace
}  // namespace vznet::stack
