// DNS wire format: parsing queries and names defensively, building the replies vznet writes itself (see
// dns_message.h). Every read is bounds-checked against the message; nothing here allocates without limit.
#include "dns/dns_message.h"

#include <algorithm>
#include <cstdio>

#include "base/byte_order.h"

namespace vznet::dns {

namespace {

constexpr std::size_t kRecordFixedSize = 10;   // type, class, TTL, RDLENGTH after the owner name
constexpr std::size_t kQuestionFixedSize = 4;  // type, class after the name

void put_header(Bytes& out, const Header& h) {
  base::append_be16(out, h.id);
  base::append_be16(out, h.flags);
  base::append_be16(out, h.qdcount);
  base::append_be16(out, h.ancount);
  base::append_be16(out, h.nscount);
  base::append_be16(out, h.arcount);
}

void put_question(Bytes& out, const Question& q) {
  out.insert(out.end(), q.name.wire.begin(), q.name.wire.end());
  base::append_be16(out, q.type);
  base::append_be16(out, q.klass);
}

/// Response flags for a query: QR, the query's opcode and RD, RA (vznet offers recursion), the rcode.
std::uint16_t response_flags(const Header& query, Rcode rcode, bool authoritative) {
  std::uint16_t flags = Header::kQr | Header::kRa | static_cast<std::uint16_t>(query.opcode() << 11) |
                        static_cast<std::uint16_t>(query.flags & Header::kRd) | static_cast<std::uint16_t>(rcode);
  if (authoritative) flags |= Header::kAa;
  return flags;
}

/// Skips one resource record at `offset`; reports an OPT record's class (the EDNS0 UDP size) and owner.
bool skip_record(std::span<const std::uint8_t> m, std::size_t& offset, std::uint16_t& type, std::uint16_t& klass,
                 bool& owner_is_root) {
  auto owner = read_name(m, offset);
  if (!owner || m.size() - offset < kRecordFixedSize) return false;
  type = base::load_be16(m, offset);
  klass = base::load_be16(m, offset + 2);
  const std::size_t rdlength = base::load_be16(m, offset + 8);
  offset += kRecordFixedSize;
  if (m.size() - offset < rdlength) return false;
  offset += rdlength;
  owner_is_root = owner->wire.size() == 1;
  return true;
}

}  // namespace

std::optional<Header> parse_header(std::span<const std::uint8_t> m) {
  if (m.size() < kHeaderSize) return std::nullopt;
  return Header{base::load_be16(m, 0), base::load_be16(m, 2), base::load_be16(m, 4),
                base::load_be16(m, 6), base::load_be16(m, 8), base::load_be16(m, 10)};
}

std::optional<Name> Name::from_text(std::string_view text) {
  Name name;
  if (text == ".") {
    name.wire.push_back('\0');
    return name;
  }
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  while (true) {
    const std::size_t dot = text.find('.');
    const std::string_view label = text.substr(0, dot);
    if (label.empty() || label.size() > kMaxLabelLength) return std::nullopt;
    name.wire.push_back(static_cast<char>(label.size()));
    name.wire.append(label);
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  name.wire.push_back('\0');
  if (name.wire.size() > kMaxNameLength) return std::nullopt;
  return name;
}

std::string Name::to_text() const {
  std::string out;
  std::size_t at = 0;
  while (at < wire.size() && wire[at] != '\0') {
    const auto length = static_cast<std::uint8_t>(wire[at]);
    if (!out.empty()) out.push_back('.');
    for (std::size_t i = at + 1; i <= at + length && i < wire.size(); ++i) {
      const auto c = static_cast<unsigned char>(wire[i]);
      if (c == '.' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c < 0x21 || c > 0x7E) {
        char escaped[5];
        (void)std::snprintf(escaped, sizeof escaped, "\\%03u", static_cast<unsigned>(c));  // c < 256: 4 chars fit
        out += escaped;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    at += std::size_t{length} + 1;
  }
  return out.empty() ? "." : out;
}

std::string Name::key() const {
  std::string lowered = wire;
  // Length bytes are at most 63, below 'A', so lowering every byte in the letter range is safe.
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lowered;
}

std::optional<Name> read_name(std::span<const std::uint8_t> m, std::size_t& offset) {
  Name name;
  std::size_t pos = offset;
  std::size_t run_start = offset;  // where the current run of labels began; pointers must go below it
  std::optional<std::size_t> resume;
  while (true) {
    if (pos >= m.size()) return std::nullopt;
    const std::uint8_t length = m[pos];
    if ((length & 0xC0) == 0xC0) {
      if (pos + 1 >= m.size()) return std::nullopt;
      const std::size_t target = base::load_be16(m, pos) & 0x3FFFu;
      // Strictly backwards, below every position already visited: each jump lowers run_start, so a chain
      // of pointers ends after at most `offset` jumps and can never loop. Never into the header: no name lives
      // there, and a name read from header bytes changes when the header does (fit_udp() rewrites it).
      if (target >= run_start || target < kHeaderSize) return std::nullopt;
      if (!resume) resume = pos + 2;
      pos = run_start = target;
      continue;
    }
    if ((length & 0xC0) != 0) return std::nullopt;  // 0x40 and 0x80: label types that were never deployed
    if (name.wire.size() + 1 + length > kMaxNameLength) return std::nullopt;
    if (length == 0) {
      name.wire.push_back('\0');
      break;
    }
    if (m.size() - pos - 1 < length) return std::nullopt;
    name.wire.push_back(static_cast<char>(length));
    name.wire.append(reinterpret_cast<const char*>(m.data() + pos + 1), length);
    pos += std::size_t{length} + 1;
  }
  offset = resume ? *resume : pos + 1;
  return name;
}

ParsedQuery parse_query(std::span<const std::uint8_t> m) {
  ParsedQuery result;
  result.header = parse_header(m);
  if (!result.header) {
    result.problem = QueryProblem::no_header;
    return result;
  }
  const Header& h = *result.header;
  if (h.is_response()) {
    result.problem = QueryProblem::is_response;
    return result;
  }
  if (h.opcode() != 0) {
    result.problem = QueryProblem::not_implemented;
    return result;
  }
  result.problem = QueryProblem::malformed;
  if (h.qdcount != 1) return result;
  std::size_t offset = kHeaderSize;
  auto name = read_name(m, offset);
  if (!name || m.size() - offset < kQuestionFixedSize) return result;
  Query query{h, Question{std::move(*name), base::load_be16(m, offset), base::load_be16(m, offset + 2)}, std::nullopt};
  offset += kQuestionFixedSize;

  const std::size_t records = std::size_t{h.ancount} + h.nscount + h.arcount;
  const std::size_t first_additional = std::size_t{h.ancount} + h.nscount;
  for (std::size_t i = 0; i < records; ++i) {
    std::uint16_t type = 0, klass = 0;
    bool owner_is_root = false;
    if (!skip_record(m, offset, type, klass, owner_is_root)) return result;
    if (i >= first_additional && type == type::opt) {
      if (query.edns_udp_size || !owner_is_root) return result;  // RFC 6891 6.1.1: one OPT, owned by root
      query.edns_udp_size = klass;
    }
  }
  result.problem = QueryProblem::none;
  result.query = std::move(query);
  return result;
}

std::size_t udp_answer_limit(const Query& query) {
  return std::max<std::size_t>(kClassicUdpSize, query.edns_udp_size.value_or(0));
}

Bytes build_response(const Query& query, Rcode rcode, std::span<const AnswerRecord> answers, bool authoritative) {
  Bytes out;
  Header h{query.header.id,
           response_flags(query.header, rcode, authoritative),
           1,
           static_cast<std::uint16_t>(answers.size()),
           0,
           0};
  put_header(out, h);
  put_question(out, query.question);
  for (const AnswerRecord& record : answers) {
    base::append_be16(out, 0xC000 | kHeaderSize);  // the question's name, right after the header
    base::append_be16(out, record.type);
    base::append_be16(out, kClassIn);
    base::append_be32(out, record.ttl);
    base::append_be16(out, static_cast<std::uint16_t>(record.rdata.size()));
    out.insert(out.end(), record.rdata.begin(), record.rdata.end());
  }
  return out;
}

Bytes build_error(const Header& query_header, const Question* question, Rcode rcode) {
  Bytes out;
  Header h{query_header.id,
           response_flags(query_header, rcode, false),
           question != nullptr ? std::uint16_t{1} : std::uint16_t{0},
           0,
           0,
           0};
  put_header(out, h);
  if (question != nullptr) put_question(out, *question);
  return out;
}

Bytes fit_udp(Bytes answer, std::size_t limit) {
  if (answer.size() <= limit || answer.size() < kHeaderSize) return answer;
  const std::span<const std::uint8_t> m{answer};
  std::uint16_t questions = base::load_be16(m, 4);
  std::size_t end = kHeaderSize;
  for (std::uint16_t i = 0; i < questions; ++i) {
    if (!read_name(m, end) || m.size() - end < kQuestionFixedSize) {
      questions = 0;  // unparseable question: the header alone still tells the client to use TCP
      end = kHeaderSize;
      break;
    }
    end += kQuestionFixedSize;
  }
  if (end > limit) {  // cannot happen for limit >= 512 and one question, but stay within the promise
    questions = 0;
    end = kHeaderSize;
  }
  answer.resize(end);
  const std::span<std::uint8_t> out{answer};
  base::store_be16(out, 2, static_cast<std::uint16_t>(base::load_be16(out, 2) | Header::kTc));
  base::store_be16(out, 4, questions);
  base::store_be16(out, 6, 0);
  base::store_be16(out, 8, 0);
  base::store_be16(out, 10, 0);
  return answer;
}

Bytes build_query(std::uint16_t id, const Name& name, std::uint16_t type, std::optional<std::uint16_t> edns_udp_size) {
  Bytes out;
  put_header(out, Header{id, Header::kRd, 1, 0, 0, static_cast<std::uint16_t>(edns_udp_size ? 1 : 0)});
  put_question(out, Question{name, type, kClassIn});
  if (edns_udp_size) {
    out.push_back(0);  // owner: the root
    base::append_be16(out, type::opt);
    base::append_be16(out, *edns_udp_size);
    base::append_be32(out, 0);  // extended RCODE, version 0, no flags
    base::append_be16(out, 0);  // no options
  }
  return out;
}

void set_id(std::span<std::uint8_t> message, std::uint16_t id) {
  if (message.size() >= kHeaderSize) base::store_be16(message, 0, id);
}

Bytes ptr_rdata(const Name& name) { return Bytes(name.wire.begin(), name.wire.end()); }

}  // namespace vznet::dns
