// Command-line parsing and validation with CLI11 (see config.h). Every rule a flag must satisfy is checked
// here, so the rest of vznet can trust its Config.
#include "app/config.h"
#include "app/version.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "base/mac_address.h"

namespace vznet::app {

namespace {

constexpr std::uint16_t kMinMtu = 576;    // the smallest datagram every IPv4 host must accept
constexpr std::uint16_t kMaxMtu = 65520;  // 65535 minus room for headers, as QEMU/passt allow

const char* const kDescription =
    "vznet: a user-space network for virtual machines. The guest's NIC frames arrive on a socket; vznet\n"
    "answers as the gateway and proxies every connection through ordinary host sockets (no root needed).";

const char* const kFooter =
    "Listen URIs:\n"
    "  unixgram://PATH    vfkit / VZFileHandleNetworkDeviceAttachment / QEMU -netdev dgram: one frame per datagram\n"
    "  unix://PATH        QEMU -netdev stream: 4-byte big-endian length, then the frame\n"
    "  unixpacket://PATH  BESS: one frame per SOCK_SEQPACKET message\n"
    "  fd://N             an inherited socket; its type decides the framing\n"
    "Without --listen, vznet takes the sockets systemd passed (socket activation: LISTEN_FDS), or else serves\n"
    "unix://DIR/vznet.sock and unixgram://DIR/vznet-dgram.sock in $XDG_RUNTIME_DIR/vznet (or /tmp/vznet-UID)\n"
    "and logs the QEMU and vfkit arguments to attach.\n"
    "The gateway is the subnet's first address; it reaches the host's loopback (127.0.0.1).\n"
    "\n"
    "Publishing (-p, docker's syntax): [HOST_IP:]HOST_PORT[-END]:[GUEST_IP:]GUEST_PORT[-END][/tcp|/udp]\n"
    "  -p 8080:80             host 127.0.0.1:8080 -> the first guest's port 80 (TCP)\n"
    "  -p 0.0.0.0:5353:53/udp every host address, UDP\n"
    "  -p 8000-8009:80-89     a range, port to port;  -p 8000-8010:80  the first free host port of 8000-8010\n"
    "  -p 8080:192.168.64.3:80  an explicit guest address (several guests, or a guest with a static address)\n"
    "  -p [::1]:8080:80       an IPv6 host address;  -p 80  any free host port (see the log or GET /forwards)\n"
    "  The default host address is 127.0.0.1. Without GUEST_IP the target is the first guest holding a DHCP\n"
    "  lease or using a static address. The guest sees a client's own address, or the gateway for loopback and\n"
    "  IPv6 clients.\n"
    "\n"
    "Control API (--api PATH, a 0600 unix socket): curl --unix-socket PATH http://vznet/stats\n"
    "  GET /health /stats /metrics /leases /flows /forwards /pcap;  POST /forwards {\"spec\": \"8080:80\"};\n"
    "  DELETE /forwards/ID;  POST /pcap {\"path\": \"FILE\"};  DELETE /pcap\n"
    "\n"
    "Egress policy: RULE = CIDR[:PORT[-PORT]][/tcp|/udp|/icmp] (IPv6 with ports: [fd00::/8]:443/tcp), judged\n"
    "on the address vznet dials when the flow starts (the gateway is the host's 127.0.0.1). The most specific\n"
    "matching rule wins: the longest prefix, then the narrower port range, then a protocol-specific rule over\n"
    "an any-protocol one; on a tie deny wins. No rule matches: --egress-default. DHCP and DNS on the gateway\n"
    "are always reachable.\n"
    "  --block-private                        no LAN, no cloud metadata (169.254.169.254), not the host's addresses\n"
    "  --egress-deny 169.254.169.254          only the metadata service\n"
    "  --egress-deny 0.0.0.0/0 --egress-allow 172.16.0.0/22:30000-32767/tcp   only NodePorts on one network\n"
    "  --block-private --egress-allow 10.1.2.3:443/tcp   no LAN except one service (a /32 beats a /8)\n"
    "Denied TCP gets a reset, denied UDP and ping an ICMP administratively-prohibited; each is counted\n"
    "(GET /stats) and logged with the rule that matched.";

ParseOutcome usage_error(const std::string& message) { return {std::nullopt, 2, "vznet: " + message}; }

}  // namespace

std::optional<std::string> normalize_dns_name(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > 253) return std::nullopt;
  std::string out;
  std::size_t label = 0;
  for (char c : text) {
    if (c == '.') {
      if (label == 0) return std::nullopt;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      if (++label > 63) return std::nullopt;
    } else {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (label == 0) return std::nullopt;
  return out;
}

std::string default_socket_directory() {
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime != nullptr && *runtime != '\0') {
    return std::string(runtime) + "/vznet";
  }
  return "/tmp/vznet-" + std::to_string(::getuid());
}

std::vector<virtio::ListenUri> default_listen_uris(const std::string& directory) {
  std::vector<virtio::ListenUri> uris;
  for (const char* text : {"unix://", "unixgram://"}) {
    std::string error;
    const char* file = std::string_view(text) == "unix://" ? "/vznet.sock" : "/vznet-dgram.sock";
    uris.push_back(*virtio::parse_listen_uri(std::string(text) + directory + file, error));
  }
  return uris;
}

namespace {

/// Fills the DHCP and DNS parts of `config` (after --subnet and --mtu are known); returns the error, if any.
/// Syntax is checked here; what the values mean together is DhcpConfig::validate()'s business.
std::optional<std::string> parse_dhcp_and_dns(Config& config, const std::string& range,
                                              const std::vector<std::string>& statics,
                                              const std::vector<std::string>& search,
                                              const std::vector<std::string>& upstreams,
                                              const std::vector<std::string>& records) {
  stack::DhcpConfig& dhcp = config.dhcp;
  dhcp.subnet = config.subnet;
  dhcp.gateway = config.gateway();
  dhcp.dns_server = config.gateway();
  dhcp.mtu = config.mtu;
  if (!range.empty()) {
    auto dash = range.find('-');
    auto first = Ipv4Address::parse(std::string_view(range).substr(0, dash));
    auto last = dash == std::string::npos ? std::nullopt : Ipv4Address::parse(std::string_view(range).substr(dash + 1));
    if (!first || !last) return "--dhcp-range " + range + ": expected FIRST-LAST, e.g. 192.168.64.10-192.168.64.99";
    dhcp.range = stack::DhcpRange{*first, *last};
  }
  for (const auto& text : statics) {
    auto eq = text.find('=');
    auto mac = base::parse_mac(std::string_view(text).substr(0, eq));
    auto address = eq == std::string::npos ? std::nullopt : Ipv4Address::parse(std::string_view(text).substr(eq + 1));
    if (!mac || !address) return "--dhcp-static " + text + ": expected MAC=IP, e.g. 52:54:00:12:34:56=192.168.64.10";
    dhcp.statics.push_back({*mac, *address});
  }
  for (const auto& text : search) {
    auto name = normalize_dns_name(text);
    if (!name) return "--dns-search " + text + ": not a domain name";
    dhcp.search_domains.push_back(*name);
  }
  if (auto problem = dhcp.validate()) return *problem;

  config.dns.gateway = config.gateway();
  for (const auto& text : upstreams) {
    auto endpoint = Ipv4Endpoint::parse(text, 53);
    if (!endpoint) return "--dns-upstream " + text + ": expected IPv4[:PORT]";
    config.dns.upstreams.push_back(*endpoint);
  }
  for (const auto& text : records) {
    std::string why;
    auto record = dns::parse_dns_record(text, &why);
    if (!record) return "--dns-record " + text + ": " + why + " (expected NAME=IPv4, e.g. db.vz.internal=192.168.64.1)";
    config.dns.records.push_back(*record);
  }
  return std::nullopt;
}

}  // namespace

ParseOutcome parse_command_line(int argc, const char* const* argv) {
  Config config;
  std::vector<std::string> listen_texts;
  std::string subnet_text = config.subnet.to_string();
  // CLI11 reads whole seconds; the defaults come from the structs.
  auto seconds_of = [](std::chrono::seconds s) { return static_cast<unsigned>(s.count()); };
  unsigned connect_timeout = seconds_of(config.forward.connect_timeout);
  unsigned tcp_timeout = seconds_of(config.forward.tcp_idle_timeout);
  unsigned udp_timeout = seconds_of(config.forward.udp_idle_timeout);
  double dns_timeout = std::chrono::duration<double>(config.dns.upstream_timeout).count();
  unsigned dns_tcp_timeout = seconds_of(std::chrono::duration_cast<std::chrono::seconds>(config.dns.tcp_idle_timeout));

  CLI::App cli{kDescription, "vznet"};
  cli.footer(kFooter);
  cli.set_version_flag("--version", "vznet " + std::string(kVersion));
  cli.add_option("--listen", listen_texts, "Guest socket URI (repeatable); see below")->type_name("URI");
  cli.add_option("--subnet", subnet_text, "Guest subnet; gateway is .1, first guest .2")
      ->capture_default_str()
      ->type_name("CIDR");
  cli.add_option("--mtu", config.mtu, "Guest link MTU")->capture_default_str()->check(CLI::Range(kMinMtu, kMaxMtu));
  cli.add_flag("--offload", config.offload,
               "The guest's NIC offloads TCP segmentation and checksums (krunkit offloading=on): frames up to "
               "65535 bytes both ways, whatever the MTU");
  cli.add_option("--log-level", config.log_level, "trace, debug, info, warn, error, critical or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  std::string log_format = config.log_format == LogFormat::json ? "json" : "text";
  cli.add_option("--log-format", log_format, "text, or json (one object a line, for log collectors)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  cli.add_option("--max-flows", config.forward.max_flows,
                 "Most TCP+UDP+ICMP flows at once; new ones are refused beyond")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  cli.add_option("--max-flows-per-guest", config.forward.max_flows_per_guest,
                 "Most flows one guest may hold (published ports' clients count as one guest)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  cli.add_option("--max-flows-per-published-port", config.forward.max_flows_per_published_port,
                 "Most flows the clients of one published port may hold")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  cli.add_option("--max-pending-connects", config.forward.max_pending_dials,
                 "Most host TCP connects in flight per guest; a new one drops the guest's oldest beyond")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{65536}));
  cli.add_option("--connect-timeout", connect_timeout, "Seconds a host TCP connect may take")
      ->capture_default_str()
      ->check(CLI::Range(1u, 600u));
  cli.add_option("--tcp-timeout", tcp_timeout, "Seconds an idle TCP flow is kept")
      ->capture_default_str()
      ->check(CLI::Range(1u, 30u * 86400u));
  cli.add_option("--udp-timeout", udp_timeout, "Seconds an idle UDP flow is kept")
      ->capture_default_str()
      ->check(CLI::Range(1u, 86400u));
  cli.add_flag("--exit-on-disconnect", config.exit_on_disconnect,
               "Exit when a guest disconnects (gvproxy's behaviour), instead of waiting for the next");
  std::string dhcp_range_text;
  std::vector<std::string> dhcp_static_texts, dns_upstream_texts, dns_record_texts, dns_search_texts;
  unsigned lease_time = seconds_of(config.dhcp.lease_time);
  cli.add_option("--dhcp-range", dhcp_range_text, "Addresses DHCP hands out (default: the subnet after the gateway)")
      ->type_name("FIRST-LAST");
  cli.add_option("--dhcp-static", dhcp_static_texts, "Reserve an address for a MAC (repeatable)")->type_name("MAC=IP");
  cli.add_flag("--dhcp-only", config.dhcp_only,
               "Only addresses from DHCP or --dhcp-static (default: a static guest's free address is its own)");
  cli.add_option("--lease-time", lease_time, "DHCP lease time in seconds")
      ->capture_default_str()
      ->check(CLI::Range(60u, 365u * 86400u));
  cli.add_option("--dns-search", dns_search_texts, "Domain search list handed to guests (repeatable)")
      ->type_name("DOMAIN");
  cli.add_option("--dns-upstream", dns_upstream_texts,
                 "Upstream DNS server (repeatable; default: the host's /etc/resolv.conf)")
      ->type_name("IP[:PORT]");
  cli.add_option("--dns-record", dns_record_texts, "Extra name in vznet's DNS zone (repeatable)")
      ->type_name("NAME=IPv4");
  cli.add_option("--dns-timeout", dns_timeout,
                 "Seconds a forwarded DNS query waits for the upstream before the guest gets SERVFAIL")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 60.0));
  cli.add_option("--dns-tcp-timeout", dns_tcp_timeout, "Seconds an idle DNS-over-TCP connection from a guest is kept")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3600u));
  std::vector<std::string> publish_texts;
  cli.add_option("-p,--publish", publish_texts, "Publish a host port into the guest (repeatable); see below")
      ->type_name("[IP:]PORT:[GUEST_IP:]PORT[/udp]");
  cli.add_option("--api", config.api_socket, "Serve the control API (HTTP, JSON) on this unix socket")
      ->type_name("PATH");
  std::vector<std::string> egress_allow_texts, egress_deny_texts;
  std::string egress_default_text = "allow";
  bool block_host = false;
  cli.add_option("--egress-allow", egress_allow_texts, "Allow new flows to these destinations (repeatable)")
      ->type_name("RULE");
  cli.add_option("--egress-deny", egress_deny_texts, "Deny new flows to these destinations (repeatable)")
      ->type_name("RULE");
  cli.add_option("--egress-default", egress_default_text, "What no rule matches gets")
      ->capture_default_str()
      ->check(CLI::IsMember({"allow", "deny"}));
  cli.add_flag("--block-private", config.block_private,
               "Deny 10/8, 172.16/12, 192.168/16, 100.64/10, 169.254/16 and the host's own addresses");
  cli.add_flag("--block-host", block_host, "Deny the host's loopback (what the gateway address reaches)");
  cli.add_option("--policy-file", config.policy_file,
                 "Egress rules, one per line: allow RULE, deny RULE, default allow|deny, block-private, block-host")
      ->type_name("PATH");
  cli.add_flag("--egress-log", config.forward.egress_log, "Log every allowed flow too (one line each), for audit");
  cli.add_flag("--allow-guest-traffic", config.allow_guest_traffic,
               "Let guests on this vznet reach each other (spoofing is refused either way)");
  std::uint64_t pcap_max_mb = config.pcap_max_bytes >> 20;
  cli.add_option("--pcap", config.pcap_path, "Capture every frame to and from the guests in this pcap file")
      ->type_name("FILE");
  cli.add_option("--pcap-max-mb", pcap_max_mb, "Size at which the capture file becomes FILE.1 and a new one begins")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20));

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return {std::nullopt, 0, cli.help()};
  } catch (const CLI::CallForVersion&) {
    return {std::nullopt, 0, "vznet " + std::string(kVersion) + "\n"};
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }

  std::string error;
  auto subnet = Ipv4Subnet::parse(subnet_text, &error);
  if (!subnet) return usage_error("--subnet " + subnet_text + ": " + error);
  if (subnet->prefix_length > 30) {
    return usage_error("--subnet " + subnet_text + ": need at least /30 (a gateway and a guest)");
  }
  config.subnet = *subnet;
  for (const auto& text : listen_texts) {
    auto uri = virtio::parse_listen_uri(text, error);
    if (!uri) return usage_error("--listen " + text + ": " + error);
    config.listen.push_back(*uri);
  }
  config.dhcp.lease_time = std::chrono::seconds(lease_time);
  if (auto problem = parse_dhcp_and_dns(config, dhcp_range_text, dhcp_static_texts, dns_search_texts,
                                        dns_upstream_texts, dns_record_texts)) {
    return usage_error(*problem);
  }
  for (const auto& text : publish_texts) {
    try {
      config.publish.push_back(forward::parse_publish_spec(text));
    } catch (const std::invalid_argument& e) {
      return usage_error(std::string("--publish: ") + e.what());
    }
  }
  try {
    for (const auto& text : egress_allow_texts)
      config.forward.egress.add(forward::parse_egress_rule(forward::EgressAction::allow, text));
  } catch (const std::invalid_argument& e) {
    return usage_error(std::string("--egress-allow: ") + e.what());
  }
  try {
    for (const auto& text : egress_deny_texts)
      config.forward.egress.add(forward::parse_egress_rule(forward::EgressAction::deny, text));
  } catch (const std::invalid_argument& e) {
    return usage_error(std::string("--egress-deny: ") + e.what());
  }
  config.forward.egress.set_default(forward::parse_egress_action(egress_default_text));
  config.forward.egress.set_block_host(block_host);
  config.forward.connect_timeout = std::chrono::seconds(connect_timeout);
  config.forward.tcp_idle_timeout = std::chrono::seconds(tcp_timeout);
  config.forward.udp_idle_timeout = std::chrono::seconds(udp_timeout);
  config.dns.upstream_timeout = std::chrono::milliseconds(std::llround(dns_timeout * 1000));
  config.dns.tcp_idle_timeout = std::chrono::seconds(dns_tcp_timeout);
  config.pcap_max_bytes = pcap_max_mb << 20;
  config.log_format = log_format == "json" ? LogFormat::json : LogFormat::text;
  return {config, 0, {}};
}

}  // namespace vznet::app
