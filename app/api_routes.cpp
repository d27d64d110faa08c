// Control API endpoints (see api_routes.h). Read-only views are built from the runtime's counters and
// tables on each request; nothing here is cached.
#include "app/api_routes.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <stdexcept>

#include "app/metrics.h"
#include "app/process_resources.h"
#include "app/runtime.h"
#include "base/mac_address.h"
#include "forward/tcp_flow.h"

namespace vznet::app {

namespace {

using nlohmann::json;

/// {"name": count, ...} from a counter array and its name table.
template <class Names, class Counts>
json counter_object(const Names& names, const Counts& counts) {
  json out = json::object();
  for (std::size_t i = 0; i < names.size(); ++i) out[std::string(names[i])] = counts[i];
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point then, std::chrono::steady_clock::time_point now) {
  return std::chrono::duration<double>(now - then).count();
}

json stats(Runtime& rt) {
  const auto& link = rt.link_counters();
  const auto& flows = rt.forwarder().flows();
  const std::optional<std::size_t> heap = heap_in_use();
  return {
      {"uptime_seconds", seconds_since(rt.started(), std::chrono::steady_clock::now())},
      {"guests", rt.guest_count()},
      {"link",
       {{"from_guests", {{"frames", link.frames_in}, {"bytes", link.bytes_in}}},
        {"to_guests", {{"frames", link.frames_out}, {"bytes", link.bytes_out}}},
        {"drops", counter_object(virtio::kLinkDropNames, link.drops)}}},
      {"stack", {{"drops", counter_object(stack::kStackDropNames, rt.stack_counters().drops)}}},
      {"guard", {{"drops", counter_object(stack::kGuardDropNames, rt.guard().counters().drops)}}},
      {"flows",
       {{"tcp", flows.count(IpProtocol::tcp)},
        {"udp", flows.count(IpProtocol::udp)},
        {"icmp", flows.count(IpProtocol::icmp)},
        {"total", flows.size()},
        {"tcp_closing", flows.lingering().size()},
        {"bytes_held_for_guests", rt.forwarder().context().held_for_guests.used()},
        {"bytes_queued_for_hosts", rt.forwarder().context().guest_to_host_budget.used()},
        {"limit", rt.config().forward.max_flows}}},
      {"forward", counter_object(forward::kForwardEventNames, rt.forward_counters().events)},
      {"dhcp",
       {{"events", counter_object(stack::kDhcpEventNames, rt.dhcp_counters().events)},
        {"drops", counter_object(stack::kDhcpDropNames, rt.dhcp_counters().drops)}}},
      {"dns", rt.dns() != nullptr ? counter_object(dns::kDnsEventNames, rt.dns()->counters().events) : json::object()},
      {"process",
       {{"heap_in_use_bytes", heap ? json(*heap) : json(nullptr)}, {"memory_releases", rt.memory_releases()}}},
  };
}

json leases(Runtime& rt) {
  json out = json::array();
  const stack::DhcpServer* dhcp = rt.dhcp();
  if (dhcp == nullptr) return out;
  const auto now = dhcp->now();
  for (const stack::Lease& lease : rt.leases()) {
    const bool in_use = lease.state == stack::LeaseState::in_use;
    out.push_back(
        {{"address", lease.address.to_string()},
         {"mac", base::format_mac(lease.mac)},
         {"hostname", lease.hostname},
         {"state", stack::kLeaseStateNames[static_cast<std::size_t>(lease.state)]},
         {"static", lease.is_static},
         {"expires_in_seconds", in_use ? json(nullptr) : json(std::max(0.0, -seconds_since(lease.expires, now)))}});
  }
  return out;
}

json flows(Runtime& rt) {
  json out = json::array();
  const auto now = std::chrono::steady_clock::now();
  rt.forwarder().flows().for_each([&](const forward::Flow& flow) {
    out.push_back({{"id", flow.id()},
                   {"protocol", protocol_name(flow.key().protocol)},
                   {"direction", flow.direction() == forward::FlowDirection::inbound ? "inbound" : "outbound"},
                   {"guest", flow.key().guest.to_string()},
                   {"remote", flow.key().destination.to_string()},
                   {"state", flow.state_name()},
                   {"bytes_to_host", flow.bytes_to_host()},
                   {"bytes_to_guest", flow.bytes_to_guest()},
                   {"age_seconds", seconds_since(flow.created(), now)},
                   {"idle_seconds", seconds_since(flow.last_activity(), now)}});
  });
  return out;
}

json forward_json(const forward::ForwardInfo& info) {
  json ports = json::array();
  for (const auto& bound : info.ports)
    ports.push_back({{"host_port", bound.host_port}, {"guest_port", bound.guest_port}});
  return {{"id", info.id},
          {"spec", info.spec.to_string()},
          {"protocol", std::string(forward::to_string(info.spec.protocol))},
          {"host_address", info.spec.host_address.to_string()},
          {"guest_address", info.spec.guest_address ? json(info.spec.guest_address->to_string()) : json(nullptr)},
          {"ports", ports}};
}

json forwards(Runtime& rt) {
  json out = json::array();
  for (const auto& info : rt.publisher().list()) out.push_back(forward_json(info));
  return out;
}

ApiResponse error(int status, const std::string& message) { return {status, {{"error", message}}}; }

json pcap_json(const PcapStatus& s, bool capturing) {
  return {{"capturing", capturing}, {"path", s.path},           {"max_bytes", s.max_bytes},      {"frames", s.frames},
          {"bytes", s.bytes},       {"rotations", s.rotations}, {"write_errors", s.write_errors}};
}

/// POST /pcap: {"path": "/tmp/guest.pcap"} and optionally "max_mb" (the rotation size, as --pcap-max-mb).
ApiResponse start_pcap(Runtime& rt, const json& body) {
  if (!body.is_object() || !body.contains("path") || !body.at("path").is_string()) {
    return error(400, "expected {\"path\": \"FILE\"} and optionally \"max_mb\"");
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "path" && key != "max_mb") return error(400, "unknown field \"" + key + "\"");
  }
  std::uint64_t max_bytes = kDefaultPcapMaxBytes;
  if (body.contains("max_mb")) {
    const json& mb = body.at("max_mb");
    if (!mb.is_number_unsigned() || mb.get<std::uint64_t>() == 0 || mb.get<std::uint64_t>() > (1u << 20)) {
      return error(400, "\"max_mb\" must be a whole number of MiB from 1 to 1048576");
    }
    max_bytes = mb.get<std::uint64_t>() << 20;
  }
  try {
    return ApiResponse{201, pcap_json(rt.start_capture(body.at("path").get<std::string>(), max_bytes), true)};
  } catch (const std::exception& e) {
    return error(400, e.what());  // the file cannot be written: the running capture, if any, goes on
  }
}

/// A port field: a number, or a "FIRST-LAST" string.
std::string port_field(const json& body, const char* name) {
  const json& value = body.at(name);
  if (value.is_number_unsigned()) return std::to_string(value.get<std::uint64_t>());
  if (value.is_string()) return value.get<std::string>();
  throw std::invalid_argument(std::string("\"") + name + "\" must be a port number or a \"FIRST-LAST\" string");
}

std::string string_field(const json& body, const char* name) {
  const json& value = body.at(name);
  if (!value.is_string()) throw std::invalid_argument(std::string("\"") + name + "\" must be a string");
  return value.get<std::string>();
}

}  // namespace

