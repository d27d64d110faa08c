// The running vznet: one io_context and everything on it (switch, stack, flows, listeners, signals), wired
// from a Config. Also the one place that reports counters to the log and decides when vznet exits.
#pragma once

#include <memory>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include "app/config.h"
#include "app/control_api.h"
#include "app/pcap_capture.h"
#include "dns/dns_server.h"
#include "forward/forward_counters.h"
#include "forward/forwarder.h"
#include "forward/port_publisher.h"
#include "stack/dhcp_counters.h"
#include "stack/dhcp_server.h"
#include "stack/guest_guard.h"
#include "stack/stack.h"
#include "virtio/link_counters.h"
#include "virtio/listener.h"
#include "virtio/port_switch.h"

namespace vznet::app {

class Runtime final {
 public:
  explicit Runtime(const Config& config);
  ~Runtime();

  /// Opens every listener. Throws std::runtime_error (one sentence) if one cannot be opened; the ones
  /// already opened are closed again, so nothing is left behind.
  void start();
  /// Runs until SIGINT/SIGTERM (or a disconnect with --exit-on-disconnect); returns the exit code.
  int run();
  /// Closes flows and listeners (removing their socket files) and stops the loop.
  void shutdown();

  asio::io_context& io() { return io_; }
  stack::Stack& stack() { return *stack_; }
  forward::Forwarder& forwarder() { return *forwarder_; }
  forward::PortPublisher& publisher() { return *publisher_; }
  /// The lowest address a guest holds by a bound DHCP lease or uses as its static address (bind on first use).
  std::optional<Ipv4Address> first_leased_guest() const;
  /// Every address record, by address: the DHCP pool's, and the static addresses outside its range that the
  /// guard bound on first use (state in_use; the pool records only its range). What /leases, /metrics and
  /// first_leased_guest() read. Empty before the DHCP server starts.
  std::vector<stack::Lease> leases() const;
  const virtio::LinkCounters& link_counters() const { return link_counters_; }
  const stack::StackCounters& stack_counters() const { return stack_counters_; }
  const forward::ForwardCounters& forward_counters() const { return forward_counters_; }
  const stack::DhcpCounters& dhcp_counters() const { return dhcp_counters_; }
  const stack::DhcpServer* dhcp() const { return dhcp_.get(); }
  const dns::DnsServer* dns() const { return dns_.get(); }
  const Config& config() const { return config_; }
  std::size_t guest_count() const { return switch_->port_count(); }
  const stack::GuestGuard& guard() const { return *guard_; }
  std::chrono::steady_clock::time_point started() const { return started_; }
  /// How many times a quiet link let vznet give freed memory back to the kernel.
  std::uint64_t memory_releases() const { return memory_releases_; }
  /// Starts capturing every guest frame to `path` (--pcap, POST /pcap), ending a capture already running.
  /// Throws as PcapCapture's constructor does; the running capture then goes on.
  const PcapStatus& start_capture(const std::string& path, std::uint64_t max_bytes);
  /// Ends the capture (DELETE /pcap): what it wrote, or nullopt when none was running.
  std::optional<PcapStatus> stop_capture();
  /// The running capture, if any.
  const PcapCapture* capture() const { return capture_.get(); }

 private:
  void log_attach_hints() const;
  /// After a guest port detached: with --exit-on-disconnect, shuts down.
  void on_guest_detached();
  void start_api();
  /// Calls `tick` every `interval` on `timer`, until the timer is cancelled (shutdown).
  void every(asio::steady_timer& timer, std::chrono::steady_clock::duration interval, void (Runtime::*tick)());
  void report_counters();
  /// If the link carried (almost) nothing since the last check, gives the freed memory back (see
  /// return_free_memory): once after traffic, and again when the heap shrank since (queues free their storage
  /// a moment after they empty).
  void check_quiet();
  void flush_capture();

  Config config_;
  asio::io_context io_{1};
  virtio::LinkCounters link_counters_;
  stack::StackCounters stack_counters_;
  forward::ForwardCounters forward_counters_;
  std::unique_ptr<stack::GuestGuard> guard_;  ///< anti-spoofing; outlives the switch's use of it
  std::unique_ptr<stack::Stack> stack_;
  /// Between the guest ports and the stack (its network); made after the stack, which has nobody to send to
  /// before it exists.
  std::unique_ptr<virtio::PortSwitch> switch_;
  std::unique_ptr<forward::Forwarder> forwarder_;
  std::unique_ptr<forward::PortPublisher> publisher_;
  stack::DhcpCounters dhcp_counters_;
  std::unique_ptr<stack::DhcpServer> dhcp_;
  std::unique_ptr<dns::DnsServer> dns_;
  std::vector<std::unique_ptr<virtio::GuestListener>> listeners_;
  std::unique_ptr<ControlApi> api_;
  std::unique_ptr<PcapCapture> capture_;  ///< the switch's tap while it exists
  asio::steady_timer capture_flush_timer_{io_};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  asio::signal_set signals_{io_, SIGINT, SIGTERM};
  asio::steady_timer report_timer_{io_};
  asio::steady_timer quiet_timer_{io_};
  std::uint64_t frames_at_quiet_check_ = 0;
  bool busy_since_release_ = false;
  std::size_t heap_at_release_ = 0;
  std::uint64_t memory_releases_ = 0;
  virtio::LinkCounters reported_link_;
  stack::StackCounters reported_stack_;
  stack::DhcpCounters reported_dhcp_;
  stack::GuardCounters reported_guard_;
  dns::DnsCounters reported_dns_;
  bool stopping_ = false;
};

}  // namespace vznet::app
