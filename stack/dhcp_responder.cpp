// DHCP protocol logic (see dhcp_responder.h). vznet is the only DHCP server on its link and answers
// authoritatively: a client rebooting with an address vznet has no record of (vznet restarted) gets an ACK
// when the address is free, and a NAK when it is not, rather than the silence RFC 2131 prescribes for
// non-authoritative servers, which would leave the client waiting out its timeouts.
#include "stack/dhcp_responder.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace vznet::stack {

namespace {

using dhcp::Message;
using dhcp::MessageType;
using dhcp::ReplyOption;
namespace option = dhcp::option;

constexpr Ipv4Address kBroadcast{255, 255, 255, 255};

DhcpClient client_of(const Message& m) { return DhcpClient{m.mac(), m.client_identifier(), m.hostname()}; }

/// The client's maximum, and never more than one unfragmented packet on the guest link: the reply is built
/// whole, headers and all (dhcp_server.cpp), and a client reading a raw socket cannot reassemble fragments.
std::size_t reply_limit(const Message& m, std::uint16_t mtu) {
  const std::size_t link_limit = std::size_t{mtu} - 28;  // IPv4 and UDP headers
  return std::min(m.max_message_size().value_or(dhcp::kMinMaxMessageSize), link_limit);
}

std::string describe(const DhcpClient& c) {
  return c.hostname.empty() ? base::format_mac(c.mac) : base::format_mac(c.mac) + " (" + c.hostname + ")";
}

std::uint32_t seconds(std::chrono::seconds s) { return static_cast<std::uint32_t>(s.count()); }

}  // namespace

DhcpResponder::DhcpResponder(const DhcpConfig& config, DhcpCounters& counters)
    : config_(config), counters_(counters), pool_(config) {
  if (auto problem = config_.validate()) throw std::invalid_argument(*problem);
  available_ = {
      {option::subnet_mask, dhcp::be32(config_.subnet.mask())},
      {option::router, dhcp::address(config_.gateway)},
      {option::dns_server, dhcp::address(config_.dns_server)},
      {option::interface_mtu, dhcp::be16(config_.mtu)},
      {option::broadcast_address, dhcp::address(config_.subnet.broadcast())},
  };
  if (!config_.search_domains.empty()) {
    const std::string& domain = config_.search_domains.front();
    available_.push_back({option::domain_name, dhcp::Bytes(domain.begin(), domain.end())});
    available_.push_back({option::domain_search, *dhcp::encode_search_list(config_.search_domains)});
  }
}

std::optional<DhcpOutgoing> DhcpResponder::handle(std::span<const std::uint8_t> payload, Ipv4Address source,
                                                  DhcpTime now) {
  dhcp::ParseResult parsed = dhcp::parse(payload);
  if (!parsed.message) {
    counters_.drops.add(parsed.error);
    malformed_log_.log(spdlog::level::debug, "DHCP: dropped a malformed message from {} ({} bytes): {}",
                       source.to_string(), payload.size(), kDhcpDropNames[static_cast<std::size_t>(parsed.error)]);
    return std::nullopt;
  }
  const Message& m = *parsed.message;
  const DhcpClient client = client_of(m);
  spdlog::trace("DHCP: {} from {} xid {:#010x}", to_string(m.type), describe(client), m.xid);
  switch (m.type) {
    case MessageType::discover: return on_discover(m, client, now);
    case MessageType::request: return on_request(m, client, now);
    case MessageType::inform: return on_inform(m, client, source, now);
    case MessageType::decline: on_decline(m, client, now); return std::nullopt;
    case MessageType::release: on_release(m, client, now); return std::nullopt;
    case MessageType::offer:
    case MessageType::ack:
    case MessageType::nak: break;  // parse() never returns these
  }
  return std::nullopt;
}

bool DhcpResponder::for_another_server(const Message& m) const {
  auto server = m.address_option(option::server_identifier);
  return server && *server != config_.gateway;
}

