// Unit tests for the DNS wire codec (dns/dns_message.h): queries, names with compression, and hostile or
// truncated input (loops, long labels and names, pointers past the end, wrong question counts).
#include <gtest/gtest.h>

#include <random>

#include "dns/dns_message.h"

namespace vznet::dns {
namespace {

Name name_of(std::string_view text) {
  auto name = Name::from_text(text);
  EXPECT_TRUE(name) << text;
  return name.value_or(Name{});
}

/// A header with the given counts followed by `body`.
Bytes message(std::uint16_t qd, std::uint16_t an, std::uint16_t ns, std::uint16_t ar, const Bytes& body,
              std::uint16_t flags = 0x0100) {
  Bytes m{0x12,
          0x34,
          static_cast<std::uint8_t>(flags >> 8),
          static_cast<std::uint8_t>(flags),
          0,
          static_cast<std::uint8_t>(qd),
          0,
          static_cast<std::uint8_t>(an),
          0,
          static_cast<std::uint8_t>(ns),
          0,
          static_cast<std::uint8_t>(ar)};
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

TEST(DnsMessage, ParsesASimpleQuery) {
  const Bytes query = build_query(0xBEEF, name_of("Host.VZ.internal"), type::a);
  ParsedQuery parsed = parse_query(query);
  ASSERT_EQ(parsed.problem, QueryProblem::none);
  EXPECT_EQ(parsed.query->header.id, 0xBEEF);
  EXPECT_EQ(parsed.query->question.name.to_text(), "Host.VZ.internal");
  EXPECT_EQ(parsed.query->question.name.key(), name_of("host.vz.internal").wire);
  EXPECT_EQ(parsed.query->question.type, type::a);
  EXPECT_EQ(parsed.query->question.klass, kClassIn);
  EXPECT_FALSE(parsed.query->edns_udp_size);
  EXPECT_EQ(udp_answer_limit(*parsed.query), 512u);
}

TEST(DnsMessage, ReadsTheEdnsUdpSize) {
  ParsedQuery big = parse_query(build_query(1, name_of("example.com"), type::txt, 4096));
  ASSERT_EQ(big.problem, QueryProblem::none);
  EXPECT_EQ(big.query->edns_udp_size, 4096);
  EXPECT_EQ(udp_answer_limit(*big.query), 4096u);
  ParsedQuery small = parse_query(build_query(1, name_of("example.com"), type::txt, 100));
  ASSERT_EQ(small.problem, QueryProblem::none);
  EXPECT_EQ(udp_answer_limit(*small.query), 512u) << "never below 512";
}

TEST(DnsMessage, TwoOptRecordsOrANonRootOptOwnerAreFormatErrors) {
  Bytes two = build_query(1, name_of("a.b"), type::a, 1232);
  const Bytes opt(two.end() - 11, two.end());
  two.insert(two.end(), opt.begin(), opt.end());
  two[11] = 2;
  EXPECT_EQ(parse_query(two).problem, QueryProblem::malformed);
  Bytes owned = build_query(1, name_of("a.b"), type::a, 1232);
  owned[owned.size() - 11] = 0xC0;  // owner: a pointer to the question's name instead of the root
  owned.insert(owned.end() - 10, 0x0C);
  EXPECT_EQ(parse_query(owned).problem, QueryProblem::malformed);
}

TEST(DnsMessage, EveryTruncationOfAQueryIsRejectedWithoutHarm) {
  const Bytes query = build_query(7, name_of("www.example.com"), type::aaaa, 1232);
  for (std::size_t n = 0; n < query.size(); ++n) {
    ParsedQuery parsed = parse_query(std::span(query).first(n));
    if (n < kHeaderSize) {
      EXPECT_EQ(parsed.problem, QueryProblem::no_header) << n;
      EXPECT_FALSE(parsed.header);
    } else {
      EXPECT_EQ(parsed.problem, QueryProblem::malformed) << n;
      ASSERT_TRUE(parsed.header);
      EXPECT_EQ(parsed.header->id, 7);
    }
  }
  EXPECT_EQ(parse_query(query).problem, QueryProblem::none);
}

TEST(DnsMessage, QuestionCountMustBeOne) {
  const Bytes question{1, 'a', 0, 0, 1, 0, 1};
  EXPECT_EQ(parse_query(message(0, 0, 0, 0, {})).problem, QueryProblem::malformed);
  Bytes twice = question;
  twice.insert(twice.end(), question.begin(), question.end());
  EXPECT_EQ(parse_query(message(2, 0, 0, 0, twice)).problem, QueryProblem::malformed);
  EXPECT_EQ(parse_query(message(1, 0, 0, 0, question)).problem, QueryProblem::none);
}

TEST(DnsMessage, ResponsesAndOtherOpcodesAreNotQueries) {
  const Bytes question{1, 'a', 0, 0, 1, 0, 1};
  EXPECT_EQ(parse_query(message(1, 0, 0, 0, question, 0x8180)).problem, QueryProblem::is_response);
  ParsedQuery status = parse_query(message(1, 0, 0, 0, question, 0x1000));  // opcode 2, STATUS
  EXPECT_EQ(status.problem, QueryProblem::not_implemented);
  ASSERT_TRUE(status.header);
  EXPECT_EQ(status.header->opcode(), 2);
}

TEST(DnsMessage, SectionCountsBeyondTheDataAreFormatErrors) {
  Bytes query = build_query(1, name_of("a.b"), type::a);
  query[7] = 200;  // 200 answers claimed, none present
  EXPECT_EQ(parse_query(query).problem, QueryProblem::malformed);
}

TEST(DnsMessage, FollowsBackwardCompressionPointers) {
  // Question "www.example.com", then an additional record owned by "mail" + pointer to "example.com".
  Bytes body{3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
  const Bytes record{4, 'm', 'a', 'i', 'l', 0xC0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1};
  body.insert(body.end(), record.begin(), record.end());
  const Bytes m = message(1, 0, 0, 1, body);
  std::size_t offset = kHeaderSize + 21;
  auto name = read_name(m, offset);
  ASSERT_TRUE(name);
  EXPECT_EQ(name->to_text(), "mail.example.com");
  EXPECT_EQ(offset, kHeaderSize + 21 + 7) << "continues after the pointer, not where it led";
  EXPECT_EQ(parse_query(m).problem, QueryProblem::none);
}

TEST(DnsMessage, RejectsCompressionLoopsAndForwardPointers) {
  // A pointer to itself.
  EXPECT_EQ(parse_query(message(1, 0, 0, 0, {0xC0, 12, 0, 1, 0, 1})).problem, QueryProblem::malformed);
  // Two records whose owners point at each other: 12 -> the second, which points back.
  Bytes body{1, 'a', 0, 0, 1, 0, 1};                           // question at 12..18
  const Bytes first{0xC0, 31, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};   // at 19: forward pointer
  const Bytes second{0xC0, 19, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};  // at 31: points back to 19
  body.insert(body.end(), first.begin(), first.end());
  body.insert(body.end(), second.begin(), second.end());
  EXPECT_EQ(parse_query(message(1, 1, 0, 1, body)).problem, QueryProblem::malformed);
  // A chain that goes back and then forward again into itself: label at 19, pointer at 21 -> 19 is
  // allowed once, but 19 -> 21 again is not (it is not below where the run began).
  Bytes m = message(1, 0, 0, 0, {1, 'a', 0, 0, 1, 0, 1, 1, 'b', 0xC0, 19});
  std::size_t offset = 21;
  EXPECT_FALSE(read_name(m, offset));
}

TEST(DnsMessage, RejectsPointersIntoTheHeader) {
  // Found by dns_message_fuzz: an upstream answer whose question name ends in a pointer to offset 0. It read as
  // a name from the header's bytes, so after fit_udp() rewrote the header the kept question no longer parsed.
  Bytes body{1, 'a', 0xC0, 0, 0, 1, 0, 1};
  std::size_t offset = kHeaderSize;
  EXPECT_FALSE(read_name(message(1, 0, 0, 0, body), offset));
  body[3] = kHeaderSize - 1;
  offset = kHeaderSize;
  EXPECT_FALSE(read_name(message(1, 0, 0, 0, body), offset));
  EXPECT_EQ(parse_query(message(1, 0, 0, 0, body)).problem, QueryProblem::malformed);

  Bytes answer = message(1, 0, 0, 0, body);
  answer[2] |= 0x80;      // QR: an upstream's answer
  answer.resize(600, 0);  // past the 512-byte limit: only header and question would stay
  const Bytes fitted = fit_udp(answer, kClassicUdpSize);
  ASSERT_EQ(fitted.size(), kHeaderSize) << "an unparseable question is dropped, not kept half-valid";
  EXPECT_EQ(parse_header(fitted)->qdcount, 0);
  EXPECT_TRUE(parse_header(fitted)->flags & Header::kTc);
}

TEST(DnsMessage, RejectsPointersPastTheEndAndCutPointers) {
  Bytes m = message(1, 0, 0, 0, {1, 'a', 0xC0});  // the pointer's second byte is missing
  std::size_t offset = kHeaderSize;
  EXPECT_FALSE(read_name(m, offset));
  Bytes past = message(1, 0, 0, 0, {1, 'a', 0, 0, 1, 0, 1, 0xC3, 0xFF});
  offset = kHeaderSize + 7;
  EXPECT_FALSE(read_name(past, offset));
  Bytes label_past = message(1, 0, 0, 0, {10, 'a', 'b'});
  offset = kHeaderSize;
  EXPECT_FALSE(read_name(label_past, offset));
}

TEST(DnsMessage, RejectsLongLabelsAndLongNames) {
  Bytes long_label{64};
  long_label.insert(long_label.end(), 64, 'x');
  long_label.insert(long_label.end(), {0, 0, 1, 0, 1});
  EXPECT_EQ(parse_query(message(1, 0, 0, 0, long_label)).problem, QueryProblem::malformed);

  auto name_with = [](const std::vector<std::size_t>& labels) {
    Bytes wire;
    for (std::size_t n : labels) {
      wire.push_back(static_cast<std::uint8_t>(n));
      wire.insert(wire.end(), n, 'y');
    }
    wire.insert(wire.end(), {0, 0, 1, 0, 1});
    return wire;
  };
  // 3 * (1 + 63) + (1 + 62) + 1 = 256 bytes: one too many. 61 instead of 62: exactly 255, accepted.
  EXPECT_EQ(parse_query(message(1, 0, 0, 0, name_with({63, 63, 63, 62}))).problem, QueryProblem::malformed);
  EXPECT_EQ(parse_query(message(1, 0, 0, 0, name_with({63, 63, 63, 61}))).problem, QueryProblem::none);
  // A long name assembled through pointers is held to the same limit.
  Bytes body = name_with({63, 63, 63, 61});
  const Bytes record{1, 'z', 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};
  body.insert(body.end(), record.begin(), record.end());
  EXPECT_EQ(parse_query(message(1, 1, 0, 0, body)).problem, QueryProblem::malformed);
}

TEST(DnsMessage, NamesFromTextAndBack) {
  EXPECT_EQ(name_of("example.com.").wire, name_of("example.com").wire);
  EXPECT_EQ(name_of(".").to_text(), ".");
  EXPECT_FALSE(Name::from_text(""));
  EXPECT_FALSE(Name::from_text("a..b"));
  EXPECT_FALSE(Name::from_text(std::string(64, 'x') + ".com"));
  EXPECT_TRUE(Name::from_text(std::string(63, 'x') + ".com"));
  Name odd;
  odd.wire = std::string(
      "\x03"
      "a.b"
      "\x02"
      "\x01"
      "\\"
      "\x00",
      8);
  EXPECT_EQ(odd.to_text(), "a\\.b.\\001\\\\");
}

TEST(DnsMessage, BuildsZoneResponses) {
  ParsedQuery parsed = parse_query(build_query(0x4242, name_of("HOST.vz.internal"), type::a));
  ASSERT_TRUE(parsed.query);
  const AnswerRecord record{type::a, 60, {192, 168, 64, 1}};
  const Bytes response = build_response(*parsed.query, Rcode::no_error, std::span(&record, 1), true);
  auto header = parse_header(response);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->id, 0x4242);
  EXPECT_TRUE(header->is_response());
  EXPECT_TRUE(header->flags & Header::kAa);
  EXPECT_TRUE(header->flags & Header::kRd) << "copied from the query";
  EXPECT_TRUE(header->flags & Header::kRa);
  EXPECT_EQ(header->rcode(), Rcode::no_error);
  EXPECT_EQ(header->qdcount, 1);
  EXPECT_EQ(header->ancount, 1);
  std::size_t offset = kHeaderSize;
  EXPECT_EQ(read_name(response, offset)->to_text(), "HOST.vz.internal") << "case preserved";
  offset += 4;
  EXPECT_EQ(read_name(response, offset)->to_text(), "HOST.vz.internal") << "owner is a pointer";
  const Bytes rest(response.begin() + static_cast<std::ptrdiff_t>(offset), response.end());
  EXPECT_EQ(rest, (Bytes{0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 168, 64, 1}));
}

TEST(DnsMessage, BuildsErrorsWithAndWithoutTheQuestion) {
  ParsedQuery parsed = parse_query(build_query(9, name_of("x.example"), type::mx));
  const Bytes servfail = build_error(parsed.query->header, &parsed.query->question, Rcode::server_failure);
  EXPECT_EQ(parse_header(servfail)->rcode(), Rcode::server_failure);
  EXPECT_EQ(parse_header(servfail)->qdcount, 1);
  EXPECT_EQ(servfail.size(), kHeaderSize + parsed.query->question.name.wire.size() + 4);
  const Bytes formerr = build_error(parsed.query->header, nullptr, Rcode::format_error);
  EXPECT_EQ(formerr.size(), kHeaderSize);
  EXPECT_EQ(parse_header(formerr)->id, 9);
  EXPECT_EQ(parse_header(formerr)->rcode(), Rcode::format_error);
}

TEST(DnsMessage, FitUdpTruncatesToHeaderAndQuestionWithTc) {
  ParsedQuery parsed = parse_query(build_query(5, name_of("big.example"), type::txt));
  std::vector<AnswerRecord> records(20, AnswerRecord{type::txt, 60, Bytes(100, 'x')});
  Bytes answer = build_response(*parsed.query, Rcode::no_error, records, false);
  ASSERT_GT(answer.size(), 512u);
  EXPECT_EQ(fit_udp(answer, 4096), answer) << "fits: unchanged";
  const Bytes cut = fit_udp(answer, 512);
  EXPECT_EQ(cut.size(), kHeaderSize + parsed.query->question.name.wire.size() + 4);
  auto header = parse_header(cut);
  EXPECT_TRUE(header->flags & Header::kTc);
  EXPECT_TRUE(header->is_response());
  EXPECT_EQ(header->id, 5);
  EXPECT_EQ(header->qdcount, 1);
  EXPECT_EQ(header->ancount + header->nscount + header->arcount, 0);
  // An answer whose question does not parse still becomes a TC header.
  Bytes junk(600, 0xFF);
  junk[4] = 0;
  junk[5] = 1;
  const Bytes header_only = fit_udp(junk, 512);
  EXPECT_EQ(header_only.size(), kHeaderSize);
  EXPECT_EQ(parse_header(header_only)->qdcount, 0);
}

TEST(DnsMessage, SetIdRewritesOnlyTheId) {
  Bytes query = build_query(1, name_of("a.example"), type::a);
  const Bytes before = query;
  set_id(query, 0xABCD);
  EXPECT_EQ(parse_header(query)->id, 0xABCD);
  EXPECT_TRUE(std::equal(query.begin() + 2, query.end(), before.begin() + 2));
  Bytes tiny{1, 2, 3};
  set_id(tiny, 0xFFFF);
  EXPECT_EQ(tiny, (Bytes{1, 2, 3}));
}

TEST(DnsMessage, RandomAndMutatedInputNeverCrashes) {
  std::mt19937 random(20240601);  // NOLINT(cert-msc51-cpp): a fixed seed, so that a failure reproduces
  const Bytes seed = build_query(3, name_of("mutate.example.com"), type::a, 1232);
  for (int i = 0; i < 20000; ++i) {
    Bytes m = seed;
    if (i % 2 == 0) {
      m.resize(random() % 80);
      for (auto& b : m) b = static_cast<std::uint8_t>(random());
    } else {
      for (int flips = 0; flips < 4; ++flips) m[random() % m.size()] = static_cast<std::uint8_t>(random());
    }
    ParsedQuery parsed = parse_query(m);
    if (parsed.query) (void)parsed.query->question.name.to_text();
    (void)fit_udp(m, 20);
  }
}

}  // namespace
}  // namespace vznet::dns
