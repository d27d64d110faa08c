// Runtime: wiring, start-up, signals, shutdown and the periodic drop report (see runtime.h).
#include "app/runtime.h"

#include "app/api_routes.h"
#include "app/host_addresses.h"
#include "app/process_resources.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <sstream>

#include <spdlog/spdlog.h>
#include <asio/post.hpp>
#include <filesystem>

namespace vznet::app {

namespace {
/// How often dropped-frame counters are summarized in the log (only when they changed): often enough to
/// notice a misbehaving guest, rarely enough that a flood of bad frames costs one line per interval.
constexpr auto kCounterReportInterval = std::chrono::seconds(10);

/// How often vznet looks whether the link went quiet, and how many frames (both ways) it may carry in that
/// time and still count as quiet (a trickle such as keepalives or NTP). Short enough that memory goes back a
/// few seconds after a burst, long enough that a busy link never pays for walking the heap.
constexpr auto kQuietCheckInterval = std::chrono::seconds(2);
/// A capture file is at most this far behind the frames (libpcap buffers its writes).
constexpr auto kCaptureFlushInterval = std::chrono::seconds(1);
constexpr std::uint64_t kQuietFrames = 200;
/// How much the heap in use must have shrunk since the last release to be worth another while quiet.
constexpr std::size_t kHeapShrinkWorthReleasing = 64 * 1024;

/// The egress policy from the flags, completed with --block-private (which needs the host's addresses) and
/// --policy-file. Throws std::runtime_error naming the flag.
forward::EgressPolicy complete_egress_policy(const Config& c) {
  forward::EgressPolicy policy = c.forward.egress;
  if (!c.block_private && c.policy_file.empty()) return policy;
  std::vector<Ipv4Address> host_addresses;
  try {
    host_addresses = host_ipv4_addresses();
  } catch (const std::system_error& e) {
    throw std::runtime_error(std::string("--block-private: cannot list the host's addresses: ") + e.what());
  }
  if (c.block_private) policy.add_private_ranges(host_addresses);
  if (!c.policy_file.empty()) {
    std::ifstream file(c.policy_file);
    std::ostringstream text;
    text << file.rdbuf();
    if (!file) throw std::runtime_error("--policy-file " + c.policy_file + ": cannot read it");
    try {
      policy = forward::parse_policy_text(text.str(), host_addresses, std::move(policy));
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error("--policy-file " + c.policy_file + ": " + e.what());
    }
  }
  return policy;
}

forward::ForwardConfig forward_config(const Config& c) {
  forward::ForwardConfig f = c.forward;
  f.egress = complete_egress_policy(c);
  return f;
}

/// DNS events that mean a guest's query was refused or lost (the rest are ordinary traffic).
constexpr std::array kDnsTroubles{dns::DnsEvent::format_error,     dns::DnsEvent::dropped_no_header,
                                  dns::DnsEvent::dropped_response, dns::DnsEvent::pending_limit,
                                  dns::DnsEvent::send_failed,      dns::DnsEvent::tcp_refused};

template <class Names, class Counts>
std::string describe_changes(const Names& names, const Counts& now, const Counts& before,
                             const std::function<bool(std::size_t)>& include = {}) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (now[i] == before[i] || (include && !include(i))) continue;
    if (!out.empty()) out += ' ';
    out += std::string(names[i]) + '=' + std::to_string(now[i] - before[i]);
  }
  return out;
}
}  // namespace

Runtime::Runtime(const Config& config) : config_(config) {
  stack::StackConfig stack_config;
  stack_config.subnet = config_.subnet;
  stack_config.gateway = config_.gateway();
  stack_config.mtu = config_.mtu;
  stack_config.offload = config_.offload;
  guard_ = std::make_unique<stack::GuestGuard>(stack::GuardConfig{
      stack_config.subnet, stack_config.gateway, stack_config.gateway_mac, config_.dhcp.statics, !config_.dhcp_only});
  stack_ = std::make_unique<stack::Stack>(
      io_, stack_config,
      [this](virtio::Frame frame) {
        if (switch_) switch_->send_to_guests(frame);
      },
      stack_counters_);
  switch_ = std::make_unique<virtio::PortSwitch>(*stack_);
  switch_->set_stack_mac(stack_config.gateway_mac);
  switch_->set_filter(guard_.get());
  switch_->set_guest_to_guest(config_.allow_guest_traffic);
  switch_->set_detach_observer([this](virtio::PortId) { on_guest_detached(); });
  forwarder_ = std::make_unique<forward::Forwarder>(io_, *stack_, forward_config(config_), forward_counters_);
  publisher_ = std::make_unique<forward::PortPublisher>(
      forward::PublishEnvironment{forwarder_->context(), forwarder_->flows(), [this] { return first_leased_guest(); },
                                  [this] { return switch_->port_count() > 0; }});
}