std::vector<ReplyOption> DhcpResponder::options_for(const Message& m, bool with_lease) const {
  std::vector<ReplyOption> out;
  // Mandatory (RFC 2131 table 3) and what no client can do without; these go first, so a small
  // maximum message size drops only optional ones.
  out.push_back({option::server_identifier, dhcp::address(config_.gateway)});
  if (with_lease) {
    out.push_back({option::lease_time, dhcp::be32(seconds(config_.lease_time))});
    out.push_back({option::renewal_time, dhcp::be32(seconds(config_.lease_time) / 2)});
    out.push_back({option::rebinding_time,
                   dhcp::be32(static_cast<std::uint32_t>(std::uint64_t{seconds(config_.lease_time)} * 7 / 8))});
  }
  out.push_back({option::subnet_mask, dhcp::be32(config_.subnet.mask())});
  // RFC 6842: a server returns the client identifier it was sent.
  if (const dhcp::Bytes* id = m.find(option::client_identifier)) out.push_back({option::client_identifier, *id});
  std::set<std::uint8_t> sent;
  for (const ReplyOption& o : out) sent.insert(o.code);
  auto add = [&](std::uint8_t code) {
    auto it =
        std::find_if(available_.begin(), available_.end(), [code](const ReplyOption& o) { return o.code == code; });
    if (it != available_.end() && sent.insert(code).second) out.push_back(*it);
  };
  if (auto requested = m.parameter_request_list()) {
    for (std::uint8_t code : *requested) add(code);  // in the client's order of preference
  } else {
    for (const ReplyOption& o : available_) add(o.code);
  }
  return out;
}

void DhcpResponder::note_foreign_client_id(const Message& m, const DhcpClient& client, DhcpTime now) {
  const auto holder = pool_.holder_of_client_id(client, now);
  if (!holder) return;
  counters_.events.add(DhcpEvent::foreign_client_id);
  foreign_log_.log(spdlog::level::warn,
                   "DHCP: {} from {} carries the client identifier of {}'s lease on {}: ignored, served by its MAC",
                   to_string(m.type), describe(client), base::format_mac(holder->mac), holder->address.to_string());
}

void DhcpResponder::refuse_not_holder(DhcpDrop reason, const Message& m, const DhcpClient& client,
                                      Ipv4Address address) {
  counters_.drops.add(reason);
  foreign_log_.log(spdlog::level::warn, "DHCP: {} from {} about {}, which it does not hold: ignored", to_string(m.type),
                   describe(client), address.to_string());
}

std::optional<DhcpOutgoing> DhcpResponder::on_discover(const Message& m, const DhcpClient& client, DhcpTime now) {
  note_foreign_client_id(m, client, now);
  auto address = pool_.offer(client, m.address_option(option::requested_address), now);
  if (!address) {
    counters_.events.add(DhcpEvent::pool_exhausted);
    const DhcpRange r = config_.effective_range();
    exhausted_log_.log(spdlog::level::warn, "DHCP: no free address for {} in {}-{}; DISCOVER left unanswered",
                       describe(client), r.first.to_string(), r.last.to_string());
    return std::nullopt;
  }
  counters_.events.add(DhcpEvent::offer);
  spdlog::debug("DHCP: OFFER {} to {}", address->to_string(), describe(client));
  dhcp::Reply reply{MessageType::offer, *address, Ipv4Address{}, options_for(m, true)};
  return DhcpOutgoing{dhcp::build_reply(m, reply, reply_limit(m, config_.mtu)), kBroadcast, m.mac()};
}

