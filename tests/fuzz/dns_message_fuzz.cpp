// Fuzz target: the DNS wire codec (dns/dns_message) on a guest's query and on an upstream's answer. The input is
// one DNS message. As a query: parse_query(), then the replies vznet builds for it (zone answer, error, UDP
// truncation), which must stay within their limits and keep the question. As an upstream answer: what the server
// does with it (set_id(), fit_udp() to the guest's limit), which must never grow past that limit. Names read
// anywhere in the message must be well-formed and survive to_text()/from_text().
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dns/dns_message.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace vznet::dns;
using vznet::fuzz::check;

void check_name(const Name& name) {
  check(!name.wire.empty() && name.wire.size() <= kMaxNameLength && name.wire.back() == '\0', "name wire form");
  check(name.key().size() == name.wire.size(), "key() changes the length");
  const std::string text = name.to_text();
  if (text.find('\\') == std::string::npos) {
    const auto again = Name::from_text(text);
    check(again && again->wire == name.wire, "to_text() does not read back");
  }
}

void as_query(std::span<const std::uint8_t> message) {
  const ParsedQuery parsed = parse_query(message);
  check(parsed.header.has_value() == (message.size() >= kHeaderSize), "header presence");
  check((parsed.problem == QueryProblem::none) == parsed.query.has_value(), "a query exactly when no problem");
  if (parsed.header) {
    const Bytes error = build_error(*parsed.header, nullptr, Rcode::format_error);
    check(error.size() == kHeaderSize, "an error without a question is a header");
  }
  if (!parsed.query) return;
  const Query& query = *parsed.query;
  check_name(query.question.name);
  const std::size_t limit = udp_answer_limit(query);
  check(limit >= kClassicUdpSize, "UDP limit below 512");

  std::vector<AnswerRecord> answers;
  for (std::size_t i = 0; i < 1 + message.size() % 40; ++i) {
    answers.push_back({type::a, 60, Bytes{192, 168, 64, static_cast<std::uint8_t>(i)}});
  }
  answers.push_back({type::ptr, 60, ptr_rdata(query.question.name)});
  const Bytes response = build_response(query, Rcode::no_error, answers, true);
  const Bytes fitted = fit_udp(response, limit);
  check(fitted.size() <= limit, "a fitted answer exceeds the limit");
  const auto header = parse_header(fitted);
  check(header && header->is_response() && header->id == query.header.id, "fitted answer header");
  check(header->qdcount == 1, "a fitted answer lost its question");
  std::size_t offset = kHeaderSize;
  const auto name = read_name(fitted, offset);
  check(name && name->wire == query.question.name.wire, "the question's name is not echoed");
  const Bytes error = build_error(query.header, &query.question, Rcode::server_failure);
  check(fit_udp(error, limit) == error, "an error reply is truncated");
}

void as_upstream_answer(std::span<const std::uint8_t> message, std::size_t limit) {
  Bytes reply(message.begin(), message.end());
  set_id(reply, 0x1234);
  const std::size_t size = reply.size();
  const Bytes fitted = fit_udp(std::move(reply), limit);
  if (size <= limit || size < kHeaderSize) {
    check(fitted.size() == size, "an answer that fits is changed");
    return;
  }
  check(fitted.size() <= limit, "a truncated answer exceeds the limit");
  const auto header = parse_header(fitted);
  check(header && (header->flags & Header::kTc) && header->ancount == 0 && header->nscount == 0 &&
            header->arcount == 0 && header->id == 0x1234,
        "a truncated answer's header");
  std::size_t offset = kHeaderSize;
  for (std::uint16_t i = 0; i < header->qdcount; ++i) {
    check(read_name(fitted, offset).has_value(), "a kept question does not parse");
    offset += 4;
  }
  check(offset == fitted.size(), "a truncated answer has bytes after its questions");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> message(data, size);
  as_query(message);
  // The limits the server uses: 512 (no EDNS0) up to its ceiling; also one below the message size.
  as_upstream_answer(message, kClassicUdpSize);
  as_upstream_answer(message, 1232);
  if (size > kClassicUdpSize) as_upstream_answer(message, size - 1);
  // Names anywhere in the message (as in answers' owners and RDATA).
  for (std::size_t at = 0; at < size && at < 64; ++at) {
    std::size_t offset = at;
    if (auto name = read_name(message, offset)) {
      check(offset > at && offset <= size, "read_name moved the offset out of the message");
      check_name(*name);
    }
  }
  return 0;
}
