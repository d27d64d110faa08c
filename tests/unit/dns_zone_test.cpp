// Unit tests for the built-in zone (dns/dns_zone.h): host/gateway names, --dns-record parsing and
// overrides, case-insensitivity, NOERROR/no data for other types, NXDOMAIN below vz.internal, reverse PTR.
#include <gtest/gtest.h>

#include "dns/dns_zone.h"

namespace vznet::dns {
namespace {

const Ipv4Address kGateway{192, 168, 64, 1};

Question question(std::string_view name, std::uint16_t qtype, std::uint16_t klass = kClassIn) {
  return Question{*Name::from_text(name), qtype, klass};
}

Bytes a_rdata(Ipv4Address a) {
  return {static_cast<std::uint8_t>(a.value >> 24), static_cast<std::uint8_t>(a.value >> 16),
          static_cast<std::uint8_t>(a.value >> 8), static_cast<std::uint8_t>(a.value)};
}

TEST(DnsZone, HostAndGatewayResolveToTheGatewayCaseInsensitively) {
  const Zone zone(kGateway, {});
  for (std::string_view name :
       {"host.vz.internal", "gateway.vz.internal", "HoSt.Vz.InTeRnAl", "GATEWAY.VZ.INTERNAL."}) {
    Zone::Lookup lookup = zone.lookup(question(name, type::a));
    ASSERT_EQ(lookup.verdict, Zone::Verdict::answer) << name;
    ASSERT_EQ(lookup.records.size(), 1u) << name;
    EXPECT_EQ(lookup.records[0].type, type::a);
    EXPECT_EQ(lookup.records[0].ttl, kZoneTtlSeconds);
    EXPECT_EQ(lookup.records[0].rdata, a_rdata(kGateway));
  }
}

TEST(DnsZone, OtherTypesForExistingNamesAreNoErrorWithoutData) {
  const Zone zone(kGateway, {{"db.example.test", Ipv4Address{10, 0, 0, 5}}});
  for (std::uint16_t qtype : {type::aaaa, type::mx, type::txt, type::cname, type::ptr}) {
    for (std::string_view name : {"host.vz.internal", "db.example.test", "vz.internal"}) {
      Zone::Lookup lookup = zone.lookup(question(name, qtype));
      EXPECT_EQ(lookup.verdict, Zone::Verdict::answer) << name << " type " << qtype;
      EXPECT_TRUE(lookup.records.empty()) << name << " type " << qtype;
    }
  }
  EXPECT_EQ(zone.lookup(question("host.vz.internal", type::any)).records.size(), 1u) << "ANY gets the A record";
}

TEST(DnsZone, UnknownNamesBelowVzInternalAreNxDomainAndTheRestIsForwarded) {
  const Zone zone(kGateway, {});
  EXPECT_EQ(zone.lookup(question("nothing.vz.internal", type::a)).verdict, Zone::Verdict::nx_domain);
  EXPECT_EQ(zone.lookup(question("a.b.VZ.internal", type::aaaa)).verdict, Zone::Verdict::nx_domain);
  EXPECT_EQ(zone.lookup(question("example.com", type::a)).verdict, Zone::Verdict::forward);
  EXPECT_EQ(zone.lookup(question("xvz.internal", type::a)).verdict, Zone::Verdict::forward) << "label boundary";
  EXPECT_EQ(zone.lookup(question("internal", type::a)).verdict, Zone::Verdict::forward);
  EXPECT_EQ(zone.lookup(question("host.vz.internal", type::a, 3)).verdict, Zone::Verdict::forward) << "class CH";
}

TEST(DnsZone, ConfiguredRecordsAnswerAndReplaceBuiltIns) {
  const Zone zone(kGateway, {{"db.example.test", Ipv4Address{10, 0, 0, 5}},
                             {"db.example.test", Ipv4Address{10, 0, 0, 6}},
                             {"host.vz.internal", Ipv4Address{10, 9, 9, 9}},
                             {"extra.vz.internal", Ipv4Address{10, 1, 1, 1}}});
  Zone::Lookup db = zone.lookup(question("DB.example.TEST", type::a));
  ASSERT_EQ(db.records.size(), 2u);
  EXPECT_EQ(db.records[0].rdata, a_rdata(Ipv4Address{10, 0, 0, 5}));
  EXPECT_EQ(db.records[1].rdata, a_rdata(Ipv4Address{10, 0, 0, 6}));
  Zone::Lookup host = zone.lookup(question("host.vz.internal", type::a));
  ASSERT_EQ(host.records.size(), 1u);
  EXPECT_EQ(host.records[0].rdata, a_rdata(Ipv4Address{10, 9, 9, 9}));
  EXPECT_EQ(zone.lookup(question("extra.vz.internal", type::a)).records.size(), 1u);
  EXPECT_EQ(zone.lookup(question("gateway.vz.internal", type::a)).records[0].rdata, a_rdata(kGateway));
  EXPECT_EQ(zone.lookup(question("sub.db.example.test", type::a)).verdict, Zone::Verdict::forward);
}

TEST(DnsZone, ReverseNameOfTheGatewayPointsToGatewayVzInternal) {
  EXPECT_EQ(reverse_name(kGateway), "1.64.168.192.in-addr.arpa");
  const Zone zone(kGateway, {});
  Zone::Lookup ptr = zone.lookup(question("1.64.168.192.IN-ADDR.ARPA", type::ptr));
  ASSERT_EQ(ptr.verdict, Zone::Verdict::answer);
  ASSERT_EQ(ptr.records.size(), 1u);
  EXPECT_EQ(ptr.records[0].type, type::ptr);
  EXPECT_EQ(ptr.records[0].rdata, ptr_rdata(*Name::from_text("gateway.vz.internal")));
  EXPECT_TRUE(zone.lookup(question("1.64.168.192.in-addr.arpa", type::a)).records.empty());
  EXPECT_EQ(zone.lookup(question("2.64.168.192.in-addr.arpa", type::ptr)).verdict, Zone::Verdict::forward);
  const Zone other(Ipv4Address{10, 0, 2, 1}, {});
  EXPECT_EQ(other.lookup(question("1.2.0.10.in-addr.arpa", type::ptr)).records.size(), 1u);
}

TEST(DnsZone, ParsesDnsRecordFlags) {
  auto ok = parse_dns_record("My-Host_1.Example.test.=10.1.2.3");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->name, "my-host_1.example.test");
  EXPECT_EQ(ok->address, (Ipv4Address{10, 1, 2, 3}));
  std::string error;
  // "a..", "..": an empty last label (found by dns_zone_fuzz: they passed as "a." and ".", names with a dot left).
  for (std::string_view bad : {"no-equals", "=10.0.0.1", "a..b=10.0.0.1", "bad name=10.0.0.1", "a/b=10.0.0.1",
                               "host=10.0.0", "host=10.0.0.256", "host=", "host=::1", "a..=10.0.0.1", "..=10.0.0.1"}) {
    error.clear();
    EXPECT_FALSE(parse_dns_record(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  EXPECT_FALSE(parse_dns_record(std::string(64, 'a') + ".test=10.0.0.1"));
  EXPECT_TRUE(parse_dns_record(std::string(63, 'a') + ".test=10.0.0.1"));
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  long_name += "x=10.0.0.1";  // 257 characters
  EXPECT_FALSE(parse_dns_record(long_name, &error));
}

}  // namespace
}  // namespace vznet::dns