std::optional<DhcpOutgoing> DhcpResponder::on_request(const Message& m, const DhcpClient& client, DhcpTime now) {
  if (for_another_server(m)) {  // SELECTING, and the client chose another server's offer
    pool_.withdraw_offer(client, now);
    counters_.events.add(DhcpEvent::other_server);
    return std::nullopt;
  }
  // SELECTING and INIT-REBOOT name the address in option 50; RENEWING and REBINDING in ciaddr.
  std::optional<Ipv4Address> address = m.address_option(option::requested_address);
  if (!address && !m.ciaddr.is_unspecified()) address = m.ciaddr;
  if (!address) {
    counters_.drops.add(DhcpDrop::no_address);
    return std::nullopt;
  }
  note_foreign_client_id(m, client, now);
  const auto before = pool_.find(*address, now);
  auto lease = pool_.bind(client, *address, now);
  if (!lease) return nak(m, *address, "not available to this client");
  counters_.events.add(DhcpEvent::ack);
  const bool renewal = before && before->state == LeaseState::bound && before->mac == client.mac;
  if (renewal) {
    spdlog::debug("DHCP: renewed {} for {}", address->to_string(), describe(client));
  } else {
    lease_log_.log(spdlog::level::info, "DHCP: {} leased to {} for {} s{}", address->to_string(), describe(client),
                   config_.lease_time.count(), lease->is_static ? " (static)" : "");
  }
  // A renewing client has its address and listens there (RFC 2131 4.1); one without gets a broadcast,
  // which every client accepts, whether or not it set the broadcast flag.
  const Ipv4Address destination = m.ciaddr.is_unspecified() ? kBroadcast : m.ciaddr;
  dhcp::Reply reply{MessageType::ack, *address, m.ciaddr, options_for(m, true)};
  return DhcpOutgoing{dhcp::build_reply(m, reply, reply_limit(m, config_.mtu)), destination, m.mac()};
}

std::optional<DhcpOutgoing> DhcpResponder::on_inform(const Message& m, const DhcpClient& client, Ipv4Address source,
                                                     DhcpTime now) {
  // The client configured its address itself and wants the other parameters: no lease, no yiaddr. An address
  // another MAC holds is not its to configure (and the answer would go there).
  Ipv4Address destination = !m.ciaddr.is_unspecified() ? m.ciaddr : source;
  if (pool_.held_by_other(destination, client, now)) {
    refuse_not_holder(DhcpDrop::inform_not_holder, m, client, destination);
    return std::nullopt;
  }
  counters_.events.add(DhcpEvent::inform_ack);
  if (destination.is_unspecified() || !config_.subnet.contains(destination)) destination = kBroadcast;
  dhcp::Reply reply{MessageType::ack, Ipv4Address{}, m.ciaddr, options_for(m, false)};
  return DhcpOutgoing{dhcp::build_reply(m, reply, reply_limit(m, config_.mtu)), destination, m.mac()};
}

void DhcpResponder::on_decline(const Message& m, const DhcpClient& client, DhcpTime now) {
  auto address = m.address_option(option::requested_address);
  if (for_another_server(m) || !address) return;
  if (!pool_.decline(client, *address, now)) {
    refuse_not_holder(DhcpDrop::decline_not_holder, m, client, *address);
    return;
  }
  counters_.events.add(DhcpEvent::decline);
  lease_log_.log(spdlog::level::warn, "DHCP: {} declined {}: another host uses it; not handed out for {} s",
                 describe(client), address->to_string(), kDeclineQuarantine.count());
}

void DhcpResponder::on_release(const Message& m, const DhcpClient& client, DhcpTime now) {
  if (for_another_server(m)) return;
  if (!pool_.release(client, m.ciaddr, now)) {
    refuse_not_holder(DhcpDrop::release_not_holder, m, client, m.ciaddr);
    return;
  }
  counters_.events.add(DhcpEvent::release);
  lease_log_.log(spdlog::level::info, "DHCP: {} released {}", describe(client), m.ciaddr.to_string());
}

DhcpOutgoing DhcpResponder::nak(const Message& m, Ipv4Address address, const char* why) {
  counters_.events.add(DhcpEvent::nak);
  lease_log_.log(spdlog::level::info, "DHCP: NAK {} for {}: {}", address.to_string(), base::format_mac(m.mac()), why);
  std::vector<ReplyOption> options{{option::server_identifier, dhcp::address(config_.gateway)},
                                   {option::message, dhcp::Bytes(why, why + std::char_traits<char>::length(why))}};
  if (const dhcp::Bytes* id = m.find(option::client_identifier)) options.push_back({option::client_identifier, *id});
  dhcp::Reply reply{MessageType::nak, Ipv4Address{}, Ipv4Address{}, std::move(options)};
  // RFC 2131 4.3.2: without a relay, a NAK is broadcast (the client's address is the problem).
  return DhcpOutgoing{dhcp::build_reply(m, reply, reply_limit(m, config_.mtu)), kBroadcast, m.mac()};
}

}  // namespace vznet::stack