forward::PublishSpec publish_spec_from_json(const json& body) {
  if (!body.is_object()) throw std::invalid_argument("expected a JSON object such as {\"spec\": \"8080:80\"}");
  if (body.contains("spec")) {
    if (body.size() != 1) throw std::invalid_argument("give either \"spec\" or the separate fields, not both");
    return forward::parse_publish_spec(string_field(body, "spec"));
  }
  static constexpr std::array kKnown{"host_address", "host_port", "guest_address", "guest_port", "protocol"};
  for (const auto& [key, value] : body.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
      throw std::invalid_argument("unknown field \"" + key + "\"");
    }
  }
  if (!body.contains("guest_port")) throw std::invalid_argument("\"guest_port\" is required");
  std::string text;
  if (body.contains("host_address")) {
    const std::string address = string_field(body, "host_address");
    text += address.find(':') != std::string::npos ? "[" + address + "]:" : address + ":";
  }
  text += (body.contains("host_port") ? port_field(body, "host_port") : std::string()) + ":";
  if (body.contains("guest_address")) text += string_field(body, "guest_address") + ":";
  text += port_field(body, "guest_port");
  if (body.contains("protocol")) text += "/" + string_field(body, "protocol");
  return forward::parse_publish_spec(text);
}

void register_api_routes(ControlApi& api, Runtime& rt) {
  api.route("GET", "/stats", [&rt](const std::string&, const json&) { return ApiResponse{200, stats(rt)}; });
  api.route("GET", "/leases", [&rt](const std::string&, const json&) { return ApiResponse{200, leases(rt)}; });
  api.route("GET", "/flows", [&rt](const std::string&, const json&) { return ApiResponse{200, flows(rt)}; });
  api.route("GET", "/forwards", [&rt](const std::string&, const json&) { return ApiResponse{200, forwards(rt)}; });
  api.route("POST", "/forwards", [&rt](const std::string&, const json& body) {
    forward::PublishSpec spec;
    try {
      spec = publish_spec_from_json(body);
    } catch (const std::invalid_argument& e) {
      return error(400, e.what());
    } catch (const json::exception&) {
      return error(400, "malformed forward description");
    }
    try {
      return ApiResponse{201, forward_json(rt.publisher().add(spec))};
    } catch (const std::runtime_error& e) {
      return error(409, e.what());  // the host port is taken, privileged or not ours
    }
  });
  api.route("GET", "/metrics", [&rt](const std::string&, const json&) {
    return ApiResponse{200, nullptr, prometheus_metrics(rt)};
  });
  api.route("GET", "/pcap", [&rt](const std::string&, const json&) {
    if (rt.capture() == nullptr) return ApiResponse{200, {{"capturing", false}}};
    return ApiResponse{200, pcap_json(rt.capture()->status(), true)};
  });
  api.route("POST", "/pcap", [&rt](const std::string&, const json& body) { return start_pcap(rt, body); });
  api.route("DELETE", "/pcap", [&rt](const std::string&, const json&) {
    const std::optional<PcapStatus> ended = rt.stop_capture();
    if (!ended) return error(404, "no capture is running");
    return ApiResponse{200, pcap_json(*ended, false)};
  });
  api.route("DELETE", "/forwards/{id}", [&rt](const std::string& param, const json&) {
    const auto id = parse_decimal(param, 1, 0xFFFFFFFFu);
    if (!id) return error(400, "forward id must be a positive number, got \"" + param + "\"");
    if (!rt.publisher().remove(static_cast<forward::ForwardId>(*id))) {
      return error(404, "no forward " + param);
    }
    return ApiResponse{204, nullptr};
  });
}

}  // namespace vznet::app
