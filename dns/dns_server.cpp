// The DNS server (see dns_server.h). Every query ends in exactly one of: a zone answer, an error reply
// (FORMERR, NOTIMP, SERVFAIL), the upstream's answer, or a counted drop (no header, or not a query).
// A forwarded query is answered by whichever comes first: the upstream or its deadline (SERVFAIL).
#include "dns/dns_server.h"

#include <algorithm>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "dns/cares_resolver.h"
#include "lwip/udp.h"
#include "stack/lwip_address.h"

namespace vznet::dns {

namespace {

constexpr std::uint16_t kDnsPort = 53;
/// UDP answers never exceed this, whatever EDNS0 size the guest offers: larger ones would only be IP
/// fragments (BIND's historic maximum; DNS flag day 2020 recommends even less). The guest gets TC and the
/// whole answer over TCP instead.
constexpr std::size_t kMaxUdpAnswer = 4096;
/// Upstream IDs are 16 bits; keeping the table well below that keeps picking a free random ID cheap.
constexpr std::size_t kMaxPendingCeiling = 32768;

std::unique_ptr<CaresResolver> make_cares(asio::io_context& io, const DnsConfig& config) {
  return std::make_unique<CaresResolver>(io, config.upstreams, config.upstream_timeout);
}

const char* describe(UpstreamError error) {
  switch (error) {
    case UpstreamError::none: return "answered";
    case UpstreamError::timeout: return "timed out";
    case UpstreamError::unreachable: return "unreachable";
    case UpstreamError::failed: return "failed";
  }
  return "failed";
}

}  // namespace

DnsServer::DnsServer(asio::io_context& io, stack::Stack& stack, forward::FlowTable& flows, DnsConfig config)
    : io_(io),
      stack_(stack),
      flows_(flows),
      config_(std::move(config)),
      zone_(config_.gateway, config_.records),
      deadline_timer_(io) {
  auto cares = make_cares(io_, config_);
  const std::string servers = cares->describe_servers();
  upstream_ = std::move(cares);
  start(config_.upstreams.empty() ? servers + " (from /etc/resolv.conf)" : servers);
}

DnsServer::DnsServer(asio::io_context& io, stack::Stack& stack, forward::FlowTable& flows, DnsConfig config,
                     std::unique_ptr<UpstreamResolver> upstream)
    : io_(io),
      stack_(stack),
      flows_(flows),
      config_(std::move(config)),
      zone_(config_.gateway, config_.records),
      upstream_(std::move(upstream)),
      deadline_timer_(io) {
  start("(provided)");
}

DnsServer::~DnsServer() {
  guard_.revoke();
  tcp_.reset();
  udp_.reset();
  upstream_.reset();  // c-ares ends its queries without calling back
  deadline_timer_.cancel();
}

void DnsServer::start(const std::string& upstream_description) {
  config_.max_pending = std::clamp<std::size_t>(config_.max_pending, 1, kMaxPendingCeiling);
  auto udp = stack::open_udp_pcb<&DnsServer::on_udp>(this, config_.gateway, kDnsPort, "the DNS server");
  tcp_ = std::make_unique<DnsTcpService>(stack_, flows_, config_.gateway, config_.tcp_idle_timeout, counters_,
                                         [this](DnsTcpService::ConnectionId id, std::span<const std::uint8_t> message) {
                                           handle(message, Origin{{}, id});
                                         });
  udp_ = std::move(udp);  // both or neither: a throw above leaves the server as it was
  std::string names = "host.vz.internal, gateway.vz.internal";
  for (const DnsRecord& record : config_.records) names += ", " + record.name;
  spdlog::info("dns: serving {}:53 (UDP, TCP) for the guests: {} answered here, the rest forwarded to {}",
               config_.gateway.to_string(), names, upstream_description);
}

void DnsServer::on_udp(pbuf* p, const ip_addr_t* source, std::uint16_t port) {
  stack::PbufPtr owner{p};
  Bytes message(p->tot_len);
  pbuf_copy_partial(p, message.data(), p->tot_len, 0);
  counters_.events.add(DnsEvent::udp_query);
  handle(message, Origin{{stack::from_lwip(*source), port}, std::nullopt});
}

void DnsServer::handle(std::span<const std::uint8_t> message, const Origin& origin) {
  ParsedQuery parsed = parse_query(message);
  switch (parsed.problem) {
    case QueryProblem::no_header: counters_.events.add(DnsEvent::dropped_no_header); return no_response(origin);
    case QueryProblem::is_response: counters_.events.add(DnsEvent::dropped_response); return no_response(origin);
    case QueryProblem::not_implemented:
      counters_.events.add(DnsEvent::not_implemented);
      return respond(origin, build_error(*parsed.header, nullptr, Rcode::not_implemented), kClassicUdpSize);
    case QueryProblem::malformed:
      counters_.events.add(DnsEvent::format_error);
      log_.log(spdlog::level::debug, "dns: malformed query from {}: FORMERR", origin.guest.to_string());
      return respond(origin, build_error(*parsed.header, nullptr, Rcode::format_error), kClassicUdpSize);
    case QueryProblem::none: break;
  }
  const Query& query = *parsed.query;
  Zone::Lookup lookup = zone_.lookup(query.question);
  if (lookup.verdict == Zone::Verdict::forward) return forward(query, message, origin);
  counters_.events.add(DnsEvent::zone_answer);
  const Rcode rcode = lookup.verdict == Zone::Verdict::nx_domain ? Rcode::name_error : Rcode::no_error;
  respond(origin, build_response(query, rcode, lookup.records, true), udp_answer_limit(query));
}

void DnsServer::forward(const Query& query, std::span<const std::uint8_t> message, const Origin& origin) {
  if (pending_.size() >= config_.max_pending) {
    counters_.events.add(DnsEvent::pending_limit);
    log_.log(spdlog::level::warn, "dns: {} queries already wait for the upstream; SERVFAIL for {}", pending_.size(),
             query.question.name.to_text());
    return respond_error(origin, query, Rcode::server_failure);
  }
  const std::uint16_t upstream_id = allocate_upstream_id();
  const std::uint64_t serial = next_serial_++;
  Bytes upstream_query(message.begin(), message.end());
  set_id(upstream_query, upstream_id);
  pending_.emplace(upstream_id, Pending{origin, query, serial, false});
  deadlines_.push_back({std::chrono::steady_clock::now() + config_.upstream_timeout, upstream_id, serial});
  if (deadlines_.size() > 2 * config_.max_pending) {
    // Answered queries leave their deadline behind until it passes; drop those so the queue stays bounded
    // by the pending table, not by the query rate (order is kept, so the front is still the earliest).
    std::erase_if(deadlines_, [this](const Deadline& d) {
      auto it = pending_.find(d.upstream_id);
      return it == pending_.end() || it->second.serial != d.serial;
    });
  }
  arm_deadline();
  counters_.events.add(DnsEvent::forwarded);
  upstream_->send(upstream_query,
                  guard_.wrap([this, upstream_id, serial](UpstreamError error, std::span<const std::uint8_t> answer) {
                    on_upstream(upstream_id, serial, error, answer);
                  }));
}

void DnsServer::on_upstream(std::uint16_t upstream_id, std::uint64_t serial, UpstreamError error,
                            std::span<const std::uint8_t> answer) {
  auto it = pending_.find(upstream_id);
  if (it == pending_.end() || it->second.serial != serial) return;
  Pending pending = std::move(it->second);
  pending_.erase(it);
  if (pending.timed_out) {
    counters_.events.add(DnsEvent::late_answer);
    return;
  }
  if (error != UpstreamError::none) {
    counters_.events.add(DnsEvent::upstream_failure);
    log_.log(spdlog::level::info, "dns: upstream {} for {} (type {}): SERVFAIL to {}", describe(error),
             pending.query.question.name.to_text(), pending.query.question.type, pending.origin.guest.to_string());
    return respond_error(pending.origin, pending.query, Rcode::server_failure);
  }
  Bytes reply(answer.begin(), answer.end());
  set_id(reply, pending.query.header.id);
  counters_.events.add(DnsEvent::upstream_answer);
  respond(pending.origin, std::move(reply), udp_answer_limit(pending.query));
}

void DnsServer::arm_deadline() {
  if (deadline_armed_ || deadlines_.empty()) return;
  deadline_armed_ = true;
  deadline_timer_.expires_at(deadlines_.front().due);
  deadline_timer_.async_wait(guard_.wrap([this](const std::error_code& ec) {
    deadline_armed_ = false;
    if (!ec) on_deadline();
  }));
}

void DnsServer::on_deadline() {
  const auto now = std::chrono::steady_clock::now();
  while (!deadlines_.empty() && deadlines_.front().due <= now) {
    const Deadline d = deadlines_.front();
    deadlines_.pop_front();
    auto it = pending_.find(d.upstream_id);
    if (it == pending_.end() || it->second.serial != d.serial || it->second.timed_out) continue;
    // The entry stays until the upstream gives up too: it still holds the upstream ID and c-ares's state.
    it->second.timed_out = true;
    counters_.events.add(DnsEvent::upstream_timeout);
    log_.log(spdlog::level::info, "dns: no upstream answer for {} within {} ms: SERVFAIL to {}",
             it->second.query.question.name.to_text(), config_.upstream_timeout.count(),
             it->second.origin.guest.to_string());
    respond_error(it->second.origin, it->second.query, Rcode::server_failure);
  }
  arm_deadline();
}

std::uint16_t DnsServer::allocate_upstream_id() {
  std::uniform_int_distribution<std::uint16_t> any_id;
  while (true) {  // at most kMaxPendingCeiling of 65536 IDs are taken: a free one is found in ~2 draws
    const std::uint16_t id = any_id(random_);
    if (!pending_.contains(id)) return id;
  }
}

void DnsServer::respond(const Origin& origin, Bytes message, std::size_t udp_limit) {
  if (origin.connection) return tcp_->reply(*origin.connection, message);
  const std::size_t size = message.size();
  message = fit_udp(std::move(message), std::min(udp_limit, kMaxUdpAnswer));
  if (message.size() != size) counters_.events.add(DnsEvent::truncated);
  send_udp(origin.guest, message);
}

void DnsServer::respond_error(const Origin& origin, const Query& query, Rcode rcode) {
  respond(origin, build_error(query.header, &query.question, rcode), udp_answer_limit(query));
}

void DnsServer::no_response(const Origin& origin) {
  if (origin.connection) tcp_->finish(*origin.connection);
}

void DnsServer::send_udp(const Ipv4Endpoint& guest, std::span<const std::uint8_t> message) {
  pbuf* p = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(message.size()), PBUF_RAM);
  if (p == nullptr) {
    counters_.events.add(DnsEvent::send_failed);
    return;
  }
  stack::PbufPtr owner{p};
  pbuf_take(p, message.data(), static_cast<u16_t>(message.size()));
  ip_addr_t destination = stack::to_lwip_ip(guest.address);
  if (udp_sendto(udp_.get(), p, &destination, guest.port) != ERR_OK) counters_.events.add(DnsEvent::send_failed);
  stack_.schedule_timers();
}

}  // namespace vznet::dns