std::optional<Ipv4Address> Runtime::first_leased_guest() const {
  for (const stack::Lease& lease : leases()) {  // by address
    if (lease.state == stack::LeaseState::bound || lease.state == stack::LeaseState::in_use) return lease.address;
  }
  return std::nullopt;
}

std::vector<stack::Lease> Runtime::leases() const {
  if (!dhcp_) return {};
  std::vector<stack::Lease> all = dhcp_->lease_snapshot();
  const std::size_t in_pool = all.size();
  for (const stack::GuardedPort& port : guard_->ports()) {
    const bool recorded = std::any_of(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(in_pool),
                                      [&](const stack::Lease& l) { return port.in_use == l.address; });
    if (!port.in_use || !port.mac || recorded) continue;
    stack::Lease lease;
    lease.address = *port.in_use;
    lease.mac = *port.mac;
    lease.state = stack::LeaseState::in_use;
    lease.expires = stack::DhcpTime::max();
    all.push_back(lease);
  }
  std::sort(all.begin(), all.end(), [](const stack::Lease& a, const stack::Lease& b) { return a.address < b.address; });
  return all;
}

Runtime::~Runtime() {
  if (api_) api_->stop();
  for (auto& listener : listeners_) listener->close();
  listeners_.clear();
  stop_capture();
  dns_.reset();
  guard_->set_address_claims(nullptr);  // the switch may still report detaches: the pool is gone
  dhcp_.reset();
  publisher_.reset();
  forwarder_.reset();
  stack_.reset();
}

void Runtime::start() {
  // Published ports first: one that cannot be bound stops vznet before anything else is opened.
  for (const auto& spec : config_.publish) {
    try {
      publisher_->add(spec);
    } catch (const std::exception& e) {
      throw std::runtime_error("--publish " + spec.to_string() + ": " + e.what());
    }
  }
  if (!config_.pcap_path.empty()) {
    try {
      start_capture(config_.pcap_path, config_.pcap_max_bytes);
    } catch (const std::exception& e) {
      throw std::runtime_error("--pcap " + config_.pcap_path + ": " + e.what());
    }
  }
  start_api();
  std::vector<virtio::ListenUri> uris = config_.listen;
  if (uris.empty()) {
    const std::string directory = default_socket_directory();
    ensure_private_directory(directory);  // only the owner may attach guests, and no one prepared it for us
    uris = default_listen_uris(directory);
  }
  virtio::LinkOptions options;
  options.max_frame_size = stack_->config().max_frame_size();
  auto close_listeners = [this] {
    for (auto& listener : listeners_) listener->close();
    listeners_.clear();
  };
  for (const auto& uri : uris) {
    try {
      listeners_.push_back(virtio::open_listener(io_, uri, options, *switch_, link_counters_));
    } catch (const std::exception& e) {
      close_listeners();
      throw std::runtime_error("--listen " + uri.text + ": " + e.what());
    }
  }
  // The in-stack services start once the sockets are ours, so a failed start says one thing only.
  try {
    dhcp_ = std::make_unique<stack::DhcpServer>(*stack_, config_.dhcp, dhcp_counters_);
    guard_->set_address_claims(dhcp_.get());
    dns_ = std::make_unique<dns::DnsServer>(io_, *stack_, forwarder_->flows(), config_.dns);
  } catch (...) {
    close_listeners();
    throw;
  }
  for (const auto& uri : uris) spdlog::info("listening on {}", uri.text);  // only once all of them are
  spdlog::info("gateway {} (host loopback), guests from {} in {}, MTU {}", config_.gateway().to_string(),
               config_.first_guest().to_string(), config_.subnet.to_string(), config_.mtu);
  if (const auto& policy = forwarder_->context().config.egress; !policy.empty()) {
    for (const std::string& line : policy.describe()) spdlog::info("egress policy: {}", line);
  }
  if (config_.listen.empty()) log_attach_hints();
  signals_.async_wait([this](const std::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signal);
    shutdown();
  });
  every(report_timer_, kCounterReportInterval, &Runtime::report_counters);
  every(quiet_timer_, kQuietCheckInterval, &Runtime::check_quiet);
  every(capture_flush_timer_, kCaptureFlushInterval, &Runtime::flush_capture);
}

