// DNS wire format, the part the gateway's server needs: the header, one question, names (with compression
// pointers, defended against loops and overruns), EDNS0's UDP size, and the replies vznet builds itself
// (zone answers, errors, TC truncation). Pure: no I/O. Resolving is not done here (c-ares does upstream).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vznet::dns {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kMaxLabelLength = 63;
inline constexpr std::size_t kMaxNameLength = 255;  ///< in wire form, length bytes and root included
/// A UDP answer may be this long unless the query's EDNS0 OPT record allows more (RFC 1035 4.2.1).
inline constexpr std::size_t kClassicUdpSize = 512;
inline constexpr std::size_t kMaxMessageSize = 65535;  ///< TCP's 2-byte length prefix

namespace type {
inline constexpr std::uint16_t a = 1;
inline constexpr std::uint16_t cname = 5;
inline constexpr std::uint16_t ptr = 12;
inline constexpr std::uint16_t mx = 15;
inline constexpr std::uint16_t txt = 16;
inline constexpr std::uint16_t aaaa = 28;
inline constexpr std::uint16_t opt = 41;
inline constexpr std::uint16_t any = 255;
}  // namespace type
inline constexpr std::uint16_t kClassIn = 1;
inline constexpr std::uint16_t kClassAny = 255;

enum class Rcode : std::uint8_t {
  no_error = 0,
  format_error = 1,
  server_failure = 2,
  name_error = 3,  ///< NXDOMAIN
  not_implemented = 4,
  refused = 5,
};

/// The fixed 12-byte header. `flags` holds QR, opcode, AA, TC, RD, RA, Z, AD, CD and RCODE as on the wire.
struct Header {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::uint16_t qdcount = 0;
  std::uint16_t ancount = 0;
  std::uint16_t nscount = 0;
  std::uint16_t arcount = 0;

  static constexpr std::uint16_t kQr = 0x8000;
  static constexpr std::uint16_t kAa = 0x0400;
  static constexpr std::uint16_t kTc = 0x0200;
  static constexpr std::uint16_t kRd = 0x0100;
  static constexpr std::uint16_t kRa = 0x0080;

  bool is_response() const { return (flags & kQr) != 0; }
  std::uint8_t opcode() const { return static_cast<std::uint8_t>((flags >> 11) & 0x0F); }
  Rcode rcode() const { return static_cast<Rcode>(flags & 0x0F); }
};

/// The header of `message`, or nothing when it is shorter than a header.
std::optional<Header> parse_header(std::span<const std::uint8_t> message);

/// A domain name in uncompressed wire form (length-prefixed labels, then the zero-length root label), with
/// the case as sent: replies echo the question exactly (resolvers using 0x20 randomisation compare case).
struct Name {
  std::string wire;

  /// "host.vz.internal" (a trailing dot is allowed; "." is the root). Labels 1..63 bytes, name <= 255 in
  /// wire form. Any byte but '.' is allowed in a label: the zone's flag parser decides what it accepts.
  static std::optional<Name> from_text(std::string_view text);
  /// Presentation form without the trailing dot ("." for the root); '.', '\\' and non-printable bytes in
  /// labels are escaped as in zone files, so the text is unambiguous for logs.
  std::string to_text() const;
  /// The wire form with ASCII letters lowered: DNS compares names case-insensitively (RFC 4343).
  std::string key() const;
};

/// Reads the name at `offset` of `message`, following compression pointers. Pointers must point strictly
/// backwards (which also rules out loops) and past the header; labels > 63, names > 255 and reads past the end
/// fail. On success `offset` moves past the name as it is written at that place (past the first pointer, if any).
std::optional<Name> read_name(std::span<const std::uint8_t> message, std::size_t& offset);

struct Question {
  Name name;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
};

/// A query the server can act on.
struct Query {
  Header header;
  Question question;
  /// The requestor's UDP payload size from an EDNS0 OPT record; absent without one.
  std::optional<std::uint16_t> edns_udp_size;
};

/// Why a message is not a query the server can act on, and so what the server does with it.
enum class QueryProblem : std::uint8_t {
  none,             ///< a usable query
  no_header,        ///< shorter than a header: nothing to answer to (counted drop)
  is_response,      ///< QR set: never answer a response (avoids loops; counted drop)
  not_implemented,  ///< opcode other than QUERY: NOTIMP
  malformed,        ///< qdcount != 1, bad name, sections that do not parse: FORMERR
};

struct ParsedQuery {
  QueryProblem problem = QueryProblem::none;
  std::optional<Header> header;  ///< set unless no_header
  std::optional<Query> query;    ///< set when problem == none
};

/// Parses a query: exactly one question, and every record of the other sections must parse (the
/// additional section is searched for EDNS0's OPT). Bytes after the last record are ignored.
ParsedQuery parse_query(std::span<const std::uint8_t> message);

/// How long a UDP answer to `query` may be: its EDNS0 size, but never below 512.
std::size_t udp_answer_limit(const Query& query);

/// One answer record, owned by the question's name (written as a pointer to it).
struct AnswerRecord {
  std::uint16_t type = 0;
  std::uint32_t ttl = 0;
  Bytes rdata;
};

/// A response to `query` with `rcode` and the given answers: the question echoed, RD copied, RA set (vznet
/// recurses for the guest), AA when `authoritative`.
Bytes build_response(const Query& query, Rcode rcode, std::span<const AnswerRecord> answers, bool authoritative);
/// An error response for a query that may not have parsed: header (ID, opcode, RD copied) and, when known,
/// the question.
Bytes build_error(const Header& query_header, const Question* question, Rcode rcode);

/// `answer` if it fits in `limit` bytes; otherwise its header and question only, with TC set and the other
/// sections emptied, so the client retries over TCP (RFC 1035 4.2.1, RFC 7766). RCODE and flags are kept.
Bytes fit_udp(Bytes answer, std::size_t limit);

/// A query for `name` and `type` (class IN, RD set), with an EDNS0 OPT record offering `edns_udp_size` when
/// given. vznet never sends its own queries; tests and tools use this to speak to the server.
Bytes build_query(std::uint16_t id, const Name& name, std::uint16_t type,
                  std::optional<std::uint16_t> edns_udp_size = std::nullopt);

/// Overwrites the message ID (the first two bytes); messages shorter than a header are left alone.
void set_id(std::span<std::uint8_t> message, std::uint16_t id);

/// A PTR record's data: `name` in wire form, uncompressed.
Bytes ptr_rdata(const Name& name);

}  // namespace vznet::dns
