// Unit tests for the DHCP wire codec: well-formed messages both ways, RFC 3397 search lists, and truncated or
// hostile input (every such message is a counted drop with the right reason, never a read past the end).
#include <gtest/gtest.h>

#include "stack/dhcp_message.h"

namespace vznet::stack::dhcp {
namespace {

const Mac kMac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

Message discover_header() {
  Message m;
  m.type = MessageType::discover;
  m.xid = 0xCAFEBABE;
  m.flags = 0x8000;
  std::copy(kMac.begin(), kMac.end(), m.chaddr.begin());
  return m;
}

Bytes discover() {
  return build_request(discover_header(), {{option::parameter_request_list, {1, 3, 6, 26}},
                                           {option::client_identifier, {1, 0x52, 0x54, 0, 0x12, 0x34, 0x56}},
                                           {option::hostname, {'v', 'm', '1'}}});
}

/// The options area of a built message, to corrupt in tests.
constexpr std::size_t kFirstOption = kOptionsOffset;

TEST(DhcpMessage, ParsesWhatBuildRequestWrote) {
  auto result = parse(discover());
  ASSERT_TRUE(result.message);
  const Message& m = *result.message;
  EXPECT_EQ(m.type, MessageType::discover);
  EXPECT_EQ(m.xid, 0xCAFEBABEu);
  EXPECT_EQ(m.flags, 0x8000);
  EXPECT_EQ(m.mac(), kMac);
  EXPECT_EQ(m.hostname(), "vm1");
  EXPECT_EQ(m.client_identifier(), (Bytes{1, 0x52, 0x54, 0, 0x12, 0x34, 0x56}));
  EXPECT_EQ(m.parameter_request_list(), (Bytes{1, 3, 6, 26}));
  EXPECT_FALSE(m.address_option(option::requested_address));
  EXPECT_FALSE(m.max_message_size());
}

TEST(DhcpMessage, RepeatedOptionsConcatenate) {
  auto bytes = build_request(discover_header(),
                             {{option::parameter_request_list, {1, 3}}, {option::parameter_request_list, {6}}});
  auto result = parse(bytes);
  ASSERT_TRUE(result.message);
  EXPECT_EQ(result.message->parameter_request_list(), (Bytes{1, 3, 6}));
}

TEST(DhcpMessage, AddressOptionOfTheWrongLengthReadsAsAbsent) {
  auto result = parse(build_request(discover_header(), {{option::requested_address, {192, 168, 64}}}));
  ASSERT_TRUE(result.message);
  EXPECT_FALSE(result.message->address_option(option::requested_address));
}

TEST(DhcpMessage, MaxMessageSizeBelowTheMinimumIsIgnored) {
  auto small = parse(build_request(discover_header(), {{option::max_message_size, be16(300)}}));
  ASSERT_TRUE(small.message);
  EXPECT_FALSE(small.message->max_message_size());
  auto large = parse(build_request(discover_header(), {{option::max_message_size, be16(1500)}}));
  ASSERT_TRUE(large.message);
  EXPECT_EQ(large.message->max_message_size(), 1500u - 28);
}

TEST(DhcpMessage, BuildsARepliesHeaderAndOptions) {
  auto request = parse(discover());
  ASSERT_TRUE(request.message);
  Reply reply{MessageType::offer,
              Ipv4Address{192, 168, 64, 2},
              Ipv4Address{},
              {{option::server_identifier, address(Ipv4Address{192, 168, 64, 1})}, {option::lease_time, be32(3600)}}};
  Bytes out = build_reply(*request.message, reply, kMinMaxMessageSize);
  ASSERT_EQ(out.size(), kMinReplySize);  // padded to the BOOTP minimum
  EXPECT_EQ(out[0], 2);                  // BOOTREPLY
  EXPECT_EQ(out[1], 1);
  EXPECT_EQ(out[2], 6);
  EXPECT_EQ((Bytes{out.begin() + 4, out.begin() + 8}), (Bytes{0xCA, 0xFE, 0xBA, 0xBE}));
  EXPECT_EQ(out[10], 0x80);                                                          // broadcast flag copied
  EXPECT_EQ((Bytes{out.begin() + 16, out.begin() + 20}), (Bytes{192, 168, 64, 2}));  // yiaddr
  EXPECT_TRUE(std::equal(kMac.begin(), kMac.end(), out.begin() + 28));
  EXPECT_EQ((Bytes{out.begin() + 236, out.begin() + 240}), (Bytes{99, 130, 83, 99}));
  const Bytes options{out.begin() + kFirstOption, out.begin() + kFirstOption + 16};
  EXPECT_EQ(options, (Bytes{53, 1, 2, 54, 4, 192, 168, 64, 1, 51, 4, 0, 0, 0x0E, 0x10, 255}));
}

TEST(DhcpMessage, LongOptionsAreSplitAndOptionsThatDoNotFitAreLeftOut) {
  auto request = parse(discover());
  ASSERT_TRUE(request.message);
  Reply reply{
      MessageType::ack,
      Ipv4Address{192, 168, 64, 2},
      Ipv4Address{},
      {{option::lease_time, be32(60)}, {option::domain_search, Bytes(300, 'a')}, {option::router, Bytes(4, 1)}}};
  Bytes split = build_reply(*request.message, reply, 1000);
  // 240 + 3 (type) + 6 (lease) + 255+2 + 45+2 (search in two pieces) + 6 (router) + 1 (end)
  ASSERT_EQ(split.size(), 560u);
  EXPECT_EQ(split[249], option::domain_search);
  EXPECT_EQ(split[250], 255);
  EXPECT_EQ(split[249 + 257], option::domain_search);
  EXPECT_EQ(split[249 + 258], 45);
  Bytes limited = build_reply(*request.message, reply, kMinMaxMessageSize);
  EXPECT_LE(limited.size(), kMinMaxMessageSize);
  EXPECT_EQ(limited[249], option::router);  // the search list did not fit; the router still did
}

TEST(DhcpMessage, SearchListUsesLabelsAndCompressionPointers) {
  // RFC 3397 section 3's example: eng.apple.com, marketing.apple.com.
  auto encoded = encode_search_list({"eng.apple.com", "marketing.apple.com."});
  ASSERT_TRUE(encoded);
  const Bytes want{3, 'e', 'n', 'g', 5,   'a', 'p', 'p', 'l', 'e', 3,   'c',  'o', 'm',
                   0, 9,   'm', 'a', 'r', 'k', 'e', 't', 'i', 'n', 'g', 0xC0, 4};
  EXPECT_EQ(*encoded, want);
  EXPECT_EQ(encode_search_list({"vz.internal", "vz.internal"}),
            (Bytes{2, 'v', 'z', 8, 'i', 'n', 't', 'e', 'r', 'n', 'a', 'l', 0, 0xC0, 0}));
}

TEST(DhcpMessage, SearchListRejectsInvalidNames) {
  EXPECT_FALSE(encode_search_list({""}));
  EXPECT_FALSE(encode_search_list({"a..b"}));
  EXPECT_FALSE(encode_search_list({".a"}));
  EXPECT_FALSE(encode_search_list({std::string(64, 'a') + ".com"}));
  EXPECT_FALSE(encode_search_list({"white space.com"}));
  EXPECT_TRUE(encode_search_list({std::string(63, 'a') + ".com"}));
}

// --- hostile and truncated input ------------------------------------------------------------------------

DhcpDrop drop_reason(const Bytes& bytes) {
  auto result = parse(bytes);
  EXPECT_FALSE(result.message);
  return result.error;
}

TEST(DhcpMessage, TruncatedMessagesAreDropped) {
  const Bytes good = discover();
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{235}, std::size_t{239}}) {
    EXPECT_EQ(drop_reason(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size))), DhcpDrop::truncated)
        << size;
  }
  // Cut inside the options: every prefix either parses (cut after a whole option, in the padding) or is
  // dropped as a bad option or for want of the message type; none reads past its end.
  for (std::size_t size = kOptionsOffset; size <= good.size(); ++size) {
    Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size));
    auto result = parse(cut);
    if (!result.message) {
      EXPECT_TRUE(result.error == DhcpDrop::bad_option || result.error == DhcpDrop::no_message_type) << size;
    }
  }
}