const PcapStatus& Runtime::start_capture(const std::string& path, std::uint64_t max_bytes) {
  auto capture = std::make_unique<PcapCapture>(path, max_bytes);
  switch_->set_tap(capture.get());
  capture_ = std::move(capture);  // a running capture ends here, after the tap moved on
  return capture_->status();
}

std::optional<PcapStatus> Runtime::stop_capture() {
  if (!capture_) return std::nullopt;
  switch_->set_tap(nullptr);
  capture_->flush();
  PcapStatus status = capture_->status();
  capture_.reset();
  return status;
}

void Runtime::flush_capture() {
  if (capture_) capture_->flush();
}

void Runtime::start_api() {
  if (config_.api_socket.empty()) return;
  api_ = std::make_unique<ControlApi>(io_, config_.api_socket);
  register_api_routes(*api_, *this);
  try {
    api_->start();
  } catch (const std::exception& e) {
    api_.reset();
    throw std::runtime_error(std::string("--api ") + config_.api_socket + ": " + e.what());
  }
}

void Runtime::log_attach_hints() const {
  for (const auto& listener : listeners_) {
    const auto& uri = listener->uri();
    if (uri.kind == virtio::ListenUri::Kind::unix_stream) {
      spdlog::info(
          "QEMU: -netdev stream,id=net0,server=off,addr.type=unix,addr.path={} "
          "-device virtio-net-pci,netdev=net0",
          uri.path);
    } else if (uri.kind == virtio::ListenUri::Kind::unixgram) {
      spdlog::info("vfkit: --device virtio-net,unixSocketPath={}", uri.path);
      spdlog::info(
          "QEMU: -netdev dgram,id=net0,local.type=unix,local.path=/tmp/qemu-vznet.sock,"
          "remote.type=unix,remote.path={} -device virtio-net-pci,netdev=net0",
          uri.path);
    }
  }
}

int Runtime::run() {
  io_.run();
  return 0;
}

void Runtime::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  signals_.cancel();
  report_timer_.cancel();
  quiet_timer_.cancel();
  capture_flush_timer_.cancel();
  if (api_) api_->stop();
  publisher_->clear();
  forwarder_->flows().terminate_all();
  for (auto& listener : listeners_) listener->close();
  listeners_.clear();
  io_.stop();
}

void Runtime::on_guest_detached() {
  if (config_.exit_on_disconnect && !stopping_) {
    spdlog::info("guest disconnected and --exit-on-disconnect is set: exiting");
    asio::post(io_, [this] { shutdown(); });
  }
}

void Runtime::every(asio::steady_timer& timer, std::chrono::steady_clock::duration interval, void (Runtime::*tick)()) {
  timer.expires_after(interval);
  timer.async_wait([this, &timer, interval, tick](const std::error_code& ec) {
    if (ec) return;
    (this->*tick)();
    every(timer, interval, tick);
  });
}

void Runtime::check_quiet() {
  const std::uint64_t frames = link_counters_.frames_in + link_counters_.frames_out;
  const bool quiet = frames - frames_at_quiet_check_ < kQuietFrames;
  frames_at_quiet_check_ = frames;
  if (!quiet) {
    busy_since_release_ = true;
    return;
  }
  const std::size_t heap = heap_in_use().value_or(0);
  if (!busy_since_release_ && heap + kHeapShrinkWorthReleasing > heap_at_release_) return;
  busy_since_release_ = false;
  heap_at_release_ = heap;
  if (return_free_memory()) ++memory_releases_;
}

void Runtime::report_counters() {
  std::string report;
  for (const std::string& part :
       {describe_changes(virtio::kLinkDropNames, link_counters_.drops, reported_link_.drops),
        describe_changes(stack::kStackDropNames, stack_counters_.drops, reported_stack_.drops),
        describe_changes(stack::kDhcpDropNames, dhcp_counters_.drops, reported_dhcp_.drops),
        describe_changes(stack::kGuardDropNames, guard_->counters().drops, reported_guard_.drops),
        describe_changes(dns::kDnsEventNames, dns_->counters().events, reported_dns_.events, [](std::size_t i) {
          return std::find(kDnsTroubles.begin(), kDnsTroubles.end(), static_cast<dns::DnsEvent>(i)) !=
                 kDnsTroubles.end();
        })}) {
    if (part.empty()) continue;
    if (!report.empty()) report += ' ';
    report += part;
  }
  if (!report.empty()) spdlog::warn("dropped in the last {}s: {}", kCounterReportInterval.count(), report);
  reported_link_ = link_counters_;
  reported_stack_ = stack_counters_;
  reported_dhcp_ = dhcp_counters_;
  reported_guard_ = guard_->counters();
  reported_dns_ = dns_->counters();
}

}  // namespace vznet::app
