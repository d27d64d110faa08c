// The Prometheus exposition (see metrics.h). Written by hand: the format is a few lines of text, and Debian
// packages no C++ client library; python3-prometheus-client's parser checks it in the end-to-end test.
#include "app/metrics.h"

#include <chrono>
#include <map>
#include <string_view>
#include <utility>

#include "app/process_resources.h"
#include "app/runtime.h"

namespace vznet::app {
namespace {

/// One label's value, escaped as the format wants (backslash, double quote, newline).
std::string escaped(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Exposition {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  /// Starts a family: its help line and type ("counter" or "gauge").
  void family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += "# HELP " + std::string(name) + ' ' + std::string(help) + '\n';
    text_ += "# TYPE " + std::string(name) + ' ' + std::string(type) + '\n';
  }
  template <class Number>
  void sample(std::string_view name, Labels labels, Number value) {
    text_ += name;
    if (labels.size() != 0) {
      text_ += '{';
      bool first = true;
      for (const auto& [label, label_value] : labels) {
        if (!first) text_ += ',';
        first = false;
        text_ += std::string(label) + "=\"" + escaped(label_value) + '"';
      }
      text_ += '}';
    }
    text_ += ' ' + std::to_string(value) + '\n';
  }
  /// A family of counters from a counter array and its name table, labelled `label`="name".
  template <class Names, class Counts>
  void counters(std::string_view name, std::string_view help, std::string_view label, const Names& names,
                const Counts& counts) {
    family(name, "counter", help);
    for (std::size_t i = 0; i < names.size(); ++i) sample(name, {{label, names[i]}}, counts[i]);
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace

std::string prometheus_metrics(Runtime& rt) {
  Exposition out;
  out.family("vznet_uptime_seconds", "gauge", "Seconds since vznet started.");
  out.sample("vznet_uptime_seconds", {},
             std::chrono::duration<double>(std::chrono::steady_clock::now() - rt.started()).count());
  out.family("vznet_guests", "gauge", "Guest ports attached now.");
  out.sample("vznet_guests", {}, rt.guest_count());

  const virtio::LinkCounters& link = rt.link_counters();
  out.family("vznet_link_frames_total", "counter", "Frames across the guest links, by direction.");
  out.sample("vznet_link_frames_total", {{"direction", "from_guest"}}, link.frames_in);
  out.sample("vznet_link_frames_total", {{"direction", "to_guest"}}, link.frames_out);
  out.family("vznet_link_bytes_total", "counter", "Frame bytes across the guest links, by direction.");
  out.sample("vznet_link_bytes_total", {{"direction", "from_guest"}}, link.bytes_in);
  out.sample("vznet_link_bytes_total", {{"direction", "to_guest"}}, link.bytes_out);
  out.counters("vznet_link_drops_total", "Frames the guest links dropped, by reason.", "reason", virtio::kLinkDropNames,
               link.drops);
  out.counters("vznet_guard_drops_total", "Guest frames the anti-spoofing guard dropped, by reason.", "reason",
               stack::kGuardDropNames, rt.guard().counters().drops);
  out.counters("vznet_stack_drops_total", "Guest frames the stack dropped, by reason.", "reason",
               stack::kStackDropNames, rt.stack_counters().drops);

  const forward::FlowTable& flows = rt.forwarder().flows();
  std::map<std::pair<std::string_view, std::string_view>, std::size_t> by_state;
  flows.for_each([&](const forward::Flow& flow) {
    ++by_state[{protocol_name(flow.key().protocol), flow.state_name()}];
  });
  out.family("vznet_flows", "gauge", "Flows now, by protocol and state (a guest's DNS over TCP: state dns).");
  for (const auto& [key, count] : by_state) {
    out.sample("vznet_flows", {{"protocol", key.first}, {"state", key.second}}, count);
  }
  out.family("vznet_tcp_closing_flows", "gauge",
             "TCP connections the guest closed that are still draining to the host.");
  out.sample("vznet_tcp_closing_flows", {}, flows.lingering().size());
  out.family("vznet_flow_limit", "gauge", "Most flows at once (--max-flows).");
  out.sample("vznet_flow_limit", {}, rt.config().forward.max_flows);
  out.counters("vznet_forward_events_total",
               "Flow events: opened, refused, closed, and egress_denied_* for the egress policy's denials.", "event",
               forward::kForwardEventNames, rt.forward_counters().events);

  out.counters("vznet_dhcp_events_total", "DHCP server events.", "event", stack::kDhcpEventNames,
               rt.dhcp_counters().events);
  out.counters("vznet_dhcp_drops_total", "DHCP messages dropped, by reason.", "reason", stack::kDhcpDropNames,
               rt.dhcp_counters().drops);
  if (rt.dhcp() != nullptr) {
    std::map<std::string_view, std::size_t> leases;
    for (std::string_view state : stack::kLeaseStateNames) leases[state] = 0;
    for (const stack::Lease& lease : rt.leases()) {
      ++leases[stack::kLeaseStateNames[static_cast<std::size_t>(lease.state)]];
    }
    out.family("vznet_dhcp_leases", "gauge", "DHCP lease records, by state (in_use: a static guest's address).");
    for (const auto& [state, count] : leases) out.sample("vznet_dhcp_leases", {{"state", state}}, count);
  }
  if (const dns::DnsServer* dns = rt.dns(); dns != nullptr) {
    out.counters("vznet_dns_events_total",
                 "DNS server events: queries (udp_query, tcp_query), answers, and failures (upstream_failure, "
                 "upstream_timeout, ...).",
                 "event", dns::kDnsEventNames, dns->counters().events);
  }
  if (const std::optional<std::size_t> heap = heap_in_use()) {
    out.family("vznet_heap_in_use_bytes", "gauge", "Bytes the allocator has handed out and not got back.");
    out.sample("vznet_heap_in_use_bytes", {}, *heap);
  }
  return out.take();
}

}  // namespace vznet::app
