// vznet's command line: the validated Config every other part is built from, and the parser that turns argv
// into it (CLI11). Pure: no sockets, no files; errors come back as one message and an exit code.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/logging.h"
#include "app/pcap_capture.h"
#include "dns/dns_config.h"
#include "forward/egress_policy.h"
#include "forward/forward_config.h"
#include "forward/publish_spec.h"
#include "stack/dhcp_config.h"
#include "stack/ipv4_address.h"
#include "stack/stack_config.h"
#include "virtio/listener.h"

namespace vznet::app {

struct Config {
  std::vector<virtio::ListenUri> listen;  ///< empty: the default pair (see default_listen_uris)
  Ipv4Subnet subnet = stack::default_subnet();
  std::uint16_t mtu = stack::kDefaultMtu;
  bool offload = false;  ///< --offload: see stack::StackConfig::offload
  std::string log_level = "info";
  LogFormat log_format = LogFormat::text;  ///< --log-format
  bool exit_on_disconnect = false;
  /// --connect-timeout, --tcp-timeout, --udp-timeout, --max-flows, --max-flows-per-guest,
  /// --max-flows-per-published-port, --max-pending-connects, --egress-allow/--egress-deny/--egress-default/
  /// --block-host (forward.egress) and --egress-log. --block-private and --policy-file need the host's
  /// addresses and a file, so the Runtime completes forward.egress from the two fields below.
  forward::ForwardConfig forward;

  /// --dhcp-range, --dhcp-static, --lease-time, --dns-search; subnet, gateway, MTU and DNS server follow
  /// the flags above. Validated by DhcpConfig::validate().
  stack::DhcpConfig dhcp;
  /// --dns-upstream (empty: the host's /etc/resolv.conf), --dns-record; gateway follows --subnet.
  dns::DnsConfig dns;
  /// -p/--publish: host ports published into the guest; bound before anything else starts.
  std::vector<forward::PublishSpec> publish;
  /// --api: the control API's unix socket (empty: no API).
  std::string api_socket;
  bool block_private = false;
  std::string policy_file;
  /// --allow-guest-traffic: guests on one vznet may reach each other on the link (spoofing rules still hold).
  bool allow_guest_traffic = false;
  /// --dhcp-only: a guest may use only an address DHCP gave it or --dhcp-static reserves; by default a guest with
  /// no address takes a free one by using it (a static configuration).
  bool dhcp_only = false;
  /// --pcap: capture every guest frame to this file (empty: no capture); --pcap-max-mb, its rotation size.
  std::string pcap_path;
  std::uint64_t pcap_max_bytes = kDefaultPcapMaxBytes;

  Ipv4Address gateway() const { return stack::gateway_of(subnet); }
  Ipv4Address first_guest() const { return subnet.host(2); }
};

/// What parsing produced: a Config to run, or text to print and an exit code (help: 0; errors: 2).
struct ParseOutcome {
  std::optional<Config> config;
  int exit_code = 0;
  std::string message;  ///< help text (stdout) or one error line (stderr)
};

ParseOutcome parse_command_line(int argc, const char* const* argv);

/// A DNS name as a user may write it: labels of letters, digits and '-', 1..63 each, 253 in all; one
/// trailing dot allowed. Returns it in lower case without the dot.
std::optional<std::string> normalize_dns_name(std::string_view text);

/// The listeners used when no --listen is given: a QEMU stream socket and a vfkit/QEMU datagram socket in
/// `directory`.
std::vector<virtio::ListenUri> default_listen_uris(const std::string& directory);
/// $XDG_RUNTIME_DIR/vznet, or /tmp/vznet-UID when that is unset.
std::string default_socket_directory();

}  // namespace vznet::app
