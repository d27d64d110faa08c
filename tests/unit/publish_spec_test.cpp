// Unit tests for docker-style publish specs (-p, POST /forwards): every accepted form with its parsed value
// and canonical text (which must read back to the same spec), and bad inputs with the part the error names.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "forward/publish_spec.h"

namespace vznet::forward {
namespace {

constexpr auto tcp = PublishProtocol::tcp;
constexpr auto udp = PublishProtocol::udp;

PublishSpec spec(PublishProtocol protocol, const char* host_address, PortRange host_ports,
                 std::optional<Ipv4Address> guest_address, PortRange guest_ports) {
  PublishSpec s;
  s.protocol = protocol;
  s.host_address = asio::ip::make_address(host_address);
  s.host_ports = host_ports;
  s.guest_address = guest_address;
  s.guest_ports = guest_ports;
  return s;
}

constexpr PortRange any{0, 0};
constexpr PortRange port(std::uint16_t p) { return {p, p}; }
const Ipv4Address guest3{192, 168, 64, 3};

struct GoodCase {
  const char* input;
  PublishSpec expected;
  const char* canonical;
};

const std::vector<GoodCase>& good_cases() {
  static const std::vector<GoodCase> cases{
      // Guest port only: any host port on loopback.
      {"80", spec(tcp, "127.0.0.1", any, {}, port(80)), "127.0.0.1::80/tcp"},
      {"80/udp", spec(udp, "127.0.0.1", any, {}, port(80)), "127.0.0.1::80/udp"},
      {":80", spec(tcp, "127.0.0.1", any, {}, port(80)), "127.0.0.1::80/tcp"},
      {"80-81", spec(tcp, "127.0.0.1", any, {}, {80, 81}), "127.0.0.1::80-81/tcp"},
      {"127.0.0.1::80", spec(tcp, "127.0.0.1", any, {}, port(80)), "127.0.0.1::80/tcp"},
      {"0.0.0.0::80/udp", spec(udp, "0.0.0.0", any, {}, port(80)), "0.0.0.0::80/udp"},
      // Host port and guest port.
      {"8080:80", spec(tcp, "127.0.0.1", port(8080), {}, port(80)), "127.0.0.1:8080:80/tcp"},
      {"8080:80/tcp", spec(tcp, "127.0.0.1", port(8080), {}, port(80)), "127.0.0.1:8080:80/tcp"},
      {"53:53/udp", spec(udp, "127.0.0.1", port(53), {}, port(53)), "127.0.0.1:53:53/udp"},
      {"1:65535", spec(tcp, "127.0.0.1", port(1), {}, port(65535)), "127.0.0.1:1:65535/tcp"},
      {"08080:080", spec(tcp, "127.0.0.1", port(8080), {}, port(80)), "127.0.0.1:8080:80/tcp"},
      {"8080-8080:80-80", spec(tcp, "127.0.0.1", port(8080), {}, port(80)), "127.0.0.1:8080:80/tcp"},
      // Ranges: equal lengths map port to port; a host range with one guest port picks one.
      {"8080-8089:80-89", spec(tcp, "127.0.0.1", {8080, 8089}, {}, {80, 89}), "127.0.0.1:8080-8089:80-89/tcp"},
      {"65534-65535:1-2/udp", spec(udp, "127.0.0.1", {65534, 65535}, {}, {1, 2}), "127.0.0.1:65534-65535:1-2/udp"},
      {"8000-8010:80", spec(tcp, "127.0.0.1", {8000, 8010}, {}, port(80)), "127.0.0.1:8000-8010:80/tcp"},
      // Host addresses.
      {"0.0.0.0:8080:80", spec(tcp, "0.0.0.0", port(8080), {}, port(80)), "0.0.0.0:8080:80/tcp"},
      {"192.168.1.10:8080:80", spec(tcp, "192.168.1.10", port(8080), {}, port(80)), "192.168.1.10:8080:80/tcp"},
      {"0.0.0.0:8000-8010:80", spec(tcp, "0.0.0.0", {8000, 8010}, {}, port(80)), "0.0.0.0:8000-8010:80/tcp"},
      {"[::1]:8080:80", spec(tcp, "::1", port(8080), {}, port(80)), "[::1]:8080:80/tcp"},
      {"[::]:8080:80/udp", spec(udp, "::", port(8080), {}, port(80)), "[::]:8080:80/udp"},
      {"[::]::80", spec(tcp, "::", any, {}, port(80)), "[::]::80/tcp"},
      {"[2001:DB8:0:0::1]:443:443", spec(tcp, "2001:db8::1", port(443), {}, port(443)), "[2001:db8::1]:443:443/tcp"},
      {"[::ffff:127.0.0.1]:8080:80", spec(tcp, "::ffff:127.0.0.1", port(8080), {}, port(80)),
       "[::ffff:127.0.0.1]:8080:80/tcp"},
      // Explicit guest address.
      {"8080:192.168.64.3:80", spec(tcp, "127.0.0.1", port(8080), guest3, port(80)),
       "127.0.0.1:8080:192.168.64.3:80/tcp"},
      {"0.0.0.0:8080:192.168.64.3:80", spec(tcp, "0.0.0.0", port(8080), guest3, port(80)),
       "0.0.0.0:8080:192.168.64.3:80/tcp"},
      {"0.0.0.0:8080-8081:192.168.64.3:80-81", spec(tcp, "0.0.0.0", {8080, 8081}, guest3, {80, 81}),
       "0.0.0.0:8080-8081:192.168.64.3:80-81/tcp"},
      {"127.0.0.1::192.168.64.3:80", spec(tcp, "127.0.0.1", any, guest3, port(80)), "127.0.0.1::192.168.64.3:80/tcp"},
      {"[::1]:8080-8081:192.168.64.3:80-81/udp", spec(udp, "::1", {8080, 8081}, guest3, {80, 81}),
       "[::1]:8080-8081:192.168.64.3:80-81/udp"},
      {"[::1]::192.168.64.3:80", spec(tcp, "::1", any, guest3, port(80)), "[::1]::192.168.64.3:80/tcp"},
  };
  return cases;
}

TEST(PublishSpec, ParsesEveryForm) {
  for (const auto& c : good_cases()) {
    SCOPED_TRACE(c.input);
    PublishSpec parsed;
    ASSERT_NO_THROW(parsed = parse_publish_spec(c.input));
    EXPECT_EQ(parsed, c.expected) << parsed.to_string();
  }
}

TEST(PublishSpec, CanonicalFormRoundTrips) {
  for (const auto& c : good_cases()) {
    SCOPED_TRACE(c.input);
    const PublishSpec parsed = parse_publish_spec(c.input);
    EXPECT_EQ(parsed.to_string(), c.canonical);
    PublishSpec again;
    ASSERT_NO_THROW(again = parse_publish_spec(parsed.to_string()));
    EXPECT_EQ(again, parsed);
    EXPECT_EQ(again.to_string(), c.canonical);
  }
}

TEST(PublishSpec, DefaultsAreLoopbackAndTcp) {
  const PublishSpec s = parse_publish_spec("8080:80");
  EXPECT_EQ(s.protocol, PublishProtocol::tcp);
  EXPECT_EQ(s.host_address, asio::ip::make_address("127.0.0.1"));
  EXPECT_FALSE(s.guest_address);
  EXPECT_EQ(to_string(PublishProtocol::tcp), "tcp");
  EXPECT_EQ(to_string(PublishProtocol::udp), "udp");
}

TEST(PublishSpec, CountsPairsAndClassifiesHostPorts) {
  struct Case {
    const char* input;
    std::size_t pairs;
    bool any;
    bool pick_one;
  };
  for (const Case& c : {Case{"80", 1, true, false}, Case{"80-82", 3, true, false}, Case{"8080:80", 1, false, false},
                        Case{"8080-8089:80-89", 10, false, false}, Case{"8000-8010:80", 1, false, true},
                        Case{"1-65535:1-65535", 65535, false, false}, Case{"127.0.0.1::80", 1, true, false}}) {
    SCOPED_TRACE(c.input);
    const PublishSpec s = parse_publish_spec(c.input);
    EXPECT_EQ(s.pair_count(), c.pairs);
    EXPECT_EQ(s.host_port_any(), c.any);
    EXPECT_EQ(s.host_port_pick_one(), c.pick_one);
  }
  EXPECT_EQ((PortRange{80, 89}).size(), 10u);
  EXPECT_EQ((PortRange{1, 65535}).size(), 65535u);
  EXPECT_EQ((PortRange{80, 80}).size(), 1u);
}

struct BadCase {
  const char* input;
  const char* mentions;  ///< the error message must contain this (the offending part)
};

TEST(PublishSpec, RejectsBadInputNamingTheBadPart) {
  const BadCase cases[] = {
      {"", "empty publish spec"},
      // Ports.
      {"0:80", "invalid port \"0\" in \"0:80\""},
      {"8080:0", "invalid port \"0\""},
      {"0", "invalid port \"0\""},
      {"65536:80", "invalid port \"65536\""},
      {"8080:65536", "invalid port \"65536\""},
      {"99999999999999999999999:80", "invalid port \"99999999999999999999999\""},
      {"http", "invalid port \"http\""},
      {"8080:abc", "invalid port \"abc\""},
      {"80a", "invalid port \"80a\""},
      {"-80", "invalid port range \"-80\""},
      {"+80", "invalid port \"+80\""},
      {"8080:", "missing guest port in \"8080:\""},
      {":", "missing guest port"},
      {"/tcp", "missing guest port"},
      {"127.0.0.1:8080:", "missing guest port"},
      // Spaces are junk like any other character.
      {" 80", "invalid port \" 80\""},
      {"80 ", "invalid port \"80 \""},
      {"8080: 80", "invalid port \" 80\""},
      {"8080 :80", "invalid port \"8080 \""},
      {"80/tcp ", "unknown protocol \"tcp \""},
      // Ranges.
      {"90-80", "reversed port range \"90-80\""},
      {"8090-8080:80-90", "reversed port range \"8090-8080\""},
      {"8080-:80", "invalid port range \"8080-\""},
      {"8080-8081-8082:80", "invalid port range \"8080-8081-8082\""},
      {"0-10:80", "invalid port range \"0-10\""},
      {"65535-65536:80-81", "invalid port range \"65535-65536\""},
      {"8080:65535-65536", "invalid port range \"65535-65536\""},
      {"8080-8081:80-82", "host ports \"8080-8081\" and guest ports \"80-82\" differ in length"},
      {"8080:80-81", "host ports \"8080\" and guest ports \"80-81\" differ in length"},
      {"127.0.0.1:8080-8089:192.168.64.3:80-81", "host ports \"8080-8089\" and guest ports \"80-81\""},
      // Protocols.
      {"80/sctp", "sctp is not supported in \"80/sctp\""},
      {"80/SCTP", "sctp is not supported"},
      {"80/TCP", "protocol \"TCP\" must be lowercase"},
      {"80/Udp", "protocol \"Udp\" must be lowercase"},
      {"80/icmp", "unknown protocol \"icmp\""},
      {"80/", "missing protocol after \"/\""},
      {"80/tcp/udp", "unknown protocol \"tcp/udp\""},
      // Host addresses.
      {"1.2.3:8080:80", "invalid host address \"1.2.3\""},
      {"256.0.0.1:8080:80", "invalid host address \"256.0.0.1\""},
      {"127.0.0.01:8080:80", "invalid host address \"127.0.0.01\""},
      {"localhost.:8080:80", "invalid host address \"localhost.\""},
      {"localhost:8080:80", "invalid host address \"localhost\""},
      {"80a:8080:80", "invalid host address \"80a\""},
      {"8080:80:90", "invalid guest address \"80\""},
      {":8080:80", "empty host address in \":8080:80\""},
      {"::80", "empty host address"},
      {":8080:192.168.64.3:80", "empty host address"},
      {"::1:8080:80", "unbracketed IPv6 host address \"::1\""},
      {"fe80::1:8080:80", "unbracketed IPv6 host address \"fe80::1\""},
      {"::1:8080:192.168.64.3:80", "unbracketed IPv6 host address"},
      {"[::1:8080:80", "unclosed \"[\""},
      {"[::1]8080:80", "expected \":\" after \"[::1]\""},
      {"[::1]:80", "expected HOST_PORT:GUEST_PORT after \"[::1]\""},
      {"[zz::1]:8080:80", "invalid IPv6 host address \"[zz::1]\""},
      {"[]:8080:80", "invalid IPv6 host address \"[]\""},
      {"[127.0.0.1]:8080:80", "IPv4 host address \"[127.0.0.1]\" must not be in brackets"},
      {"[fe80::1%eth0]:8080:80", "unsupported IPv6 zone id in host address \"[fe80::1%eth0]\""},
      {"::1]:8080:80", "unexpected \"]\""},
      {"80[:80", "unexpected \"[\""},
      // Guest addresses.
      {"8080:192.168.64:80", "invalid guest address \"192.168.64\""},
      {"8080:guest:80", "invalid guest address \"guest\""},
      {"0.0.0.0:8080::80", "empty guest address"},
      {"8080:0.0.0.0:80", "guest address \"0.0.0.0\" is not a unicast address"},
      {"8080:255.255.255.255:80", "guest address \"255.255.255.255\" is not a unicast address"},
      {"8080:224.0.0.1:80", "guest address \"224.0.0.1\" is not a unicast address"},
      {"8080:[::1]:80", "guest address \"[::1]\" is not IPv4"},
      {"[::1]:8080:[::2]:80", "guest address \"[::2]\" is not IPv4"},
      {"8080:::1:80", "guest address \"::1\" is not IPv4"},
      {"0.0.0.0:8080:fe80::1:80", "guest address \"fe80::1\" is not IPv4"},
      {"[::1]:8080:fe80::2:80", "guest address \"fe80::2\" is not IPv4"},
      // Shape.
      {"1:2:3:4:5", "too many fields in \"1:2:3:4:5\""},
      {"0.0.0.0:8080:192.168.64.3:80:90", "too many fields"},
      {"[::1]:1:2:3:4", "too many fields"},
      {"127.0.0.1:8080:80:", "invalid guest address \"80\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    try {
      const PublishSpec s = parse_publish_spec(c.input);
      ADD_FAILURE() << "accepted as " << s.to_string();
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(c.mentions), std::string::npos) << "message: " << e.what();
    }
  }
}

TEST(PublishSpec, ErrorQuotesTheWholeSpec) {
  try {
    parse_publish_spec("0.0.0.0:8080:80/sctp");
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "sctp is not supported in \"0.0.0.0:8080:80/sctp\"");
  }
}

}  // namespace
}  // namespace vznet::forward