TEST(DhcpMessage, BadMagicCookieIsDropped) {
  Bytes b = discover();
  b[236] = 0x63;
  b[239] = 0x00;
  EXPECT_EQ(drop_reason(b), DhcpDrop::bad_magic);
}

TEST(DhcpMessage, OptionLengthPastTheEndIsDropped) {
  Bytes b = discover();
  b.resize(kFirstOption + 3);  // 53, 1, 1
  b.push_back(option::hostname);
  b.push_back(200);  // claims 200 bytes; 2 follow
  b.push_back('x');
  b.push_back('y');
  EXPECT_EQ(drop_reason(b), DhcpDrop::bad_option);
  // An option code as the very last byte, with no room for its length.
  Bytes c(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(kFirstOption + 3));
  c.push_back(option::hostname);
  EXPECT_EQ(drop_reason(c), DhcpDrop::bad_option);
}

TEST(DhcpMessage, ZeroLengthOptionsAreAcceptedButNotAsMessageType) {
  Bytes b = discover();
  b.resize(kFirstOption);
  b.insert(b.end(), {option::hostname, 0, option::message_type, 1, 1, option::end});
  auto result = parse(b);
  ASSERT_TRUE(result.message);
  EXPECT_EQ(result.message->hostname(), "");
  Bytes c = discover();
  c.resize(kFirstOption);
  c.insert(c.end(), {option::message_type, 0, option::end});
  EXPECT_EQ(drop_reason(c), DhcpDrop::bad_message_type);
}

