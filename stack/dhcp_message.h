// The DHCPv4 wire format (RFC 2131/2132): parsing a client's message with a bounds check on every byte, and
// building the server's replies. Pure: no sockets, no lwIP, no clock. What to answer is dhcp_server.cpp's
// job; which address to give is dhcp_leases.cpp's.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stack/dhcp_counters.h"
#include "stack/ipv4_address.h"

namespace vznet::stack::dhcp {

using Bytes = std::vector<std::uint8_t>;
using Mac = std::array<std::uint8_t, 6>;

inline constexpr std::uint16_t kServerPort = 67;
inline constexpr std::uint16_t kClientPort = 68;
/// Fixed BOOTP header (op .. file) before the magic cookie.
inline constexpr std::size_t kFixedHeaderSize = 236;
/// The fixed header plus the magic cookie: where options start.
inline constexpr std::size_t kOptionsOffset = kFixedHeaderSize + 4;
/// Every DHCP client must accept 576-byte IP datagrams (RFC 2131 2.): 576 - 20 (IP) - 8 (UDP).
inline constexpr std::size_t kMinMaxMessageSize = 576 - 28;
/// Replies are padded to the 300-byte BOOTP minimum some old clients (and relays) insist on.
inline constexpr std::size_t kMinReplySize = 300;

/// DHCP message type (option 53).
enum class MessageType : std::uint8_t {
  discover = 1,
  offer = 2,
  request = 3,
  decline = 4,
  ack = 5,
  nak = 6,
  release = 7,
  inform = 8
};
/// Name for logs ("DISCOVER"); "?" for values outside the enum.
std::string_view to_string(MessageType type);

/// Option codes vznet reads or writes (RFC 2132, RFC 3397).
namespace option {
inline constexpr std::uint8_t pad = 0;
inline constexpr std::uint8_t subnet_mask = 1;
inline constexpr std::uint8_t router = 3;
inline constexpr std::uint8_t dns_server = 6;
inline constexpr std::uint8_t hostname = 12;
inline constexpr std::uint8_t domain_name = 15;
inline constexpr std::uint8_t interface_mtu = 26;
inline constexpr std::uint8_t broadcast_address = 28;
inline constexpr std::uint8_t requested_address = 50;
inline constexpr std::uint8_t lease_time = 51;
inline constexpr std::uint8_t overload = 52;
inline constexpr std::uint8_t message_type = 53;
inline constexpr std::uint8_t server_identifier = 54;
inline constexpr std::uint8_t parameter_request_list = 55;
inline constexpr std::uint8_t message = 56;
inline constexpr std::uint8_t max_message_size = 57;
inline constexpr std::uint8_t renewal_time = 58;
inline constexpr std::uint8_t rebinding_time = 59;
inline constexpr std::uint8_t client_identifier = 61;
inline constexpr std::uint8_t domain_search = 119;
inline constexpr std::uint8_t end = 255;
}  // namespace option

/// A parsed client message: the fixed header and the options field's options. Options repeated in the
/// message are concatenated (RFC 3396). Options in sname/file (option overload, 52) are not read: vznet
/// needs none of them, and ignoring them cannot misread anything.
struct Message {
  std::uint8_t op = 1;  ///< 1 BOOTREQUEST, 2 BOOTREPLY
  std::uint8_t htype = 1;
  std::uint8_t hlen = 6;
  std::uint8_t hops = 0;
  std::uint32_t xid = 0;
  std::uint16_t secs = 0;
  std::uint16_t flags = 0;  ///< bit 15: the client asks for broadcast replies
  Ipv4Address ciaddr, yiaddr, siaddr, giaddr;
  std::array<std::uint8_t, 16> chaddr{};
  MessageType type = MessageType::discover;
  std::map<std::uint8_t, Bytes> options;

  Mac mac() const;
  const Bytes* find(std::uint8_t code) const;
  /// A 4-byte address option (50, 54); nullopt when absent or of another length.
  std::optional<Ipv4Address> address_option(std::uint8_t code) const;
  /// Option 61's bytes; empty when the client sent none.
  Bytes client_identifier() const;
  /// Option 55; nullopt when absent (then the client gets every option vznet has).
  std::optional<Bytes> parameter_request_list() const;
  /// Option 57, when sent and at least the 576-byte minimum every client must accept.
  std::optional<std::size_t> max_message_size() const;
  /// Option 12 as printable text (for logs and the lease list); empty when absent.
  std::string hostname() const;
};

/// What parse() returns: a message, or the reason it was dropped.
struct ParseResult {
  std::optional<Message> message;
  DhcpDrop error = DhcpDrop::truncated;  ///< meaningful only without a message
};

/// Parses a UDP payload sent to port 67. Checks every length before reading; never throws.
ParseResult parse(std::span<const std::uint8_t> payload);

/// One option to put in a reply. Data longer than 255 bytes is split over several instances (RFC 3396).
struct ReplyOption {
  std::uint8_t code = 0;
  Bytes data;
};

/// A server reply: the header fields that differ per reply plus the request it answers.
struct Reply {
  MessageType type = MessageType::offer;
  Ipv4Address yiaddr;
  Ipv4Address ciaddr;
  std::vector<ReplyOption> options;  ///< after option 53, in order; mandatory ones first
};

/// Builds the BOOTREPLY for `request`: xid, flags, giaddr and chaddr copied, options in order, end option,
/// padded to kMinReplySize. Options that would take the message past `max_size` are left out (so put the
/// mandatory ones first); the result never exceeds max(max_size, kMinReplySize).
Bytes build_reply(const Message& request, const Reply& reply, std::size_t max_size);

/// Builds a client message (for tests and tools): the fixed header of `m`, option 53, then `options`, end.
Bytes build_request(const Message& m, const std::vector<ReplyOption>& options);

/// Encodes domain names for option 119 (RFC 3397: DNS labels with compression pointers within the option).
/// nullopt when a name is not a valid DNS name (empty label, label > 63, name > 253, bad characters).
std::optional<Bytes> encode_search_list(const std::vector<std::string>& domains);

/// Option data helpers.
Bytes be32(std::uint32_t value);
Bytes be16(std::uint16_t value);
Bytes address(Ipv4Address a);

}  // namespace vznet::stack::dhcp