TEST(DhcpMessage, MissingOrInvalidMessageTypeIsDropped) {
  Bytes b = discover();
  b.resize(kFirstOption);
  b.insert(b.end(), {option::hostname, 1, 'x', option::end});
  EXPECT_EQ(drop_reason(b), DhcpDrop::no_message_type);
  for (std::uint8_t type : {0, 9, 200}) {
    Bytes c = discover();
    c[kFirstOption + 2] = type;
    EXPECT_EQ(drop_reason(c), DhcpDrop::bad_message_type) << int{type};
  }
  for (MessageType server_only : {MessageType::offer, MessageType::ack, MessageType::nak}) {
    Bytes c = discover();
    c[kFirstOption + 2] = static_cast<std::uint8_t>(server_only);
    EXPECT_EQ(drop_reason(c), DhcpDrop::bad_message_type);
  }
}

TEST(DhcpMessage, HugeHlenAndOtherHardwareAreDropped) {
  Bytes b = discover();
  b[2] = 255;  // hlen far beyond chaddr's 16 bytes
  EXPECT_EQ(drop_reason(b), DhcpDrop::bad_hardware);
  b[2] = 16;
  EXPECT_EQ(drop_reason(b), DhcpDrop::bad_hardware);
  Bytes c = discover();
  c[1] = 6;  // IEEE 802
  EXPECT_EQ(drop_reason(c), DhcpDrop::bad_hardware);
}

TEST(DhcpMessage, RepliesAreNotRequests) {
  Bytes b = discover();
  b[0] = 2;
  EXPECT_EQ(drop_reason(b), DhcpDrop::not_a_request);
}

TEST(DhcpMessage, OverloadedSnameAndFileAreIgnored) {
  Bytes b = discover();
  // Option 52 says sname and file carry options; fill them with garbage (including a bogus type). Only the
  // options field counts, so the message still parses as the DISCOVER it is.
  std::fill(b.begin() + 44, b.begin() + 236, 0xFF);
  b[44] = option::message_type;
  b[45] = 1;
  b[46] = 5;
  b.resize(b.size() - 1);
  auto end = std::find(b.begin() + static_cast<std::ptrdiff_t>(kFirstOption), b.end(), option::end);
  b.insert(end, {option::overload, 1, 3});
  auto result = parse(b);
  ASSERT_TRUE(result.message);
  EXPECT_EQ(result.message->type, MessageType::discover);
}

TEST(DhcpMessage, MissingEndOptionIsTolerated) {
  Bytes b = discover();
  b.resize(kFirstOption + 3);  // just option 53, no end
  auto result = parse(b);
  ASSERT_TRUE(result.message);
  EXPECT_EQ(result.message->type, MessageType::discover);
}

TEST(DhcpMessage, HostnameIsMadePrintableAndBounded) {
  Bytes name(200, 'h');
  name[0] = '\n';
  auto result = parse(build_request(discover_header(), {{option::hostname, name}}));
  ASSERT_TRUE(result.message);
  EXPECT_EQ(result.message->hostname().size(), 63u);
  EXPECT_EQ(result.message->hostname()[0], '?');
}

TEST(DhcpMessage, RandomBytesNeverCrash) {
  std::uint32_t state = 12345;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  Bytes base = discover();
  for (int round = 0; round < 20000; ++round) {
    Bytes b = base;
    b.resize(kOptionsOffset + next() % 80);
    for (int flips = 0; flips < 8; ++flips)
      b[kOptionsOffset - 4 + next() % (b.size() - kOptionsOffset + 4)] = static_cast<std::uint8_t>(next() >> 24);
    (void)parse(b);  // sanitizer builds catch any out-of-bounds read
  }
}

}  // namespace
}  // namespace vznet::stack::dhcp
